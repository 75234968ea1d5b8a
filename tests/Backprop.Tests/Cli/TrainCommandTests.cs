using System.Text.Json;
using Backprop.Tests.IO;

namespace Backprop.Tests.Cli;

public sealed class TrainCommandTests : IDisposable
{
    private readonly string _dir = TestData.TempFolder();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonElement LastJson(string output) =>
        JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;

    [Fact]
    public void IrisWithOnlyDataTrainsAGoodModelThatEvaluateAndPredictUse()
    {
        string iris = TestData.Require("iris", "iris.data");
        string model = Path.Combine(_dir, "iris.json");
        var (code, output, err) = CliTests.Run("train", "--data", iris, "--save", model, "--json");
        Assert.Equal(0, code);
        Assert.Equal("", err);
        var summary = LastJson(output);
        Assert.True(summary.GetProperty("summary").GetBoolean());
        Assert.True(summary.GetProperty("training_accuracy").GetDouble() >= 0.95, output);
        Assert.True(summary.GetProperty("test_accuracy").GetDouble() >= 0.85, output);
        int epochs = summary.GetProperty("epochs").GetInt32();
        Assert.Equal(epochs + 1, output.Trim().Split('\n').Length); // one JSON line per epoch, then the summary

        (code, output, _) = CliTests.Run("evaluate", "--model", model, "--data", iris, "--json");
        Assert.Equal(0, code);
        var eval = JsonDocument.Parse(output).RootElement;
        Assert.Equal(150, eval.GetProperty("rows").GetInt32());
        Assert.True(eval.GetProperty("accuracy").GetDouble() >= 0.9);
        Assert.Equal(["Iris-setosa", "Iris-versicolor", "Iris-virginica"], eval.GetProperty("classes").EnumerateArray().Select(e => e.GetString()));

        string predictions = Path.Combine(_dir, "p.csv");
        (code, _, err) = CliTests.Run("predict", "--model", model, "--data", iris, "--output", predictions);
        Assert.Equal(0, code);
        var lines = File.ReadAllLines(predictions);
        Assert.Equal("predicted,p_Iris-setosa,p_Iris-versicolor,p_Iris-virginica", lines[0]);
        Assert.Equal(151, lines.Length);
        var truth = File.ReadAllLines(iris).Where(l => l.Length > 0).Select(l => l.Split(',')[^1]).ToArray();
        int agree = lines.Skip(1).Zip(truth).Count(p => p.First.Split(',')[0] == p.Second);
        Assert.Equal((int)Math.Round(eval.GetProperty("accuracy").GetDouble() * 150), agree);
        foreach (var line in lines.Skip(1))
            Assert.Equal(1.0, line.Split(',').Skip(1).Sum(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)), 1e-5);
    }

    [Fact]
    public void TheSameSeedGivesTheSameModelFileAndAnotherSeedDoesNot()
    {
        string a = Path.Combine(_dir, "a.json"), b = Path.Combine(_dir, "b.json"), c = Path.Combine(_dir, "c.json");
        foreach (var (path, seed) in new[] { (a, "7"), (b, "7"), (c, "8") })
            Assert.Equal(0, CliTests.Run("train", "--dataset", "moons", "--hidden", "8", "--epochs", "5", "--seed", seed, "--save", path, "--quiet").Code);
        Assert.Equal(File.ReadAllText(a), File.ReadAllText(b));
        Assert.NotEqual(File.ReadAllText(a), File.ReadAllText(c));
    }

    [Fact]
    public void SyntheticSpiralsTrainAndPlotTheLossCurve()
    {
        string plot = Path.Combine(_dir, "loss.png");
        var (code, output, _) = CliTests.Run("train", "--dataset", "spirals", "--hidden", "16,16", "--activation", "tanh",
            "--optimizer", "adam", "--lr", "0.01", "--epochs", "150", "--validation-fraction", "0.2", "--plot", plot, "--json");
        Assert.Equal(0, code);
        var summary = LastJson(output);
        Assert.True(summary.GetProperty("training_accuracy").GetDouble() > 0.9, output[^400..]);
        Assert.Equal((byte)0x89, File.ReadAllBytes(plot)[0]);
    }

    [Fact]
    public void RegressionOnTheNoisySineReportsErrorsNotAccuracy()
    {
        var (code, output, _) = CliTests.Run("train", "--dataset", "sine", "--hidden", "16", "--activation", "tanh", "--lr", "0.01", "--epochs", "100", "--json");
        Assert.Equal(0, code);
        var summary = LastJson(output);
        Assert.False(summary.TryGetProperty("training_accuracy", out _));
        Assert.True(summary.GetProperty("test_r2").GetDouble() > 0.5, output[^300..]);
    }

    [Fact]
    public void WdbcWithItsIdColumnDroppedAndTheLabelInColumnOne()
    {
        string wdbc = TestData.Require("wdbc", "wdbc.data");
        var (code, output, _) = CliTests.Run("train", "--data", wdbc, "--label-column", "1", "--drop-columns", "0", "--epochs", "20", "--json");
        Assert.Equal(0, code);
        Assert.True(LastJson(output).GetProperty("test_accuracy").GetDouble() > 0.9);
    }

    [Fact]
    public void MnistIdxFilesTrain()
    {
        string images = TestData.Require("mnist", "t10k-images-idx3-ubyte.gz");
        string labels = TestData.Require("mnist", "t10k-labels-idx1-ubyte.gz");
        var (code, output, _) = CliTests.Run("train", "--data", images, "--labels", labels, "--hidden", "32", "--epochs", "2", "--batch", "64", "--json");
        Assert.Equal(0, code);
        var summary = LastJson(output);
        Assert.True(summary.GetProperty("test_accuracy").GetDouble() > 0.8, output);
    }

    [Theory]
    [InlineData("train")]
    [InlineData("train", "--dataset", "moons", "--data", "x.csv")]
    [InlineData("train", "--dataset", "nosuch")]
    [InlineData("train", "--dataset", "xor", "--optimizer", "lbfgs")]
    [InlineData("train", "--dataset", "xor", "--hidden", "8,zero")]
    [InlineData("train", "--dataset", "xor", "--patience", "3")]
    [InlineData("train", "--dataset", "xor", "--activation", "softmax")]
    [InlineData("train", "--data", "/no/such/file.csv")]
    [InlineData("train", "--dataset", "xor", "--schedule", "sometimes")]
    [InlineData("evaluate", "--model", "/no/such/model.json", "--data", "x.csv")]
    public void BadInputGivesOneClearLineAndExitCode2(params string[] args)
    {
        var (code, _, err) = CliTests.Run(args);
        Assert.Equal(2, code);
        Assert.StartsWith("error: ", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void PredictReadsAFileWithoutItsLabelColumn()
    {
        string iris = TestData.Require("iris", "iris.data");
        string model = Path.Combine(_dir, "m.json");
        Assert.Equal(0, CliTests.Run("train", "--data", iris, "--epochs", "30", "--save", model, "--quiet").Code);
        string unlabelled = Path.Combine(_dir, "u.csv");
        File.WriteAllLines(unlabelled, ["5.1,3.5,1.4,0.2", "6.7,3.0,5.2,2.3"]);
        var (code, output, _) = CliTests.Run("predict", "--model", model, "--data", unlabelled);
        Assert.Equal(0, code);
        var rows = output.Trim().Split('\n');
        Assert.Equal(3, rows.Length);
        Assert.StartsWith("Iris-setosa,", rows[1]);
        Assert.StartsWith("Iris-virginica,", rows[2]);
    }
}

public sealed class PlotCommandTests : IDisposable
{
    private readonly string _dir = TestData.TempFolder();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void BoundaryOfATrainedMoonsModelIsAPng()
    {
        string model = Path.Combine(_dir, "m.json"), png = Path.Combine(_dir, "b.png");
        Assert.Equal(0, CliTests.Run("train", "--dataset", "moons", "--hidden", "8", "--epochs", "20", "--save", model, "--quiet").Code);
        var (code, output, err) = CliTests.Run("plot", "boundary", "--model", model, "--dataset", "moons", "--out", png, "--resolution", "40");
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.Contains("Wrote", output);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, File.ReadAllBytes(png)[..4]);
    }

    [Fact]
    public void BoundaryOfAModelWithoutTwoInputsIsAClearError()
    {
        string iris = TestData.Require("iris", "iris.data");
        string model = Path.Combine(_dir, "iris.json");
        Assert.Equal(0, CliTests.Run("train", "--data", iris, "--epochs", "5", "--save", model, "--quiet").Code);
        var (code, _, err) = CliTests.Run("plot", "boundary", "--model", model, "--data", iris, "--out", Path.Combine(_dir, "x.png"));
        Assert.Equal(2, code);
        Assert.Contains("2 inputs", err);
        Assert.False(File.Exists(Path.Combine(_dir, "x.png")));
    }
}
