using System.Numerics;
using Backprop.Nn;
using Backprop.Numerics;

namespace Backprop.Tests.Nn;

/// <summary>
/// The activation and loss operator types are the definitions: the passes that take the user-facing enums
/// (<see cref="Activations.Forward{T}(Activation, ReadOnlySpan{T}, Span{T}, int, int)"/>, <see cref="Activations.Backward{T}"/>,
/// <see cref="Losses.Value{T}"/>, <see cref="Losses.OutputDelta{T}"/>) give each operator's scalar rule, bit for bit
/// wherever today's code did (below <see cref="Activations.ScalarLimit"/> values, every backward pass, every linear
/// unit), and within a few units in the last place of max(|f(z)|, 1) where a vector exponential is used (sigmoid and
/// tanh forward on many values: System.Numerics.Tensors' tanh loses relative accuracy near 0, not absolute). (VectorPathTests holds the vector forms to the scalar rules at every width.)
/// </summary>
public sealed class OperatorTests
{
    private static T[] Values<T>(int n, int seed) where T : IFloatingPointIeee754<T>
    {
        var rng = new Random(seed);
        var v = new T[n];
        for (int i = 0; i < n; i++)
            v[i] = T.CreateChecked(rng.NextDouble() * 8 - 4);
        return v;
    }

    private static void Forward<T, TOp>(Activation f, int ulps) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IActivation
    {
        foreach (int n in new[] { 1, 5, 15, 16, 40, 300 })
        {
            var z = Values<T>(n, n);
            var a = new T[n];
            Activations.Forward<T>(f, z, a, 1, n);
            for (int i = 0; i < n; i++)
            {
                T expected = TOp.Forward(z[i]);
                if (n < Activations.ScalarLimit || ulps == 0)
                    Assert.True(expected.Equals(a[i]), $"{f} n={n} [{i}]: {a[i]} is not the scalar rule's {expected}");
                else
                    Assert.True(T.Abs(expected - a[i]) <= T.CreateChecked(ulps) * T.Max(T.Abs(expected), T.One) * T.CreateChecked(typeof(T) == typeof(float) ? 1.2e-7 : 2.3e-16),
                        $"{f} n={n} [{i}]: {a[i]} is more than {ulps} ulps of max(|f|, 1) from the scalar rule's {expected}");
            }
        }
    }

    private static void Backward<T, TOp>(Activation f) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IActivation
    {
        foreach (int n in new[] { 1, 7, 33 })
        {
            var z = Values<T>(n, 10 + n);
            var a = z.Select(x => TOp.Forward(x)).ToArray();
            var g = Values<T>(n, 20 + n);
            var d = new T[n];
            Activations.Backward<T>(f, z, a, g, d, 1, n);
            for (int i = 0; i < n; i++)
                Assert.True(TOp.Backward(z[i], a[i], g[i]).Equals(d[i]), $"{f}' n={n} [{i}]");
        }
    }

    private static void All<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        Forward<T, Activations.Identity>(Activation.Identity, 0);
        Forward<T, Activations.Sigmoid>(Activation.Sigmoid, 4);
        Forward<T, Activations.Tanh>(Activation.Tanh, 4);
        Forward<T, Activations.Relu>(Activation.Relu, 0);
        Forward<T, Activations.LeakyRelu>(Activation.LeakyRelu, 0);
        Backward<T, Activations.Identity>(Activation.Identity);
        Backward<T, Activations.Sigmoid>(Activation.Sigmoid);
        Backward<T, Activations.Tanh>(Activation.Tanh);
        Backward<T, Activations.Relu>(Activation.Relu);
        Backward<T, Activations.LeakyRelu>(Activation.LeakyRelu);
    }

    [Fact]
    public void TheEnumPassesRunEachOperatorsRuleFloat() => All<float>();

    [Fact]
    public void TheEnumPassesRunEachOperatorsRuleDouble() => All<double>();

    [Fact]
    public void TheScalarRulesAreTheTextbookFormulas()
    {
        Assert.Equal(1 / (1 + Math.Exp(-0.3)), Activations.Sigmoid.Forward(0.3));
        Assert.Equal(Math.Tanh(-0.7), Activations.Tanh.Forward(-0.7));
        Assert.Equal(0.0, Activations.Relu.Forward(-2.0));
        Assert.Equal(-0.02, Activations.LeakyRelu.Forward(-2.0), 1e-17);
        Assert.Equal(0.5 * (0.25 * 0.75), Activations.Sigmoid.Backward(9.0, 0.25, 0.5));
        Assert.Equal(0.5 * (1 - 0.25 * 0.25), Activations.Tanh.Backward(9.0, 0.25, 0.5));
        Assert.Equal(0.0, Activations.Relu.Backward(-1.0, 0.0, 0.5));
        Assert.Equal(0.5, Activations.Relu.Backward(1.0, 1.0, 0.5));
        Assert.Equal(-(0.9 - 0.2) * 0.5, Losses.HalfSse.Gradient(0.2, 0.9, 0.5));
        Assert.Equal((0.2 - 0.9) * 0.5, Losses.CrossEntropy.Gradient(0.2, 0.9, 0.5));
    }

    [Fact]
    public void LossValuesAreTheirFormulas()
    {
        double[] z = [0.3, -1.2, 2.0, 0.1, 0.4, -0.5];
        double[] a = z.Select(x => Activations.Sigmoid.Forward(x)).ToArray();
        double[] y = [1, 0, 0, 0, 1, 0];
        double sse = 0;
        for (int i = 0; i < 6; i++)
            sse += (y[i] - a[i]) * (y[i] - a[i]);
        Assert.Equal(0.5 * sse / 2, Losses.Value<double>(Loss.HalfSse, z, a, y, 2, 3), 1e-15);
        Assert.Equal(sse / 6, Losses.Value<double>(Loss.Mse, z, a, y, 2, 3), 1e-15);
        double bce = 0;
        for (int i = 0; i < 6; i++)
            bce -= y[i] * Math.Log(a[i]) + (1 - y[i]) * Math.Log(1 - a[i]);
        Assert.Equal(bce / 6, Losses.Value<double>(Loss.BinaryCrossEntropy, z, a, y, 2, 3), 1e-14);
        double ce = 0;
        for (int r = 0; r < 2; r++)
        {
            double s = Enumerable.Range(0, 3).Sum(j => Math.Exp(z[r * 3 + j]));
            for (int j = 0; j < 3; j++)
                ce -= y[r * 3 + j] * Math.Log(Math.Exp(z[r * 3 + j]) / s);
        }
        Assert.Equal(ce / 2, Losses.Value<double>(Loss.CrossEntropy, z, a, y, 2, 3), 1e-14);
    }

    [Theory]
    [InlineData(Loss.HalfSse, Activation.Tanh)]
    [InlineData(Loss.Mse, Activation.Sigmoid)]
    [InlineData(Loss.Mse, Activation.Softmax)]
    [InlineData(Loss.CrossEntropy, Activation.Softmax)]
    [InlineData(Loss.BinaryCrossEntropy, Activation.Sigmoid)]
    public void TheOutputDeltaIsTheLossGradientThroughTheActivation(Loss loss, Activation f)
    {
        const int rows = 3, units = 4;
        var z = Values<double>(rows * units, 5);
        var a = new double[rows * units];
        Activations.Forward<double>(f, z, a, rows, units);
        var y = Values<double>(rows * units, 6).Select(v => v > 0 ? 1.0 : 0.0).ToArray();
        var delta = new double[rows * units];
        Losses.OutputDelta<double>(loss, f, z, a, y, delta, rows, units);
        // The reference: dLoss/dA by the literal formula, then through f' (the fused pairs: dLoss/dZ = (a - y) / n).
        var expected = new double[rows * units];
        double scale = loss switch { Loss.HalfSse => 1.0 / rows, Loss.Mse => 2.0 / (rows * units), Loss.CrossEntropy => 1.0 / rows, _ => 1.0 / (rows * units) };
        for (int i = 0; i < expected.Length; i++)
            expected[i] = loss is Loss.CrossEntropy or Loss.BinaryCrossEntropy ? (a[i] - y[i]) * scale : -(y[i] - a[i]) * scale;
        if (loss is Loss.HalfSse or Loss.Mse)
            Activations.Backward<double>(f, z, a, expected, expected, rows, units);
        Assert.Equal(expected, delta);
    }
}
