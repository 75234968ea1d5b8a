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

    /// <summary>One element-wise formula of two inputs, written once for a lane and once for a scalar.</summary>
    private interface IPairOp<T> where T : unmanaged
    {
        Vector<T> Invoke(Vector<T> x, Vector<T> y);
        T Invoke(T x, T y);
    }

    /// <summary>d[i] = op(x[i], y[i]): whole vectors, then the scalar tail.</summary>
    private static void Map<T, TOp>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d, TOp op)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, IPairOp<T>
    {
        int n = d.Length, i = 0;
        x = x[..n];
        y = y[..n];
        if (Vectorized<T>())
        {
            ref T rx = ref MemoryMarshal.GetReference(x);
            ref T ry = ref MemoryMarshal.GetReference(y);
            ref T rd = ref MemoryMarshal.GetReference(d);
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
                Store(op.Invoke(Load(ref rx, i), Load(ref ry, i)), ref rd, i);
        }
        for (; i < n; i++)
            d[i] = op.Invoke(x[i], y[i]);
    }

    /// <summary>d = g * (a * (1 - a)): the sigmoid's derivative from its output.</summary>
    public static void SigmoidBackward<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> g, Span<T> d)
        where T : unmanaged, IFloatingPointIeee754<T> => Map(a, g, d, new SigmoidBackwardOp<T>());

    /// <summary>d = g * (1 - a * a): tanh's derivative from its output.</summary>
    public static void TanhBackward<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> g, Span<T> d)
        where T : unmanaged, IFloatingPointIeee754<T> => Map(a, g, d, new TanhBackwardOp<T>());

    /// <summary>d = z &gt; 0 ? g : slope * g (slope 0 is the ReLU: d = z &gt; 0 ? g : 0).</summary>
    public static void ReluBackward<T>(ReadOnlySpan<T> z, ReadOnlySpan<T> g, Span<T> d, T slope)
        where T : unmanaged, IFloatingPointIeee754<T> => Map(z, g, d, new ReluBackwardOp<T>(slope));

    /// <summary>a = z &gt; 0 ? z : slope * z (the leaky ReLU).</summary>
    public static void LeakyReluForward<T>(ReadOnlySpan<T> z, Span<T> a, T slope)
        where T : unmanaged, IFloatingPointIeee754<T> => Map(z, z, a, new ReluBackwardOp<T>(slope));

    /// <summary>d = -(y - a) * scale: the squared losses' dLoss/dA.</summary>
    public static void SquaredErrorDelta<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> y, Span<T> d, T scale)
        where T : unmanaged, IFloatingPointIeee754<T> => Map(a, y, d, new SquaredErrorOp<T>(scale, throughSigmoid: false));

    /// <summary>d = (-(y - a) * scale) * (a * (1 - a)): the squared losses' delta through a sigmoid, fused.</summary>
    public static void SquaredErrorSigmoidDelta<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> y, Span<T> d, T scale)
        where T : unmanaged, IFloatingPointIeee754<T> => Map(a, y, d, new SquaredErrorOp<T>(scale, throughSigmoid: true));

    /// <summary>d = (a - y) * scale: the fused delta of softmax + cross-entropy and sigmoid + binary cross-entropy.</summary>
    public static void DifferenceDelta<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> y, Span<T> d, T scale)
        where T : unmanaged, IFloatingPointIeee754<T> => Map(a, y, d, new DifferenceOp<T>(scale));

    private readonly struct SigmoidBackwardOp<T> : IPairOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Vector<T> Invoke(Vector<T> a, Vector<T> g) => g * (a * (Vector<T>.One - a));
        public T Invoke(T a, T g) => g * (a * (T.One - a));
    }

    private readonly struct TanhBackwardOp<T> : IPairOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Vector<T> Invoke(Vector<T> a, Vector<T> g) => g * (Vector<T>.One - a * a);
        public T Invoke(T a, T g) => g * (T.One - a * a);
    }

    /// <summary>z &gt; 0 ? g : slope * g, and with g = z the leaky ReLU itself. Slope 0 selects 0 (not 0 * g).</summary>
    private readonly struct ReluBackwardOp<T>(T slope) : IPairOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Vector<T> _slope = new(slope);

        public Vector<T> Invoke(Vector<T> z, Vector<T> g) =>
            Vector.ConditionalSelect(Vector.GreaterThan(z, Vector<T>.Zero), g, slope != T.Zero ? _slope * g : Vector<T>.Zero);

        public T Invoke(T z, T g) => z > T.Zero ? g : slope != T.Zero ? slope * g : T.Zero;
    }

    private readonly struct SquaredErrorOp<T>(T scale, bool throughSigmoid) : IPairOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Vector<T> _scale = new(scale);

        public Vector<T> Invoke(Vector<T> a, Vector<T> y)
        {
            var d = -(y - a) * _scale;
            return throughSigmoid ? d * (a * (Vector<T>.One - a)) : d;
        }

        public T Invoke(T a, T y)
        {
            T d = -(y - a) * scale;
            return throughSigmoid ? d * (a * (T.One - a)) : d;
        }
    }

    private readonly struct DifferenceOp<T>(T scale) : IPairOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Vector<T> _scale = new(scale);

        public Vector<T> Invoke(Vector<T> a, Vector<T> y) => (a - y) * _scale;
        public T Invoke(T a, T y) => (a - y) * scale;
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> Load<T>(ref T start, int i) where T : unmanaged =>
        Vector.LoadUnsafe(ref start, (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(Vector<T> v, ref T start, int i) where T : unmanaged =>
        v.StoreUnsafe(ref start, (nuint)i);
}
