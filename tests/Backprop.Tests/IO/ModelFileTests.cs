using System.Text.Json.Nodes;
using Backprop.Explain;
using Backprop.IO;
using Backprop.Nn;

namespace Backprop.Tests.IO;

public sealed class ModelFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("backprop-model-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void SeedNetworkFileHasTheDocumentedShape()
    {
        string text = ModelFile.Serialize(SeedNetwork.Create<double>());
        var root = JsonNode.Parse(text)!.AsObject();
        Assert.Equal("backprop-model", (string?)root["format"]);
        Assert.Equal(ModelFile.Version, (int?)root["version"]);
        Assert.Equal(2, (int?)root["inputs"]);
        Assert.Equal("half-sse", (string?)root["loss"]);
        var hidden = root["layers"]![0]!;
        Assert.Equal("shared", (string?)hidden["bias"]);
        Assert.True((bool?)hidden["trainable_bias"]);
        // weights[unit][input]: the seed's Vij is layers[0].weights[j-1][i-1].
        Assert.Equal(0.15, (double?)hidden["weights"]![0]![0]);
        Assert.Equal(0.20, (double?)hidden["weights"]![0]![1]);
        Assert.Equal(0.25, (double?)hidden["weights"]![1]![0]);
        Assert.Equal(0.35, (double?)hidden["biases"]![0]);
        Assert.Contains("[0.15, 0.2],", text);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RoundTripIsBitExactForDoubleAndFloat(int seed)
    {
        var rng = new Random(seed);
        var d = Network<double>.Create(3,
            [new LayerSpec(4, Activation.Tanh, BiasMode.PerUnit), new LayerSpec(3, Activation.Relu, BiasMode.Shared, false),
             new LayerSpec(2, Activation.Softmax, BiasMode.None)],
            Loss.CrossEntropy, seed);
        // Awkward values: random bit patterns, subnormals, extremes, negative zero.
        double[] special = [double.Epsilon, -double.Epsilon, double.MaxValue, double.MinValue, -0.0, 1e-310, -1e-310, 0.1, 1.0 / 3];
        // Each a different bit pattern (-double.MinValue, once listed here, is double.MaxValue again).
        Assert.Equal(special.Length, special.Select(BitConverter.DoubleToInt64Bits).Distinct().Count());
        int k = 0;
        foreach (var layer in d.Layers)
        {
            var w = layer.Weights;
            for (int i = 0; i < w.Length; i++)
                w[i] = k < special.Length ? special[k++] : RandomFinite(rng);
            var b = layer.Biases;
            for (int i = 0; i < b.Length; i++)
                b[i] = RandomFinite(rng);
        }
        Assert.Equal(special.Length, k); // every special value went into the network
        string path = Path.Combine(_dir, "m.json");
        ModelFile.Save(d, path);
        var back = ModelFile.Load<double>(path).Network;
        AssertBitIdentical(d, back);

        var f = Network<double>.Create(3, [new LayerSpec(5, Activation.Sigmoid), new LayerSpec(2, Activation.Identity)], Loss.Mse, seed)
            .Convert<float>();
        foreach (var layer in f.Layers)
            for (int i = 0; i < layer.Weights.Length; i++)
                layer.Weights[i] = RandomFiniteSingle(rng);
        f.Layers[0].Weights[0] = float.Epsilon;
        f.Layers[0].Weights[1] = float.MaxValue;
        f.Layers[0].Weights[2] = float.MinValue;
        f.Layers[0].Weights[3] = -float.Epsilon;
        f.Layers[1].Biases[0] = -0.0f;
        ModelFile.Save(f, path);
        AssertBitIdentical(f, ModelFile.Load<float>(path).Network);
        Assert.Contains("\"precision\": \"float32\"", File.ReadAllText(path));
    }

    [Fact]
    public void ExtraSectionsAreKeptThroughARoundTrip()
    {
        // A section this version does not know (a later version's, or a user's) is kept as it is.
        var model = ModelFile.Wrap(SeedNetwork.Create<double>());
        model.ExtraSections["annotations"] = "{\"author\": \"me\", \"tags\": [1, 2]}";
        string path = Path.Combine(_dir, "s.json");
        model.Save(path);
        var read = ModelFile.Load<double>(path);
        var back = JsonNode.Parse(read.ExtraSections["annotations"])!;
        Assert.Equal("me", (string?)back["author"]);
        Assert.Equal(2, (int?)back["tags"]![1]);
        // and written back again unchanged
        read.Save(path);
        Assert.Equal(read.ExtraSections["annotations"], ModelFile.Load<double>(path).ExtraSections["annotations"]);
    }

    [Fact]
    public void NonFiniteParametersAreRefusedAndTheOldFileIsKept()
    {
        string path = Path.Combine(_dir, "n.json");
        var net = SeedNetwork.Create<double>();
        ModelFile.Save(net, path);
        string before = File.ReadAllText(path);
        net.Layers[1].Weights[2] = double.NaN;
        var e = Assert.Throws<BackpropException>(() => ModelFile.Save(net, path));
        Assert.Contains("layers[1].weights[0][2]", e.Message);
        Assert.Equal(before, File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void SavingIntoAMissingFolderSaysSo()
    {
        var e = Assert.Throws<BackpropException>(() => ModelFile.Save(SeedNetwork.Create<double>(), Path.Combine(_dir, "no", "m.json")));
        Assert.Contains("does not exist", e.Message);
    }

    public static TheoryData<string, string, string> Malformed() => new()
    {
        { "", "not valid JSON", "line 1" },
        { "{\"format\": \"backprop-model\", \"version\": 1", "not valid JSON", "line 1" },
        { "[1, 2]", "top level", "object" },
        { "{\"format\": \"other\"}", "'format'", "backprop-model" },
        { "{\"format\": \"backprop-model\", \"version\": 4, \"inputs\": 2}", "'version'", "version 4 is not supported" },
        { "{\"format\": \"backprop-model\", \"version\": 1, \"inputs\": 0}", "'inputs'", ">= 1" },
        { "{\"format\": \"backprop-model\", \"version\": 1, \"inputs\": 2, \"loss\": \"l1\", \"layers\": []}", "'loss'", "half-sse" },
        { "{\"format\": \"backprop-model\", \"version\": 1, \"inputs\": 2, \"loss\": \"mse\", \"layers\": []}", "'layers'", "at least one" },
        { Layer("\"units\": 1, \"activation\": \"swish\", \"weights\": [[1, 2]], \"biases\": [0]"), "'layers[0].activation'", "leaky-relu" },
        { Layer("\"units\": 2, \"activation\": \"relu\", \"weights\": [[1, 2]], \"biases\": [0, 0]"), "'layers[0].weights'", "expected 2 rows" },
        { Layer("\"units\": 1, \"activation\": \"relu\", \"weights\": [[1, 2, 3]], \"biases\": [0]"), "'layers[0].weights[0]'", "2 numbers" },
        { Layer("\"units\": 1, \"activation\": \"relu\", \"weights\": [[1, \"x\"]], \"biases\": [0]"), "'layers[0].weights[0][1]'", "expected a number" },
        { Layer("\"units\": 1, \"activation\": \"relu\", \"weights\": [[1, 1e999]], \"biases\": [0]"), "'layers[0].weights[0][1]'", "out of range" },
        { Layer("\"units\": 1, \"activation\": \"relu\", \"bias\": \"shared\", \"weights\": [[1, 2]], \"biases\": [0, 1]"), "'layers[0].biases'", "1 number(s)" },
        { Layer("\"units\": 1, \"activation\": \"relu\", \"weights\": [[1, 2]]"), "'layers[0].biases'", "missing" },
        { Layer("\"units\": 1, \"activation\": \"relu\", \"trainable_bias\": 1, \"weights\": [[1, 2]], \"biases\": [0]"), "'layers[0].trainable_bias'", "true or false" },
        { "{\"format\": \"backprop-model\", \"version\": 1, \"inputs\": 2, \"loss\": \"cross-entropy\", \"layers\": [{\"units\": 1, \"activation\": \"sigmoid\", \"weights\": [[1, 2]], \"biases\": [0]}]}", "'loss'", "softmax" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedFilesGiveAClearErrorNamingTheField(string text, string field, string expected)
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Deserialize<double>(text, "bad.json"));
        Assert.StartsWith("bad.json: ", e.Message);
        Assert.Contains(field, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void AMissingFileIsAClearError()
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Load<double>(Path.Combine(_dir, "absent.json")));
        Assert.Contains("absent.json", e.Message);
    }

    private static string Layer(string body) =>
        "{\"format\": \"backprop-model\", \"version\": 1, \"inputs\": 2, \"loss\": \"mse\", \"layers\": [{" + body + "}]}";

    private static double RandomFinite(Random rng)
    {
        while (true)
        {
            double v = BitConverter.Int64BitsToDouble(rng.NextInt64());
            if (double.IsFinite(v))
                return v;
        }
    }

    private static float RandomFiniteSingle(Random rng)
    {
        while (true)
        {
            float v = BitConverter.Int32BitsToSingle(rng.Next() ^ (rng.Next(2) << 31));
            if (float.IsFinite(v))
                return v;
        }
    }

    private static void AssertBitIdentical<T>(Network<T> a, Network<T> b) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        Assert.Equal(a.Inputs, b.Inputs);
        Assert.Equal(a.Loss, b.Loss);
        Assert.Equal(a.Layers.Count, b.Layers.Count);
        for (int l = 0; l < a.Layers.Count; l++)
        {
            var (x, y) = (a.Layers[l], b.Layers[l]);
            Assert.Equal((x.Units, x.Activation, x.Bias, x.TrainableBias), (y.Units, y.Activation, y.Bias, y.TrainableBias));
            Assert.Equal(Bits(x.Weights), Bits(y.Weights));
            Assert.Equal(Bits(x.Biases), Bits(y.Biases));
        }
    }

    private static long[] Bits<T>(Span<T> values) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var r = new long[values.Length];
        for (int i = 0; i < values.Length; i++)
            r[i] = values[i] is double d ? BitConverter.DoubleToInt64Bits(d) : BitConverter.SingleToInt32Bits(float.CreateChecked(values[i]));
        return r;
    }
}
