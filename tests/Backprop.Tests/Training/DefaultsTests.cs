using System.Globalization;
using System.Text;
using System.Text.Json;
using Backprop.Cli.Commands;
using Backprop.Data;
using Backprop.Nn;
using Backprop.Tests.Cli;
using Backprop.Tests.IO;
using Backprop.Training;

namespace Backprop.Tests.Training;

/// <summary>
/// The defaults of issue 17: per-optimizer learning rates that learn the built-in sets (plain SGD included), all of
/// them in <see cref="TrainingDefaults"/>, and early stopping with the best weights restored for data files.
/// </summary>
public sealed class DefaultsTests : IDisposable
{
    private readonly string _dir = TestData.TempFolder();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("sgd")]
    [InlineData("momentum")]
    [InlineData("nesterov")]
    [InlineData("adam")]
    [InlineData("rmsprop")]
    public void EveryOptimizerAtItsDefaultRateLearnsMoons(string optimizer)
    {
        // The CLI's `train --dataset moons --hidden 16,16 --optimizer NAME` (160 training rows, 200 epochs by the
        // auto rule); plain SGD at its old 0.01 stopped at 89% training accuracy here.
        var (train, _) = SyntheticData.Create("moons", seed: 1).Split(0.2, 1);
        var model = Model.For(train).Dense(16, Activation.Relu).Dense(16, Activation.Relu).Build<float>(1);
        model.Fit(train, new TrainingOptions
        {
            Epochs = TrainingDefaults.AutoEpochs(train.Rows, TrainingDefaults.BatchSize),
            Optimizer = TrainCommand.CreateOptimizer(optimizer, null)(),
            Seed = 1,
        }, TestContext.Current.CancellationToken);
        var accuracy = ((ClassificationMetrics)model.Evaluate(train)).Accuracy;
        Assert.True(accuracy >= 0.98, $"{optimizer}: {accuracy:P2}");
    }

    [Fact]
    public void TheCliOptimizerFactoryTakesItsRatesFromTrainingDefaults()
    {
        foreach (string name in TrainingDefaults.OptimizerNames)
        {
            var optimizer = TrainCommand.CreateOptimizer(name, null)();
            Assert.Equal(TrainingDefaults.LearningRate(name), optimizer.LearningRate);
            Assert.Equal(Optimizer.Create(name).ToString(), optimizer.ToString());
        }
        Assert.Equal(0.1, TrainingDefaults.LearningRate("sgd"));
        Assert.Equal(0.3, TrainCommand.CreateOptimizer("momentum", 0.3)().LearningRate);
    }

    private string Blobs(int rows, double spread = 1.6)
    {
        var inv = CultureInfo.InvariantCulture;
        var rng = new Random(3);
        var csv = new StringBuilder("x1,x2,label\n");
        for (int i = 0; i < rows; i++)
        {
            int c = i % 2;
            csv.Append(inv, $"{(c == 1 ? 1 : -1) * (spread > 2 ? 0.5 : 1) + (rng.NextDouble() - 0.5) * spread:F4},{rng.NextDouble():F4},{(c == 1 ? "b" : "a")}\n");
        }
        string path = Path.Combine(_dir, FormattableString.Invariant($"blobs{rows}-{spread}.csv"));
        File.WriteAllText(path, csv.ToString());
        return path;
    }

    [Fact]
    public void ADataFileIsTrainedWithEarlyStoppingAndTheBestWeightsByDefault()
    {
        string data = Blobs(1300);
        var (code, output, err) = CliTests.Run("train", "--data", data, "--hidden", "8", "--epochs", "30", "--seed", "2");
        Assert.True(code == 0, err);
        Assert.Contains($"at most 30 epochs (early stopping: patience {TrainingDefaults.Patience} on a 10% validation split, best weights kept)", output);
        Assert.Contains("validation loss", output);
        Assert.Contains(FormattableString.Invariant($", dropout {TrainingDefaults.Dropout} (inputs {TrainingDefaults.InputDropout})"), output);
        Assert.Contains(", optimizer adam, L2 0.001,", output); // 1,040 training rows after the test split: not a small table

        // The same data with --validation-fraction 0: no validation, no early stopping, every epoch run.
        (code, output, err) = CliTests.Run("train", "--data", data, "--hidden", "8", "--epochs", "12", "--validation-fraction", "0", "--json");
        Assert.True(code == 0, err);
        var lines = output.Trim().Split('\n');
        Assert.Equal(13, lines.Length);
        Assert.DoesNotContain("validation_loss\":0", lines[0]);
        Assert.False(JsonDocument.Parse(lines[^1]).RootElement.GetProperty("stopped_early").GetBoolean());
    }

    [Fact]
    public void EarlyStoppingByDefaultEndsARunThatStoppedImprovingAndKeepsItsBestEpoch()
    {
        // Blobs that overlap: the validation loss stops improving long before 200 epochs.
        string data = Blobs(1300, spread: 3);
        var (code, output, err) = CliTests.Run("train", "--data", data, "--hidden", "64", "--lr", "0.01", "--seed", "1");
        Assert.True(code == 0, err);
        Assert.Matches(@"Stopped early at epoch (\d+); kept the weights of epoch (\d+)\.", output);
        var m = System.Text.RegularExpressions.Regex.Match(output, @"Stopped early at epoch (\d+); kept the weights of epoch (\d+)\.");
        Assert.Equal(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) - TrainingDefaults.Patience, int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    [Fact]
    public void SmallFilesAndBuiltInSetsHaveNoEarlyStoppingByDefault()
    {
        var plan = Settings(data: "x.csv").Plan(TrainingDefaults.MinRowsForEarlyStopping - 1);
        Assert.Equal(0, plan.Validation);
        Assert.Null(plan.Patience);
        plan = Settings(dataset: "moons").Plan(1000);
        Assert.Null(plan.Patience);
        Assert.Equal(TrainingDefaults.AutoEpochs(1000, 32), plan.Epochs);
        plan = Settings(data: "x.csv").Plan(1000);
        Assert.Equal((TrainingDefaults.ValidationFraction, TrainingDefaults.Patience, TrainingDefaults.MaxEpochs), (plan.Validation, plan.Patience, plan.Epochs));
    }

    [Fact]
    public void ADataFileInMemoryTrainsWithDropoutByDefaultAndABuiltInSetOrAStreamWithout()
    {
        foreach (int rows in new[] { 150, 5000 })
        {
            var plan = Settings(data: "x.csv").Plan(rows);
            Assert.Equal((TrainingDefaults.Dropout, TrainingDefaults.InputDropout), (plan.Dropout, plan.InputDropout));
        }
        Assert.True(TrainingDefaults.Dropout > 0 && TrainingDefaults.InputDropout > 0);
        var builtIn = Settings(dataset: "moons").Plan(1000);
        Assert.Equal((0.0, 0.0), (builtIn.Dropout, builtIn.InputDropout));
        var streamed = Settings(data: "x.csv").Plan(5000, streamed: true);
        Assert.Equal((0.0, 0.0), (streamed.Dropout, streamed.InputDropout));
        // Given: the options win, 0 included.
        var given = (Settings(data: "x.csv") with { Dropout = 0, InputDropout = 0.05 }).Plan(5000);
        Assert.Equal((0.0, 0.05), (given.Dropout, given.InputDropout));
    }

    [Fact]
    public void ASmallDataFileTrainsWithTheStrongerL2AndEverythingElseWithTheUsualOne()
    {
        // Below MinRowsForEarlyStopping training rows: 0.01; from it on, built-in sets and streams: 0.001.
        Assert.Equal(0.01, Settings(data: "x.csv").Plan(TrainingDefaults.MinRowsForEarlyStopping - 1).L2);
        Assert.Equal(0.001, Settings(data: "x.csv").Plan(TrainingDefaults.MinRowsForEarlyStopping).L2);
        Assert.Equal(0.001, Settings(dataset: "moons").Plan(100).L2);
        Assert.Equal(0.001, Settings(data: "x.csv").Plan(100, streamed: true).L2);
        // Given: the option wins, 0 included.
        Assert.Equal(0.0, (Settings(data: "x.csv") with { L2 = 0 }).Plan(100).L2);
        Assert.Equal(0.02, (Settings(data: "x.csv") with { L2 = 0.02 }).Plan(5000).L2);

        // The run says which it used.
        string data = Blobs(200);
        var (code, output, err) = CliTests.Run("train", "--data", data, "--hidden", "4", "--epochs", "2", "--seed", "1");
        Assert.True(code == 0, err);
        Assert.Contains(", optimizer adam, L2 0.01,", output);
        (code, output, err) = CliTests.Run("train", "--data", data, "--hidden", "4", "--epochs", "2", "--l2", "0");
        Assert.True(code == 0, err);
        Assert.Contains(", optimizer adam, L2 0,", output);
        // --json's summary records it too (a saved model's file does not: the training section has no L2 field).
        (code, output, err) = CliTests.Run("train", "--data", data, "--hidden", "4", "--epochs", "2", "--json");
        Assert.True(code == 0, err);
        Assert.Contains("\"l2\":0.01,", output.Trim().Split('\n')[^1]);
        // cv: each fold its own plan; a fold past the threshold is named in the header (1,249 rows: four folds of
        // 999 training rows, one of 1,000).
        (code, output, err) = CliTests.Run("cv", "--data", Blobs(1249), "--hidden", "4", "--epochs", "2", "--folds", "5");
        Assert.True(code == 0, err);
        Assert.Contains("; 2 epochs, L2 0.01 (a fold of 1000 training rows: at most 2 epochs (early stopping, patience 10, 10% validation split), L2 0.001), hidden 4,", output);
        // A checkpoint written under another L2 (a run of before the small-table default) names the way to resume it.
        string checkpoint = Path.Combine(_dir, "l2.checkpoint.json");
        (code, _, err) = CliTests.Run("train", "--data", data, "--hidden", "4", "--epochs", "2", "--l2", "0.001", "--checkpoint", checkpoint);
        Assert.True(code == 0, err);
        (code, _, err) = CliTests.Run("train", "--data", data, "--hidden", "4", "--epochs", "3", "--resume", checkpoint);
        Assert.Equal(2, code);
        Assert.Contains("(l2: checkpoint has '0.001', this run has '0.01'); resume with the same data, model, optimizer and training settings (on the command line: --l2 0.001).", err);
        (code, _, err) = CliTests.Run("train", "--data", data, "--hidden", "4", "--epochs", "3", "--resume", checkpoint, "--l2", "0.001");
        Assert.True(code == 0, err);
        // A checkpoint that is not there is named a checkpoint (it said "cannot read the model file").
        (code, _, err) = CliTests.Run("train", "--data", data, "--resume", Path.Combine(_dir, "none.json"));
        Assert.Equal(2, code);
        Assert.Contains("none.json: cannot read the checkpoint file (", err);
        (code, _, err) = CliTests.Run("train", "--data", data, "--epochs", "2", "--l2", "-1");
        Assert.Equal(2, code);
        Assert.Contains("--l2 must be a finite number >= 0, got -1.", err);
    }

    private static TrainCommand.Settings Settings(string? data = null, string? dataset = null) =>
        new() { Data = new Backprop.Cli.Options.DataSettings(data, null, new Backprop.IO.CsvOptions()), Dataset = dataset };
}
