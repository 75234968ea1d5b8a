using Backprop.Explain;
using Backprop.Nn;

namespace Backprop.Tests.Nn;

/// <summary>
/// Finite-difference checks of every activation x loss x bias mode combination, on several shapes, with
/// batch 1 and batch 5, in float and double.
/// </summary>
public sealed class GradientCheckTests
{
    private static readonly Activation[] Hidden =
        [Activation.Identity, Activation.Sigmoid, Activation.Tanh, Activation.Relu, Activation.LeakyRelu];

    public static TheoryData<Activation, Activation, Loss> Combinations()
    {
        var data = new TheoryData<Activation, Activation, Loss>();
        foreach (var hidden in Hidden)
        {
            foreach (var last in Enum.GetValues<Activation>())
            {
                data.Add(hidden, last, Loss.HalfSse);
                data.Add(hidden, last, Loss.Mse);
            }
            data.Add(hidden, Activation.Softmax, Loss.CrossEntropy);
            data.Add(hidden, Activation.Sigmoid, Loss.BinaryCrossEntropy);
        }
        return data;
    }

    private static readonly int[][] Shapes = [[3, 4, 2], [2, 3, 5, 3], [4, 1]];

    [Theory]
    [MemberData(nameof(Combinations))]
    public void AnalyticGradientsMatchFiniteDifferences(Activation hidden, Activation last, Loss loss)
    {
        int seed = 0;
        foreach (var shape in Shapes)
            foreach (var bias in Enum.GetValues<BiasMode>())
                foreach (int rows in new[] { 1, 5 })
                {
                    seed++;
                    var specs = shape.Skip(1).Select((u, i) => new LayerSpec(u, i == shape.Length - 2 ? last : hidden, bias)).ToArray();
                    var (x, y) = Batch(shape[0], shape[^1], rows, loss, seed);

                    var d = Network<double>.Create(shape[0], specs, loss, seed);
                    RandomiseBiases(d, seed);
                    // Floors: below them a gradient counts as zero up to the finite differences' own
                    // rounding (about 1e-10 absolute here) or float's (about 1e-7 of the terms summed).
                    var rd = GradientCheck.Run(d, x, y, rows, relativeFloor: 1e-4);
                    Assert.True(rd.MaxRelativeError < 1e-5,
                        $"double {Describe(shape, bias, rows)}: {Worst(rd)}");

                    var f = d.Convert<float>();
                    var rf = GradientCheck.Run(f, x.Select(v => (float)v).ToArray(), y.Select(v => (float)v).ToArray(), rows,
                        relativeFloor: 1e-3);
                    Assert.True(rf.MaxRelativeError < 2e-2,
                        $"float {Describe(shape, bias, rows)}: {Worst(rf)}");
                }
    }

    /// <summary>
    /// One known mistake each, in a 3-4-4-3 network (layer 1 is square, so a transposed weight still fits), batch 5:
    /// which layers the check must flag and which it must pass. A wrong derivative in the hidden layers spoils layers 0
    /// and 1, not the last; a transposed dE/dW of layer 1 only layer 1; a delta sent back through layer 1's transposed
    /// weights only layer 0; the rest (output derivative, bias, loss scale) every layer.
    /// </summary>
    public static TheoryData<string, Activation, Activation, Loss, GradientFault, int[]> Faults() => new()
    {
        { "no fault (control)", Activation.Tanh, Activation.Identity, Loss.Mse, GradientFault.None, [] },
        { "identity' taken as z instead of 1", Activation.Identity, Activation.Sigmoid, Loss.Mse, GradientFault.WrongDerivative, [0, 1] },
        { "sigmoid' a(1 - a) taken at z", Activation.Sigmoid, Activation.Identity, Loss.Mse, GradientFault.WrongDerivative, [0, 1] },
        { "tanh' 1 - a^2 taken at z", Activation.Tanh, Activation.Identity, Loss.HalfSse, GradientFault.WrongDerivative, [0, 1] },
        { "relu' without the z > 0 mask", Activation.Relu, Activation.Identity, Loss.Mse, GradientFault.WrongDerivative, [0, 1] },
        { "leaky-relu' with slope 0 below zero", Activation.LeakyRelu, Activation.Identity, Loss.Mse, GradientFault.WrongDerivative, [0, 1] },
        { "softmax' as its Jacobian's diagonal", Activation.Tanh, Activation.Softmax, Loss.Mse, GradientFault.WrongDerivative, [0, 1, 2] },
        { "bias gradient dropped", Activation.Tanh, Activation.Sigmoid, Loss.Mse, GradientFault.BiasGradientDropped, [0, 1, 2] },
        { "bias left out of z", Activation.Tanh, Activation.Identity, Loss.Mse, GradientFault.BiasLeftOutOfZ, [0, 1, 2] },
        { "layer 1's dE/dW transposed", Activation.Tanh, Activation.Identity, Loss.Mse, GradientFault.WeightGradientTransposed, [1] },
        { "delta sent back through layer 1's transposed weights", Activation.Sigmoid, Activation.Identity, Loss.Mse, GradientFault.BackwardThroughTransposedWeights, [0] },
        { "half-sse gradient not averaged over the batch", Activation.Tanh, Activation.Identity, Loss.HalfSse, GradientFault.LossGradientScale, [0, 1, 2] },
        { "mse gradient without its 2", Activation.Tanh, Activation.Sigmoid, Loss.Mse, GradientFault.LossGradientScale, [0, 1, 2] },
        { "cross-entropy gradient averaged over elements", Activation.Relu, Activation.Softmax, Loss.CrossEntropy, GradientFault.LossGradientScale, [0, 1, 2] },
        { "binary cross-entropy gradient averaged over samples", Activation.Tanh, Activation.Sigmoid, Loss.BinaryCrossEntropy, GradientFault.LossGradientScale, [0, 1, 2] },
    };

    /// <summary>
    /// The check must be able to fail. The engine's gradients are replaced, between its backward pass and the check's
    /// comparison, by the gradients of <see cref="GradientFaults"/> with one known mistake; the check must flag exactly
    /// the layers the mistake spoils (relative error far above the 1e-5 the suite accepts) and pass the others. A
    /// check that compared the finite differences with themselves, or skipped the biases, would miss these.
    /// </summary>
    [Theory]
    [MemberData(nameof(Faults))]
    public void AWrongGradientIsCaught(string fault, Activation hidden, Activation last, Loss loss, GradientFault kind, int[] flagged)
    {
        const int rows = 5;
        var bias = kind == GradientFault.BiasGradientDropped && hidden == Activation.Tanh ? BiasMode.Shared : BiasMode.PerUnit;
        var net = Network<double>.Create(3, [new LayerSpec(4, hidden, bias), new LayerSpec(4, hidden), new LayerSpec(3, last, bias)], loss, seed: 11);
        RandomiseBiases(net, 11);
        var (x, y) = Batch(3, 3, rows, loss, 11);
        var faulty = last == Activation.Softmax && kind == GradientFault.WrongDerivative ? Activation.Softmax : hidden;
        var (right, rightBias) = GradientFaults.Gradients(net, x, y, rows, GradientFault.None, faulty);
        var (wrong, wrongBias) = GradientFaults.Gradients(net, x, y, rows, kind, faulty);

        var result = GradientCheck.RunWithHook(net, x, y, rows, afterBackward: n =>
        {
            for (int l = 0; l < n.Layers.Count; l++)
            {
                // The per-sample equations give the engine's gradients (so the faults below are all there is to catch).
                AssertClose(right[l], n.Layers[l].WeightGradients, $"{fault}: engine dW[{l}]");
                AssertClose(rightBias[l], n.Layers[l].BiasGradients, $"{fault}: engine db[{l}]");
                wrong[l].CopyTo(n.Layers[l].WeightGradients);
                wrongBias[l].CopyTo(n.Layers[l].BiasGradients);
            }
        }, relativeFloor: 1e-4);

        // Every layer and every parameter was compared.
        Assert.Equal(net.Layers.Count, result.Layers.Count);
        for (int l = 0; l < result.Layers.Count; l++)
        {
            var r = result.Layers[l];
            Assert.Equal(net.Layers[l].ParameterCount, r.Parameters);
            // How far the mistake moved this layer's gradients, measured here without the check.
            double moved = Enumerable.Range(0, right[l].Length).Max(i => Math.Abs(wrong[l][i] - right[l][i]))
                + Enumerable.Range(0, rightBias[l].Length).Select(i => Math.Abs(wrongBias[l][i] - rightBias[l][i])).DefaultIfEmpty().Max();
            string at = $"{fault}: layer {l}: rel {r.MaxRelativeError:E2} at {r.Worst} (analytic {r.Analytic:E6}, numeric {r.Numeric:E6}), moved {moved:E2}";
            if (flagged.Contains(l))
            {
                Assert.True(moved > 1e-3, at + ": the fault did not change this layer's gradients");
                Assert.True(r.MaxRelativeError > 1e-2, at + ": not flagged");
                Assert.Equal(Math.Abs(r.Analytic - r.Numeric) / Math.Max(1e-4, Math.Max(Math.Abs(r.Analytic), Math.Abs(r.Numeric))), r.MaxRelativeError, 1e-12);
                if (kind == GradientFault.BiasGradientDropped)
                    Assert.StartsWith("biases[", r.Worst);
                if (kind == GradientFault.LossGradientScale)
                {
                    // Every gradient is k times the right one: relative error |1 - k| / max(1, k) (less at gradients
                    // below the floor), whatever the parameter.
                    double k = GradientFaults.WrongScale(loss, rows, 3);
                    Assert.Equal(Math.Abs(1 - k) / Math.Max(1, k), r.MaxRelativeError, 1e-6);
                }
            }
            else
            {
                Assert.True(moved == 0, at + ": the fault changed a layer it should not");
                Assert.True(r.MaxRelativeError < 1e-5, at + ": flagged, but its gradients are right");
            }
        }
    }

    private static void AssertClose(double[] expected, Span<double> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-12 * Math.Max(1, Math.Abs(expected[i])), $"{what}[{i}]: {expected[i]:R} vs {actual[i]:R}");
    }

    [Fact]
    public void SharedBiasGradientIsTheSumOfThePerUnitGradients()
    {
        var shared = Network<double>.Create(3, [new LayerSpec(4, Activation.Sigmoid, BiasMode.Shared), new LayerSpec(2, Activation.Sigmoid, BiasMode.Shared)], Loss.HalfSse, 9);
        var perUnit = new Network<double>(3,
            shared.Layers.Select(l =>
            {
                var c = new Dense<double>(l.Inputs, l.Units, l.Activation, BiasMode.PerUnit);
                l.Weights.CopyTo(c.Weights);
                c.Biases.Fill(0.25);
                return c;
            }), Loss.HalfSse);
        foreach (var l in shared.Layers)
            l.Biases[0] = 0.25;
        var (x, y) = Batch(3, 2, 4, Loss.HalfSse, 1);
        shared.Forward(x, 4);
        shared.Backward(y);
        perUnit.Forward(x, 4);
        perUnit.Backward(y);
        for (int l = 0; l < 2; l++)
        {
            double sum = 0;
            foreach (var g in perUnit.Layers[l].BiasGradients)
                sum += g;
            Assert.Equal(sum, shared.Layers[l].BiasGradients[0], 1e-14);
        }
    }

    internal static (double[] X, double[] Y) Batch(int inputs, int outputs, int rows, Loss loss, int seed)
    {
        var rng = new Random(seed * 7919 + 13);
        var x = new double[rows * inputs];
        for (int i = 0; i < x.Length; i++)
            x[i] = rng.NextDouble() * 2 - 1;
        var y = new double[rows * outputs];
        for (int r = 0; r < rows; r++)
        {
            if (loss == Loss.CrossEntropy)
                y[r * outputs + rng.Next(outputs)] = 1;
            else
                for (int j = 0; j < outputs; j++)
                    y[r * outputs + j] = loss == Loss.BinaryCrossEntropy ? rng.NextDouble() : rng.NextDouble() * 2 - 1;
        }
        return (x, y);
    }

    private static void RandomiseBiases(Network<double> net, int seed)
    {
        var rng = new Random(seed);
        foreach (var l in net.Layers)
            for (int i = 0; i < l.Biases.Length; i++)
                l.Biases[i] = rng.NextDouble() - 0.5;
    }

    private static string Describe(int[] shape, BiasMode bias, int rows) =>
        $"shape {string.Join("-", shape)}, bias {Names.Of(bias)}, batch {rows}";

    private static string Worst(GradientCheckResult r) =>
        string.Join("; ", r.Layers.Select(l => $"layer {l.Layer} rel {l.MaxRelativeError:E2} at {l.Worst} (analytic {l.Analytic:E6}, numeric {l.Numeric:E6})"));
}
