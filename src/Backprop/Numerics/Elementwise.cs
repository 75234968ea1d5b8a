using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Backprop.Nn;

namespace Backprop.Numerics;

/// <summary>
/// The element-wise passes of a training step (activation derivatives, output deltas) as SIMD loops over
/// <see cref="Vector{T}"/>. Each lane does exactly the scalar formula's operations in the same order (IEEE
/// multiply, add, compare and select round the same in a lane as in a scalar), so results are bit-identical
/// to the plain loops; only the speed changes. The scalar tail handles what is left after the last full vector.
/// </summary>
internal static class Elementwise
{
    private static bool Vectorized<T>() where T : unmanaged =>
        Vector.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double));

    /// <summary>d = g * (a * (1 - a)): the sigmoid's derivative from its output.</summary>
    public static void SigmoidBackward<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> g, Span<T> d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = d.Length, i = 0;
        if (Vectorized<T>())
        {
            ref T ra = ref MemoryMarshal.GetReference(a[..n]);
            ref T rg = ref MemoryMarshal.GetReference(g[..n]);
            ref T rd = ref MemoryMarshal.GetReference(d);
            var one = Vector<T>.One;
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
            {
                var va = Load(ref ra, i);
                Store(Load(ref rg, i) * (va * (one - va)), ref rd, i);
            }
        }
        for (; i < n; i++)
            d[i] = g[i] * (a[i] * (T.One - a[i]));
    }

    /// <summary>d = g * (1 - a * a): tanh's derivative from its output.</summary>
    public static void TanhBackward<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> g, Span<T> d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = d.Length, i = 0;
        if (Vectorized<T>())
        {
            ref T ra = ref MemoryMarshal.GetReference(a[..n]);
            ref T rg = ref MemoryMarshal.GetReference(g[..n]);
            ref T rd = ref MemoryMarshal.GetReference(d);
            var one = Vector<T>.One;
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
            {
                var va = Load(ref ra, i);
                Store(Load(ref rg, i) * (one - va * va), ref rd, i);
            }
        }
        for (; i < n; i++)
            d[i] = g[i] * (T.One - a[i] * a[i]);
    }

    /// <summary>d = z &gt; 0 ? g : slope * g (slope 0 is the ReLU: d = z &gt; 0 ? g : 0).</summary>
    public static void ReluBackward<T>(ReadOnlySpan<T> z, ReadOnlySpan<T> g, Span<T> d, T slope)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = d.Length, i = 0;
        bool leaky = slope != T.Zero;
        if (Vectorized<T>())
        {
            ref T rz = ref MemoryMarshal.GetReference(z[..n]);
            ref T rg = ref MemoryMarshal.GetReference(g[..n]);
            ref T rd = ref MemoryMarshal.GetReference(d);
            var s = new Vector<T>(slope);
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
            {
                var positive = Vector.GreaterThan(Load(ref rz, i), Vector<T>.Zero);
                var vg = Load(ref rg, i);
                Store(Vector.ConditionalSelect(positive, vg, leaky ? s * vg : Vector<T>.Zero), ref rd, i);
            }
        }
        for (; i < n; i++)
            d[i] = z[i] > T.Zero ? g[i] : leaky ? slope * g[i] : T.Zero;
    }

    /// <summary>a = z &gt; 0 ? z : slope * z (the leaky ReLU).</summary>
    public static void LeakyReluForward<T>(ReadOnlySpan<T> z, Span<T> a, T slope)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = a.Length, i = 0;
        if (Vectorized<T>())
        {
            ref T rz = ref MemoryMarshal.GetReference(z[..n]);
            ref T ra = ref MemoryMarshal.GetReference(a);
            var s = new Vector<T>(slope);
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
            {
                var vz = Load(ref rz, i);
                Store(Vector.ConditionalSelect(Vector.GreaterThan(vz, Vector<T>.Zero), vz, s * vz), ref ra, i);
            }
        }
        for (; i < n; i++)
            a[i] = z[i] > T.Zero ? z[i] : slope * z[i];
    }

    /// <summary>
    /// The bias and a piecewise-linear activation in one pass over each row: z = z + b, then a = z (identity),
    /// a = max(z, 0) (ReLU: IEEE maximum, so NaN stays NaN and -0 becomes +0, as TensorPrimitives.Max does) or
    /// a = z &gt; 0 ? z : slope * z (leaky ReLU).
    /// </summary>
    public static void BiasLinearUnit<T>(Span<T> z, ReadOnlySpan<T> bias, Span<T> a, int rows, Activation f, T slope)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int units = bias.Length;
        for (int r = 0; r < rows; r++)
        {
            var zr = z.Slice(r * units, units);
            var ar = a.Slice(r * units, units);
            int i = 0;
            if (Vectorized<T>())
            {
                ref T rz = ref MemoryMarshal.GetReference(zr);
                ref T rb = ref MemoryMarshal.GetReference(bias);
                ref T ra = ref MemoryMarshal.GetReference(ar);
                var s = new Vector<T>(slope);
                for (; i <= units - Vector<T>.Count; i += Vector<T>.Count)
                {
                    var v = Load(ref rz, i) + Load(ref rb, i);
                    Store(v, ref rz, i);
                    Store(f == Activation.Identity ? v
                        : f == Activation.Relu ? Vector.Max(v, Vector<T>.Zero)
                        : Vector.ConditionalSelect(Vector.GreaterThan(v, Vector<T>.Zero), v, s * v), ref ra, i);
                }
            }
            for (; i < units; i++)
            {
                T v = zr[i] + bias[i];
                zr[i] = v;
                ar[i] = f == Activation.Identity ? v : f == Activation.Relu ? T.Max(v, T.Zero) : v > T.Zero ? v : slope * v;
            }
        }
    }

    /// <summary>d = -(y - a) * scale: the squared losses' dLoss/dA.</summary>
    public static void SquaredErrorDelta<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> y, Span<T> d, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = d.Length, i = 0;
        if (Vectorized<T>())
        {
            ref T ra = ref MemoryMarshal.GetReference(a[..n]);
            ref T ry = ref MemoryMarshal.GetReference(y[..n]);
            ref T rd = ref MemoryMarshal.GetReference(d);
            var s = new Vector<T>(scale);
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                Store(-(Load(ref ry, i) - Load(ref ra, i)) * s, ref rd, i);
        }
        for (; i < n; i++)
            d[i] = -(y[i] - a[i]) * scale;
    }

    /// <summary>d = (-(y - a) * scale) * (a * (1 - a)): the squared losses' delta through a sigmoid, fused.</summary>
    public static void SquaredErrorSigmoidDelta<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> y, Span<T> d, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = d.Length, i = 0;
        if (Vectorized<T>())
        {
            ref T ra = ref MemoryMarshal.GetReference(a[..n]);
            ref T ry = ref MemoryMarshal.GetReference(y[..n]);
            ref T rd = ref MemoryMarshal.GetReference(d);
            var s = new Vector<T>(scale);
            var one = Vector<T>.One;
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
            {
                var va = Load(ref ra, i);
                Store(-(Load(ref ry, i) - va) * s * (va * (one - va)), ref rd, i);
            }
        }
        for (; i < n; i++)
        {
            T delta = -(y[i] - a[i]) * scale;
            d[i] = delta * (a[i] * (T.One - a[i]));
        }
    }

    /// <summary>d = (a - y) * scale: the fused delta of softmax + cross-entropy and sigmoid + binary cross-entropy.</summary>
    public static void DifferenceDelta<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> y, Span<T> d, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = d.Length, i = 0;
        if (Vectorized<T>())
        {
            ref T ra = ref MemoryMarshal.GetReference(a[..n]);
            ref T ry = ref MemoryMarshal.GetReference(y[..n]);
            ref T rd = ref MemoryMarshal.GetReference(d);
            var s = new Vector<T>(scale);
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                Store((Load(ref ra, i) - Load(ref ry, i)) * s, ref rd, i);
        }
        for (; i < n; i++)
            d[i] = (a[i] - y[i]) * scale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> Load<T>(ref T start, int i) where T : unmanaged =>
        Vector.LoadUnsafe(ref start, (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(Vector<T> v, ref T start, int i) where T : unmanaged =>
        v.StoreUnsafe(ref start, (nuint)i);
}
