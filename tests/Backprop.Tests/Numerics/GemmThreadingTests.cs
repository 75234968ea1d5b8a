using Backprop.Nn;
using Backprop.Numerics;

namespace Backprop.Tests.Numerics;

[CollectionDefinition(nameof(GemmThreadingTests), DisableParallelization = true)]
public sealed class GemmThreadingCollection;

/// <summary>Training through the fast engine gives the same bits with 1 thread as with several.</summary>
[Collection(nameof(GemmThreadingTests))]
public sealed class GemmThreadingTests
{
    [Fact]
    public void TrainingWithOneOrTwoThreadsGivesBitIdenticalWeights()
    {
        // The W2 shape: every product is large enough to pack, tile and split across threads.
        float[] Train(int threads) => WithThreads(threads, () =>
        {
            var net = Network<float>.Create(784, [new LayerSpec(128, Activation.Sigmoid), new LayerSpec(10, Activation.Sigmoid)], Loss.Mse, seed: 7);
            var rng = new Random(1);
            for (int step = 0; step < 3; step++)
            {
                var (x, y) = RandomBatch(rng, 64, 784, 10);
                net.TrainStep(x, y, 64, 0.1f);
            }
            return Parameters(net);
        });

        var one = Train(1);
        var two = Train(2);
        var three = Train(3);
        Assert.True(one.AsSpan().SequenceEqual(two), "1 vs 2 threads");
        Assert.True(one.AsSpan().SequenceEqual(three), "1 vs 3 threads");
        // And training really moved the weights (the comparison is not between two untouched copies).
        var untouched = Network<float>.Create(784, [new LayerSpec(128, Activation.Sigmoid), new LayerSpec(10, Activation.Sigmoid)], Loss.Mse, seed: 7);
        Assert.False(untouched.Layers[0].Weights.SequenceEqual(one.AsSpan(0, 784 * 128)));
    }

    [Theory]
    [InlineData("sgd-momentum")]
    [InlineData("adam")]
    [InlineData("rmsprop-centered")]
    public void OptimizerStepsWithOneOrTwoThreadsGiveBitIdenticalWeights(string name)
    {
        // 784 -> 96 -> 10: about 76,000 parameters, enough for the optimizer to cut them into chunks for threads.
        float[] Train(int threads) => WithThreads(threads, () =>
        {
            var net = Network<float>.Create(784, [new LayerSpec(96, Activation.Relu), new LayerSpec(10, Activation.Softmax)], Loss.CrossEntropy, seed: 3);
            Backprop.Training.Optimizer optimizer = name switch
            {
                "sgd-momentum" => new Backprop.Training.Sgd(0.05, momentum: 0.9, weightDecay: 1e-3, nesterov: true),
                "adam" => new Backprop.Training.Adam(1e-3, weightDecay: 1e-4),
                _ => new Backprop.Training.RmsProp(1e-3, momentum: 0.5, centered: true),
            };
            var rng = new Random(5);
            for (int step = 0; step < 4; step++)
            {
                var (x, y) = RandomBatch(rng, 32, 784, 10);
                net.Forward(x, 32);
                net.Backward(y);
                optimizer.Step(net);
            }
            return Parameters(net);
        });

        var one = Train(1);
        var two = Train(2);
        Assert.True(one.AsSpan().SequenceEqual(two), "1 vs 2 threads");
        var untouched = Network<float>.Create(784, [new LayerSpec(96, Activation.Relu), new LayerSpec(10, Activation.Softmax)], Loss.CrossEntropy, seed: 3);
        Assert.False(untouched.Layers[0].Weights.SequenceEqual(one.AsSpan(0, 784 * 96)));
    }

    [Fact]
    public void TrainingWithDropoutWithOneTwoOrThreeThreadsGivesBitIdenticalWeights()
    {
        // The masks are functions of (seed, epoch, row, layer, unit), never of the thread that computes a row: the
        // products of this shape are split across threads, and the weights must not show it.
        var rng = new Random(8);
        var x = Enumerable.Range(0, 96 * 784).Select(_ => rng.NextDouble()).ToArray();
        var labels = Enumerable.Range(0, 96).Select(i => i % 10).ToArray();
        var data = Backprop.Data.Dataset.Classification(x, 784, labels, 10);
        float[] Train(int threads, double dropout) => WithThreads(threads, () =>
        {
            var model = Backprop.Training.Model.Classifier(784, 10).Dense(96, Activation.Relu).Dense(64, Activation.Relu).Build(3);
            model.Fit(data, new Backprop.Training.TrainingOptions
            {
                Epochs = 2, BatchSize = 32, Optimizer = new Backprop.Training.Adam(1e-3), Dropout = dropout, InputDropout = dropout / 2, Seed = 4,
            }, TestContext.Current.CancellationToken);
            return Parameters(model.Network);
        });

        var one = Train(1, 0.5);
        Assert.True(one.AsSpan().SequenceEqual(Train(2, 0.5)), "1 vs 2 threads");
        Assert.True(one.AsSpan().SequenceEqual(Train(3, 0.5)), "1 vs 3 threads");
        // Dropout really changed the run.
        Assert.False(one.AsSpan().SequenceEqual(Train(1, 0)));
    }

    /// <summary>A rule outside the library that needs whole tensors (as LARS or LAMB do, for a tensor's norm).</summary>
    private sealed class WholeTensorRule() : Backprop.Training.Optimizer(0.1, 0)
    {
        public readonly List<int> Lengths = [];

        public override string Name => "whole-tensor";
        protected override int StateSlots => 1;
        public override IReadOnlyDictionary<string, double> Settings => new Dictionary<string, double>();

        protected override void Update<T>(Span<T> p, ReadOnlySpan<T> g, Backprop.Training.OptimizerState state, double lr, int t)
        {
            lock (Lengths)
                Lengths.Add(p.Length);
            Assert.Equal(p.Length, state[0].Length);
        }
    }

    [Fact]
    public void OptimizersThatDoNotSayElementWiseAlwaysSeeWholeTensors()
    {
        // About 76,000 parameters: past the size at which element-wise rules are cut into chunks.
        var lengths = WithThreads(2, () =>
        {
            var net = Network<float>.Create(784, [new LayerSpec(96, Activation.Relu), new LayerSpec(10, Activation.Softmax)], Loss.CrossEntropy, seed: 3);
            var rule = new WholeTensorRule();
            rule.Step(net);
            return rule.Lengths;
        });
        Assert.Equal([784 * 96, 96, 96 * 10, 10], lengths);
    }

    /// <summary>Runs <paramref name="body"/> with <see cref="Gemm.MaxThreads"/> set to <paramref name="threads"/>.</summary>
    private static TResult WithThreads<TResult>(int threads, Func<TResult> body)
    {
        int saved = Gemm.MaxThreads;
        Gemm.MaxThreads = threads;
        try
        {
            return body();
        }
        finally
        {
            Gemm.MaxThreads = saved;
        }
    }

    /// <summary>Uniform inputs in [0, 1) and one-hot targets.</summary>
    private static (float[] X, float[] Y) RandomBatch(Random rng, int rows, int inputs, int outputs)
    {
        var x = new float[rows * inputs];
        var y = new float[rows * outputs];
        for (int i = 0; i < x.Length; i++)
            x[i] = (float)rng.NextDouble();
        for (int r = 0; r < rows; r++)
            y[r * outputs + rng.Next(outputs)] = 1;
        return (x, y);
    }

    private static float[] Parameters(Network<float> net) =>
        net.Layers.SelectMany(l => l.Weights.ToArray().Concat(l.Biases.ToArray())).ToArray();

    private sealed class CountingWork(int count) : IGemmWork
    {
        public readonly int[] Hits = new int[count];
        public void Run(int index) => Interlocked.Increment(ref Hits[index]);
    }

    /// <summary>
    /// Counts the runs of each item; an item past the first <c>shared</c> waits until every shared one has finished,
    /// as a tile waits for the strips it reads (a pool that let a thread start one before all shared items were
    /// claimed could leave it waiting for an item nobody runs: the wait gives up and fails the test instead).
    /// </summary>
    private sealed class SharedFirstWork(int count, int shared) : IGemmWork
    {
        public readonly int[] Hits = new int[count];
        private int _sharedDone;

        public void Run(int index)
        {
            Interlocked.Increment(ref Hits[index]);
            if (index < shared)
            {
                Interlocked.Increment(ref _sharedDone);
                return;
            }
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var spin = new SpinWait();
            while (Volatile.Read(ref _sharedDone) < shared)
                if (clock.Elapsed.TotalSeconds > 10)
                    throw new TimeoutException($"item {index} waited 10 s for the shared items ({_sharedDone} of {shared} done)");
                else
                    spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    [Fact]
    public async Task PoolRunsEveryItemExactlyOnceUnderConcurrentCallers()
    {
        // Two callers race for the pool thousands of times (the loser runs its job alone); every item of every
        // job must run exactly once, or a product would skip or double a tile; the shared items (packing) come
        // first and are dealt round-robin, the rest cut into blocks, one per thread. A pool of four helpers, more
        // than this machine may have CPUs, so jobs with fewer threads than the pool find idle helpers polling.
        var pool = new GemmPool(4);
        void Caller(int seed)
        {
            var rng = new Random(seed);
            for (int job = 0; job < 3000; job++)
            {
                int count = 1 + rng.Next(17), shared = rng.Next(count + 1);
                var work = new SharedFirstWork(count, shared);
                pool.Run(work, count, 1 + rng.Next(5), shared);
                for (int i = 0; i < count; i++)
                    if (work.Hits[i] != 1)
                        throw new InvalidOperationException($"job {job}: item {i} of {count} ({shared} shared) ran {work.Hits[i]} times");
            }
        }
        var other = Task.Run(() => Caller(2), TestContext.Current.CancellationToken);
        Caller(1);
        await other;
    }

    [Fact]
    public void PoolRunsAJobOnAtMostTheThreadsAsked()
    {
        // Four helpers, all polling after a job that used them all: the next job, asked to run on T threads, must not
        // be joined by the others (Gemm.MaxThreads and GemmOptions.MaxThreads promise "at most").
        var pool = new GemmPool(4);
        for (int threads = 1; threads <= 5; threads++)
            for (int job = 0; job < 20; job++)
            {
                pool.Run(new ThreadRecordingWork(8), 8, 5);
                var work = new ThreadRecordingWork(24);
                pool.Run(work, 24, threads);
                int used = work.Threads.Distinct().Count();
                Assert.True(used <= threads, $"job {job} asked for {threads} threads and ran on {used}");
            }
    }

    /// <summary>Records the managed thread of each item; each item takes about 50 us, time for idle helpers to join.</summary>
    private sealed class ThreadRecordingWork(int count) : IGemmWork
    {
        public readonly int[] Threads = new int[count];

        public void Run(int index)
        {
            Threads[index] = Environment.CurrentManagedThreadId;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed.TotalMicroseconds < 50)
                Thread.SpinWait(10);
        }
    }
}
