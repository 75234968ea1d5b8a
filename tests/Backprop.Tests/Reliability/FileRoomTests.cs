using Backprop.Data;
using Backprop.IO;
using Backprop.Training;
using Backprop.Tests.IO;

namespace Backprop.Tests.Reliability;

/// <summary>
/// What cannot be written is refused before it is tried (issue 14 item 6): a model or checkpoint file larger than can
/// be read back (<see cref="ModelFile.MaxFileBytes"/>), or larger than the target's file system has free; a run that
/// checkpoints is refused before it trains. The estimates are upper bounds of what is written.
/// </summary>
public sealed class FileRoomTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        FileRoom.FreeSpaceForTests.Value = null;
        ModelFile.WriteLimitForTests.Value = null;
        _dir.Dispose();
    }

    private static Dataset Data => SyntheticData.Create("moons", seed: 3);

    private static Model<float> NewModel() => Model.For(Data).Dense(16, Backprop.Nn.Activation.Tanh).Build(2);

    [Fact]
    public void ASaveIsRefusedWhenTheFileSystemHasNoRoomAndTheOldFileIsKept()
    {
        string path = _dir.File("m.json");
        var model = NewModel();
        model.Save(path);
        byte[] before = File.ReadAllBytes(path);
        FileRoom.FreeSpaceForTests.Value = _ => 1000;
        var e = Assert.Throws<BackpropException>(() => model.Save(path));
        Assert.StartsWith($"{path}: the model file may take up to ", e.Message);
        Assert.EndsWith("and its file system has 1000 bytes free; free some space or write it elsewhere.", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_dir.Path));
    }

    [Fact]
    public void ARunThatCheckpointsIsRefusedBeforeItTrainsWhenItsCheckpointCannotBeWritten()
    {
        string path = _dir.File("ck.json");
        var model = NewModel();
        FileRoom.FreeSpaceForTests.Value = _ => 10_000;
        var options = new TrainingOptions { Epochs = 3, Checkpoint = CheckpointFile.Every(path, 1) };
        var e = Assert.Throws<BackpropException>(() => model.Fit(Data, options, Ct));
        Assert.StartsWith($"{path}: the checkpoint may take up to ", e.Message);
        Assert.Contains("its file system has 9.8 KiB free", e.Message);
        Assert.Empty(model.History);
        Assert.Equal(0, model.EpochsTrained);
        Assert.False(File.Exists(path));
        // A run that checkpoints only when cancelled is not refused (its checkpoint may never be written).
        model.Fit(Data, options with { Checkpoint = CheckpointFile.Every(path, 0) }, Ct);
        Assert.Equal(3, model.EpochsTrained);
    }

    [Fact]
    public void ACheckpointTooLargeToReadBackIsRefusedFromItsEstimate()
    {
        var model = NewModel();
        var footprint = new TrainingFootprint
        {
            Parameters = 45_000_000, ElementBytes = 4, OptimizerSlots = 2, KeepsBestWeights = false,
            TrainingRows = 1000, Epochs = 10, RunBytes = 0, CheckpointEveryEpochs = 1,
        };
        long bytes = FileRoom.CheckpointBytes(model, footprint);
        Assert.True(bytes > 45_000_000L * 50, bytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var writer = new CheckpointFile(_dir.File("ck.json"));
        var e = Assert.Throws<BackpropException>(() => writer.Check(model, footprint));
        Assert.Contains("the checkpoint may take up to 2.1 GiB", e.Message);
        Assert.Contains("more than the 2 GiB a model or checkpoint file may be (larger ones could not be read back)", e.Message);
        Assert.Contains("an optimizer with less state", e.Message);
        writer.Check(model, footprint with { CheckpointEveryEpochs = 0 });
        writer.Check(model, footprint with { Parameters = 1_000_000 });
    }

    [Fact]
    public void AFileThatWouldPassTheLimitIsNotWrittenAtAll()
    {
        string path = _dir.File("m.json");
        var model = NewModel();
        model.Save(path);
        byte[] before = File.ReadAllBytes(path);
        ModelFile.WriteLimitForTests.Value = 1000;
        var e = Assert.Throws<BackpropException>(() => model.Save(path));
        Assert.Equal($"{path}: the model file would be more than 1,000 bytes, the most a model or checkpoint file may be (it could not be read back); "
            + "nothing was written and any previous file is unchanged.", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_dir.Path));
    }

    [Fact]
    public void TheEstimatesAreUpperBoundsOfWhatIsWritten()
    {
        // Numbers at their longest: negative, subnormal, with exponents; names that need escapes.
        var data = Dataset.Classification([1, 2, 3, 4, 5, 6, 7, 8], 2, [0, 1, 0, 1], 2, ["\u0001a\"", "b\u2028"], "d", ["x\u0007", "y"]);
        var model = Model.For(data).Preprocess(PreprocessingKind.Standardize).Dense(7).Build<double>(4);
        double[] extremes = [-double.Epsilon, -1.2345678901234567E-300, -2.2250738585072014E-308, -1.7976931348623157E308 / 1e10];
        model.Fit(data, new TrainingOptions { Epochs = 2, BatchSize = 2, EarlyStopping = new EarlyStopping(5), ValidationFraction = 0.5 }, Ct);
        for (int l = 0; l < model.Network.Layers.Count; l++)
        {
            var w = model.Network.Layers[l].Weights;
            for (int i = 0; i < w.Length; i++)
                w[i] = extremes[i % extremes.Length];
        }
        string path = _dir.File("m.json");
        model.Save(path);
        Assert.True(new FileInfo(path).Length <= FileRoom.ModelBytes(model), $"{new FileInfo(path).Length} > {FileRoom.ModelBytes(model)}");
        var small = Model.For(data).Dense(300).Build(4);
        for (int l = 0; l < small.Network.Layers.Count; l++)
            small.Network.Layers[l].Weights.Fill(-1.17549435E-38f);
        small.Save(path);
        Assert.True(new FileInfo(path).Length <= FileRoom.ModelBytes(small), $"{new FileInfo(path).Length} > {FileRoom.ModelBytes(small)}");
        // A checkpoint with Adam's state and the best weights, after a run with early stopping.
        string ck = _dir.File("ck.json");
        var run = Model.For(SyntheticData.Create("moons", seed: 1)).Dense(40).Build(1);
        var options = new TrainingOptions { Epochs = 3, ValidationFraction = 0.2, EarlyStopping = new EarlyStopping(10), Checkpoint = CheckpointFile.Every(ck, 1) };
        run.Fit(SyntheticData.Create("moons", seed: 1), options, Ct);
        var footprint = TrainingFootprint.Of(run.Network, new Adam(0.01), options, 160, 40);
        Assert.True(new FileInfo(ck).Length <= FileRoom.CheckpointBytes(run, footprint), $"{new FileInfo(ck).Length} > {FileRoom.CheckpointBytes(run, footprint)}");
    }
}
