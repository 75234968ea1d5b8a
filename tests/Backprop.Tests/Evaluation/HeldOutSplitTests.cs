using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Backprop.Data;
using Backprop.IO;
using Backprop.Tests.Cli;
using Backprop.Tests.IO;
using Backprop.Training;

namespace Backprop.Tests.Evaluation;

/// <summary>`train` records the rows it held out; `evaluate --split test` evaluates exactly those (issue 17).</summary>
public sealed class HeldOutSplitTests : IDisposable
{
    private readonly string _dir = TestData.TempFolder();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonElement LastJson(string output) => JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;

    private string Csv(string name, int rows, int seed = 5)
    {
        var inv = CultureInfo.InvariantCulture;
        var rng = new Random(seed);
        var csv = new StringBuilder("x1,x2,label\n");
        for (int i = 0; i < rows; i++)
        {
            int c = i % 2;
            csv.Append(inv, $"{(c == 1 ? 0.6 : -0.6) + rng.NextDouble() * 2 - 1:F4},{rng.NextDouble():F4},{(c == 1 ? "yes" : "no")}\n");
        }
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, csv.ToString());
        return path;
    }

    [Fact]
    public void EvaluateSplitTestMeasuresExactlyTheRowsTrainHeldOut()
    {
        string data = Csv("d.csv", 120);
        string model = Path.Combine(_dir, "m.json");
        var (code, output, err) = CliTests.Run("train", "--data", data, "--hidden", "4", "--epochs", "5", "--seed", "3", "--save", model, "--json");
        Assert.True(code == 0, err);
        var summary = LastJson(output);
        int testRows = summary.GetProperty("test_rows").GetInt32();
        Assert.Equal(24, testRows);

        (code, output, err) = CliTests.Run("evaluate", "--model", model, "--data", data, "--split", "test", "--json");
        Assert.True(code == 0, err);
        Assert.Equal("", err);
        var eval = JsonDocument.Parse(output).RootElement;
        Assert.Equal(testRows, eval.GetProperty("rows").GetInt32());
        Assert.Equal(summary.GetProperty("test_accuracy").GetDouble(), eval.GetProperty("accuracy").GetDouble());
        Assert.Equal(summary.GetProperty("test_loss").GetDouble(), eval.GetProperty("loss").GetDouble(), 6);

        (code, output, _) = CliTests.Run("evaluate", "--model", model, "--data", data, "--split", "train", "--json");
        Assert.Equal(0, code);
        Assert.Equal(120 - testRows, JsonDocument.Parse(output).RootElement.GetProperty("rows").GetInt32());

        // All rows of the training file: measured, with a note that they are not a test score.
        (code, output, err) = CliTests.Run("evaluate", "--model", model, "--data", data, "--json");
        Assert.Equal(0, code);
        Assert.Equal(120, JsonDocument.Parse(output).RootElement.GetProperty("rows").GetInt32());
        Assert.Contains("not a test score", err);
        Assert.Contains("--split test", err);
    }

    [Fact]
    public void AChangedOrOtherFileIsAnErrorNamingIt()
    {
        string data = Csv("d.csv", 100);
        string model = Path.Combine(_dir, "m.json");
        Assert.Equal(0, CliTests.Run("train", "--data", data, "--hidden", "4", "--epochs", "2", "--save", model, "--quiet").Code);

        var lines = File.ReadAllLines(data);
        lines[7] = lines[7].Replace("0.", "1.", StringComparison.Ordinal);
        string changed = Path.Combine(_dir, "changed.csv");
        File.WriteAllLines(changed, lines);
        var (code, _, err) = CliTests.Run("evaluate", "--model", model, "--data", changed, "--split", "test");
        Assert.Equal(2, code);
        Assert.StartsWith($"error: {changed}: the rows are not the ones the model was trained from", err);
        Assert.Single(err.Trim().Split('\n'));

        string shorter = Path.Combine(_dir, "shorter.csv");
        File.WriteAllLines(shorter, lines.Take(90));
        (code, _, err) = CliTests.Run("evaluate", "--model", model, "--data", shorter, "--split", "test");
        Assert.Equal(2, code);
        Assert.Contains("89 rows, but the model's held-out split was made from a file of 100 rows", err);

        (code, _, err) = CliTests.Run("evaluate", "--model", model, "--data", data, "--split", "half");
        Assert.Equal(2, code);
        Assert.StartsWith("error: --split: expected all, test or train, got 'half'.", err);
    }

    [Fact]
    public void AModelWithoutASplitSaysSo()
    {
        string data = Csv("d.csv", 100);
        string model = Path.Combine(_dir, "all.json");
        Assert.Equal(0, CliTests.Run("train", "--data", data, "--hidden", "4", "--epochs", "2", "--test-fraction", "0", "--save", model, "--quiet").Code);
        Assert.Null(ModelFile.Load(model).Training.HeldOut);
        Assert.DoesNotContain("held_out", File.ReadAllText(model));
        var (code, _, err) = CliTests.Run("evaluate", "--model", model, "--data", data, "--split", "test");
        Assert.Equal(2, code);
        Assert.StartsWith($"error: --split test: {model} records no held-out split", err);
    }

    [Fact]
    public void TheSplitRoundTripsThroughTheModelFileAndPartialFieldsAreRefused()
    {
        string data = Csv("d.csv", 100);
        string model = Path.Combine(_dir, "m.json");
        Assert.Equal(0, CliTests.Run("train", "--data", data, "--hidden", "4", "--epochs", "2", "--seed", "9", "--save", model, "--quiet").Code);
        var loaded = ModelFile.Load(model);
        var h = Assert.IsType<HeldOutSplit>(loaded.Training.HeldOut);
        Assert.Equal((9UL, 0.2, 100, 20), (h.Seed, h.Fraction, h.Rows, h.TestRows));
        var read = DataFiles.Read(data, null, new CsvOptions()).Data;
        Assert.Equal(HeldOutSplit.Hash(read), h.DataSha256);
        Assert.Equal(read.Split(0.2, 9).HeldOut.Rows, h.Find(read, data).Test.Rows);

        var json = JsonNode.Parse(File.ReadAllText(model))!;
        json["training"]!.AsObject().Remove("data_sha256");
        string partial = Path.Combine(_dir, "partial.json");
        File.WriteAllText(partial, json.ToJsonString());
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Load(partial));
        Assert.Contains("held_out_seed, held_out_fraction, data_rows, held_out_rows and data_sha256, or none", e.Message);
    }

    [Fact]
    public void TheHashSeesAValueALabelAndTheRowOrder()
    {
        var a = Dataset.Classification([1, 2, 3, 4], 2, [0, 1], 2, ["a", "b"]);
        string h = HeldOutSplit.Hash(a);
        Assert.Equal(64, h.Length);
        Assert.Equal(h, HeldOutSplit.Hash(Dataset.Classification([1, 2, 3, 4], 2, [0, 1], 2, ["a", "b"])));
        Assert.NotEqual(h, HeldOutSplit.Hash(Dataset.Classification([1, 2, 3, 4.000001], 2, [0, 1], 2, ["a", "b"])));
        Assert.NotEqual(h, HeldOutSplit.Hash(Dataset.Classification([1, 2, 3, 4], 2, [0, 0], 2, ["a", "b"])));
        Assert.NotEqual(h, HeldOutSplit.Hash(Dataset.Classification([3, 4, 1, 2], 2, [1, 0], 2, ["a", "b"])));
        // The class index does not matter, the class does: the same rows with the class names in another order.
        Assert.Equal(h, HeldOutSplit.Hash(Dataset.Classification([1, 2, 3, 4], 2, [1, 0], 2, ["b", "a"])));
    }
}
