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
    /// C[m x n] = X * W^T, where W (n x k, row-major) is a layer's weights: the same bits as
    /// <c>Multiply(false, true, m, n, k, x, w, c)</c>, but W's packed panels are kept in <paramref name="panels"/> and
    /// reused by later products while the weights are unchanged. <paramref name="version"/> is the layer's write
    /// stamp (any change of it means the weights may have changed: the first product at a new stamp keeps no panels,
    /// since in training it is also the last, and the second packs them again, no check); while it stays
    /// the same the panels are reused only if W's contents still hash to what was packed, so a write through a span
    /// kept from earlier is never missed. <paramref name="concurrent"/>: other threads may be reading the panels
    /// (Network.Predict), so new panels go to a new buffer instead of over the old one.
    /// <paramref name="biasTile"/>, when not null, is the bias + linear-unit pass (<see cref="Elementwise.BiasTile{T, TOp}"/>)
    /// with <paramref name="bias"/> (n values) into <paramref name="activations"/> (m x n): run on each tile of C as
    /// it is stored, when the product is packed (the return value says whether it ran; if not, C is the plain product
    /// and the caller runs the pass).
    /// </summary>
    internal static unsafe bool MultiplyByWeights<T>(int m, int n, int k, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> c,
        WeightPanels<T> panels, int version, bool concurrent,
        delegate*<T*, T*, T*, int, int, nint, int, void> biasTile = null, ReadOnlySpan<T> bias = default, Span<T> activations = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validate(m, n, k, x.Length, w.Length, c.Length);
        var kernel = t_forcedKernel ?? DefaultKernel;
        bool vectorType = typeof(T) == typeof(float) || typeof(T) == typeof(double);
        if (!vectorType || kernel == GemmKernel.Reference || (long)m * n * k <= SmallWork || m <= RowsLimit || n == 0 || k == 0)
        {
            // The path Multiply takes for this shape packs nothing (or the reference runs): nothing to keep, and no
            // tiles to run the bias pass on.
            Multiply(false, true, m, n, k, x, w, c);
            return false;
        }
        if (biasTile != null && (bias.Length < n || activations.Length < (long)m * n))
            throw new ArgumentException($"The bias pass needs {n} biases and {(long)m * n} activations; got {bias.Length} and {activations.Length}.");
        int threads = (long)m * n * k < ParallelWork ? 1 : s_maxThreads;
        fixed (T* pBias = bias, pAct = activations)
        {
            var epilogue = new TileEpilogue<T> { Apply = biasTile, Bias = pBias, A = pAct, Width = Elementwise.Width<T>() };
            var current = Volatile.Read(ref panels.Current);
            if ((current == null || current.Version != version) && Volatile.Read(ref panels.Skipped) != version)
            {
                // Weights not seen before at this stamp: in training they change before every forward pass, and panels
                // kept for them would never be read again. The plain product (the path Multiply takes), free to pack
                // the way it runs fastest; the panels are kept from the second product at one stamp on (inference,
                // evaluation).
                Volatile.Write(ref panels.Skipped, version);
                if (kernel == GemmKernel.Vector512)
                    GemmPacked<T, MicroKernel512<T>>.Multiply(false, true, m, n, k, x, w, c, false, threads, epilogue: epilogue);
                else
                    GemmPacked<T, MicroKernel256<T>>.Multiply(false, true, m, n, k, x, w, c, false, threads, epilogue: epilogue);
                return biasTile != null;
            }
            WithPanels(kernel, m, n, k, x, w, c, panels, current, version, concurrent, threads, epilogue);
        }
        return biasTile != null;
    }

    /// <summary>The product on W's kept panels (packed first if they are not W's current contents).</summary>
    private static unsafe void WithPanels<T>(GemmKernel kernel, int m, int n, int k, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> c,
        WeightPanels<T> panels, WeightPanels<T>.Snapshot? current, int version, bool concurrent, int threads, TileEpilogue<T> epilogue)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long length = kernel == GemmKernel.Vector512
            ? GemmPacked<T, MicroKernel512<T>>.PackedBLength(n, k)
            : GemmPacked<T, MicroKernel256<T>>.PackedBLength(n, k);
        bool sameLayout = current != null && current.Kernel == kernel && current.N == n && current.K == k && current.Length == length;
        bool ready = false;
        ulong hash = 0;
        if (sameLayout && current!.Version == version)
        {
            // Unchanged stamp: reuse only if the contents are what was packed (hashed the first time this is asked).
            hash = ContentHash.Of(w[..(n * k)]);
            ready = current.Hashed && current.Hash == hash;
        }
        var target = current;
        if (!ready)
        {
            Interlocked.Increment(ref panels.Packs);
            if (!sameLayout || concurrent)
                target = new WeightPanels<T>.Snapshot(kernel, n, k, length);
            target!.Version = version;
            target.Hash = hash;
            target.Hashed = sameLayout && current!.Version == version;
        }
        fixed (T* panel = target!.Data)
        {
            T* aligned = (T*)(((nint)panel + 63) & ~(nint)63);
            if (kernel == GemmKernel.Vector512)
                GemmPacked<T, MicroKernel512<T>>.Multiply(false, true, m, n, k, x, w, c, false, threads, aligned, ready, epilogue);
            else
                GemmPacked<T, MicroKernel256<T>>.Multiply(false, true, m, n, k, x, w, c, false, threads, aligned, ready, epilogue);
        }
        if (!ready && !ReferenceEquals(target, current))
            Volatile.Write(ref panels.Current, target);
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

    /// <summary>
    /// Tests: products started on the calling thread share their packed panels between threads whatever their size
    /// (the layout large products use), instead of each thread packing small operands for itself. Never a change of bits.
    /// </summary>
    internal static bool SharedPanelsOnly
    {
        get => t_sharedPanelsOnly;
        set => t_sharedPanelsOnly = value;
    }

    [ThreadStatic] private static bool t_sharedPanelsOnly;

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

/// <summary>
/// A layer's weights packed for <see cref="Gemm.MultiplyByWeights{T}"/>: the panels of one kernel and the write stamp
/// (and, once checked, the content hash) of the weights they were packed from.
/// </summary>
internal sealed class WeightPanels<T> where T : unmanaged
{
    /// <summary>The panels in use; replaced, never modified, when other threads may be reading them.</summary>
    internal Snapshot? Current;

    /// <summary>How many times the weights were packed (tests: reuse really happens).</summary>
    internal int Packs;

    /// <summary>The last write stamp a product ran at without keeping panels (see <see cref="Gemm.MultiplyByWeights{T}"/>).</summary>
    internal int Skipped = int.MinValue;

    internal sealed class Snapshot(GemmKernel kernel, int n, int k, long length)
    {
        public readonly GemmKernel Kernel = kernel;
        public readonly int N = n, K = k;
        public readonly long Length = length;

        /// <summary>Pinned, with room to start the panels on a 64-byte boundary.</summary>
        public readonly T[] Data = GC.AllocateUninitializedArray<T>(checked((int)length) + 64, pinned: true);

        public int Version;
        public ulong Hash;

        /// <summary>Whether <see cref="Hash"/> is the hash of the weights the panels hold.</summary>
        public bool Hashed;
    }
}
