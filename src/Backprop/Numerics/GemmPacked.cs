using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Numerics;

/// <summary>
/// A register-blocked micro-kernel: C[rows x NR] (row stride ldc) = (load ? C : 0) + Apanel * Bpanel, where
/// Apanel holds kc steps of MR values (packed, step-major; only the first <c>rows</c> of each step are read) and
/// Bpanel kc steps of NR values.
/// </summary>
internal unsafe interface IMicroKernel<T> where T : unmanaged
{
    /// <summary>Rows of C per call, and the width of a packed A strip.</summary>
    static abstract int MR { get; }

    /// <summary>Columns of C per call, and the width of a packed B strip.</summary>
    static abstract int NR { get; }

    /// <summary>The row counts with code of their own, largest (MR) first; an edge strip takes the smallest that covers it.</summary>
    static abstract ReadOnlySpan<int> RowCounts { get; }

    /// <summary>
    /// One call; <paramref name="rows"/> is one of <see cref="RowCounts"/>. It also asks for <paramref name="lines"/>
    /// cache lines from <paramref name="prefetch"/> on into L2, one per k step from the first (a hint: no value
    /// changes; 0 lines and a null pointer ask for none).
    /// </summary>
    static abstract void Run(int rows, int kc, T* a, T* b, T* c, nint ldc, bool load, byte* prefetch, int lines);
}

/// <summary>
/// The block sizes of one kernel, from the cache sizes of this machine (<see cref="CacheInfo"/>): a KC x NR panel
/// of B (reused by every A strip of a tile) takes at most twice the L1 data cache and an eighth of L2, and an MC x KC
/// block of A (reused by every B strip of a tile) at most half of L2.
/// </summary>
internal static class GemmBlocking<T, TKernel>
    where T : unmanaged
    where TKernel : struct, IMicroKernel<T>
{
    /// <summary>The deepest k block; a product's k is cut into equal blocks of at most this depth.</summary>
    public static int KC { get; private set; } = ChooseKc(CacheInfo.L1Data, CacheInfo.L2);

    /// <summary>The most rows of A one tile packs per k block (a multiple of MR).</summary>
    public static int MC { get; private set; } = ChooseMc(CacheInfo.L2, KC);

    /// <summary>Benchmarks: other block sizes (0 keeps the cache-derived one). Results never depend on them.</summary>
    internal static void Override(int kc, int mc)
    {
        KC = kc > 0 ? Math.Max(8, kc) : ChooseKc(CacheInfo.L1Data, CacheInfo.L2);
        MC = mc > 0 ? Math.Max(TKernel.MR, mc / TKernel.MR * TKernel.MR) : ChooseMc(CacheInfo.L2, KC);
    }

    internal static unsafe int ChooseKc(int l1Bytes, int l2Bytes)
    {
        // Deep blocks: C is loaded and stored once per k block, which costs more than a B panel spilling from L1
        // to L2 (the kernel needs one B vector per two FMAs, well within L2's bandwidth). Measured on Zen 5 (48 KiB
        // L1d, 1 MiB L2): 512 to 1024 steps run G and the W2-W4 products 5-15% faster than 192 (half of L1).
        int panelStep = TKernel.NR * sizeof(T);
        int kc = Math.Min(2 * l1Bytes / panelStep, l2Bytes / (8 * panelStep));
        return Math.Clamp(kc / 8 * 8, 64, 1024);
    }

    internal static unsafe int ChooseMc(int l2Bytes, int kc)
    {
        int rows = l2Bytes / 2 / (kc * sizeof(T));
        return Math.Max(TKernel.MR, rows / TKernel.MR * TKernel.MR);
    }
}

/// <summary>
/// A pass run on each tile of C right after its last k block is stored, while the tile is in L1: z = C + bias
/// (per column) and a = f(z) (<see cref="Elementwise.BiasTile{T, TOp}"/>), instead of a pass over all of C after the
/// product. <see cref="Apply"/> null: none.
/// </summary>
internal unsafe struct TileEpilogue<T> where T : unmanaged
{
    /// <summary>(z tile, a tile, bias at the tile's first column, rows, columns, row stride, vector width).</summary>
    public delegate*<T*, T*, T*, int, int, nint, int, void> Apply;

    /// <summary>The bias (n values) and a (m x n, laid out as C).</summary>
    public T* Bias, A;

    /// <summary>The element-wise vector width of the thread that asked (a per-thread setting; the pool's helpers run the tiles).</summary>
    public int Width;
}

/// <summary>
/// The packed-panel product (Goto/BLIS style): op(B) is copied into NR-column strips and op(A) into MR-row strips,
/// both cut into k blocks, so the micro-kernel reads both operands contiguously whatever their stored layout (this
/// is where the transposes are absorbed). C is cut into tiles of whole strips, shared among the threads.
/// </summary>
/// <remarks>
/// <para>
/// A tile that spans all of N packs its own rows of A block by block just before using them (so they are hot in
/// L2); when N is split too (few rows: a small batch), A is packed once for all tiles. B is packed once, strip by
/// strip, unless the caller hands it over already packed (inference: the weights, packed once). Packing and computing run
/// as one parallel job: a tile waits only for the strips it reads, not for all packing to finish. A small product on
/// several threads shares no panel instead: each thread packs the smaller operand for itself (<see cref="ChoosePrivate"/>).
/// </para>
/// <para>
/// Determinism: the micro-kernel continues each element's fused multiply-add chain from the value it left in C after
/// the previous k block, so every element is one chain over k = 0, 1, ..., k-1, whatever the tiling, the block sizes
/// or the number of threads. Threads only ever split C, never k.
/// </para>
/// </remarks>
internal static unsafe class GemmPacked<T, TKernel>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TKernel : struct, IMicroKernel<T>
{
    /// <summary>The depth of each k block of a product with this k: equal blocks of at most <see cref="GemmBlocking{T, TKernel}.KC"/>.</summary>
    public static int BlockDepth(int k)
    {
        int kcMax = GemmBlocking<T, TKernel>.KC;
        int blocks = Math.Max(1, (k + kcMax - 1) / kcMax);
        // A multiple of 8, so packing transposes whole 8-step blocks (only the product's last k block has a tail).
        return Math.Min(kcMax, ((k + blocks - 1) / blocks + 7) / 8 * 8);
    }

    /// <summary>
    /// The part of the next B strip (<paramref name="next"/>, <paramref name="kc"/> steps deep; null: none) that the
    /// call for A strip <paramref name="index"/> of <paramref name="count"/> prefetches into L2: a slice each, so the
    /// strip is in L2 when its first call reads it. Otherwise that call reads it from L3 once B exceeds L2, which the
    /// hardware prefetchers do not hide on every CPU (an Intel Xeon: 5-10% of the kernel's time at n = 2048).
    /// Returns the line count, <paramref name="start"/> the first line (0 and null: nothing to ask for).
    /// </summary>
    internal static int NextStripSlice(T* next, int kc, int index, int count, out byte* start)
    {
        long stripBytes = (long)TKernel.NR * kc * sizeof(T), slice = (stripBytes / count + 63) & ~63L;
        long from = index * slice;
        if (next == null || from >= stripBytes)
        {
            start = null;
            return 0;
        }
        start = (byte*)next + from;
        return (int)((Math.Min(stripBytes, from + slice) - from + 63) / 64);
    }

    /// <summary>Elements of op(B) packed: whole NR strips over all of k.</summary>
    public static long PackedBLength(int n, int k) => (long)((n + TKernel.NR - 1) / TKernel.NR) * TKernel.NR * k;

    /// <summary>
    /// C = op(A) * op(B) (+ C). <paramref name="panelsB"/>, when not null, holds op(B) packed
    /// (<see cref="PackedBLength"/> elements): already, when <paramref name="panelsReady"/> (then <paramref name="b"/>
    /// is not read), or to be packed there instead of in the thread's workspace, for a later product to reuse.
    /// <paramref name="epilogue"/>, when its Apply is set, runs on every tile of C as it is finished.
    /// </summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, bool accumulate, int threads, T* panelsB = null, bool panelsReady = false,
        TileEpilogue<T> epilogue = default)
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        int mStrips = (m + mr - 1) / mr, nStrips = (n + nr - 1) / nr;
        long mp = (long)mStrips * mr, np = (long)nStrips * nr;
        var job = new Job
        {
            TransA = transA, TransB = transB, M = m, N = n, K = k, Kc = BlockDepth(k), Accumulate = accumulate,
            MStrips = mStrips, NStrips = nStrips, Mp = mp, Np = np, Epilogue = epilogue,
        };
        ChooseTiles(ref job, threads);
        job.PackingB = panelsB == null || !panelsReady;
        if (panelsB == null)
            ChoosePrivate(ref job, threads);
        // Stored k x n, B is packed row by row (each item some rows of one k block, every strip): the rows are read
        // front to back. Strip by strip, each k step reads 128 bytes a row apart (a page apart from n = 1024 on).
        job.BByRows = !transB && job.PackingB && job.Private == Privately.None;
        job.RowItemsPerBlock = (job.Kc + BRowChunk - 1) / BRowChunk;
        job.BItems = job.PackingB && job.Private == Privately.None
            ? job.BByRows ? ((k + job.Kc - 1) / job.Kc) * job.RowItemsPerBlock : nStrips
            : 0;
        job.AItems = job.SharedA ? (mStrips + AGroup - 1) / AGroup : 0;
        bool bInWorkspace = panelsB == null && job.Private == Privately.None;
        long wsLength = (bInWorkspace ? np * k : 0) + (job.SharedA ? mp * k : 0);
        T* ws = wsLength > 0 ? GemmWorkspace<T>.Get(wsLength) : null;
        job.PackedB = bInWorkspace ? ws : panelsB;
        job.PackedA = job.SharedA ? ws + (bInWorkspace ? np * k : 0) : null;
        int items = job.BItems + job.AItems + job.MTiles * job.NTiles;
        fixed (T* pa = a, pb = b, pc = c)
        {
            job.A = pa;
            job.B = pb;
            job.C = pc;
            if (threads <= 1 || job.MTiles * job.NTiles == 1)
            {
                for (int i = 0; i < items; i++)
                    job.Run(i);
                return;
            }
            job.Flags = GemmWorkspace<T>.Flags(job.BItems + job.AItems);
            job.Stamp = Interlocked.Increment(ref s_stamp);
            var box = t_box ??= new JobBox();
            box.Job = job;
            GemmPool.Shared.Run(box, items, threads, job.BItems + job.AItems);
        }
    }

    /// <summary>
    /// Tiles: A blocks of at most MC rows, 4 to 16 tiles per thread for balance (more when tiles stay five strips or more); N is split as well only when M
    /// alone cannot give every thread work, and then A is packed once for all tiles instead of per tile.
    /// </summary>
    /// <remarks>
    /// The threads claim tiles as they come free, so what one thread is left doing after the others have finished
    /// is the product's tail. The M tiles are a multiple of the thread count with the strips spread evenly over
    /// them (sizes differ by at most one strip): cut by a fixed strip count instead, 43 strips (n = 512) made seven
    /// tiles of 6 and one of 1, and one of two threads worked 24 strips while the other worked 19.
    /// </remarks>
    private static void ChooseTiles(ref Job job, int threads)
    {
        int wanted = threads <= 1 ? 1 : 4 * threads;
        int mTiles = SplitM(job.MStrips, threads);
        int nTiles = 1;
        if (mTiles < wanted && mTiles < 2 * threads)
            nTiles = Math.Min(job.NStrips, (wanted + mTiles - 1) / mTiles);
        job.MTiles = mTiles;
        job.NTiles = nTiles;
        job.SharedA = job.NTiles > 1;
    }

    /// <summary>M tiles of at most MC rows, 4 to 16 per thread, a multiple of the thread count where the strips allow.</summary>
    private static int SplitM(int mStrips, int threads)
    {
        int msMax = Math.Max(1, GemmBlocking<T, TKernel>.MC / TKernel.MR);
        // Each thread gets its own block of tiles (GemmPool) and steals what is left of the others' at the end, so the
        // last tile is what a thread slower than the others (a busy core) leaves unshared: with room for tiles of five
        // strips or more, up to 16 per thread (two threads, in-process alternation: n = 2048 +7-12%, n = 1536 +4%,
        // n = 1024 0-2%; W4's 256-row products lost 6-13% with 8 or 16 tiles of one or two strips, so they keep 4).
        int tpt = Math.Clamp(mStrips / (5 * Math.Max(1, threads)), 4, 16);
        return WholeRounds(Math.Max((mStrips + msMax - 1) / msMax, Math.Min(mStrips, threads <= 1 ? 1 : tpt * threads)), mStrips, threads);
    }

    /// <summary><paramref name="tiles"/> raised to a multiple of the thread count if the strips allow it (each thread then owns as many).</summary>
    private static int WholeRounds(int tiles, int strips, int threads)
    {
        if (threads > 1 && tiles % threads != 0 && tiles + threads - tiles % threads <= strips)
            tiles += threads - tiles % threads;
        return tiles;
    }

    /// <summary>
    /// Small products on several threads: no packed panel is shared. Each thread packs the smaller operand whole for
    /// itself and the tiles split the other one, each tile packing its own part (a split along M when B is the smaller,
    /// along N when A is). Both operands then stay in the caches of the core that packed them.
    /// </summary>
    /// <remarks>
    /// A panel packed by one core and read by another moves between their caches twice per product (read by the
    /// other, then taken back for writing by the next product's packing): on an Intel Xeon (2 vCPUs) a B strip of
    /// W2's first layer took 14-24 us to pack on two threads against 6 on one, and each thread's first tile ran 2-3x
    /// slower than the rest, reading the other's strips. Packing the smaller operand twice costs less while it fits
    /// in a quarter of L2; beyond that the panels come from L3 whoever packed them, and sharing saves the copies.
    /// </remarks>
    private static void ChoosePrivate(ref Job job, int threads)
    {
        if (threads <= 1 || Gemm.SharedPanelsOnly)
            return;
        long aBytes = job.Mp * job.K * sizeof(T), bBytes = job.Np * job.K * sizeof(T);
        if (Math.Min(aBytes, bBytes) > CacheInfo.L2 / 4)
            return;
        // Each thread's copy costs about what 20 multiply-adds per element do (measured: 50,000 values of W2's first
        // layer packed in 12 us on one thread): keep it small beside the thread's share of the product, which shrinks
        // as threads are added. Every product measured in private mode (two threads) had 57 or more per element.
        long work = (long)job.M * job.N * job.K / threads;
        if (work < PrivateWorkPerElement * (Math.Min(aBytes, bBytes) / sizeof(T)))
            return;
        if (bBytes <= aBytes)
        {
            if (job.MStrips < 2)
                return;
            job.MTiles = SplitM(job.MStrips, threads);
            job.NTiles = 1;
            job.Private = Privately.B;
        }
        else
        {
            if (job.NStrips < 2)
                return;
            // Four per thread, a multiple of the threads where the strips allow, evenly spread.
            job.MTiles = 1;
            job.NTiles = WholeRounds(Math.Min(job.NStrips, 4 * threads), job.NStrips, threads);
            job.Private = Privately.A;
        }
        job.SharedA = false;
    }

    /// <summary>The fewest multiply-adds per thread for each element a thread packs for itself (<see cref="ChoosePrivate"/>).</summary>
    private const long PrivateWorkPerElement = 32;

    /// <summary>Which operand each thread packs whole for itself (<see cref="ChoosePrivate"/>); None: panels are shared.</summary>
    private enum Privately : byte { None, A, B }

    /// <summary>Tests: the job of an m x n x k product on <paramref name="threads"/> threads, tiled (no operands).</summary>
    private static Job Plan(int m, int n, int k, int threads)
    {
        int mStrips = (m + TKernel.MR - 1) / TKernel.MR, nStrips = (n + TKernel.NR - 1) / TKernel.NR;
        var job = new Job
        {
            M = m, N = n, K = k, MStrips = mStrips, NStrips = nStrips, Mp = (long)mStrips * TKernel.MR, Np = (long)nStrips * TKernel.NR,
        };
        ChooseTiles(ref job, threads);
        ChoosePrivate(ref job, threads);
        return job;
    }

    /// <summary>Tests: which operand each thread packs for itself ('A', 'B'), or '-' when the panels are shared.</summary>
    internal static char PanelMode(int m, int n, int k, int threads) => Plan(m, n, k, threads).Private switch
    {
        Privately.A => 'A',
        Privately.B => 'B',
        _ => '-',
    };

    /// <summary>
    /// Tests: the A strips of each M tile (<paramref name="columns"/> false) or the B strips of each N tile of an
    /// m x n x k product on <paramref name="threads"/> threads.
    /// </summary>
    internal static int[] TileStrips(int m, int n, int k, int threads, bool columns)
    {
        var job = Plan(m, n, k, threads);
        var strips = new int[columns ? job.NTiles : job.MTiles];
        for (int t = 0; t < strips.Length; t++)
            strips[t] = columns ? FirstColumnStrip(job, t + 1) - FirstColumnStrip(job, t) : FirstStrip(job, t + 1) - FirstStrip(job, t);
        return strips;
    }

    /// <summary>The first B strip of N tile <paramref name="tn"/> (spread evenly as the M tiles are).</summary>
    private static int FirstColumnStrip(in Job job, int tn) => (int)((long)tn * job.NStrips / job.NTiles);

    /// <summary>The first A strip of M tile <paramref name="tm"/> (tile tm spans strips [first(tm), first(tm + 1))).</summary>
    private static int FirstStrip(in Job job, int tm) => (int)((long)tm * job.MStrips / job.MTiles);

    /// <summary>A strips packed by one work item when A is packed once for all tiles: neighbouring strips share cache lines.</summary>
    private const int AGroup = 8;

    private static long s_stamp;

    /// <summary>Rows of B one packing item copies when B is packed row by row.</summary>
    private const int BRowChunk = 32;

    /// <summary>The job whose private operand this thread's private buffer holds (<see cref="Privately"/>).</summary>
    [ThreadStatic] private static long t_privateStamp;

    [ThreadStatic] private static T* t_private;


    /// <summary>The calling thread's job holder, reused so a product allocates nothing.</summary>
    [ThreadStatic] private static JobBox? t_box;

    private sealed class JobBox : IGemmWork
    {
        public Job Job;

        public void Run(int i) => Job.Run(i);
    }

    /// <summary>
    /// Packs strip <paramref name="s"/> (<paramref name="width"/> rows of op(A) or columns of op(B), of
    /// <paramref name="extent"/>) over all k blocks into a panel of <paramref name="panel"/> values per k step.
    /// </summary>
    private static void PackStrip(T* operand, bool runs, int extent, int k, int kcMax, int s, int width, T* packed, long panel)
    {
        for (int k0 = 0; k0 < k; k0 += kcMax)
        {
            int kc = Math.Min(kcMax, k - k0);
            PackBlock(operand, runs, extent, k, s * width, width, k0, kc, packed + k0 * panel + (long)s * width * kc);
        }
    }

    /// <summary>
    /// Rows p0 .. p1-1 of the k block at k0 (kc rows deep) of a B stored k x n, every strip at once: each row is read
    /// once, front to back, and its runs go to the strips' k step p, zeros past n. (G and W4's products on an Intel
    /// Xeon, in-process alternation: 0-5% faster than strip by strip, most with k >= 1024.)
    /// </summary>
    private static void PackRows(T* b, int n, int k0, int kc, int p0, int p1, T* block)
    {
        int nr = TKernel.NR, whole = n / nr, rest = n - whole * nr;
        int bytes = nr * sizeof(T);
        for (int p = p0; p < p1; p++)
        {
            T* src = b + (long)(k0 + p) * n;
            T* dst = block + (long)p * nr;
            long stride = (long)nr * kc;
            for (int js = 0; js < whole; js++)
                CopySmall((byte*)(dst + js * stride), (byte*)(src + js * nr), bytes);
            if (rest > 0)
            {
                T* d = dst + whole * stride;
                CopySmall((byte*)d, (byte*)(src + whole * nr), rest * sizeof(T));
                for (int r = rest; r < nr; r++)
                    d[r] = T.Zero;
            }
        }
    }

    /// <summary>
    /// k steps k0 .. k0+kc-1 of the strip of <paramref name="width"/> rows of op(A) (or columns of op(B)) starting at
    /// <paramref name="first"/>: written step-major to <paramref name="dst"/>, zeros past the operand's edge. The
    /// operand's k steps are either contiguous runs <paramref name="extent"/> apart (<paramref name="runs"/>) or
    /// row streams <paramref name="k"/> apart read side by side.
    /// </summary>
    private static void PackBlock(T* operand, bool runs, int extent, int k, int first, int width, int k0, int kc, T* dst)
    {
        int present = Math.Min(width, extent - first);
        if (runs)
        {
            CopyRuns(operand + (long)k0 * extent + first, extent, present, width, kc, dst);
            return;
        }
        T* src = operand + (long)first * k + k0;
        int p0 = 0;
        if (present == width && typeof(T) == typeof(float) && Avx.IsSupported && (width % 8 == 0 || width % 8 == 4 || width == 6))
        {
            // Eight rows (or the last 4 or 6) at a time along the whole block, eight k steps per transpose in
            // registers: eight source streams at once, not the whole strip's.
            int whole = kc / 8 * 8;
            for (int j = 0; j < width; j += 8)
            {
                int rows = Math.Min(8, width - j);
                float* s = (float*)(src + (long)j * k);
                float* d = (float*)(dst + j);
                for (int p = 0; p < whole; p += 8)
                    TransposeRows(s + p, k, rows, d + p * width, width);
            }
            p0 = whole;
        }
        GatherStreams(src, k, present, width, p0, kc, dst);
    }

    /// <summary>
    /// The transpose of the <paramref name="rows"/> x 8 block at <paramref name="src"/> (row stride
    /// <paramref name="srcStride"/>; rows is 8, 6 or 4): dst[p * dstStride + r] = src[r * srcStride + p] for p in 0..7.
    /// A pure copy; exactly rows values are written per k step.
    /// </summary>
    private static void TransposeRows(float* src, nint srcStride, int rows, float* dst, nint dstStride)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + srcStride);
        var r2 = Avx.LoadVector256(src + 2 * srcStride);
        var r3 = Avx.LoadVector256(src + 3 * srcStride);
        var r4 = rows > 4 ? Avx.LoadVector256(src + 4 * srcStride) : Vector256<float>.Zero;
        var r5 = rows > 4 ? Avx.LoadVector256(src + 5 * srcStride) : Vector256<float>.Zero;
        var r6 = rows > 6 ? Avx.LoadVector256(src + 6 * srcStride) : Vector256<float>.Zero;
        var r7 = rows > 6 ? Avx.LoadVector256(src + 7 * srcStride) : Vector256<float>.Zero;
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var s0 = Avx.Shuffle(t0, t2, 0x44);
        var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44);
        var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44);
        var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44);
        var s7 = Avx.Shuffle(t5, t7, 0xEE);
        if (rows == 8)
        {
            Avx.Store(dst, Avx.Permute2x128(s0, s4, 0x20));
            Avx.Store(dst + dstStride, Avx.Permute2x128(s1, s5, 0x20));
            Avx.Store(dst + 2 * dstStride, Avx.Permute2x128(s2, s6, 0x20));
            Avx.Store(dst + 3 * dstStride, Avx.Permute2x128(s3, s7, 0x20));
            Avx.Store(dst + 4 * dstStride, Avx.Permute2x128(s0, s4, 0x31));
            Avx.Store(dst + 5 * dstStride, Avx.Permute2x128(s1, s5, 0x31));
            Avx.Store(dst + 6 * dstStride, Avx.Permute2x128(s2, s6, 0x31));
            Avx.Store(dst + 7 * dstStride, Avx.Permute2x128(s3, s7, 0x31));
            return;
        }
        // Rows 0-3 of step p are the low or high half of s0..s3; rows 4-5 the first two lanes of s4..s7's halves.
        StoreStep(dst, s0.GetLower(), s4.GetLower(), rows);
        StoreStep(dst + dstStride, s1.GetLower(), s5.GetLower(), rows);
        StoreStep(dst + 2 * dstStride, s2.GetLower(), s6.GetLower(), rows);
        StoreStep(dst + 3 * dstStride, s3.GetLower(), s7.GetLower(), rows);
        StoreStep(dst + 4 * dstStride, s0.GetUpper(), s4.GetUpper(), rows);
        StoreStep(dst + 5 * dstStride, s1.GetUpper(), s5.GetUpper(), rows);
        StoreStep(dst + 6 * dstStride, s2.GetUpper(), s6.GetUpper(), rows);
        StoreStep(dst + 7 * dstStride, s3.GetUpper(), s7.GetUpper(), rows);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreStep(float* dst, Vector128<float> low, Vector128<float> high, int rows)
    {
        Sse.Store(dst, low);
        if (rows == 6)
            Sse.StoreLow(dst + 4, high);
    }

    /// <summary>
    /// Packs kc k steps whose values lie in contiguous runs (step p starts at src + p * stride): the first
    /// <paramref name="present"/> values of each run, then zeros up to <paramref name="width"/>.
    /// </summary>
    private static void CopyRuns(T* src, long stride, int present, int width, int kc, T* dst)
    {
        int bytes = present * sizeof(T);
        for (int p = 0; p < kc; p++)
        {
            T* s = src + p * stride;
            T* d = dst + p * width;
            // A run is 24 to 128 bytes: inline vector moves, not a Memmove call per run (which cost W4 7% of its time).
            CopySmall((byte*)d, (byte*)s, bytes);
            for (int r = present; r < width; r++)
                d[r] = T.Zero;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopySmall(byte* d, byte* s, int bytes)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 64 <= bytes; i += 64)
                Vector512.Store(Vector512.Load(s + i), d + i);
        for (; i + 32 <= bytes; i += 32)
            Vector256.Store(Vector256.Load(s + i), d + i);
        if (i + 16 <= bytes)
        {
            Vector128.Store(Vector128.Load(s + i), d + i);
            i += 16;
        }
        if (i + 8 <= bytes)
        {
            *(long*)(d + i) = *(long*)(s + i);
            i += 8;
        }
        for (; i < bytes; i++)
            d[i] = s[i];
    }

    /// <summary>
    /// Packs k steps p0..kc-1 of <paramref name="present"/> row streams read side by side (stream r at
    /// src + r * stride), one write of <paramref name="width"/> values per step, zeros past the streams.
    /// </summary>
    private static void GatherStreams(T* src, long stride, int present, int width, int p0, int kc, T* dst)
    {
        for (int p = p0; p < kc; p++)
        {
            T* d = dst + p * width;
            T* s = src + p;
            int r = 0;
            for (; r < present; r++)
                d[r] = s[r * stride];
            for (; r < width; r++)
                d[r] = T.Zero;
        }
    }

    private struct Job
    {
        public bool TransA, TransB, Accumulate, SharedA, PackingB;
        public Privately Private;
        public int M, N, K, Kc, MStrips, NStrips, MTiles, NTiles, BItems, AItems, RowItemsPerBlock;
        public bool BByRows;
        public long Mp, Np, Stamp;
        public T* A, B, C, PackedA, PackedB;

        /// <summary>Per packing item: <see cref="Stamp"/> once it is done (only when several threads run the job).</summary>
        public long* Flags;

        /// <summary>The pass each finished tile of C gets (none when its Apply is null).</summary>
        public TileEpilogue<T> Epilogue;

        /// <summary>
        /// Items in order: B to pack (strips, or row chunks of each k block when <see cref="BByRows"/>), groups of A
        /// strips to pack (shared A), tiles.
        /// </summary>
        public readonly void Run(int i)
        {
            if (i < BItems && BByRows)
            {
                int block = i / RowItemsPerBlock, k0 = block * Kc, kc = Math.Min(Kc, K - k0);
                int p0 = i % RowItemsPerBlock * BRowChunk;
                if (p0 < kc)
                    PackRows(B, N, k0, kc, p0, Math.Min(kc, p0 + BRowChunk), PackedB + (long)k0 * Np);
                Done(i);
            }
            else if (i < BItems)
            {
                PackStrip(B, !TransB, N, K, Kc, i, TKernel.NR, PackedB, Np);
                Done(i);
            }
            else if (i < BItems + AItems)
            {
                int g = i - BItems;
                for (int s = g * AGroup, end = Math.Min(MStrips, s + AGroup); s < end; s++)
                    PackStrip(A, TransA, M, K, Kc, s, TKernel.MR, PackedA, Mp);
                Done(i);
            }
            else
            {
                Compute(i - BItems - AItems);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly void Prefetch(T* tile, int rows, int cols)
        {
            if (!Sse.IsSupported)
                return;
            int bytes = cols * sizeof(T);
            for (int r = 0; r < rows; r++)
            {
                byte* row = (byte*)(tile + (long)r * N);
                for (int o = 0; o < bytes; o += 64)
                    Sse.Prefetch0(row + o);
                Sse.Prefetch0(row + bytes - 1);
            }
        }

        private readonly void Done(int item)
        {
            if (Flags != null)
                Volatile.Write(ref Flags[item], Stamp);
        }

        /// <summary>Waits until packing item <paramref name="item"/> is done (claimed items always finish: they are claimed before any tile).</summary>
        private readonly void WaitFor(int item)
        {
            if (Flags == null || Volatile.Read(ref Flags[item]) == Stamp)
                return;
            var spin = new SpinWait();
            while (Volatile.Read(ref Flags[item]) != Stamp)
                spin.SpinOnce(sleep1Threshold: -1);
        }

        /// <summary>
        /// This thread's own copy of op(A) (<paramref name="a"/>) or op(B), packed whole in the shared panels' layout
        /// the first time one of its tiles of this job asks.
        /// </summary>
        private readonly T* PrivatePanels(bool a)
        {
            if (t_privateStamp == Stamp)
                return t_private;
            T* panels = GemmWorkspace<T>.GetPrivate(a ? Mp * K : Np * K);
            for (int s = 0, strips = a ? MStrips : NStrips; s < strips; s++)
            {
                if (a)
                    PackStrip(A, TransA, M, K, Kc, s, TKernel.MR, panels, Mp);
                else
                    PackStrip(B, !TransB, N, K, Kc, s, TKernel.NR, panels, Np);
            }
            t_private = panels;
            t_privateStamp = Stamp;
            return panels;
        }

        /// <summary>One tile of C: every k block, every B strip, every A strip of the tile.</summary>
        private readonly void Compute(int tile)
        {
            int mr = TKernel.MR, nr = TKernel.NR;
            int tm = tile / NTiles, tn = tile % NTiles;
            int s0 = FirstStrip(this, tm), s1 = FirstStrip(this, tm + 1);
            int t0 = FirstColumnStrip(this, tn), t1 = FirstColumnStrip(this, tn + 1);
            for (int js = t0; js < t1 && BItems > 0 && !BByRows; js++)
                WaitFor(js);
            for (int g = s0 / AGroup; g <= (s1 - 1) / AGroup && AItems > 0; g++)
                WaitFor(BItems + g);
            T* privateA = Private == Privately.A ? PrivatePanels(true) : null;
            T* packedB = Private == Privately.B ? PrivatePanels(false) : PackedB;
            T* ownA = SharedA || privateA != null ? null : GemmWorkspace<T>.GetTile((long)(s1 - s0) * mr * Kc);
            T* ownB = privateA != null ? GemmWorkspace<T>.GetTile((long)(t1 - t0) * nr * Kc) : null;
            T* edge = stackalloc T[mr * nr];
            var rowCounts = TKernel.RowCounts;
            for (int k0 = 0; k0 < K; k0 += Kc)
            {
                int kc = Math.Min(Kc, K - k0);
                bool load = Accumulate || k0 > 0;
                bool finish = k0 + kc >= K && Epilogue.Apply != null;
                if (BByRows)
                    for (int it = k0 / Kc * RowItemsPerBlock, end = it + RowItemsPerBlock; it < end; it++)
                        WaitFor(it);
                T* ablock;
                if (SharedA || privateA != null)
                {
                    ablock = (SharedA ? PackedA : privateA) + k0 * Mp + (long)s0 * mr * kc;
                }
                else
                {
                    for (int s = s0; s < s1; s++)
                        PackBlock(A, TransA, M, K, s * mr, mr, k0, kc, ownA + (long)(s - s0) * mr * kc);
                    ablock = ownA;
                }
                if (ownB != null)
                    for (int js = t0; js < t1; js++)
                        PackBlock(B, !TransB, N, K, js * nr, nr, k0, kc, ownB + (long)(js - t0) * nr * kc);
                for (int js = t0; js < t1; js++)
                {
                    T* bp = ownB != null ? ownB + (long)(js - t0) * nr * kc : packedB + k0 * Np + (long)js * nr * kc;
                    int j0 = js * nr, cols = Math.Min(nr, N - j0);
                    T* nextB = js + 1 < t1 ? bp + (long)nr * kc : null;
                    for (int s = s0; s < s1; s++)
                    {
                        int lines = NextStripSlice(nextB, kc, s - s0, s1 - s0, out byte* pf);
                        T* ap = ablock + (long)(s - s0) * mr * kc;
                        int i0 = s * mr, rows = Math.Min(mr, M - i0);
                        T* cp = C + (long)i0 * N + j0;
                        {
                            // The next call's tile of C, so its loads do not stall the next kernel's start (C is
                            // loaded and stored once per k block; G n=2048 ran 9% faster with this).
                            int sn = s + 1 < s1 ? s + 1 : s0, jn = s + 1 < s1 ? js : js + 1;
                            if (jn < t1)
                                Prefetch(C + (long)sn * mr * N + jn * nr, Math.Min(mr, M - sn * mr), Math.Min(nr, N - jn * nr));
                        }
                        int variant = mr;
                        for (int v = 1; v < rowCounts.Length && rowCounts[v] >= rows; v++)
                            variant = rowCounts[v];
                        if (variant == rows && cols == nr)
                        {
                            TKernel.Run(rows, kc, ap, bp, cp, N, load, pf, lines);
                            if (finish)
                                Epilogue.Apply(cp, Epilogue.A + (cp - C), Epilogue.Bias + j0, rows, cols, N, Epilogue.Width);
                            continue;
                        }
                        // Edge tile: run the kernel on a scratch tile, keep the part inside C.
                        if (load)
                            for (int r = 0; r < rows; r++)
                                for (int j = 0; j < cols; j++)
                                    edge[r * nr + j] = cp[(long)r * N + j];
                        TKernel.Run(variant, kc, ap, bp, edge, nr, load, pf, lines);
                        for (int r = 0; r < rows; r++)
                            for (int j = 0; j < cols; j++)
                                cp[(long)r * N + j] = edge[r * nr + j];
                        if (finish)
                            Epilogue.Apply(cp, Epilogue.A + (cp - C), Epilogue.Bias + j0, rows, cols, N, Epilogue.Width);
                    }
                }
            }
        }
    }
}

/// <summary>
/// The packing buffers of the calling thread: pinned, 64-byte aligned, grown on demand and then reused, so a
/// training loop stops allocating after its first step. <see cref="Get"/> holds what a product packs for all its
/// tiles; <see cref="GetTile"/> the rows of A one tile packs for itself (a thread may run tiles of a product whose
/// shared panels live in another thread's buffer, and its own at the same time).
/// </summary>
internal static unsafe class GemmWorkspace<T> where T : unmanaged
{
    [ThreadStatic] private static byte[]? t_buffer;
    [ThreadStatic] private static byte[]? t_tile;
    [ThreadStatic] private static long[]? t_flags;
    [ThreadStatic] private static byte[]? t_private;

    public static T* Get(long elements) => Aligned(ref t_buffer, elements * sizeof(T));

    /// <summary>The operand a thread packs whole for itself when a small product shares no panels.</summary>
    public static T* GetPrivate(long elements) => Aligned(ref t_private, elements * sizeof(T));

    public static T* GetTile(long elements) => Aligned(ref t_tile, elements * sizeof(T));

    /// <summary>One completion flag per packing item of a parallel product.</summary>
    public static long* Flags(int count)
    {
        var flags = t_flags;
        if (flags is null || flags.Length < count)
            t_flags = flags = GC.AllocateArray<long>(Math.Max(count, 64), pinned: true);
        return (long*)Unsafe.AsPointer(ref flags[0]);
    }

    private static T* Aligned(ref byte[]? slot, long bytes)
    {
        bytes += 64;
        var buffer = slot;
        if (buffer is null || buffer.LongLength < bytes)
        {
            buffer = GC.AllocateUninitializedArray<byte>(checked((int)Math.Max(bytes, (buffer?.LongLength ?? 0) * 3 / 2)), pinned: true);
            slot = buffer;
        }
        nint p = (nint)Unsafe.AsPointer(ref buffer[0]);
        return (T*)((p + 63) & ~(nint)63);
    }
}
