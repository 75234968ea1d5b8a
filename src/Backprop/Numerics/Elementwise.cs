using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Backprop.Nn;

namespace Backprop.Numerics;

/// <summary>
/// The element-wise passes of a training step (activation derivatives, output deltas) as SIMD loops: 512-bit vectors
/// where the CPU accelerates them, else 256-bit. Each lane does exactly the scalar formula's operations in the same
/// order (IEEE multiply, add, compare and select round the same in a lane as in a scalar), so results are
/// bit-identical to the plain loops whatever the width; only the speed changes. The scalar tail handles what is left
/// after the last full vector.
/// </summary>
internal static class Elementwise
{
    /// <summary>The vector width the passes run with for <typeparamref name="T"/>: 512, 256 or 0 (scalar only).</summary>
    internal static int Width<T>() where T : unmanaged
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            return 0;
        if (ForcedWidth != 0)
            return ForcedWidth < 0 ? 0 : ForcedWidth;
        return Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 0;
    }

    /// <summary>
    /// Tests, for the calling thread only: 512 or 256 runs that width whether or not the CPU accelerates it, -1 the
    /// scalar loops; 0: by the CPU.
    /// </summary>
    internal static int ForcedWidth
    {
        get => t_forcedWidth;
        set => t_forcedWidth = value;
    }

    [ThreadStatic] private static int t_forcedWidth;

    /// <summary>One element-wise formula of two inputs, written once per vector width and once for a scalar.</summary>
    private interface IPairOp<T> where T : unmanaged
    {
        Vector512<T> Invoke(Vector512<T> x, Vector512<T> y);
        Vector256<T> Invoke(Vector256<T> x, Vector256<T> y);
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
        int width = Width<T>();
        ref T rx = ref MemoryMarshal.GetReference(x);
        ref T ry = ref MemoryMarshal.GetReference(y);
        ref T rd = ref MemoryMarshal.GetReference(d);
        if (width == 512)
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                op.Invoke(Vector512.LoadUnsafe(ref rx, (nuint)i), Vector512.LoadUnsafe(ref ry, (nuint)i)).StoreUnsafe(ref rd, (nuint)i);
        if (width != 0)
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                op.Invoke(Vector256.LoadUnsafe(ref rx, (nuint)i), Vector256.LoadUnsafe(ref ry, (nuint)i)).StoreUnsafe(ref rd, (nuint)i);
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
        public Vector512<T> Invoke(Vector512<T> a, Vector512<T> g) => g * (a * (Vector512<T>.One - a));
        public Vector256<T> Invoke(Vector256<T> a, Vector256<T> g) => g * (a * (Vector256<T>.One - a));
        public T Invoke(T a, T g) => g * (a * (T.One - a));
    }

    private readonly struct TanhBackwardOp<T> : IPairOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Vector512<T> Invoke(Vector512<T> a, Vector512<T> g) => g * (Vector512<T>.One - a * a);
        public Vector256<T> Invoke(Vector256<T> a, Vector256<T> g) => g * (Vector256<T>.One - a * a);
        public T Invoke(T a, T g) => g * (T.One - a * a);
    }

    /// <summary>z &gt; 0 ? g : slope * g, and with g = z the leaky ReLU itself. Slope 0 selects 0 (not 0 * g).</summary>
    private readonly struct ReluBackwardOp<T>(T slope) : IPairOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Vector512<T> Invoke(Vector512<T> z, Vector512<T> g) =>
            Vector512.ConditionalSelect(Vector512.GreaterThan(z, Vector512<T>.Zero), g, slope != T.Zero ? Vector512.Create(slope) * g : Vector512<T>.Zero);

        public Vector256<T> Invoke(Vector256<T> z, Vector256<T> g) =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256<T>.Zero), g, slope != T.Zero ? Vector256.Create(slope) * g : Vector256<T>.Zero);

        public T Invoke(T z, T g) => z > T.Zero ? g : slope != T.Zero ? slope * g : T.Zero;
    }

    private readonly struct SquaredErrorOp<T>(T scale, bool throughSigmoid) : IPairOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Vector512<T> Invoke(Vector512<T> a, Vector512<T> y)
        {
            var d = -(y - a) * Vector512.Create(scale);
            return throughSigmoid ? d * (a * (Vector512<T>.One - a)) : d;
        }

        public Vector256<T> Invoke(Vector256<T> a, Vector256<T> y)
        {
            var d = -(y - a) * Vector256.Create(scale);
            return throughSigmoid ? d * (a * (Vector256<T>.One - a)) : d;
        }

        public T Invoke(T a, T y)
        {
            T d = -(y - a) * scale;
            return throughSigmoid ? d * (a * (T.One - a)) : d;
        }
    }

    private readonly struct DifferenceOp<T>(T scale) : IPairOp<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Vector512<T> Invoke(Vector512<T> a, Vector512<T> y) => (a - y) * Vector512.Create(scale);
        public Vector256<T> Invoke(Vector256<T> a, Vector256<T> y) => (a - y) * Vector256.Create(scale);
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
        int width = Width<T>();
        for (int r = 0; r < rows; r++)
        {
            var zr = z.Slice(r * units, units);
            var ar = a.Slice(r * units, units);
            int i = 0;
            ref T rz = ref MemoryMarshal.GetReference(zr);
            ref T rb = ref MemoryMarshal.GetReference(bias);
            ref T ra = ref MemoryMarshal.GetReference(ar);
            if (width == 512)
            {
                var s = Vector512.Create(slope);
                for (; i <= units - Vector512<T>.Count; i += Vector512<T>.Count)
                {
                    var v = Vector512.LoadUnsafe(ref rz, (nuint)i) + Vector512.LoadUnsafe(ref rb, (nuint)i);
                    v.StoreUnsafe(ref rz, (nuint)i);
                    (f == Activation.Identity ? v
                        : f == Activation.Relu ? Vector512.Max(v, Vector512<T>.Zero)
                        : Vector512.ConditionalSelect(Vector512.GreaterThan(v, Vector512<T>.Zero), v, s * v)).StoreUnsafe(ref ra, (nuint)i);
                }
            }
            if (width != 0)
            {
                var s = Vector256.Create(slope);
                for (; i <= units - Vector256<T>.Count; i += Vector256<T>.Count)
                {
                    var v = Vector256.LoadUnsafe(ref rz, (nuint)i) + Vector256.LoadUnsafe(ref rb, (nuint)i);
                    v.StoreUnsafe(ref rz, (nuint)i);
                    (f == Activation.Identity ? v
                        : f == Activation.Relu ? Vector256.Max(v, Vector256<T>.Zero)
                        : Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<T>.Zero), v, s * v)).StoreUnsafe(ref ra, (nuint)i);
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
}
