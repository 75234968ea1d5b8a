using System.Globalization;
using Backprop.IO;
using Backprop.Tests.Cli;

namespace Backprop.Tests.IO;

/// <summary>
/// Model files of format version 1, written by main at d9f9220 before the pipeline rebuild (Fixtures/v1, with the
/// predictions that version printed for them): they load, predict the same, and the old checkpoint is resumed or
/// refused with a clear message. The oracle is the old code's own output, recorded before the change.
/// </summary>
public sealed class LegacyModelTests : IDisposable
{
    private readonly string _dir = TestData.TempFolder();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "v1", name);

    /// <summary>Predict's CSV compared with the recorded one: the same header and classes, numbers to the printed precision.</summary>
    private static void AssertSamePredictions(string expected, string actual)
    {
        var e = expected.Trim().Split('\n');
        var a = actual.Trim().Split('\n');
        Assert.Equal(e.Length, a.Length);
        Assert.Equal(e[0], a[0]);
        for (int r = 1; r < e.Length; r++)
        {
            var ef = e[r].Split(',');
            var af = a[r].Split(',');
            Assert.Equal(ef.Length, af.Length);
            for (int k = 0; k < ef.Length; k++)
            {
                if (!double.TryParse(ef[k], NumberStyles.Float, CultureInfo.InvariantCulture, out double ev))
                {
                    Assert.Equal(ef[k], af[k]); // the class name
                    continue;
                }
                double av = double.Parse(af[k], CultureInfo.InvariantCulture);
                // Probabilities are printed with 6 significant digits; the old code summed the same float products
                // one row at a time, the new one in batches, so the last printed digit may differ.
                Assert.True(Math.Abs(av - ev) <= 2e-6 + 1e-6 * Math.Abs(ev), $"line {r + 1}, field {k}: expected {ef[k]}, got {af[k]}");
            }
        }
    }

    public static TheoryData<string, string, string[]> Models() => new()
    {
        { "iris.json", "iris/iris.data", [] },
        { "wdbc.json", "wdbc/wdbc.data", ["--label-column", "1", "--drop-columns", "0"] },
        { "wine.json", "wine/wine.data", ["--label-column", "first"] },
        { "iris-regression.json", "iris/iris.data", ["--label-column", "3", "--drop-columns", "4"] },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Version1ModelsPredictWhatTheyPredictedThen(string model, string data, string[] options)
    {
        string file = TestData.Require(data.Split('/'));
        var r = CliTests.Run(["predict", "--model", Fixture(model), "--data", file, .. options]);
        Assert.True(r.Code == 0, r.Err);
        AssertSamePredictions(File.ReadAllText(Fixture(Path.ChangeExtension(model, ".predictions.csv"))), r.Out);
    }

    [Fact]
    public void Version1ModelsWithAHeaderMatchColumnsByName()
    {
        var r = CliTests.Run("predict", "--model", Fixture("penguins.json"), "--data", Fixture("penguins-numeric.csv"), "--label-column", "Species");
        Assert.True(r.Code == 0, r.Err);
        AssertSamePredictions(File.ReadAllText(Fixture("penguins.predictions.csv")), r.Out);
        // Version 1 stored the feature names: a file with the columns in another order predicts the same now.
        var lines = File.ReadAllLines(Fixture("penguins-numeric.csv")).Select(l => l.Split(',')).Select(f => string.Join(',', f[3], f[4], f[0], f[2], f[1]));
        string swapped = Path.Combine(_dir, "swapped.csv");
        File.WriteAllLines(swapped, lines);
        var s = CliTests.Run("predict", "--model", Fixture("penguins.json"), "--data", swapped);
        Assert.True(s.Code == 0, s.Err);
        Assert.Equal(r.Out, s.Out);
    }

    [Fact]
    public void Version1ModelsOfBuiltInAndImageDataPredictTheSame()
    {
        var moons = CliTests.Run("predict", "--model", Fixture("moons-bce.json"), "--data", Fixture("moons-points.csv"));
        Assert.True(moons.Code == 0, moons.Err);
        AssertSamePredictions(File.ReadAllText(Fixture("moons-bce.predictions.csv")), moons.Out);
        var mnist = CliTests.Run("predict", "--model", Fixture("mnist.json"),
            "--data", TestData.Require("mnist", "t10k-images-idx3-ubyte.gz"), "--labels", TestData.Require("mnist", "t10k-labels-idx1-ubyte.gz"));
        Assert.True(mnist.Code == 0, mnist.Err);
        AssertSamePredictions(File.ReadAllText(Fixture("mnist.predictions.head.csv")), string.Join('\n', mnist.Out.Split('\n').Take(201)));
    }

    [Fact]
    public void AVersion1ModelSavedAgainIsVersion3AndStillPredictsTheSame()
    {
        string copy = Path.Combine(_dir, "iris-v2.json");
        ModelFile.Load(Fixture("iris.json")).Save(copy);
        Assert.Contains("\"version\": 3", File.ReadAllText(copy));
        var r = CliTests.Run("predict", "--model", copy, "--data", TestData.Require("iris", "iris.data"));
        Assert.True(r.Code == 0, r.Err);
        AssertSamePredictions(File.ReadAllText(Fixture("iris.predictions.csv")), r.Out);
    }

    [Fact]
    public void AVersion1CheckpointIsRefusedWithAClearMessage()
    {
        // The checkpoint of `train --dataset moons --hidden 8 --epochs 3 --seed 8` at d9f9220. Its test rows were drawn
        // by the second of two splits that no longer exist, so the data differ and the resume is refused, naming why.
        string checkpoint = Path.Combine(_dir, "old.checkpoint.json");
        File.Copy(Fixture("moons.checkpoint.json"), checkpoint);
        var r = CliTests.Run("train", "--dataset", "moons", "--hidden", "8", "--epochs", "6", "--seed", "8", "--resume", checkpoint, "--quiet");
        Assert.Equal(2, r.Code);
        Assert.StartsWith("error: ", r.Err);
        Assert.Contains("written by a different run", r.Err);
        Assert.Contains("data", r.Err);
        // It still loads as the model it holds.
        Assert.Equal(3, ModelFile.Load(checkpoint).EpochsTrained);
    }
}
