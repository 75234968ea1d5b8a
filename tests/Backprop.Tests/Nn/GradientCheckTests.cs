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

    [Fact]
    public void AWrongGradientIsCaught()
    {
        // The check must be able to fail: perturb one analytic gradient after the fact and compare.
        var net = Network<double>.Create(2, [new LayerSpec(3, Activation.Tanh), new LayerSpec(2, Activation.Identity)], Loss.Mse, 3);
        double[] x = [0.3, -0.7], y = [0.2, 0.1];
        net.Forward(x, 1);
        net.Backward(y);
        double analytic = net.Layers[0].WeightGradients[1];
        double numeric = GradientCheck.NumericGradient(net.Convert<double>(), x, y, 1, 0, false, 1);
        Assert.Equal(numeric, analytic, 1e-9);
        Assert.NotEqual(numeric, analytic * 1.01, 1e-9);
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
