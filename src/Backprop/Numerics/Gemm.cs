using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Numerics;

/// <summary>
/// The single entry point for matrix products. All matrices are dense and row-major.
/// Effectively computes <c>C = op(A) * op(B) (+ C when accumulate)</c> where
/// <c>op(X)</c> is X or its transpose, <c>op(A)</c> is m x k and <c>op(B)</c> is k x n.
/// </summary>
/// <remarks>
/// <para>
/// Backpropagation needs three products and none of them materialises a transpose:
/// the forward pass <c>Z = A_prev * W^T</c> (<see cref="Multiply{T}(bool, bool, int, int, int, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, bool)"/> with transB),
/// the weight gradient <c>dW = delta^T * A_prev</c> (transA) and the back-propagated
/// error <c>dA_prev = delta * W</c> (no transpose). Packing reads either layout.
/// </para>
/// <para>
/// Three algorithms sit behind the seam, chosen by shape: scalar loops for tiny products (no set-up at all),
/// row-at-a-time vector loops for products with few rows, and packed panels with a register-blocked
/// micro-kernel for everything else. Work is split over blocks of C only, never over k, and every element
/// of C is one fused multiply-add chain in increasing k order, so the result does not depend on the
/// number of threads: training with 1 or N threads gives bit-identical weights.
/// </para>
/// </remarks>
public static class Gemm
{
    private static int s_maxThreads = Environment.ProcessorCount;

    /// <summary>The fastest kernel this CPU accelerates, chosen once at start-up.</summary>
    public static GemmKernel DefaultKernel { get; } = ChooseDefault();

    /// <summary>Every kernel that runs on this CPU, fastest last. Kernels the CPU does not accelerate are left out.</summary>
    public static IReadOnlyList<GemmKernel> AvailableKernels { get; } = ListAvailable();

    /// <summary>
    /// The most threads one product uses when <see cref="GemmOptions.MaxThreads"/> is 0; defaults to
    /// <see cref="Environment.ProcessorCount"/>. Changing it never changes a result, only the speed.
    /// </summary>
    public static int MaxThreads
    {
        get => s_maxThreads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            s_maxThreads = value;
        }
    }

    /// <summary>
    /// C[m x n] = op(A) * op(B), or C += op(A) * op(B) when <paramref name="accumulate"/> is true.
    /// A is stored m x k (k x m when <paramref name="transA"/>), B is stored k x n (n x k when <paramref name="transB"/>).
    /// </summary>
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, bool accumulate = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validate(m, n, k, a.Length, b.Length, c.Length);
        if ((long)m * n * k <= SmallWork && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            GemmSmall.Multiply(transA, transB, m, n, k, a, b, c, accumulate);
            return;
        }
        Dispatch(default, transA, transB, m, n, k, a, b, c, accumulate);
    }

    /// <summary>
    /// Same as <see cref="Multiply{T}(bool, bool, int, int, int, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, bool)"/>
    /// with a forced kernel and thread count (tests and benchmarks).
    /// </summary>
    public static void Multiply<T>(in GemmOptions options, bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, bool accumulate = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validate(m, n, k, a.Length, b.Length, c.Length);
        Dispatch(options, transA, transB, m, n, k, a, b, c, accumulate);
    }

    /// <summary>
    /// Tests: the kernel every product started on the calling thread runs with when its options say Auto
    /// (the pool's helpers run the caller's choice). Null: <see cref="DefaultKernel"/>.
    /// </summary>
    internal static GemmKernel? ForcedKernel
    {
        get => t_forcedKernel;
        set => t_forcedKernel = value;
    }

    [ThreadStatic] private static GemmKernel? t_forcedKernel;

    /// <summary>Products with at most this many multiply-adds take the scalar small path.</summary>
    internal const long SmallWork = 2048;

    /// <summary>Products with at most this many rows in C take the row path (no packing).</summary>
    internal const int RowsLimit = 4;

    /// <summary>Below this many multiply-adds a product runs on one thread.</summary>
    internal const long ParallelWork = 1L << 18;

    private static unsafe void Dispatch<T>(in GemmOptions options, bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m == 0 || n == 0)
            return;
        var kernel = options.Kernel == GemmKernel.Auto ? t_forcedKernel ?? DefaultKernel : options.Kernel;
        bool vectorType = typeof(T) == typeof(float) || typeof(T) == typeof(double);
        if (kernel == GemmKernel.Reference || !vectorType)
        {
            GemmReference.Multiply(transA, transB, m, n, k, a, b, c, accumulate);
            return;
        }
        if (k == 0)
        {
            if (!accumulate)
                c[..(m * n)].Clear();
            return;
        }
        var path = options.Path;
        if (path == GemmPath.Auto)
            path = (long)m * n * k <= SmallWork ? GemmPath.Small : m <= RowsLimit ? GemmPath.Rows : GemmPath.Packed;
        int threads = options.MaxThreads > 0 ? options.MaxThreads : s_maxThreads;
        if ((long)m * n * k < ParallelWork)
            threads = 1;
        switch (path)
        {
            case GemmPath.Small:
                GemmSmall.Multiply(transA, transB, m, n, k, a, b, c, accumulate);
                break;
            case GemmPath.Rows:
                GemmRows.Multiply(kernel, transA, transB, m, n, k, a, b, c, accumulate, threads);
                break;
            default:
                if (kernel == GemmKernel.Vector512)
                    GemmPacked<T, MicroKernel512<T>>.Multiply(transA, transB, m, n, k, a, b, c, accumulate, threads);
                else
                    GemmPacked<T, MicroKernel256<T>>.Multiply(transA, transB, m, n, k, a, b, c, accumulate, threads);
                break;
        }
    }

    private static GemmKernel ChooseDefault()
    {
        if (Vector512.IsHardwareAccelerated)
            return GemmKernel.Vector512;
        if (Vector256.IsHardwareAccelerated && HasFma())
            return GemmKernel.Vector256;
        return GemmKernel.Reference;
    }

    private static List<GemmKernel> ListAvailable()
    {
        var list = new List<GemmKernel> { GemmKernel.Reference };
        if (Vector256.IsHardwareAccelerated && HasFma())
            list.Add(GemmKernel.Vector256);
        if (Vector512.IsHardwareAccelerated)
            list.Add(GemmKernel.Vector512);
        return list;
    }

    private static bool HasFma() =>
        System.Runtime.Intrinsics.X86.Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Validate(int m, int n, int k, int aLength, int bLength, int cLength)
    {
        if ((m | n | k) < 0 || aLength < (long)m * k || bLength < (long)k * n || cLength < (long)m * n)
            ThrowInvalid(m, n, k, aLength, bLength, cLength);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowInvalid(int m, int n, int k, int aLength, int bLength, int cLength)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"Matrix dimensions must be non-negative (m={m}, n={n}, k={k}).");
        if (aLength < (long)m * k)
            throw new ArgumentException($"A holds {aLength} elements; an {m}x{k} operand needs {(long)m * k}.", "a");
        if (bLength < (long)k * n)
            throw new ArgumentException($"B holds {bLength} elements; a {k}x{n} operand needs {(long)k * n}.", "b");
        throw new ArgumentException($"C holds {cLength} elements; an {m}x{n} result needs {(long)m * n}.", "c");
    }
}
