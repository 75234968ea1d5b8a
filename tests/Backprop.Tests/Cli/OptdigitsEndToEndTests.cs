using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using Backprop.Tests.IO;

namespace Backprop.Tests.Cli;

/// <summary>
/// The UCI optdigits files through the whole CLI, in process: train -> save -> evaluate -> predict on the real
/// files, and bad inputs that must each give exit code 2, one "error: " line naming the file and the place, and
/// leave an existing output file exactly as it was.
/// </summary>
public sealed class OptdigitsEndToEndTests : IDisposable
{
    private const string KnownContent = "this file existed before the command ran\n";

    private readonly string _dir = TestData.TempFolder();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Tra => TestData.Require("optdigits", "optdigits.tra");

    private string Tes => TestData.Require("optdigits", "optdigits.tes");

    /// <summary>A file that already exists with known content, used as --save / --output of a command that must fail.</summary>
    private string ExistingOutput(string name)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, KnownContent);
        return path;
    }

    private static void AssertUnchanged(string path) => Assert.Equal(KnownContent, File.ReadAllText(path));

    /// <summary>Exit code 2, one error line (no stack trace) that names the file and contains every expected fragment.</summary>
    private static void AssertCleanError((int Code, string Out, string Err) result, string file, params string[] fragments)
    {
        var (code, _, err) = result;
        Assert.True(code == 2, $"exit code {code}, stderr: {err}");
        Assert.StartsWith("error: ", err);
        Assert.DoesNotContain("   at ", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains(Path.GetFileName(file), err);
        foreach (string fragment in fragments)
            Assert.Contains(fragment, err);
    }

    /// <summary>The first <paramref name="count"/> rows of optdigits.tra, where the test may replace line <paramref name="badLine"/> (1-based).</summary>
    private string SmallCsv(string name, int count = 20, int badLine = 0, Func<string, string>? edit = null)
    {
        var lines = File.ReadLines(Tra).Take(count).ToArray();
        if (badLine > 0 && edit is not null)
            lines[badLine - 1] = edit(lines[badLine - 1]);
        string path = Path.Combine(_dir, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    /// <summary>Replaces the first field (a pixel count, column 0) of a CSV line.</summary>
    private static string FirstField(string line, string value) => value + line[line.IndexOf(',')..];

    /// <summary>A tiny 64-input model (one epoch on 20 rows), enough for the model-side error cases.</summary>
    private string TinyModel()
    {
        string model = Path.Combine(_dir, "tiny.json");
        var (code, _, err) = CliTests.Run("train", "--data", SmallCsv("tiny.csv"), "--hidden", "8", "--epochs", "1",
            "--test-fraction", "0", "--save", model, "--quiet");
        Assert.True(code == 0, err);
        return model;
    }

    [Fact]
    public void TrainSaveEvaluatePredictOnTheRealFiles()
    {
        string tra = Tra, tes = Tes, model = Path.Combine(_dir, "optdigits.json");
        // A short run (about a second): default network, 5 epochs.
        var (code, output, err) = CliTests.Run("train", "--data", tra, "--test", tes, "--epochs", "5", "--seed", "1",
            "--save", model, "--json");
        Assert.True(code == 0, err);
        var summary = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
        double trainTest = summary.GetProperty("test_accuracy").GetDouble();
        Assert.True(trainTest > 0.90, output[^400..]);

        // The saved model, evaluated on the same test file, must agree with what train reported (to one row).
        (code, output, err) = CliTests.Run("evaluate", "--model", model, "--data", tes, "--json");
        Assert.True(code == 0, err);
        var eval = JsonDocument.Parse(output).RootElement;
        Assert.Equal(1797, eval.GetProperty("rows").GetInt32()); // optdigits.tes has 1,797 rows (UCI description)
        double accuracy = eval.GetProperty("accuracy").GetDouble();
        Assert.True(accuracy > 0.90, output);
        Assert.InRange(accuracy, trainTest - 1.5 / 1797, trainTest + 1.5 / 1797);

        // Predictions: one row per test row, the predicted class agrees with the file's label as often as evaluate says.
        string predictions = Path.Combine(_dir, "predictions.csv");
        (code, _, err) = CliTests.Run("predict", "--model", model, "--data", tes, "--output", predictions);
        Assert.True(code == 0, err);
        var lines = File.ReadAllLines(predictions);
        Assert.Equal("predicted,p_0,p_1,p_2,p_3,p_4,p_5,p_6,p_7,p_8,p_9", lines[0]);
        Assert.Equal(1798, lines.Length);
        var truth = File.ReadLines(tes).Where(l => l.Length > 0).Select(l => l[(l.LastIndexOf(',') + 1)..].Trim()).ToArray();
        int agree = lines.Skip(1).Zip(truth).Count(p => p.First.Split(',')[0] == p.Second);
        Assert.Equal((int)Math.Round(accuracy * 1797), agree);
        foreach (string line in lines.Skip(1))
        {
            var p = line.Split(',').Skip(1).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(1.0, p.Sum(), 1e-4);
            Assert.Equal(line.Split(',')[0], p.Select((v, i) => (v, i)).MaxBy(t => t.v).i.ToString(CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public void MissingFile()
    {
        string save = ExistingOutput("model.json"), missing = Path.Combine(_dir, "no-such-optdigits.tra");
        AssertCleanError(CliTests.Run("train", "--data", missing, "--save", save, "--epochs", "1"), missing);
        AssertUnchanged(save);
    }

    [Fact]
    public void EmptyFile()
    {
        string save = ExistingOutput("model.json"), empty = Path.Combine(_dir, "empty.tra");
        File.WriteAllText(empty, "");
        AssertCleanError(CliTests.Run("train", "--data", empty, "--save", save, "--epochs", "1"), empty, "empty");
        AssertUnchanged(save);
    }

    [Fact]
    public void RaggedRows()
    {
        string save = ExistingOutput("model.json");
        string ragged = SmallCsv("ragged.tra", badLine: 11, edit: l => string.Join(',', l.Split(',').Take(30)));
        AssertCleanError(CliTests.Run("train", "--data", ragged, "--save", save, "--epochs", "1"), ragged, "line 11", "30", "65");
        AssertUnchanged(save);
    }

    [Fact]
    public void NonNumericFeature_IsReadAsATableColumn_TheValueAsMissing()
    {
        // Issue 16: a column of numbers with a stray word is numeric (at least 95% numbers); the word is read as missing.
        string save = ExistingOutput("model.json");
        string bad = SmallCsv("text.tra", badLine: 11, edit: l => FirstField(l, "abc"));
        var (code, output, err) = CliTests.Run("train", "--data", bad, "--save", save, "--epochs", "1");
        Assert.True(code == 0, err);
        Assert.Matches(@"\n\s+0\s+0\s+numeric\s+.*1 value\(s\) of another kind read as missing", output);
        Assert.Contains("\"table\"", File.ReadAllText(save));
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    public void NonFiniteFeature(string value)
    {
        string save = ExistingOutput("model.json");
        string bad = SmallCsv("nonfinite.tra", badLine: 7, edit: l => FirstField(l, value));
        AssertCleanError(CliTests.Run("train", "--data", bad, "--save", save, "--epochs", "1"), bad, "line 7", "column 0", value);
        AssertUnchanged(save);
    }

    [Theory]
    [InlineData("65")] // optdigits has 65 columns, numbered 0 to 64
    [InlineData("label")] // no header, so no names
    public void LabelColumnThatDoesNotExist(string column)
    {
        string save = ExistingOutput("model.json"), data = SmallCsv("small.tra");
        AssertCleanError(CliTests.Run("train", "--data", data, "--label-column", column, "--save", save, "--epochs", "1"),
            data, "--label-column");
        AssertUnchanged(save);
    }

    [Fact]
    public void ModelForADifferentNumberOfFeatures()
    {
        string model = TinyModel();
        // 39 features and the real label: the model takes 64.
        string narrow = Path.Combine(_dir, "narrow.csv");
        File.WriteAllLines(narrow, File.ReadLines(Tra).Take(20).Select(l => { var f = l.Split(','); return string.Join(',', f.Take(39).Append(f[^1])); }));
        AssertCleanError(CliTests.Run("evaluate", "--model", model, "--data", narrow), narrow, "39", "64");
        string output = ExistingOutput("predictions.csv");
        AssertCleanError(CliTests.Run("predict", "--model", model, "--data", narrow, "--output", output), narrow, "39", "64");
        AssertUnchanged(output);
    }

    [Fact]
    public void TruncatedIdxFile()
    {
        string images = TestData.Require("mnist", "t10k-images-idx3-ubyte.gz");
        string labels = TestData.Require("mnist", "t10k-labels-idx1-ubyte.gz");
        // The real header (10000 x 28 x 28) followed by only 1,000 bytes of pixels, gzipped like the original.
        string truncated = Path.Combine(_dir, "truncated-images-idx3-ubyte.gz");
        var head = new byte[16 + 1000];
        using (var source = new GZipStream(File.OpenRead(images), CompressionMode.Decompress))
            source.ReadExactly(head);
        using (var target = new GZipStream(File.Create(truncated), CompressionLevel.Fastest))
            target.Write(head);
        Assert.Equal(10000, (head[4] << 24) | (head[5] << 16) | (head[6] << 8) | head[7]);

        string save = ExistingOutput("model.json");
        AssertCleanError(CliTests.Run("train", "--data", truncated, "--labels", labels, "--save", save, "--epochs", "1"),
            truncated, "truncated");
        AssertUnchanged(save);
        string model = TinyModel(), output = ExistingOutput("predictions.csv");
        AssertCleanError(CliTests.Run("predict", "--model", model, "--data", truncated, "--labels", labels, "--output", output),
            truncated, "truncated");
        AssertUnchanged(output);
    }

    [Theory]
    [InlineData("cut")] // the file stops in the middle of the weights
    [InlineData("field")] // valid JSON, a required field renamed
    [InlineData("garbage")] // not JSON at all
    public void CorruptedModelFile(string how)
    {
        string good = File.ReadAllText(TinyModel());
        string corrupt = Path.Combine(_dir, "corrupt-model.json");
        File.WriteAllText(corrupt, how switch
        {
            "cut" => good[..(good.Length / 2)],
            "field" => good.Replace("\"inputs\"", "\"inptus\""),
            _ => "\u0001\u0002 not a model",
        });
        string data = SmallCsv("small.tes");
        AssertCleanError(CliTests.Run("evaluate", "--model", corrupt, "--data", data), corrupt);
        string output = ExistingOutput("predictions.csv");
        AssertCleanError(CliTests.Run("predict", "--model", corrupt, "--data", data, "--output", output), corrupt);
        AssertUnchanged(output);
    }
}
