using Backprop.Data;
using Backprop.Numerics;
using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Tests.Training;

public sealed class TrainerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A bare network trained as the library trains any network: wrapped in a model (no preprocessing).</summary>
    private static TrainingReport Fit<T>(Network<T> network, Dataset data, TrainingOptions options) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        Model<T>.FromNetwork(network, data.IsClassification ? TaskKind.Classification : TaskKind.Regression).Fit(data, options, Ct);

    private static double[] Parameters<T>(Network<T> net) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        net.Layers.SelectMany(l => l.Weights.ToArray().Concat(l.Biases.ToArray())).Select(v => double.CreateChecked(v)).ToArray();

    private static Model<float> MoonsModel(long seed) =>
        Model.Classifier(2, 2).Dense(8, Activation.Tanh).Dense(8, Activation.Relu).Build(seed);

    private sealed class Sync<TValue>(Action<TValue> action) : IProgress<TValue>
    {
        public void Report(TValue value) => action(value);
    }

    [Fact]
    public void SameSeedGivesBitIdenticalWeightsAndDifferentSeedsDiffer()
    {
        var data = SyntheticData.TwoMoons(120, 0.1, seed: 2);
        float[] Train(long seed)
        {
            var model = MoonsModel(seed);
            model.Fit(data, new TrainingOptions { Epochs = 5, BatchSize = 7, Optimizer = new Adam(0.01), ValidationFraction = 0.25 }, Ct);
            return model.Network.Layers.SelectMany(l => l.Weights.ToArray().Concat(l.Biases.ToArray())).ToArray();
        }
        var a = Train(11);
        var b = Train(11);
        var c = Train(12);
        Assert.Equal(a.Select(BitConverter.SingleToInt32Bits), b.Select(BitConverter.SingleToInt32Bits));
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void TrainingSeedChangesOnlyTheOrderOfBatches()
    {
        var data = SyntheticData.TwoMoons(60, 0.1, seed: 2);
        var a = MoonsModel(1);
        var b = MoonsModel(1);
        Assert.Equal(Parameters(a.Network), Parameters(b.Network)); // same initial weights
        a.Fit(data, new TrainingOptions { Epochs = 2, BatchSize = 8, Seed = 100 }, Ct);
        b.Fit(data, new TrainingOptions { Epochs = 2, BatchSize = 8, Seed = 101 }, Ct);
        Assert.NotEqual(Parameters(a.Network), Parameters(b.Network));
    }

    /// <summary>
    /// The trainer's mini-batch loop (SGD, no shuffling) against the engine's own plain gradient-descent step
    /// on the same slices: batches 0-2, 3-5, 6-8 and the partial batch 9. Bit-identical.
    /// </summary>
    [Theory]
    [InlineData(3)]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(50)]
    public void MiniBatchesMatchPlainGradientDescentOnTheSameSlices(int batchSize)
    {
        var data = SyntheticData.NoisySine(10, 0.1, seed: 4);
        var specs = new[] { new LayerSpec(5, Activation.Tanh), new LayerSpec(1, Activation.Identity) };
        var trained = Network<double>.Create(1, specs, Loss.Mse, seed: 9);
        var manual = trained.Clone();
        var sizes = new List<int>();
        Fit(trained, data, new TrainingOptions
        {
            Epochs = 2, BatchSize = batchSize, Shuffle = false, Optimizer = new Sgd(0.05),
            BatchProgress = new Sync<BatchResult>(r => sizes.Add(r.Rows)),
        });

        int bs = Math.Min(batchSize, 10);
        var x = data.Features.ToArray();
        var y = data.Targets.ToArray();
        for (int epoch = 0; epoch < 2; epoch++)
            for (int start = 0; start < 10; start += bs)
            {
                int n = Math.Min(bs, 10 - start);
                manual.TrainStep(x.AsSpan(start, n), y.AsSpan(start, n), n, 0.05);
            }
        Assert.Equal(Parameters(manual), Parameters(trained));
        int perEpoch = (10 + bs - 1) / bs;
        Assert.Equal(2 * perEpoch, sizes.Count);
        Assert.Equal(20, sizes.Sum());
        Assert.Equal(10 - (perEpoch - 1) * bs, sizes[perEpoch - 1]); // the last, possibly partial, batch
    }

    [Fact]
    public void ShuffleIsAPermutationEveryEpoch()
    {
        var rng = new SplitMix64(5UL);
        var items = Enumerable.Range(0, 100).ToArray();
        rng.Shuffle(items.AsSpan());
        Assert.NotEqual(Enumerable.Range(0, 100), items);
        Assert.Equal(Enumerable.Range(0, 100), items.Order());
    }

    [Fact]
    public void EarlyStoppingRestoresTheBestEpochsWeights()
    {
        // The validation set is the training set with every label flipped: the better the model fits the
        // training data, the worse the validation loss, so the best epoch comes early and training must stop.
        var train = SyntheticData.Blobs(60, centers: 2, noise: 0.3, seed: 1);
        var flipped = Dataset.Classification(train.Features.ToArray(), 2, train.Labels.ToArray().Select(l => 1 - l).ToArray(), 2);
        var model = MoonsModel(3);
        var snapshots = new Dictionary<int, double[]>();
        var report = model.Fit(train, new TrainingOptions
        {
            Epochs = 200, BatchSize = 10, Optimizer = new Adam(0.01), ValidationData = flipped,
            EarlyStopping = new EarlyStopping(patience: 4),
            Progress = new Sync<EpochResult>(r => snapshots[r.Epoch] = Parameters(model.Network)),
        }, Ct);

        Assert.True(report.StoppedEarly);
        Assert.True(report.RestoredBestWeights);
        int best = report.BestEpoch!.Value;
        var losses = report.History.Select(h => h.ValidationLoss!.Value).ToArray();
        Assert.Equal(losses.Min(), losses[best - 1]);
        Assert.Equal(best + 4, report.History.Count); // patience 4 epochs without improvement
        Assert.Equal(snapshots[best], Parameters(model.Network));
        Assert.NotEqual(snapshots[report.History.Count], Parameters(model.Network));
    }

    [Fact]
    public void BestWeightsAreRestoredAlsoWhenTheEpochsRunOut()
    {
        var train = SyntheticData.Blobs(60, centers: 2, noise: 0.3, seed: 1);
        var flipped = Dataset.Classification(train.Features.ToArray(), 2, train.Labels.ToArray().Select(l => 1 - l).ToArray(), 2);
        var model = MoonsModel(3);
        var snapshots = new Dictionary<int, double[]>();
        var report = model.Fit(train, new TrainingOptions
        {
            Epochs = 6, BatchSize = 10, Optimizer = new Adam(0.01), ValidationData = flipped,
            EarlyStopping = new EarlyStopping(patience: 100),
            Progress = new Sync<EpochResult>(r => snapshots[r.Epoch] = Parameters(model.Network)),
        }, Ct);
        Assert.False(report.StoppedEarly);
        Assert.Equal(6, report.History.Count);
        Assert.True(report.BestEpoch < 6);
        Assert.Equal(snapshots[report.BestEpoch!.Value], Parameters(model.Network));
        Assert.Throws<BackpropException>(() => new EarlyStopping(patience: 0));
    }

    [Fact]
    public void EarlyStoppingWithoutValidationDataSaysWhatToSet()
    {
        var e = Assert.Throws<BackpropException>(() => MoonsModel(1).Fit(SyntheticData.Xor(),
            new TrainingOptions { EarlyStopping = new EarlyStopping() }, Ct));
        Assert.Contains("ValidationFraction", e.Message);
    }

    [Fact]
    public void HugeLearningRateGivesADiagnosisAndFiniteWeights()
    {
        var data = SyntheticData.NoisySine(64, 0.1, seed: 1);
        var model = Model.Regressor(1).Dense(16, Activation.Tanh).Build<double>(seed: 2);
        var e = Assert.Throws<TrainingDivergedException>(() => model.Fit(data,
            new TrainingOptions { Epochs = 50, BatchSize = 16, Optimizer = new Sgd(1e6) }, Ct));
        Assert.Contains(DivergenceCause.LearningRateTooLarge, e.Causes);
        Assert.Contains("learning rate", e.Message);
        Assert.Contains("last finite weights", e.Message);
        Assert.DoesNotContain(DivergenceCause.UnscaledInputs, e.Causes); // the sine inputs are in [-1, 1]
        Assert.Contains(DivergenceCause.SaturatedUnits, e.Causes); // the huge weights push every tanh unit flat
        Assert.All(Parameters(model.Network), v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void GradientOverflowWithAFiniteLossIsNotBlamedOnTheLearningRate()
    {
        // 1 -> 1 relu -> 1 identity in float: the hidden activation is 1e-37, the output weight 3e38, so the
        // output is 30 (a finite loss) but back-propagating through 3e38 overflows float: dE/da = 60 * 3e38.
        var hidden = new Dense<float>(1, 1, Activation.Relu, BiasMode.None);
        var output = new Dense<float>(1, 1, Activation.Identity, BiasMode.None);
        hidden.Weights[0] = 1e-37f;
        output.Weights[0] = 3e38f;
        var net = new Network<float>(1, [hidden, output], Loss.Mse);
        var data = Dataset.Regression([1.0], 1, [0.0]);
        var e = Assert.Throws<TrainingDivergedException>(() => Fit(net, data,
            new TrainingOptions { Epochs = 1, BatchSize = 1, Optimizer = new Sgd(1e-6) }));
        Assert.Contains(DivergenceCause.NonFiniteGradients, e.Causes);
        Assert.DoesNotContain(DivergenceCause.LearningRateTooLarge, e.Causes);
        Assert.Contains("overflowed in Single", e.Message);
        Assert.Equal(1e-37f, net.Layers[0].Weights[0]);
        Assert.Equal(3e38f, net.Layers[1].Weights[0]);
    }

    [Fact]
    public void UnscaledInputsAreNamedAsACause()
    {
        var sine = SyntheticData.NoisySine(64, 0.1, seed: 1);
        var data = Dataset.Regression(sine.Features.ToArray().Select(v => v * 1e4).ToArray(), 1, sine.Targets.ToArray());
        var model = Model.Regressor(1).Dense(8, Activation.Relu).Build(seed: 2);
        var e = Assert.Throws<TrainingDivergedException>(() => model.Fit(data,
            new TrainingOptions { Epochs = 50, BatchSize = 16, Optimizer = new Sgd(0.1) }, Ct));
        Assert.Contains(DivergenceCause.UnscaledInputs, e.Causes);
        Assert.Contains("input 0 reaches |x| = 99", e.Message); // the largest |x| is 9993
        Assert.Contains("standardise", e.Message);
        Assert.All(Parameters(model.Network), v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void CancellationStopsWithinOneBatchAndLeavesAUsableModel()
    {
        var data = SyntheticData.TwoMoons(200, 0.1, seed: 1);
        var model = MoonsModel(1);
        using var cts = new CancellationTokenSource();
        int batches = 0;
        Assert.ThrowsAny<OperationCanceledException>(() => model.Fit(data, new TrainingOptions
        {
            Epochs = 10, BatchSize = 10,
            BatchProgress = new Sync<BatchResult>(_ =>
            {
                if (++batches == 23)
                    cts.Cancel();
            }),
        }, cts.Token));
        Assert.Equal(23, batches); // no batch ran after the request
        Assert.Single(model.History); // epoch 1 completed (20 batches), epoch 2 was cut
        Assert.All(Parameters(model.Network), v => Assert.True(double.IsFinite(v)));
        var m = Assert.IsType<ClassificationMetrics>(model.Evaluate(data));
        Assert.True(m.Accuracy > 0.5);
        model.Fit(data, new TrainingOptions { Epochs = 1 }, Ct); // and it trains on
        Assert.Equal(2, model.History.Count);
    }

    [Fact]
    public async Task AsyncStreamYieldsEachEpochAndCanBeLeftEarly()
    {
        var data = SyntheticData.Xor();
        var model = MoonsModel(1);
        var seen = new List<int>();
        await foreach (var epoch in model.TrainAsync(data, new TrainingOptions { Epochs = 10, BatchSize = 4 }, Ct))
        {
            seen.Add(epoch.Epoch);
            if (epoch.Epoch == 3)
                break;
        }
        Assert.Equal([1, 2, 3], seen);
        var report = await model.FitAsync(data, new TrainingOptions { Epochs = 4 }, Ct);
        Assert.Equal(4, report.History.Count);
        Assert.Equal(7, model.EpochsTrained);
    }

    [Fact]
    public async Task AsyncCancellationThrows()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => MoonsModel(1).FitAsync(SyntheticData.Xor(), null, cts.Token));
    }

    [Fact]
    public void NoAllocationPerBatchAfterTheFirst()
    {
        var data = SyntheticData.TwoMoons(200, 0.1, seed: 1);
        var net = MoonsModel(1).Network;
        long Allocated(int epochs)
        {
            var options = new TrainingOptions { Epochs = epochs, BatchSize = 1, Optimizer = new Adam(0.001), ClipNorm = 5, L2 = 1e-4 };
            long before = GC.GetAllocatedBytesForCurrentThread();
            Fit(net, data, options);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Allocated(1); // warm up
        // 10 more epochs are 2000 more batches; one allocation per batch would add at least 48 000 bytes.
        // The smallest of three differences: one-off runtime work (tiered JIT promotion running on this
        // thread while the whole suite runs) can add a few KB to a single measurement, never to all three.
        long extra = Enumerable.Range(0, 3).Min(_ => Allocated(12) - Allocated(2));
        Assert.InRange(extra, 0, 4000);
    }

    [Fact]
    public void ValidationSplitIsStratified()
    {
        var data = SyntheticData.Blobs(100, centers: 3, seed: 1); // 34, 33, 33 rows
        var (train, val) = data.Split(0.3, seed: 5);
        Assert.Equal(100, train.Rows + val.Rows);
        Assert.Equal([10, 10, 10], Enumerable.Range(0, 3).Select(c => val.Labels.ToArray().Count(l => l == c)));
        Assert.Equal([24, 23, 23], Enumerable.Range(0, 3).Select(c => train.Labels.ToArray().Count(l => l == c)));
        var (_, again) = data.Split(0.3, seed: 5);
        Assert.Equal(val.Features.ToArray(), again.Features.ToArray());
    }

    [Fact]
    public void ValidationResultsAreReported()
    {
        var data = SyntheticData.TwoMoons(100, 0.1, seed: 1);
        var report = MoonsModel(1).Fit(data, new TrainingOptions { Epochs = 3, ValidationFraction = 0.2 }, Ct);
        Assert.All(report.History, h =>
        {
            Assert.NotNull(h.ValidationLoss);
            Assert.InRange(h.ValidationAccuracy!.Value, 0, 1);
            Assert.Equal(3, h.Batches); // 80 training rows in batches of 32
        });
        Assert.NotNull(report.BestEpoch);
    }

    [Fact]
    public void MismatchedDataSaysWhatToFix()
    {
        var model = MoonsModel(1);
        Assert.Contains("3 classes", Assert.Throws<BackpropException>(() => model.Fit(SyntheticData.Blobs(30, centers: 3), null, Ct)).Message);
        Assert.Contains("regressor", Assert.Throws<BackpropException>(() =>
            Model.Regressor(1).Build().Fit(SyntheticData.Xor(), null, Ct)).Message);
        Assert.Contains("batch size", Assert.Throws<BackpropException>(() =>
            model.Fit(SyntheticData.Xor(), new TrainingOptions { BatchSize = 0 }, Ct)).Message);
    }

    [Fact]
    public void LearningRateScheduleIsAppliedPerEpoch()
    {
        var rates = new List<double>();
        MoonsModel(1).Fit(SyntheticData.Xor(), new TrainingOptions
        {
            Epochs = 5, Optimizer = new Sgd(0.8), Schedule = LearningRateSchedule.Step(2, 0.5),
            Progress = new Sync<EpochResult>(r => rates.Add(r.LearningRate)),
        }, Ct);
        Assert.Equal([0.8, 0.8, 0.4, 0.4, 0.2], rates);
    }
}

public sealed class DivergenceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static TrainingReport Fit<T>(Network<T> network, Dataset data, TrainingOptions options) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        Model<T>.FromNetwork(network, data.IsClassification ? TaskKind.Classification : TaskKind.Regression).Fit(data, options, Ct);

    /// <summary>A first step so large that float weights overflow: the step is undone, the weights are the initial ones.</summary>
    [Fact]
    public void AStepThatOverflowsIsUndone()
    {
        var sine = SyntheticData.NoisySine(32, 0.1, seed: 1);
        var data = Dataset.Regression(sine.Features.ToArray(), 1, sine.Targets.ToArray().Select(v => 100 * v).ToArray());
        var model = Model.Regressor(1).Dense(4, Activation.Tanh).Build(seed: 1);
        var initial = model.Network.Layers.SelectMany(l => l.Weights.ToArray().Concat(l.Biases.ToArray())).ToArray();
        var e = Assert.Throws<TrainingDivergedException>(() => model.Fit(data,
            new TrainingOptions { Epochs = 3, BatchSize = 32, Optimizer = new Sgd(1e38), Shuffle = false }, Ct));
        Assert.Equal((1, 1), (e.Epoch, e.Batch));
        Assert.Contains("from before that step", e.Message);
        Assert.Contains(DivergenceCause.LearningRateTooLarge, e.Causes);
        var now = model.Network.Layers.SelectMany(l => l.Weights.ToArray().Concat(l.Biases.ToArray())).ToArray();
        Assert.Equal(initial, now);
    }

    /// <summary>8 of 10 ReLU units start with a bias of -100, so they never fire; a huge rate then makes the loss overflow.</summary>
    [Fact]
    public void DeadReluUnitsAreCounted()
    {
        var hidden = new Dense<double>(1, 10, Activation.Relu);
        var output = new Dense<double>(10, 1, Activation.Identity);
        var net = new Network<double>(1, [hidden, output], Loss.Mse);
        WeightInit.Apply(net, seed: 1);
        for (int u = 0; u < 8; u++)
            hidden.Biases[u] = -100;
        var e = Assert.Throws<TrainingDivergedException>(() => Fit(net, SyntheticData.NoisySine(32, 0.1, seed: 2),
            new TrainingOptions { Epochs = 100, BatchSize = 8, Optimizer = new Sgd(1e3) }));
        Assert.Contains(DivergenceCause.DeadReluUnits, e.Causes);
        Assert.Matches(@"layer 0 \(relu\): (8|9|10) of 10 units are dead", e.Message); // the 8, and maybe the others after the huge steps
    }
}
