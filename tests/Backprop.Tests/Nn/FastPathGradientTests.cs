using Backprop.Explain;
using Backprop.Nn;
using Backprop.Numerics;

namespace Backprop.Tests.Nn;

/// <summary>
/// The finite-difference suite's shapes are small enough for the scalar small path; these shapes are large enough
/// that every product takes the packed micro-kernel (batch 24) or the row path (batch 3), so the fast engine's
/// gradients meet two oracles: central finite differences, and the same network run on the scalar reference
/// product (<see cref="GemmReference"/>), which must agree to within rounding.
/// </summary>
public sealed class FastPathGradientTests
{
    public static TheoryData<Activation, Activation, Loss, int> Cases()
    {
        var data = new TheoryData<Activation, Activation, Loss, int>();
        foreach (var hidden in new[] { Activation.Sigmoid, Activation.Tanh, Activation.Relu, Activation.LeakyRelu })
            foreach (int rows in new[] { 3, 24 })
            {
                data.Add(hidden, Activation.Softmax, Loss.CrossEntropy, rows);
                data.Add(hidden, Activation.Sigmoid, Loss.Mse, rows);
            }
        data.Add(Activation.Identity, Activation.Sigmoid, Loss.BinaryCrossEntropy, 24);
        data.Add(Activation.Tanh, Activation.Identity, Loss.HalfSse, 24);
        return data;
    }

    /// <summary>40 -> 37 -> 19 -> 11: every product is at least 3 x 19 x 37 = 2,109 multiply-adds, past the small path.</summary>
    private static Network<double> Build(Activation hidden, Activation last, Loss loss, int seed) =>
        Network<double>.Create(40, [new LayerSpec(37, hidden), new LayerSpec(19, hidden), new LayerSpec(11, last)], loss, seed);

    [Theory]
    [MemberData(nameof(Cases))]
    public void FastPathGradientsMatchFiniteDifferences(Activation hidden, Activation last, Loss loss, int rows)
    {
        var net = Build(hidden, last, loss, rows);
        var (x, y) = GradientCheckTests.Batch(40, 11, rows, loss, rows + (int)hidden);
        // Floor 1e-3: the finite differences' own rounding is about u |E| / eps = 1e-10 |E| absolute, and these
        // losses reach |E| ~ 10 (identity outputs against targets in [-1, 1]).
        var result = GradientCheck.Run(net, x, y, rows, relativeFloor: 1e-3);
        Assert.True(result.MaxRelativeError < 1e-5,
            string.Join("; ", result.Layers.Select(l => $"layer {l.Layer} rel {l.MaxRelativeError:E2} at {l.Worst}")));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FastPathEqualsTheReferenceEngine(Activation hidden, Activation last, Loss loss, int rows)
    {
        var (x, y) = GradientCheckTests.Batch(40, 11, rows, loss, rows + 2 * (int)hidden);
        var xf = x.Select(v => (float)v).ToArray();
        var yf = y.Select(v => (float)v).ToArray();
        var fastD = Build(hidden, last, loss, 5);
        var refD = Build(hidden, last, loss, 5);
        var fastF = fastD.Convert<float>();
        var refF = fastD.Convert<float>();
        // Where no vector kernel is accelerated the default engine is the reference itself: run the (emulated)
        // Vector256 kernel as the fast engine instead, so the comparison never pits the reference against itself.
        Gemm.ForcedKernel = Gemm.DefaultKernel == GemmKernel.Reference ? GemmKernel.Vector256 : null;
        try
        {
            fastD.Forward(x, rows);
            fastD.Backward(y);
            fastF.Forward(xf, rows);
            fastF.Backward(yf);
        }
        finally
        {
            Gemm.ForcedKernel = null;
        }
        Gemm.ForcedKernel = GemmKernel.Reference;
        try
        {
            refD.Forward(x, rows);
            refD.Backward(y);
            refF.Forward(xf, rows);
            refF.Backward(yf);
        }
        finally
        {
            Gemm.ForcedKernel = null;
        }
        int differing = 0;
        for (int l = 0; l < 3; l++)
        {
            // Both sum at most 40 products per element in another order (fused or not): relative 1e-13 in double,
            // 1e-4 in float (with an absolute floor for values that are zero up to cancellation).
            differing += Close(refD.Activations(l), fastD.Activations(l), 1e-13, 1e-15, $"double a[{l}]");
            differing += Close(refD.Layers[l].WeightGradients, fastD.Layers[l].WeightGradients, 1e-12, 1e-15, $"double dW[{l}]");
            differing += Close(refD.Layers[l].BiasGradients, fastD.Layers[l].BiasGradients, 1e-12, 1e-15, $"double db[{l}]");
            Close(refF.Activations(l), fastF.Activations(l), 1e-4, 1e-6, $"float a[{l}]");
            Close(refF.Layers[l].WeightGradients, fastF.Layers[l].WeightGradients, 1e-3, 1e-6, $"float dW[{l}]");
            Close(refF.Layers[l].BiasGradients, fastF.Layers[l].BiasGradients, 1e-3, 1e-6, $"float db[{l}]");
        }
        // Where the CPU has a vector kernel the two engines really are different code (fused multiply-adds in
        // another order), so some values differ in their last bits; otherwise this compared the reference with itself.
        if (Gemm.DefaultKernel != GemmKernel.Reference)
            Assert.True(differing > 0, "the fast and reference engines gave identical bits everywhere: was the fast path used?");
    }

    private static int Close<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, double relative, double absolute, string what)
        where T : System.Numerics.IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Length, actual.Length);
        int differing = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = double.CreateChecked(expected[i]), a = double.CreateChecked(actual[i]);
            Assert.True(Math.Abs(e - a) <= Math.Max(absolute, relative * Math.Abs(e)), $"{what}[{i}]: reference {e:R}, fast {a:R}");
            if (e != a)
                differing++;
        }
        return differing;
    }

    private static int Close<T>(Span<T> expected, Span<T> actual, double relative, double absolute, string what)
        where T : System.Numerics.IFloatingPointIeee754<T> => Close((ReadOnlySpan<T>)expected, (ReadOnlySpan<T>)actual, relative, absolute, what);
}
