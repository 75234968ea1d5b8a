using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Backprop.Numerics;
using static Backprop.Nn.Activations;

namespace Backprop.Nn;

/// <summary>
/// The passes of one <see cref="Activation"/> over a batch, bound to its operator type. <see cref="For"/> is the one
/// place that maps the enum to the operators; a layer takes its kernel once, so a pass costs one virtual call and runs
/// the operator's rules statically inside.
/// </summary>
internal abstract class ActivationKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The kernel of <paramref name="f"/>.</summary>
    public static ActivationKernel<T> For(Activation f) => f switch
    {
        Activation.Identity => LinearKernel<T, Identity>.Instance,
        Activation.Sigmoid => ElementwiseKernel<T, Sigmoid>.Instance,
        Activation.Tanh => ElementwiseKernel<T, Tanh>.Instance,
        Activation.Relu => LinearKernel<T, Relu>.Instance,
        Activation.LeakyRelu => LinearKernel<T, LeakyRelu>.Instance,
        Activation.Softmax => SoftmaxKernel<T>.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(f), f, "Unknown activation."),
    };

    /// <summary>True for the element-wise activations (every one but softmax).</summary>
    public abstract bool IsElementwise { get; }

    /// <summary>a = f(z) for <paramref name="rows"/> rows of <paramref name="units"/> values.</summary>
    public abstract void Forward(ReadOnlySpan<T> z, Span<T> a, int rows, int units);

    /// <summary>dZ = dA * f'(z) (softmax: the Jacobian-vector product per row). dZ may be dA.</summary>
    public abstract void Backward(ReadOnlySpan<T> z, ReadOnlySpan<T> a, ReadOnlySpan<T> dA, Span<T> dZ, int rows, int units);

    /// <summary>z += bias (per unit, each row) and a = f(z) in one pass; false when this activation has no such pass.</summary>
    public virtual bool BiasForward(Span<T> z, ReadOnlySpan<T> bias, Span<T> a, int rows) => false;

    /// <summary>
    /// The same pass on one tile of a product as the product stores it (<see cref="Elementwise.BiasTile{T, TOp}"/>),
    /// or null when this activation has none.
    /// </summary>
    public virtual unsafe delegate*<T*, T*, T*, int, int, nint, int, void> BiasTile => null;

    /// <summary>The squared losses' output delta: f'(z) * (-(y - a) * scale).</summary>
    public abstract void SquaredErrorDelta(ReadOnlySpan<T> z, ReadOnlySpan<T> a, ReadOnlySpan<T> y, Span<T> delta, T scale, int rows, int units);

    /// <summary>
    /// The seed-sized step's forward through one layer of one sample: z[u] = sum_i input[i] w[u, i] (+ b), a[u] = f(z[u]),
    /// the sums in <see cref="Dense{T}"/>'s tiny-path order, f by the scalar rule.
    /// </summary>
    public virtual void SeedForward(T[] input, T[] w, T[] b, BiasMode bias, int inputs, int units, T[] z, T[] a) =>
        throw new NotSupportedException();

    /// <summary>
    /// The seed-sized step's delta one layer down: dA[i] = sum_u delta[u] w[u, i] (the upper layer's weights), and
    /// the lower layer's delta[i] = f'(z[i]) dA[i] by this (the lower layer's) backward rule.
    /// </summary>
    public virtual void SeedDelta(T[] upperDelta, T[] upperWeights, int upperUnits, int units, T[] z, T[] a, T[] dA, T[] delta) =>
        throw new NotSupportedException();

    /// <summary>The seed-sized step's output delta of a squared loss (as <see cref="SquaredErrorDelta"/>, one sample).</summary>
    public virtual void SeedSquaredErrorDelta(T[] z, T[] a, ReadOnlySpan<T> y, T[] delta, T scale, int units) =>
        throw new NotSupportedException();
}

/// <summary>An element-wise activation's kernel: every pass is the operator's rules (scalar or their vector forms).</summary>
internal class ElementwiseKernel<T, TOp> : ActivationKernel<T>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TOp : struct, IActivation
{
    public static readonly ElementwiseKernel<T, TOp> Instance = new();

    public override bool IsElementwise => true;

    public override void Forward(ReadOnlySpan<T> z, Span<T> a, int rows, int units)
    {
        int n = rows * units;
        Activations.Forward<T, TOp>(z[..n], a[..n]);
    }

    public override void Backward(ReadOnlySpan<T> z, ReadOnlySpan<T> a, ReadOnlySpan<T> dA, Span<T> dZ, int rows, int units)
    {
        int n = rows * units;
        Numerics.Elementwise.Backward<T, TOp>(TOp.BackwardReadsZ ? z[..n] : default, a[..n], dA[..n], dZ[..n]);
    }

    public override void SquaredErrorDelta(ReadOnlySpan<T> z, ReadOnlySpan<T> a, ReadOnlySpan<T> y, Span<T> delta, T scale, int rows, int units)
    {
        int n = rows * units;
        Numerics.Elementwise.OutputDelta<T, Losses.HalfSse, TOp>(TOp.BackwardReadsZ ? z[..n] : default, a[..n], y[..n], delta[..n], scale);
    }

    // The seed-sized passes index the network's own buffers, whose lengths the network sized for these shapes (at
    // least units values each, units x inputs weights), so they run on references without bounds checks: the step is
    // a chain of a few dozen dependent operations, and a check or a reload per element is a large part of it.
    public override void SeedForward(T[] input, T[] w, T[] b, BiasMode bias, int inputs, int units, T[] z, T[] a)
    {
        ref T x = ref MemoryMarshal.GetArrayDataReference(input);
        ref T wu = ref MemoryMarshal.GetArrayDataReference(w);
        ref T z0 = ref MemoryMarshal.GetArrayDataReference(z);
        ref T a0 = ref MemoryMarshal.GetArrayDataReference(a);
        T shared = bias == BiasMode.Shared ? b[0] : T.Zero;
        for (nint u = 0; u < units; u++, wu = ref Unsafe.Add(ref wu, inputs))
        {
            T sum = T.Zero;
            for (nint i = 0; i < inputs; i++)
                sum += Unsafe.Add(ref x, i) * Unsafe.Add(ref wu, i);
            if (bias == BiasMode.PerUnit)
                sum += b[u];
            else if (bias == BiasMode.Shared)
                sum += shared;
            Unsafe.Add(ref z0, u) = sum;
            Unsafe.Add(ref a0, u) = TOp.Forward(sum);
        }
    }

    public override void SeedDelta(T[] upperDelta, T[] upperWeights, int upperUnits, int units, T[] z, T[] a, T[] dA, T[] delta)
    {
        ref T d = ref MemoryMarshal.GetArrayDataReference(upperDelta);
        ref T w = ref MemoryMarshal.GetArrayDataReference(upperWeights);
        ref T z0 = ref MemoryMarshal.GetArrayDataReference(z);
        ref T a0 = ref MemoryMarshal.GetArrayDataReference(a);
        ref T dA0 = ref MemoryMarshal.GetArrayDataReference(dA);
        ref T delta0 = ref MemoryMarshal.GetArrayDataReference(delta);
        for (nint i = 0; i < units; i++)
        {
            T sum = T.Zero;
            for (nint u = 0; u < upperUnits; u++)
                sum += Unsafe.Add(ref d, u) * Unsafe.Add(ref w, u * units + i);
            Unsafe.Add(ref dA0, i) = sum;
            Unsafe.Add(ref delta0, i) = TOp.Backward(Unsafe.Add(ref z0, i), Unsafe.Add(ref a0, i), sum);
        }
    }

    public override void SeedSquaredErrorDelta(T[] z, T[] a, ReadOnlySpan<T> y, T[] delta, T scale, int units)
    {
        ref T z0 = ref MemoryMarshal.GetArrayDataReference(z);
        ref T a0 = ref MemoryMarshal.GetArrayDataReference(a);
        ref T y0 = ref MemoryMarshal.GetReference(y);
        ref T delta0 = ref MemoryMarshal.GetArrayDataReference(delta);
        for (nint i = 0; i < units; i++)
        {
            T ai = Unsafe.Add(ref a0, i);
            Unsafe.Add(ref delta0, i) = TOp.Backward(Unsafe.Add(ref z0, i), ai, Losses.HalfSse.Gradient(ai, Unsafe.Add(ref y0, i), scale));
        }
    }
}

/// <summary>A linear unit's kernel: also the bias fused into the forward pass.</summary>
internal sealed class LinearKernel<T, TOp> : ElementwiseKernel<T, TOp>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TOp : struct, ILinearUnit
{
    public static new readonly LinearKernel<T, TOp> Instance = new();

    public override bool BiasForward(Span<T> z, ReadOnlySpan<T> bias, Span<T> a, int rows)
    {
        Numerics.Elementwise.BiasForward<T, TOp>(z, bias, a, rows);
        return true;
    }

    public override unsafe delegate*<T*, T*, T*, int, int, nint, int, void> BiasTile => &Numerics.Elementwise.BiasTile<T, TOp>;
}

/// <summary>The softmax's kernel (row-wise).</summary>
internal sealed class SoftmaxKernel<T> : ActivationKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly SoftmaxKernel<T> Instance = new();

    public override bool IsElementwise => false;

    public override void Forward(ReadOnlySpan<T> z, Span<T> a, int rows, int units) => Softmax.Forward(z, a, rows, units);

    public override void Backward(ReadOnlySpan<T> z, ReadOnlySpan<T> a, ReadOnlySpan<T> dA, Span<T> dZ, int rows, int units) =>
        Softmax.Backward(a, dA, dZ, rows, units);

    public override void SquaredErrorDelta(ReadOnlySpan<T> z, ReadOnlySpan<T> a, ReadOnlySpan<T> y, Span<T> delta, T scale, int rows, int units)
    {
        int n = rows * units;
        Numerics.Elementwise.OutputDelta<T, Losses.HalfSse, Identity>(default, a[..n], y[..n], delta[..n], scale);
        Softmax.Backward(a, delta, delta, rows, units);
    }
}
