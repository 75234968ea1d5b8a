using Backprop.Nn;

namespace Backprop.Tests.Nn;

public sealed class ConcurrentPredictTests
{
    [Fact]
    public void EightThreadsOfTenThousandPredictionsEqualTheSerialResults()
    {
        var net = Network<float>.Create(6, [new LayerSpec(16, Activation.Relu), new LayerSpec(8, Activation.Tanh), new LayerSpec(3, Activation.Softmax)], Loss.CrossEntropy, 5);
        const int samples = 10_000, threads = 8;
        var rng = new Random(8);
        var x = new float[samples * 6];
        for (int i = 0; i < x.Length; i++)
            x[i] = (float)(rng.NextDouble() * 4 - 2);

        // Serial reference through Forward (the network's own buffers), one sample at a time.
        var expected = new float[samples * 3];
        for (int s = 0; s < samples; s++)
            net.Forward(x.AsSpan(s * 6, 6), 1).CopyTo(expected.AsSpan(s * 3, 3));

        var results = new float[threads][];
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            var mine = new float[samples * 3];
            // Each thread walks the samples in its own order (a multiplier coprime to 10,000 makes a
            // permutation), so the calls interleave differently.
            int[] multipliers = [1, 3, 7, 9, 11, 13, 17, 19];
            for (int k = 0; k < samples; k++)
            {
                int s = (k * multipliers[t] + t) % samples;
                net.Predict(x.AsSpan(s * 6, 6), 1, mine.AsSpan(s * 3, 3));
            }
            results[t] = mine;
        });
        foreach (var r in results)
            Assert.Equal(expected, r);
    }

    [Fact]
    public void PredictOnABatchEqualsForward()
    {
        var net = Network<double>.Create(3, [new LayerSpec(5, Activation.Sigmoid), new LayerSpec(2, Activation.Identity, BiasMode.Shared)], Loss.Mse, 2);
        double[] x = [0.1, 0.2, 0.3, -1, 2, 0.5, 3, 3, 3];
        var output = new double[6];
        net.Predict(x, 3, output);
        Assert.Equal(net.Forward(x, 3).ToArray(), output);
        Assert.Throws<ArgumentException>(() => net.Predict(x, 2, output));
    }
}
