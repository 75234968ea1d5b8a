using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Tests.Nn;

/// <summary>
/// The forward product keeps each layer's weights packed and reuses them while they are unchanged: the results must
/// be the bits a fresh network computes, after every way of writing the weights, and on many threads at once.
/// </summary>
public sealed class PackedWeightsTests
{
    /// <summary>40 -> 37 -> 11, batch 24: both products are large enough for the packed path (24 x 37 x 40).</summary>
    private static Network<float> Build() =>
        Network<float>.Create(40, [new LayerSpec(37, Activation.Tanh), new LayerSpec(11, Activation.Softmax)], Loss.CrossEntropy, seed: 9);

    private static float[] Batch(int rows, int seed)
    {
        var rng = new Random(seed);
        var x = new float[rows * 40];
        for (int i = 0; i < x.Length; i++)
            x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    /// <summary>One-hot targets over the 11 outputs: row r's class is (r * <paramref name="step"/>) mod 11.</summary>
    private static float[] Targets(int rows, int step)
    {
        var y = new float[rows * 11];
        for (int r = 0; r < rows; r++)
            y[r * 11 + r * step % 11] = 1;
        return y;
    }

    /// <summary>The output of a network that has never packed anything: a parameter copy, run once.</summary>
    private static float[] Fresh(Network<float> net, float[] x, int rows) => net.Clone().Forward(x, rows).ToArray();

    [Fact]
    public void UnchangedWeightsArePackedOnceAndGiveTheSameBits()
    {
        var net = Build();
        var x = Batch(24, 1);
        var expected = Fresh(net, x, 24);
        for (int call = 0; call < 5; call++)
            Assert.Equal(expected, net.Forward(x, 24).ToArray());
        // Not packed on the first call (weights at a new stamp: in training they would not be read again), packed on
        // the second, packed and hashed on the third, reused from the fourth on.
        Assert.Equal(2, net.Layers[0].Panels.Packs);
        Assert.Equal(2, net.Layers[1].Panels.Packs);
    }

    [Fact]
    public void WeightsThatChangeBeforeEveryPassAreNotPacked()
    {
        // Training: one forward pass per write stamp, so panels kept for it would never be read; the passes still
        // give a fresh network's bits. Once the weights stop changing they are packed and reused.
        var net = Build();
        var x = Batch(24, 4);
        var y = Targets(24, 5);
        for (int step = 0; step < 4; step++)
        {
            Assert.True(Fresh(net, x, 24).AsSpan().SequenceEqual(net.Forward(x, 24)), $"step {step}");
            net.Backward(y);
            net.ApplyGradientDescent(0.1f);
        }
        Assert.Equal(0, net.Layers[0].Panels.Packs);
        Assert.Equal(0, net.Layers[1].Panels.Packs);
        var expected = Fresh(net, x, 24);
        for (int call = 0; call < 5; call++)
            Assert.Equal(expected, net.Forward(x, 24).ToArray());
        Assert.Equal(2, net.Layers[0].Panels.Packs);
    }

    [Fact]
    public void AWriteThroughASpanKeptFromEarlierIsSeen()
    {
        var net = Build();
        var x = Batch(24, 2);
        var weights = net.Layers[0].Weights;   // kept across the passes, as GradientCheck keeps its span
        for (int call = 0; call < 3; call++)
            net.Forward(x, 24);
        weights[5] += 0.25f;
        Assert.Equal(Fresh(net, x, 24), net.Forward(x, 24).ToArray());
        weights[5] -= 0.5f;
        Assert.Equal(Fresh(net, x, 24), net.Forward(x, 24).ToArray());
    }

    [Fact]
    public void EveryWritePathRepacks()
    {
        var net = Build();
        var x = Batch(24, 3);
        var y = Targets(24, 1);
        void Check(string what)
        {
            for (int call = 0; call < 3; call++)
                Assert.True(Fresh(net, x, 24).AsSpan().SequenceEqual(net.Forward(x, 24)), $"{what}, pass {call}");
        }
        Check("start");
        net.Layers[1].Weight(3, 7) = 2f;
        Check("Weight(u, i)");
        net.Backward(y);
        net.ApplyGradientDescent(0.1f);
        Check("gradient descent");
        net.Backward(y);
        new Adam(0.01).Step(net);
        Check("optimizer");
        net.TrainStep(x, y, 24, 0.05f);
        Check("training step");
        net.Layers[0].Weights.Fill(0.01f);
        Check("Weights span");
    }

    [Fact]
    public void ConcurrentPredictionsShareThePackedWeights()
    {
        var net = Build();
        const int threads = 6, rows = 16, rounds = 40;
        var batches = Enumerable.Range(0, 8).Select(b => Batch(rows, 10 + b)).ToArray();
        for (int phase = 0; phase < 2; phase++)
        {
            var expected = batches.Select(b => Fresh(net, b, rows)).ToArray();
            var failures = 0;
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                var output = new float[rows * 11];
                for (int i = 0; i < rounds; i++)
                {
                    int b = (i * (t + 1) + t) % batches.Length;
                    net.Predict(batches[b], rows, output);
                    if (!output.AsSpan().SequenceEqual(expected[b]))
                        Interlocked.Increment(ref failures);
                }
            });
            Assert.Equal(0, failures);
            // Between the concurrent phases the weights change; the next phase must see the new ones.
            net.Layers[0].Weights[0] += 1f;
        }
    }
}
