using Backprop.Data;
using Backprop.IO;
using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Tests.Reliability;

/// <summary>
/// Exact resume, in-process: a run interrupted at any batch (or stopped after k epochs), checkpointed, and
/// continued by brand-new objects (model, optimizer, options: nothing shared but the file) ends with weights
/// bit-identical to the uninterrupted run. The oracle is the uninterrupted run itself.
/// </summary>
public sealed class CheckpointResumeTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly string _dir = Directory.CreateTempSubdirectory("backprop-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class Sync<TValue>(Action<TValue> action) : IProgress<TValue>
    {
        public void Report(TValue value) => action(value);
    }

    private static readonly Dataset Data = SyntheticData.TwoMoons(90, 0.15, seed: 4);
    private const int Epochs = 7, Batch = 8;

    private static Optimizer NewOptimizer(string name) => name switch
    {
        "sgd" => new Sgd(0.05),
        "nesterov" => new Sgd(0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3),
        "adam" or "adam+dropout" => new Adam(0.01),
        "adamw" => new AdamW(0.01, weightDecay: 0.05),
        "rmsprop" => new RmsProp(0.005, momentum: 0.5, centered: true),
        _ => throw new ArgumentException(name),
    };

    private static Model<float> NewModel() => Model.Classifier(2, 2).Dense(6, Activation.Tanh).Dense(5, Activation.Relu).Build(seed: 9);

    private static TrainingOptions Options(string optimizer, int epochs = Epochs, CheckpointOptions? checkpoint = null, string? resume = null,
        IProgress<BatchResult>? batches = null, bool earlyStopping = false) => new()
    {
        Epochs = epochs,
        BatchSize = Batch,
        Optimizer = NewOptimizer(optimizer),
        Schedule = LearningRateSchedule.Cosine(5, 1e-4),
        ValidationFraction = 0.25,
        L2 = 1e-4,
        ClipNorm = 5,
        // "adam+dropout": the masks are a function of the seed, epoch and row, so a resume draws the same ones.
        Dropout = optimizer.EndsWith("+dropout", StringComparison.Ordinal) ? 0.3 : 0,
        InputDropout = optimizer.EndsWith("+dropout", StringComparison.Ordinal) ? 0.1 : 0,
        EarlyStopping = earlyStopping ? new EarlyStopping(patience: 2) : null,
        Seed = 21,
        Checkpoint = checkpoint,
        ResumeFrom = resume is null ? null : CheckpointFile.Read(resume),
        BatchProgress = batches,
    };

    private static int[] Bits(Model<float> m) =>
        m.Network.Layers.SelectMany(l => l.Weights.ToArray().Concat(l.Biases.ToArray())).Select(BitConverter.SingleToInt32Bits).ToArray();

    /// <summary>Cancels a run after <paramref name="batches"/> batches in all, checkpointing; then resumes it with new objects.</summary>
    private (Model<float> Resumed, TrainingReport Report) InterruptAndResume(string optimizer, int batches, bool earlyStopping = false)
    {
        string path = Path.Combine(_dir, $"{optimizer}-{batches}.json");
        using var cts = new CancellationTokenSource();
        int seen = 0;
        var first = NewModel();
        var progress = new Sync<BatchResult>(_ => { if (++seen == batches) cts.Cancel(); });
        Assert.Throws<OperationCanceledException>(() =>
            first.Fit(Data, Options(optimizer, checkpoint: CheckpointFile.Every(path), batches: progress, earlyStopping: earlyStopping), cts.Token));
        Assert.True(File.Exists(path));

        var resumed = NewModel(); // fresh weights: the checkpoint must put everything back
        var report = resumed.Fit(Data, Options(optimizer, checkpoint: CheckpointFile.Every(path), resume: path, earlyStopping: earlyStopping), Ct);
        return (resumed, report);
    }

    public static TheoryData<string, int> Cuts()
    {
        // 68 training rows / batch 8 = 9 batches per epoch: cut inside the first epoch, exactly at an epoch
        // boundary, in the middle of later epochs and just before the end.
        var d = new TheoryData<string, int>();
        foreach (var opt in new[] { "sgd", "nesterov", "adam", "adamw", "rmsprop", "adam+dropout" })
            foreach (int cut in new[] { 1, 9, 23, 58 })
                d.Add(opt, cut);
        return d;
    }

    [Theory]
    [MemberData(nameof(Cuts))]
    public void InterruptedAndResumedRunEqualsTheUninterruptedRunBitForBit(string optimizer, int cut)
    {
        var straight = NewModel();
        var straightReport = straight.Fit(Data, Options(optimizer), Ct);
        Assert.Equal(9, straightReport.Last!.Batches); // the cut positions above assume 9 batches per epoch

        var (resumed, report) = InterruptAndResume(optimizer, cut);

        Assert.Equal(Bits(straight), Bits(resumed));
        Assert.Equal(straightReport.History, report.History);
        Assert.Equal(straight.History, resumed.History);
        Assert.Equal(straight.EpochsTrained, resumed.EpochsTrained);
        Assert.Equal(straightReport.BestEpoch, report.BestEpoch);
    }

    [Theory]
    [InlineData("adam", 1)]
    [InlineData("adam", 4)]
    [InlineData("rmsprop", 3)]
    [InlineData("nesterov", 6)]
    public void RunOfKEpochsContinuedToNMatchesAStraightRunOfN(string optimizer, int k)
    {
        var straight = NewModel();
        straight.Fit(Data, Options(optimizer), Ct);

        string path = Path.Combine(_dir, $"k{k}.json");
        NewModel().Fit(Data, Options(optimizer, epochs: k, checkpoint: CheckpointFile.Every(path, everyEpochs: 2)), Ct);
        var resumed = NewModel();
        resumed.Fit(Data, Options(optimizer, resume: path), Ct);

        Assert.Equal(Bits(straight), Bits(resumed));
        Assert.Equal(straight.History, resumed.History);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(14)]
    [InlineData(30)]
    public void EarlyStoppingStateSurvivesAResume(int cut)
    {
        var straight = NewModel();
        var straightReport = straight.Fit(Data, Options("adam", epochs: 30, earlyStopping: true), Ct);

        string path = Path.Combine(_dir, $"es{cut}.json");
        using var cts = new CancellationTokenSource();
        int seen = 0;
        Assert.Throws<OperationCanceledException>(() => NewModel().Fit(Data, Options("adam", epochs: 30, earlyStopping: true,
            checkpoint: CheckpointFile.Every(path), batches: new Sync<BatchResult>(_ => { if (++seen == cut) cts.Cancel(); })), cts.Token));
        var resumed = NewModel();
        var report = resumed.Fit(Data, Options("adam", epochs: 30, earlyStopping: true, resume: path), Ct);

        Assert.Equal(Bits(straight), Bits(resumed));
        Assert.Equal(straightReport.StoppedEarly, report.StoppedEarly);
        Assert.Equal(straightReport.BestEpoch, report.BestEpoch);
        Assert.Equal(straightReport.RestoredBestWeights, report.RestoredBestWeights);
    }

    [Fact]
    public void CheckpointIsAModelFileThatLoadsWithTheCurrentWeights()
    {
        string path = Path.Combine(_dir, "ck.json");
        var model = NewModel();
        model.Fit(Data, Options("adam", epochs: 2, checkpoint: CheckpointFile.Every(path)), Ct);
        var (loaded, state) = ModelFile.Read<float>(path);
        Assert.Equal(Bits(model), Bits(loaded));
        Assert.NotNull(state);
        Assert.Equal(2, state.Epoch);
        Assert.False(state.InEpoch);
        Assert.Equal(2, state.History.Count);
        Assert.Equal(model.History, loaded.History.Count == 0 ? state.History : loaded.History);
    }

    [Fact]
    public void ResumingADifferentRunIsRefusedAndLeavesTheModelUntouched()
    {
        string path = Path.Combine(_dir, "ck.json");
        NewModel().Fit(Data, Options("adam", epochs: 2, checkpoint: CheckpointFile.Every(path)), Ct);

        var model = NewModel();
        var before = Bits(model);
        var otherSeed = new TrainingOptions { Epochs = 4, BatchSize = Batch, Optimizer = new Adam(0.01), Schedule = LearningRateSchedule.Cosine(5, 1e-4),
            ValidationFraction = 0.25, L2 = 1e-4, ClipNorm = 5, Seed = 22, ResumeFrom = CheckpointFile.Read(path) };
        var e = Assert.ThrowsAny<BackpropException>(() => model.Fit(Data, otherSeed, Ct));
        Assert.Contains("seed", e.Message);
        Assert.Equal(before, Bits(model));

        e = Assert.ThrowsAny<BackpropException>(() => NewModel().Fit(Data, Options("rmsprop", resume: path), Ct));
        Assert.Contains("optimizer", e.Message);

        e = Assert.ThrowsAny<BackpropException>(() => NewModel().Fit(Data, Options("adam+dropout", resume: path), Ct));
        Assert.Contains("dropout", e.Message);
        string withDropout = Path.Combine(_dir, "dropout.json");
        NewModel().Fit(Data, Options("adam+dropout", epochs: 2, checkpoint: CheckpointFile.Every(withDropout)), Ct);
        e = Assert.ThrowsAny<BackpropException>(() => NewModel().Fit(Data, Options("adam", resume: withDropout), Ct));
        Assert.Contains("dropout", e.Message);

        e = Assert.ThrowsAny<BackpropException>(() => NewModel().Fit(SyntheticData.TwoMoons(90, 0.15, seed: 5), Options("adam", resume: path), Ct));
        Assert.Contains("data", e.Message);

        e = Assert.ThrowsAny<BackpropException>(() =>
            Model.Classifier(2, 2).Dense(7, Activation.Tanh).Dense(5, Activation.Relu).Build(seed: 9).Fit(Data, Options("adam", resume: path), Ct));
        Assert.Contains("network", e.Message);

        e = Assert.ThrowsAny<BackpropException>(() => NewModel().Fit(Data, Options("adam", epochs: 1, resume: path), Ct));
        Assert.Contains("epoch 2", e.Message);

        string plain = Path.Combine(_dir, "plain.json");
        NewModel().Save(plain);
        Assert.Throws<ModelFormatException>(() => NewModel().Fit(Data, Options("adam", resume: plain), Ct));
        Assert.ThrowsAny<BackpropException>(() => NewModel().Fit(Data, Options("adam", resume: Path.Combine(_dir, "missing.json")), Ct));
    }

    [Fact]
    public void ABareNetworkWrappedInAModelCheckpointsAndResumesExactly()
    {
        // The network-level trainer is gone: a hand-built network trains (and checkpoints) as a model.
        Model<float> Wrapped() => Model<float>.FromNetwork(NewModel().Network.Clone(), TaskKind.Classification, seed: 9);
        var straight = Wrapped();
        straight.Fit(Data, Options("nesterov"), Ct);
        string path = Path.Combine(_dir, "bare.json");
        using var cts = new CancellationTokenSource();
        int seen = 0;
        Assert.Throws<OperationCanceledException>(() => Wrapped().Fit(Data,
            Options("nesterov", checkpoint: CheckpointFile.Every(path), batches: new Sync<BatchResult>(_ => { if (++seen == 11) cts.Cancel(); })), cts.Token));
        var resumed = Wrapped();
        resumed.Fit(Data, Options("nesterov", resume: path), Ct);
        Assert.Equal(Bits(straight), Bits(resumed));
    }
}
