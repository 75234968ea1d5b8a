using Backprop.Data;
using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Tests.Training;

/// <summary>
/// Every public prediction path of a model from many threads at once (issue 14 item 12, issue 20 item 2): the same
/// answers as one thread; and beside a training run, every answer is the model's output for the weights of one whole
/// training step, never a mix.
/// </summary>
public sealed class ConcurrentModelTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static (Model<float> Model, Dataset Data) Trained()
    {
        var data = SyntheticData.Spirals(300, classes: 3, noise: 0.2, seed: 3);
        var model = Model.For(data).Preprocess(PreprocessingKind.Standardize).Dense(16, Activation.Tanh).Dense(8, Activation.Relu).Build(seed: 2);
        model.Fit(data, new TrainingOptions { Epochs = 3, BatchSize = 16 }, Ct);
        return (model, data);
    }

    [Fact]
    public void EightThreadsOnEveryPredictionPathEqualOneThread()
    {
        var (model, data) = Trained();
        int rows = data.Rows, outs = model.Network.Outputs;
        var single = new double[rows][];
        for (int r = 0; r < rows; r++)
            single[r] = model.Predict(data.FeatureRow(r));
        var all = model.PredictAll(data);
        var classes = model.PredictClasses(data);
        double loss = model.Evaluate(data).Loss;
        var batched = new double[rows * outs];
        model.Predict(data.Features, rows, batched);

        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            for (int round = 0; round < 20; round++)
            {
                for (int k = 0; k < rows; k += 7)
                {
                    int r = (k * (2 * t + 1) + round) % rows;
                    if (!model.Predict(data.FeatureRow(r)).SequenceEqual(single[r]))
                        failures.Add($"Predict row {r}");
                    if (model.PredictClass(data.FeatureRow(r)) != classes[r])
                        failures.Add($"PredictClass row {r}");
                }
                if (!model.PredictAll(data).SequenceEqual(all))
                    failures.Add("PredictAll");
                if (!model.PredictClasses(data).SequenceEqual(classes))
                    failures.Add("PredictClasses");
                var mine = new double[rows * outs];
                model.Predict(data.Features, rows, mine);
                if (!mine.SequenceEqual(batched))
                    failures.Add("batched Predict");
                if (model.Evaluate(data).Loss != loss)
                    failures.Add("Evaluate");
            }
        });
        Assert.Empty(failures);
    }

    [Fact]
    public async Task PredictionsBesideTrainingSeeTheWeightsOfOneWholeStep()
    {
        var (model, data) = Trained();
        var probe = data.FeatureRow(5).ToArray();
        // Every weight state the run passes through: the one before it, and the one after each step (the batch
        // callback runs on the training thread after the step's update, before the next one starts).
        var states = new List<double[]> { Output() };
        double[] Output()
        {
            var net = model.Network.Clone();
            var x = model.Prepare(probe).Select(v => (float)v).ToArray();
            return net.Forward(x, 1).ToArray().Select(v => (double)v).ToArray();
        }
        var seen = new System.Collections.Concurrent.ConcurrentBag<double[]>();
        using var stop = new CancellationTokenSource();
        using var running = new CountdownEvent(3);
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
        {
            bool first = true;
            while (!stop.IsCancellationRequested)
            {
                seen.Add(model.Predict(probe));
                if (first)
                    running.Signal();
                first = false;
            }
        }, Ct)).ToArray();
        running.Wait(Ct); // every reader is predicting before training starts
        model.Fit(data, new TrainingOptions
        {
            Epochs = 6, BatchSize = 4, Optimizer = new Adam(0.01),
            BatchProgress = new Sync<BatchResult>(_ => states.Add(Output())),
        }, Ct);
        stop.Cancel();
        await Task.WhenAll(readers);
        Assert.True(seen.Count > states.Count, $"{seen.Count} predictions over {states.Count} weight states");
        var known = states.Select(s => string.Join(",", s.Select(v => BitConverter.DoubleToInt64Bits(v)))).ToHashSet();
        var strangers = seen.Where(o => !known.Contains(string.Join(",", o.Select(v => BitConverter.DoubleToInt64Bits(v))))).ToArray();
        Assert.True(strangers.Length == 0, $"{strangers.Length} of {seen.Count} predictions match no step's weights");
    }

    [Fact]
    public async Task BatchedPredictionsBesideTrainingSeeTheWeightsOfOneWholeStep()
    {
        // Layers wide enough, and batches tall enough, that both the predictions and the training steps take the
        // packed matrix product (which keeps each layer's weights packed between passes): a prediction must never
        // read panels that training is rewriting.
        var data = SyntheticData.Spirals(256, classes: 3, noise: 0.2, seed: 5);
        var model = Model.For(data).Preprocess(PreprocessingKind.Standardize).Dense(64, Activation.Tanh).Dense(64, Activation.Tanh).Build(seed: 4);
        model.Fit(data, new TrainingOptions { Epochs = 1, BatchSize = 32 }, Ct);
        const int rows = 32;
        var probe = new double[rows * data.Inputs];
        for (int r = 0; r < rows; r++)
            data.FeatureRow(r).CopyTo(probe.AsSpan(r * data.Inputs));
        string Key(double[] o) => string.Join(",", o.Select(v => BitConverter.DoubleToInt64Bits(v)));
        double[] Output()
        {
            var net = model.Network.Clone();
            var x = new float[probe.Length];
            for (int r = 0; r < rows; r++)
            {
                var prepared = model.Prepare(probe.AsSpan(r * data.Inputs, data.Inputs));
                for (int i = 0; i < data.Inputs; i++)
                    x[r * data.Inputs + i] = (float)prepared[i];
            }
            var y = new float[rows * net.Outputs];
            net.Predict(x, rows, y);
            return y.Select(v => (double)v).ToArray();
        }
        var states = new List<double[]> { Output() };
        var seen = new System.Collections.Concurrent.ConcurrentBag<double[]>();
        using var stop = new CancellationTokenSource();
        using var running = new CountdownEvent(2);
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            bool first = true;
            while (!stop.IsCancellationRequested)
            {
                var output = new double[rows * model.Network.Outputs];
                model.Predict(probe, rows, output);
                seen.Add(output);
                if (first)
                    running.Signal();
                first = false;
            }
        }, Ct)).ToArray();
        running.Wait(Ct);
        model.Fit(data, new TrainingOptions
        {
            Epochs = 4, BatchSize = 32, Optimizer = new Adam(0.01),
            BatchProgress = new Sync<BatchResult>(_ => states.Add(Output())),
        }, Ct);
        stop.Cancel();
        await Task.WhenAll(readers);
        var known = states.Select(Key).ToHashSet();
        var strangers = seen.Count(o => !known.Contains(Key(o)));
        Assert.True(seen.Count > states.Count, $"{seen.Count} predictions over {states.Count} weight states");
        Assert.True(strangers == 0, $"{strangers} of {seen.Count} batched predictions match no step's weights");
    }

    [Fact]
    public async Task ASecondTrainingRunWhileOneRunsIsRefused()
    {
        var (model, data) = Trained();
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var first = Task.Run(() => model.Fit(data, new TrainingOptions
        {
            Epochs = 2, BatchSize = 16,
            BatchProgress = new Sync<BatchResult>(b => { if (b.Epoch == 1 && b.Batch == 1) { started.Set(); release.Wait(Ct); } }),
        }, Ct), Ct);
        started.Wait(Ct);
        var e = Assert.Throws<InvalidOperationException>(() => model.Fit(data, new TrainingOptions { Epochs = 1 }, Ct));
        Assert.Contains("already training", e.Message);
        release.Set();
        await first;
        model.Fit(data, new TrainingOptions { Epochs = 1 }, Ct); // and after it, training is allowed again
    }

    private sealed class Sync<TValue>(Action<TValue> action) : IProgress<TValue>
    {
        public void Report(TValue value) => action(value);
    }
}
