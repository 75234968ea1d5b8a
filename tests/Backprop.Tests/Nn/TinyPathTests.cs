using Backprop.Explain;
using Backprop.Nn;

namespace Backprop.Tests.Nn;

/// <summary>
/// The seed network runs through the engine's tiny path (fused loops, scalar sigmoid). Its numbers must be
/// the seed's formulas evaluated literally, in double, to within a couple of units in the last place.
/// Flips <see cref="Network{T}.DisableSeedSizedStep"/>, a process-wide switch, so it runs alone (<see cref="ProcessWideSwitches"/>).
/// </summary>
[Collection(ProcessWideSwitches.Name)]
public sealed class TinyPathTests
{
    private static double S(double x) => 1 / (1 + Math.Exp(-x));

    [Fact]
    public void SeedNetworkStepEqualsTheLiteralFormulas()
    {
        var net = SeedNetwork.Create<double>();
        var p = SeedParameters.Default;
        double x1 = 0.05, x2 = 0.10, y1 = 0.01, y2 = 0.99;
        // Forward, eqs. (4)-(9): H_j = X1 V1j + X2 V2j + b1, P = f(H), Q_k = sum_j P_j W_jk + b2, O = f(Q).
        var h = new double[3];
        var pj = new double[3];
        for (int j = 0; j < 3; j++)
        {
            h[j] = x1 * p.V[0, j] + x2 * p.V[1, j] + p.B1;
            pj[j] = S(h[j]);
        }
        var q = new double[2];
        var o = new double[2];
        for (int k = 0; k < 2; k++)
        {
            q[k] = pj[0] * p.W[0, k] + pj[1] * p.W[1, k] + pj[2] * p.W[2, k] + p.B2;
            o[k] = S(q[k]);
        }
        // Backward (corrected eqs. 11-35): dQ_k = -(Y_k - O_k) O_k (1 - O_k); dH_j = (sum_k dQ_k W_jk) P_j (1 - P_j).
        double[] y = [y1, y2];
        var dq = new double[2];
        for (int k = 0; k < 2; k++)
            dq[k] = -(y[k] - o[k]) * (o[k] * (1 - o[k]));
        var dh = new double[3];
        for (int j = 0; j < 3; j++)
            dh[j] = (dq[0] * p.W[j, 0] + dq[1] * p.W[j, 1]) * (pj[j] * (1 - pj[j]));

        double loss = net.TrainStep([x1, x2], [y1, y2], 1, 0.5);

        const double tol = 1e-15;
        Assert.Equal(0.5 * ((y1 - o[0]) * (y1 - o[0]) + (y2 - o[1]) * (y2 - o[1])), loss, tol);
        for (int j = 1; j <= 3; j++)
        {
            Assert.Equal(h[j - 1], SeedNetwork.H(net, j), tol);
            Assert.Equal(pj[j - 1], SeedNetwork.P(net, j), tol);
            Assert.Equal(dh[j - 1] * x1, SeedNetwork.GradV(net, 1, j), tol);
            Assert.Equal(dh[j - 1] * x2, SeedNetwork.GradV(net, 2, j), tol);
            // The update happened with the same gradients: V <- V - eta dE/dV.
            Assert.Equal(p.V[0, j - 1] - 0.5 * (dh[j - 1] * x1), SeedNetwork.V(net, 1, j), tol);
            for (int k = 1; k <= 2; k++)
            {
                Assert.Equal(dq[k - 1] * pj[j - 1], SeedNetwork.GradW(net, j, k), tol);
                Assert.Equal(p.W[j - 1, k - 1] - 0.5 * (dq[k - 1] * pj[j - 1]), SeedNetwork.W(net, j, k), tol);
            }
        }
        for (int k = 1; k <= 2; k++)
        {
            Assert.Equal(q[k - 1], SeedNetwork.Q(net, k), tol);
            Assert.Equal(o[k - 1], SeedNetwork.O(net, k), tol);
        }
        Assert.Equal(dh[0] + dh[1] + dh[2], SeedNetwork.GradB1(net), tol);
        Assert.Equal(dq[0] + dq[1], SeedNetwork.GradB2(net), tol);
    }

    [Theory]
    [InlineData(Activation.Sigmoid)]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Relu)]
    public void TinyAndBatchedPathsAgreeSampleBySample(Activation activation)
    {
        // Batch 1 of a 3 -> 4 -> 2 network takes the tiny path; a batch of 64 takes Gemm and vector activations.
        var net = Network<double>.Create(3, [new LayerSpec(4, activation), new LayerSpec(2, Activation.Sigmoid)], Loss.Mse, seed: 3);
        var rng = new Random(8);
        const int rows = 64;
        var x = new double[rows * 3];
        for (int i = 0; i < x.Length; i++)
            x[i] = rng.NextDouble() * 4 - 2;
        var batched = net.Forward(x, rows).ToArray();
        for (int r = 0; r < rows; r++)
        {
            var single = net.Forward(x.AsSpan(r * 3, 3), 1);
            for (int k = 0; k < 2; k++)
                Assert.Equal(batched[r * 2 + k], single[k], 1e-14);
        }
    }

    public static TheoryData<string> SeedSizedCases =>
    [
        "2-3s-2s half-sse shared", "2-3s-2s mse per-unit", "4-5t-3i mse per-unit", "3-7r-2s half-sse none",
        "1-4r-4t-1i mse shared", "5-15s-1s half-sse per-unit frozen", "2-2i mse per-unit",
        "3-6l-2i mse per-unit", "2-12l-9t-1s half-sse shared",
    ];

    /// <summary>
    /// One-sample steps through the fused seed-sized step and through the general layer-by-layer path give the same
    /// bits: loss, every layer's z, a and delta, every gradient and every parameter after each of 20 steps.
    /// </summary>
    [Theory]
    [MemberData(nameof(SeedSizedCases))]
    public void SeedSizedStepEqualsTheGeneralPathBitForBit(string spec)
    {
        Check<float>(spec);
        Check<double>(spec);
    }

    private static Network<T> Build<T>(string spec) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var words = spec.Split(' ');
        var sizes = words[0].Split('-');
        var loss = words[1] == "mse" ? Loss.Mse : Loss.HalfSse;
        var bias = words[2] switch { "shared" => BiasMode.Shared, "none" => BiasMode.None, _ => BiasMode.PerUnit };
        bool trainable = !spec.EndsWith("frozen", StringComparison.Ordinal);
        var layers = sizes.Skip(1).Select(t => new LayerSpec(int.Parse(t[..^1]), t[^1] switch
        {
            's' => Activation.Sigmoid, 't' => Activation.Tanh, 'r' => Activation.Relu, 'l' => Activation.LeakyRelu, _ => Activation.Identity,
        }, bias, trainable));
        return Network<T>.Create(int.Parse(sizes[0]), layers, loss, seed: spec.Length);
    }

    private static void Check<T>(string spec) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var fast = Build<T>(spec);
        var general = Build<T>(spec);
        var rng = new Random(spec.Length);
        var x = new T[fast.Inputs];
        var y = new T[fast.Outputs];
        T lr = T.CreateChecked(0.3);
        for (int step = 0; step < 20; step++)
        {
            for (int i = 0; i < x.Length; i++)
                x[i] = T.CreateChecked(rng.NextDouble() * 4 - 2);
            for (int i = 0; i < y.Length; i++)
                y[i] = T.CreateChecked(rng.NextDouble());
            double fastLoss = fast.TrainStep(x, y, 1, lr);
            bool saved = Network<T>.DisableSeedSizedStep;
            Network<T>.DisableSeedSizedStep = true;
            double generalLoss;
            try
            {
                generalLoss = general.TrainStep(x, y, 1, lr);
            }
            finally
            {
                Network<T>.DisableSeedSizedStep = saved;
            }
            Assert.Equal(BitConverter.DoubleToInt64Bits(generalLoss), BitConverter.DoubleToInt64Bits(fastLoss));
            for (int l = 0; l < fast.Layers.Count; l++)
            {
                string at = $"{spec} {typeof(T).Name} step {step} layer {l}";
                Assert.True(general.PreActivations(l).SequenceEqual(fast.PreActivations(l)), at + " z");
                Assert.True(general.Activations(l).SequenceEqual(fast.Activations(l)), at + " a");
                Assert.True(general.Deltas(l).SequenceEqual(fast.Deltas(l)), at + " delta");
                Assert.True(general.Layers[l].WeightGradients.SequenceEqual(fast.Layers[l].WeightGradients), at + " dW");
                Assert.True(general.Layers[l].BiasGradients.SequenceEqual(fast.Layers[l].BiasGradients), at + " db");
                Assert.True(general.Layers[l].Weights.SequenceEqual(fast.Layers[l].Weights), at + " W");
                Assert.True(general.Layers[l].Biases.SequenceEqual(fast.Layers[l].Biases), at + " b");
            }
        }
        // The steps did change the network.
        Assert.False(Build<T>(spec).Layers[0].Weights.SequenceEqual(fast.Layers[0].Weights));
    }
}
