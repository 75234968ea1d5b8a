using System.Globalization;
using System.Text;
using Backprop.Data;
using Backprop.IO;
using Backprop.Nn;
using CsCheck;

namespace Backprop.Tests.IO;

/// <summary>
/// Property tests: generated and mutated CSV, IDX and model-file inputs either load correctly or fail with
/// <see cref="BackpropException"/>, never another exception. Sizes are bounded so each property runs in well
/// under a second; the long run (many more cases) belongs in bench/.
/// </summary>
public sealed class ReaderFuzzTests
{
    /// <summary>Cases per property: 1,500 in the unit suite; env BACKPROP_FUZZ_ITERATIONS sets more for a long run.</summary>
    private static readonly long Iterations =
        long.TryParse(Environment.GetEnvironmentVariable("BACKPROP_FUZZ_ITERATIONS"), out long n) && n > 0 ? n : 1500;

    private const string CsvAlphabet = "0123456789.,,,;\t\n\n\r\"\"-+eE aAbxNI?";

    private static Dataset? LoadOrReject(Func<Dataset> load)
    {
        try
        {
            var d = load();
            // A load must be internally consistent.
            Assert.True(d.Rows >= 1);
            Assert.Equal((long)d.Rows * d.Inputs, d.Features.Length);
            Assert.All(d.Features.ToArray(), v => Assert.True(double.IsFinite(v)));
            Assert.All(d.Labels.ToArray(), l => Assert.InRange(l, 0, d.ClassCount - 1));
            Assert.All(d.Targets.ToArray(), v => Assert.True(double.IsFinite(v)));
            return d;
        }
        catch (BackpropException e)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
            return null;
        }
    }

    private static readonly Gen<CsvOptions> GenOptions =
        Gen.Select(Gen.Int[0, 2], Gen.OneOfConst("last", "first", "0", "1", "2", "9", "a", "none"),
            Gen.OneOfConst(Array.Empty<string>(), ["0"], ["1", "b"]), Gen.Int[0, 2], Gen.Bool)
        .Select((h, label, drop, task, classes) => new CsvOptions
        {
            Header = (HeaderMode)h,
            LabelColumn = label,
            DropColumns = drop,
            Task = task switch { 1 => TaskKind.Classification, 2 => TaskKind.Regression, _ => null },
            Classes = classes ? ["0", "1", "a"] : null,
        });

    [Fact]
    public void RandomCsvTextLoadsOrIsRejected() =>
        Gen.Select(Gen.String[Gen.Char[CsvAlphabet], 0, 120], GenOptions)
            .Sample((text, options) => { LoadOrReject(() => CsvDataset.Parse(text, options, "fuzz.csv")); }, iter: Iterations);

    /// <summary>A valid numeric CSV: rows x (cols features + an integer label), maybe with a header.</summary>
    private static readonly Gen<(string Text, double[] Features, int Rows, int Cols, bool Header)> GenValidCsv =
        Gen.Select(Gen.Int[1, 6], Gen.Int[1, 5], Gen.Bool, Gen.Int[0, 3])
            .SelectMany((rows, cols, header, delim) =>
                Gen.Select(Gen.Double[-1e6, 1e6].Array[rows * cols], Gen.Int[0, 3].Array[rows])
                    .Select((f, labels) =>
                    {
                        char d = ",;\t,"[delim];
                        var sb = new StringBuilder();
                        if (header)
                            sb.Append(string.Join(d, Enumerable.Range(0, cols).Select(c => $"f{c}").Append("label"))).Append('\n');
                        for (int r = 0; r < rows; r++)
                        {
                            for (int c = 0; c < cols; c++)
                                sb.Append(f[r * cols + c].ToString("R", CultureInfo.InvariantCulture)).Append(d);
                            sb.Append(labels[r]).Append('\n');
                        }
                        return (sb.ToString(), f, rows, cols, header);
                    }));

    [Fact]
    public void ValidCsvLoadsExactly() =>
        GenValidCsv.Sample(t =>
        {
            var d = CsvDataset.Parse(t.Text, new CsvOptions { Header = t.Header ? HeaderMode.Yes : HeaderMode.No, Task = TaskKind.Classification });
            Assert.Equal(t.Rows, d.Rows);
            Assert.Equal(t.Cols, d.Inputs);
            Assert.Equal(t.Features, d.Features.ToArray());
        }, iter: 500);

    [Fact]
    public void FeatureNumbersFollowInvariantDoubleParsing() =>
        // The reader parses with Sep's fast parser and falls back to the BCL for errors; either way a field must be
        // accepted exactly when double.TryParse (invariant, NumberStyles.Float) gives a finite value, and give that value.
        Gen.String[Gen.Char["0123456789..eE+-  infINFaNy"], 0, 14].Sample(field =>
        {
            bool ok = double.TryParse(field.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double expected) && double.IsFinite(expected);
            // Two rows, so that the field is read by the streaming path as well as the first-rows path.
            string text = $"0,1\n{field},1\n{field},1\n";
            if (ok)
            {
                var d = CsvDataset.Parse(text, new CsvOptions { Header = HeaderMode.No }, "n.csv");
                Assert.Equal(expected, d.Features[1]);
                Assert.Equal(expected, d.Features[2]);
            }
            else
            {
                var e = Assert.ThrowsAny<BackpropException>(() => CsvDataset.Parse(text, new CsvOptions { Header = HeaderMode.No }, "n.csv"));
                Assert.Contains("line 2, column 0", e.Message);
            }
        }, iter: Iterations);

    /// <summary>Byte-level mutations: delete, insert, replace or duplicate a span; applied a few times.</summary>
    private static string Mutate(string text, int seed)
    {
        var rng = new Random(seed);
        var sb = new StringBuilder(text);
        int times = rng.Next(1, 4);
        for (int i = 0; i < times; i++)
        {
            int at = sb.Length == 0 ? 0 : rng.Next(sb.Length);
            switch (rng.Next(4))
            {
                case 0 when sb.Length > 0: sb.Remove(at, Math.Min(rng.Next(1, 4), sb.Length - at)); break;
                case 1: sb.Insert(at, CsvAlphabet[rng.Next(CsvAlphabet.Length)]); break;
                case 2 when sb.Length > 0: sb[at] = CsvAlphabet[rng.Next(CsvAlphabet.Length)]; break;
                default:
                    int len = Math.Min(rng.Next(1, 10), sb.Length - at);
                    sb.Insert(at, sb.ToString(at, len));
                    break;
            }
        }
        return sb.ToString();
    }

    [Fact]
    public void MutatedCsvLoadsOrIsRejected() =>
        Gen.Select(GenValidCsv, Gen.Int, GenOptions)
            .Sample((t, seed, options) => { LoadOrReject(() => CsvDataset.Parse(Mutate(t.Text, seed), options, "fuzz.csv")); }, iter: Iterations);

    /// <summary>A valid IDX array of unsigned bytes with 1-3 small dimensions.</summary>
    private static readonly Gen<(int[] Dims, byte[] Data)> GenIdx =
        Gen.Int[1, 3].SelectMany(rank => Gen.Int[0, 5].Array[rank])
            .SelectMany(dims => Gen.Byte.Array[dims.Aggregate(1, (a, b) => a * b)].Select(data => (dims, data)));

    private static void ParseOrReject(byte[] bytes)
    {
        try
        {
            var a = IdxDataset.ParseArray(bytes, "fuzz.idx");
            Assert.Equal(a.Dimensions.Aggregate(1L, (x, y) => x * y), a.Data.Length);
        }
        catch (BackpropException e)
        {
            Assert.StartsWith("fuzz.idx: ", e.Message);
        }
    }

    [Fact]
    public void ValidIdxRoundTrips() =>
        Gen.Select(GenIdx, Gen.Bool).Sample((idx, gzip) =>
        {
            var bytes = IdxDatasetTests.Idx(idx.Dims, idx.Data);
            var a = IdxDataset.ParseArray(gzip ? IdxDatasetTests.Gzip(bytes) : bytes);
            Assert.Equal(idx.Dims, a.Dimensions);
            Assert.Equal(idx.Data, a.Data);
        }, iter: 500);

    [Fact]
    public void MutatedIdxParsesOrIsRejected() =>
        Gen.Select(GenIdx, Gen.Bool, Gen.Int, Gen.Bool).Sample((idx, gzip, seed, mutateAfterGzip) =>
        {
            var rng = new Random(seed);
            var bytes = IdxDatasetTests.Idx(idx.Dims, idx.Data);
            if (gzip && mutateAfterGzip)
                bytes = IdxDatasetTests.Gzip(bytes);
            bytes = MutateBytes(bytes, rng);
            if (gzip && !mutateAfterGzip)
                bytes = IdxDatasetTests.Gzip(bytes);
            ParseOrReject(bytes);
        }, iter: Iterations);

    [Fact]
    public void RandomBytesParseOrAreRejected() =>
        Gen.Select(Gen.Byte.Array[0, 64], Gen.Bool).Sample((bytes, gzipMagic) =>
        {
            if (gzipMagic && bytes.Length >= 2)
            {
                bytes[0] = 0x1F;
                bytes[1] = 0x8B;
            }
            ParseOrReject(bytes);
        }, iter: Iterations);

    [Fact]
    public void MutatedImageAndLabelPairsLoadOrAreRejected() =>
        Gen.Select(Gen.Int[1, 4], Gen.Int, Gen.Bool).Sample((n, seed, mutateLabels) =>
        {
            var rng = new Random(seed);
            var images = IdxDatasetTests.Idx([n, 2, 2], Enumerable.Range(0, n * 4).Select(i => (byte)rng.Next(256)).ToArray());
            var labels = IdxDatasetTests.Idx([n], Enumerable.Range(0, n).Select(i => (byte)rng.Next(3)).ToArray());
            if (mutateLabels)
                labels = MutateBytes(labels, rng);
            else
                images = MutateBytes(images, rng);
            LoadOrReject(() => IdxDataset.ToDataset(IdxDataset.ParseArray(images, "i"), IdxDataset.ParseArray(labels, "l"), "i", "l"));
        }, iter: Iterations);

    private static byte[] MutateBytes(byte[] bytes, Random rng)
    {
        var list = bytes.ToList();
        int times = rng.Next(1, 4);
        for (int i = 0; i < times; i++)
        {
            int at = list.Count == 0 ? 0 : rng.Next(list.Count);
            switch (rng.Next(5))
            {
                case 0 when list.Count > 0: list[at] ^= (byte)(1 << rng.Next(8)); break;
                case 1 when list.Count > 0: list[at] = (byte)rng.Next(256); break;
                case 2 when list.Count > 0: list.RemoveRange(at, list.Count - at); break;
                case 3: list.Insert(at, (byte)rng.Next(256)); break;
                default: list.Add((byte)rng.Next(256)); break;
            }
        }
        return list.ToArray();
    }

    private const string JsonAlphabet = "0123456789-.eE{}[]\":, \nabcdfilmnorstuwy_9";

    private static readonly string[] ModelTexts = BuildModelTexts();

    private static string[] BuildModelTexts()
    {
        var small = Network<double>.Create(2, [new LayerSpec(3, Activation.Sigmoid, BiasMode.Shared), new LayerSpec(2, Activation.Softmax)], Loss.CrossEntropy, seed: 1);
        var other = Network<double>.Create(3, [new LayerSpec(2, Activation.Relu, BiasMode.None), new LayerSpec(1, Activation.Identity)], Loss.Mse, seed: 2);
        var data = CsvDataset.ParseFile("x,y,z,label\n1,2,3,no\n4,5,9,yes\n", null, "t");
        var classifier = Network<double>.Create(3, [new LayerSpec(2, Activation.Relu, BiasMode.None), new LayerSpec(2, Activation.Softmax)], Loss.CrossEntropy, seed: 2);
        var withPipeline = new Backprop.Training.Model<double>(classifier, data.Schema, Preprocessing.Fit(data.Data, PreprocessingKind.Standardize));
        string version1 = ModelFile.Serialize(other).Replace("\"version\": 3", "\"version\": 1");
        return [ModelFile.Serialize(small), ModelFile.Serialize(withPipeline), version1];
    }

    [Fact]
    public void MutatedModelFilesLoadOrAreRejected() =>
        Gen.Select(Gen.Int[0, ModelTexts.Length - 1], Gen.Int, Gen.Int[1, 6]).Sample((which, seed, times) =>
        {
            var rng = new Random(seed);
            var sb = new StringBuilder(ModelTexts[which]);
            for (int i = 0; i < times; i++)
            {
                int at = rng.Next(sb.Length);
                switch (rng.Next(4))
                {
                    case 0: sb.Remove(at, Math.Min(rng.Next(1, 6), sb.Length - at)); break;
                    case 1: sb.Insert(at, JsonAlphabet[rng.Next(JsonAlphabet.Length)]); break;
                    case 2: sb[at] = JsonAlphabet[rng.Next(JsonAlphabet.Length)]; break;
                    default:
                        // Replace the number at or after a random place with an extreme one (sizes, counts).
                        string t = sb.ToString();
                        int start = t.IndexOfAny("0123456789".ToCharArray(), at);
                        if (start < 0)
                            break;
                        int end = start;
                        while (end < t.Length && char.IsAsciiDigit(t[end]))
                            end++;
                        sb.Remove(start, end - start).Insert(start, rng.Next(4) switch { 0 => "2000000000", 1 => "1073741824", 2 => "99999", _ => "0" });
                        break;
                }
            }
            try
            {
                var model = ModelFile.Deserialize<double>(sb.ToString(), "fuzz.json");
                Assert.True(model.Network.ParameterCount > 0);
                // A model that loads is whole: its pipeline fits its network, and it predicts.
                Assert.Equal(model.Network.Inputs, model.Schema.Features);
                Assert.Equal(model.Network.Outputs, model.Predict(new double[model.Schema.Features]).Length);
            }
            catch (BackpropException e)
            {
                Assert.StartsWith("fuzz.json", e.Message);
            }
        }, iter: 2 * Iterations);
}
