using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Backprop.Numerics;

/// <summary>
/// The element-wise passes of a training step (activation derivatives, output deltas, the bias with a linear unit)
/// as SIMD loops over operator types (<see cref="IActivation"/>, <see cref="ILinearUnit"/>, <see cref="ILossGradient"/>):
/// 512-bit vectors where the CPU accelerates them, else 256-bit. Each lane does exactly the operator's scalar rule,
/// so results are bit-identical to the scalar loops whatever the width; only the speed changes. The scalar tail
/// handles what is left after the last full vector.
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

    /// <summary>One element-wise formula of three inputs, written once per vector width and once for a scalar.</summary>
    private interface ITernaryOp<T> where T : unmanaged
    {
        /// <summary>False when the formula ignores its first input (which is then not loaded).</summary>
        bool ReadsX { get; }
        Vector512<T> Invoke(Vector512<T> x, Vector512<T> y, Vector512<T> w);
        Vector256<T> Invoke(Vector256<T> x, Vector256<T> y, Vector256<T> w);
        T Invoke(T x, T y, T w);
    }

    /// <summary>d[i] = op(x[i], y[i], w[i]): whole vectors, then the scalar tail.</summary>
    private static void Map<T, TOp>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> w, Span<T> d, TOp op)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, ITernaryOp<T>
    {
        int n = d.Length, i = 0;
        if (op.ReadsX)
            x = x[..n];
        y = y[..n];
        w = w[..n];
        int width = Width<T>();
        ref T rx = ref MemoryMarshal.GetReference(x);
        ref T ry = ref MemoryMarshal.GetReference(y);
        ref T rw = ref MemoryMarshal.GetReference(w);
        ref T rd = ref MemoryMarshal.GetReference(d);
        if (width == 512)
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                op.Invoke(op.ReadsX ? Vector512.LoadUnsafe(ref rx, (nuint)i) : default,
                    Vector512.LoadUnsafe(ref ry, (nuint)i), Vector512.LoadUnsafe(ref rw, (nuint)i)).StoreUnsafe(ref rd, (nuint)i);
        if (width != 0)
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                op.Invoke(op.ReadsX ? Vector256.LoadUnsafe(ref rx, (nuint)i) : default,
                    Vector256.LoadUnsafe(ref ry, (nuint)i), Vector256.LoadUnsafe(ref rw, (nuint)i)).StoreUnsafe(ref rd, (nuint)i);
        for (; i < n; i++)
            d[i] = op.Invoke(op.ReadsX ? x[i] : T.Zero, y[i], w[i]);
    }

    /// <summary>dZ = g * f'(z) by <typeparamref name="TOp"/>'s backward rule, from z, a = f(z) and g = dE/da.</summary>
    public static void Backward<T, TOp>(ReadOnlySpan<T> z, ReadOnlySpan<T> a, ReadOnlySpan<T> g, Span<T> d)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, IActivation => Map(z, a, g, d, new BackwardOp<T, TOp>());

    /// <summary>
    /// The output layer's delta in one pass: d = f'(z) * (scale * dLoss/da), the loss's gradient rule
    /// (<typeparamref name="TLoss"/>) taken through the activation's backward rule (<typeparamref name="TAct"/>).
    /// With <c>TAct</c> the identity this is the loss gradient alone (the fused softmax and sigmoid cases).
    /// </summary>
    public static void OutputDelta<T, TLoss, TAct>(ReadOnlySpan<T> z, ReadOnlySpan<T> a, ReadOnlySpan<T> y, Span<T> d, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TLoss : struct, ILossGradient
        where TAct : struct, IActivation => Map(z, a, y, d, new OutputDeltaOp<T, TLoss, TAct>(scale));

    /// <summary>a = f(z) by a linear unit's vector forms (the same bits as its scalar rule).</summary>
    public static void Forward<T, TOp>(ReadOnlySpan<T> z, Span<T> a)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, ILinearUnit
    {
        int n = a.Length, i = 0;
        z = z[..n];
        int width = Width<T>();
        ref T rz = ref MemoryMarshal.GetReference(z);
        ref T ra = ref MemoryMarshal.GetReference(a);
        if (width == 512)
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                TOp.Forward(Vector512.LoadUnsafe(ref rz, (nuint)i)).StoreUnsafe(ref ra, (nuint)i);
        if (width != 0)
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                TOp.Forward(Vector256.LoadUnsafe(ref rz, (nuint)i)).StoreUnsafe(ref ra, (nuint)i);
        for (; i < n; i++)
            a[i] = TOp.Forward(z[i]);
    }

    private readonly struct BackwardOp<T, TOp> : ITernaryOp<T>
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, IActivation
    {
        public bool ReadsX => TOp.BackwardReadsZ;
        public Vector512<T> Invoke(Vector512<T> z, Vector512<T> a, Vector512<T> g) => TOp.Backward(z, a, g);
        public Vector256<T> Invoke(Vector256<T> z, Vector256<T> a, Vector256<T> g) => TOp.Backward(z, a, g);
        public T Invoke(T z, T a, T g) => TOp.Backward(z, a, g);
    }

    private readonly struct OutputDeltaOp<T, TLoss, TAct>(T scale) : ITernaryOp<T>
        where T : unmanaged, IFloatingPointIeee754<T>
        where TLoss : struct, ILossGradient
        where TAct : struct, IActivation
    {
        public bool ReadsX => TAct.BackwardReadsZ;
        public Vector512<T> Invoke(Vector512<T> z, Vector512<T> a, Vector512<T> y) => TAct.Backward(z, a, TLoss.Gradient(a, y, Vector512.Create(scale)));
        public Vector256<T> Invoke(Vector256<T> z, Vector256<T> a, Vector256<T> y) => TAct.Backward(z, a, TLoss.Gradient(a, y, Vector256.Create(scale)));
        public T Invoke(T z, T a, T y) => TAct.Backward(z, a, TLoss.Gradient(a, y, scale));
    }

    /// <summary>
    /// The bias and a linear unit in one pass over each row: z = z + b, then a = f(z) by <typeparamref name="TOp"/>'s
    /// vector forms (ReLU's is the IEEE maximum, so NaN stays NaN and -0 becomes +0, as TensorPrimitives.Max does).
    /// </summary>
    public static unsafe void BiasForward<T, TOp>(Span<T> z, ReadOnlySpan<T> bias, Span<T> a, int rows)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, ILinearUnit
    {
        int units = bias.Length;
        int width = Width<T>();
        if (rows < 2 || (long)rows * units < ParallelValues || Gemm.MaxThreads < 2)
        {
            BiasForwardRows<T, TOp>(z, bias, a, 0, rows, width);
            return;
        }
        // Row by row, so any cut into rows gives the same bits; the caller's width goes with the work (it is a
        // per-thread setting).
        fixed (T* pz = z, pb = bias, pa = a)
        {
            var work = BiasWork<T, TOp>.Cached ??= new BiasWork<T, TOp>();
            work.Z = pz;
            work.Bias = pb;
            work.A = pa;
            work.Units = units;
            work.Rows = rows;
            work.Width = width;
            work.Chunk = Math.Max(1, (int)(ParallelValues / 4 / units));
            GemmPool.Shared.Run(work, (rows + work.Chunk - 1) / work.Chunk, Gemm.MaxThreads);
        }
    }

    /// <summary>Passes over at least this many values run on several threads (a 1024 x 1024 layer: 0.3-0.4 ms on one core).</summary>
    internal const long ParallelValues = 1L << 18;

    private sealed unsafe class BiasWork<T, TOp> : IGemmWork
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, ILinearUnit
    {
        /// <summary>The calling thread's holder, reused so a pass allocates nothing.</summary>
        [ThreadStatic] public static BiasWork<T, TOp>? Cached;

        public T* Z, Bias, A;
        public int Units, Rows, Width, Chunk;

        public void Run(int index)
        {
            int r0 = index * Chunk, r1 = Math.Min(Rows, r0 + Chunk);
            long all = (long)Rows * Units;
            BiasForwardRows<T, TOp>(new Span<T>(Z, (int)all), new ReadOnlySpan<T>(Bias, Units), new Span<T>(A, (int)all), r0, r1, Width);
        }
    }

    private static void BiasForwardRows<T, TOp>(Span<T> z, ReadOnlySpan<T> bias, Span<T> a, int r0, int r1, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, ILinearUnit
    {
        int units = bias.Length;
        for (int r = r0; r < r1; r++)
            BiasRow<T, TOp>(ref MemoryMarshal.GetReference(z.Slice(r * units, units)), ref MemoryMarshal.GetReference(bias),
                ref MemoryMarshal.GetReference(a.Slice(r * units, units)), units, width);
    }

    /// <summary>
    /// <see cref="BiasForward{T, TOp}"/> on one tile of a product as it is stored (<see cref="TileEpilogue{T}"/>):
    /// <paramref name="rows"/> x <paramref name="cols"/> values of z at <paramref name="z"/> and of a at
    /// <paramref name="a"/>, rows <paramref name="stride"/> apart, the bias from the tile's first column. Each value
    /// gets the same operations as in the row pass, so the bits are the same whatever the tiling.
    /// </summary>
    internal static unsafe void BiasTile<T, TOp>(T* z, T* a, T* bias, int rows, int cols, nint stride, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, ILinearUnit
    {
        for (int r = 0; r < rows; r++)
            BiasRow<T, TOp>(ref *(z + r * stride), ref *bias, ref *(a + r * stride), cols, width);
    }

    /// <summary>z[i] = z[i] + b[i], a[i] = f(z[i]) for <paramref name="count"/> values.</summary>
    private static void BiasRow<T, TOp>(ref T rz, ref T rb, ref T ra, int count, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, ILinearUnit
    {
        int i = 0;
        if (width == 512)
            for (; i <= count - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                var v = Vector512.LoadUnsafe(ref rz, (nuint)i) + Vector512.LoadUnsafe(ref rb, (nuint)i);
                v.StoreUnsafe(ref rz, (nuint)i);
                TOp.Forward(v).StoreUnsafe(ref ra, (nuint)i);
            }
        if (width != 0)
            for (; i <= count - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var v = Vector256.LoadUnsafe(ref rz, (nuint)i) + Vector256.LoadUnsafe(ref rb, (nuint)i);
                v.StoreUnsafe(ref rz, (nuint)i);
                TOp.Forward(v).StoreUnsafe(ref ra, (nuint)i);
            }
        for (; i < count; i++)
        {
            T v = Unsafe.Add(ref rz, i) + Unsafe.Add(ref rb, i);
            Unsafe.Add(ref rz, i) = v;
            Unsafe.Add(ref ra, i) = TOp.Forward(v);
        }
    }
}
