using System.Text.Json;
using Backprop.Data;
using Backprop.Evaluation;
using Backprop.Nn;
using Backprop.Tests.Cli;
using Backprop.Tests.IO;
using Backprop.Training;

namespace Backprop.Tests.Evaluation;

public sealed class PermutationImportanceTests : IDisposable
{
    private readonly string _dir = TestData.TempFolder();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The class is the sign of "signal"; "noise" is random and "constant" never changes.</summary>
    private static Dataset Data(int rows)
    {
        var rng = new Random(4);
        var features = new double[rows * 3];
        var labels = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            double signal = rng.NextDouble() * 2 - 1;
            features[3 * r] = rng.NextDouble();
            features[3 * r + 1] = signal;
            features[3 * r + 2] = 5;
            labels[r] = signal > 0 ? 1 : 0;
        }
        return Dataset.Classification(features, 3, labels, 2, featureNames: ["noise", "signal", "constant"]);
    }

    private static Model<float> Trained(Dataset data)
    {
        var model = Model.For(data).Preprocess(PreprocessingKind.Standardize).Dense(8, Activation.Relu).Build<float>(2);
        model.Fit(data, new TrainingOptions { Epochs = 40, Optimizer = Optimizer.Create("adam", 0.01) }, TestContext.Current.CancellationToken);
        return model;
    }

    [Fact]
    public void TheColumnThatDecidesIsTheImportantOneAndTheOthersAreNot()
    {
        var data = Data(200);
        var model = Trained(data);
        var before = data.Features.ToArray();
        var result = PermutationImportance.Compute(model, data, repeats: 4, seed: 7, TestContext.Current.CancellationToken);
        Assert.Equal("accuracy", result.Score);
        Assert.Equal(["signal", "noise", "constant"], result.Ranked.Select(c => c.Column).Take(1).Concat(result.Columns.Where(c => c.Column != "signal").Select(c => c.Column)));
        var signal = result.Columns[1];
        Assert.True(signal.Mean > 0.3, $"{signal}");
        Assert.Equal(4, signal.Drops.Count);
        Assert.Equal(signal.Drops.Average(), signal.Mean, 12);
        Assert.All(result.Columns.Where(c => c.Column != "signal"), c => Assert.InRange(c.Mean, -0.05, 0.05));
        // A constant column shuffled is the same column: exactly no change.
        Assert.Equal(0, result.Columns[2].Mean);
        Assert.Equal(0, result.Columns[2].StandardDeviation);
        Assert.True(signal.LossIncrease > 0);
        Assert.Equal(before, data.Features.ToArray()); // the caller's rows are untouched
        var again = PermutationImportance.Compute(model, data, repeats: 4, seed: 7, TestContext.Current.CancellationToken);
        Assert.Equal(result.Columns.Select(c => c.Drops), again.Columns.Select(c => c.Drops));
    }

    [Fact]
    public void BadArgumentsAreRefused()
    {
        var data = Data(20);
        var model = Trained(data);
        Assert.Contains("repeats must be 1 to", Assert.Throws<BackpropException>(() => PermutationImportance.Compute(model, data, 0, cancellationToken: TestContext.Current.CancellationToken)).Message);
    }

    [Fact]
    public void TheCommandPrintsATableWritesTheChartAndRefusesBadOptions()
    {
        string csv = Path.Combine(_dir, "d.csv");
        var data = Data(150);
        File.WriteAllLines(csv, ["noise,signal,constant,label", .. Enumerable.Range(0, 150).Select(r =>
            FormattableString.Invariant($"{data.FeatureRow(r)[0]:F4},{data.FeatureRow(r)[1]:F4},5,{(data.Labels[r] == 1 ? "pos" : "neg")}"))]);
        string model = Path.Combine(_dir, "m.json");
        Assert.Equal(0, CliTests.Run("train", "--data", csv, "--hidden", "8", "--epochs", "30", "--lr", "0.01", "--save", model, "--quiet").Code);
        string png = Path.Combine(_dir, "imp.png");
        var (code, output, err) = CliTests.Run("importance", "--model", model, "--data", csv, "--split", "test", "--repeats", "3", "--plot", png);
        Assert.True(code == 0, err);
        Assert.Contains("Permutation importance of", output);
        Assert.Contains("(--split test)", output);
        var rows = output.Split('\n').Where(l => l.StartsWith("signal", StringComparison.Ordinal) || l.StartsWith("noise", StringComparison.Ordinal)).ToList();
        Assert.StartsWith("signal", rows[0]); // most important first
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(png).Take(4));

        (code, output, _) = CliTests.Run("importance", "--model", model, "--data", csv, "--json");
        Assert.Equal(0, code);
        var report = JsonDocument.Parse(output).RootElement;
        Assert.Equal(150, report.GetProperty("rows").GetInt32());
        Assert.Equal(5, report.GetProperty("repeats").GetInt32());
        Assert.Equal("signal", report.GetProperty("columns")[0].GetProperty("column").GetString());

        (code, _, err) = CliTests.Run("importance", "--model", model, "--data", csv, "--repeats", "0");
        Assert.Equal(2, code);
        Assert.StartsWith("error: --repeats must be a whole number from 1 to", err);
        (code, _, err) = CliTests.Run("importance", "--model", model, "--data", csv, "--plot", csv);
        Assert.Equal(2, code);
        Assert.Contains("--plot", err);
        Assert.Equal(151, File.ReadAllLines(csv).Length);
    }
}
