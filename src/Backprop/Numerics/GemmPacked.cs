using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Numerics;

/// <summary>
/// The packed-panel product (Goto/BLIS style): op(A) is copied into MR-row strips and op(B) into NR-column
/// strips, both cut into KC-deep blocks, so the micro-kernel reads both operands contiguously whatever their
/// stored layout (this is where the transposes are absorbed). C is then cut into tiles of whole strips and
/// the tiles are shared among the threads.
/// </summary>
/// <remarks>
/// Determinism: the micro-kernel continues each element's fused multiply-add chain from the value it left
/// in C after the previous k block, so every element is one chain over k = 0, 1, ..., k-1, whatever the
/// tiling, the block sizes or the number of threads. Threads only ever split C, never k.
/// </remarks>
internal static unsafe class GemmPacked<T, TKernel>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TKernel : struct, IMicroKernel<T>
{
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, bool accumulate, int threads)
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        int mStrips = (m + mr - 1) / mr, nStrips = (n + nr - 1) / nr;
        long mp = (long)mStrips * mr, np = (long)nStrips * nr;
        T* ws = GemmWorkspace<T>.Get((mp + np) * k);
        var job = new Job
        {
            TransA = transA, TransB = transB, M = m, N = n, K = k, Accumulate = accumulate,
            MStrips = mStrips, NStrips = nStrips, Mp = mp, Np = np,
            PackedA = ws, PackedB = ws + mp * k,
        };
        ChooseTiles(ref job, threads);
        fixed (T* pa = a, pb = b, pc = c)
        {
            job.A = pa;
            job.B = pb;
            job.C = pc;
            int tiles = job.MTiles * job.NTiles;
            if (threads <= 1 || tiles == 1)
            {
                for (int s = 0; s < mStrips; s++)
                    job.PackA(s);
                for (int s = 0; s < nStrips; s++)
                    job.PackB(s);
                for (int t = 0; t < tiles; t++)
                    job.Compute(t);
                return;
            }
            var box = t_box ??= new JobBox();
            box.Job = job;
            box.Packing = true;
            GemmPool.Shared.Run(box, AGroups(mStrips) + nStrips, threads);
            box.Packing = false;
            GemmPool.Shared.Run(box, tiles, threads);
        }
    }

    /// <summary>Tiles of about 96 rows by 512 columns, split further until every thread has a few.</summary>
    private static void ChooseTiles(ref Job job, int threads)
    {
        int msPer = Math.Max(1, Math.Min(job.MStrips, 96 / TKernel.MR));
        int nsPer = Math.Max(1, Math.Min(job.NStrips, 512 / TKernel.NR));
        while (threads > 1 && Tiles(job, msPer, nsPer) < 4 * threads && (msPer > 1 || nsPer > 1))
        {
            if (nsPer * TKernel.NR >= msPer * TKernel.MR && nsPer > 1)
                nsPer = (nsPer + 1) / 2;
            else if (msPer > 1)
                msPer = (msPer + 1) / 2;
            else
                nsPer = (nsPer + 1) / 2;
        }
        job.MsPer = msPer;
        job.NsPer = nsPer;
        job.MTiles = (job.MStrips + msPer - 1) / msPer;
        job.NTiles = (job.NStrips + nsPer - 1) / nsPer;
    }

    private static long Tiles(in Job job, int msPer, int nsPer) =>
        (long)((job.MStrips + msPer - 1) / msPer) * ((job.NStrips + nsPer - 1) / nsPer);

    /// <summary>
    /// A strips packed by one work item. A transposed A is read in runs of MR values per k step; neighbouring strips
    /// share cache lines, so they are packed together by one thread instead of pulling lines between cores.
    /// </summary>
    private const int AGroup = 8;

    private static int AGroups(int mStrips) => (mStrips + AGroup - 1) / AGroup;

    /// <summary>The calling thread's job holder, reused so a product allocates nothing.</summary>
    [ThreadStatic] private static JobBox? t_box;

    private sealed class JobBox : IGemmWork
    {
        public Job Job;
        public bool Packing;

        public void Run(int i)
        {
            if (!Packing)
                Job.Compute(i);
            else if (i < AGroups(Job.MStrips))
            {
                for (int s = i * AGroup, end = Math.Min(Job.MStrips, s + AGroup); s < end; s++)
                    Job.PackA(s);
            }
            else
            {
                Job.PackB(i - AGroups(Job.MStrips));
            }
        }
    }

    /// <summary>
    /// Writes the transpose of the 8 x 8 block at <paramref name="src"/> (row stride <paramref name="srcStride"/>)
    /// to <paramref name="dst"/> (row stride <paramref name="dstStride"/>): dst[p][j] = src[j][p]. A pure copy.
    /// </summary>
    private static void Transpose8x8(float* src, nint srcStride, float* dst, nint dstStride)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + srcStride);
        var r2 = Avx.LoadVector256(src + 2 * srcStride);
        var r3 = Avx.LoadVector256(src + 3 * srcStride);
        var r4 = Avx.LoadVector256(src + 4 * srcStride);
        var r5 = Avx.LoadVector256(src + 5 * srcStride);
        var r6 = Avx.LoadVector256(src + 6 * srcStride);
        var r7 = Avx.LoadVector256(src + 7 * srcStride);
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
        Avx.Store(dst, Avx.Permute2x128(s0, s4, 0x20));
        Avx.Store(dst + dstStride, Avx.Permute2x128(s1, s5, 0x20));
        Avx.Store(dst + 2 * dstStride, Avx.Permute2x128(s2, s6, 0x20));
        Avx.Store(dst + 3 * dstStride, Avx.Permute2x128(s3, s7, 0x20));
        Avx.Store(dst + 4 * dstStride, Avx.Permute2x128(s0, s4, 0x31));
        Avx.Store(dst + 5 * dstStride, Avx.Permute2x128(s1, s5, 0x31));
        Avx.Store(dst + 6 * dstStride, Avx.Permute2x128(s2, s6, 0x31));
        Avx.Store(dst + 7 * dstStride, Avx.Permute2x128(s3, s7, 0x31));
    }

    /// <summary>
    /// Writes the transpose of the 6 x 8 block at <paramref name="src"/> (row stride <paramref name="srcStride"/>)
    /// as 8 consecutive groups of 6 at <paramref name="dst"/>: dst[p * 6 + r] = src[r][p]. Each full-vector store
    /// spills 2 lanes into the next group, which the next store overwrites; the last group is stored exactly,
    /// so nothing is written past dst[47].
    /// </summary>
    private static void Transpose6x8(float* src, nint srcStride, float* dst)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + srcStride);
        var r2 = Avx.LoadVector256(src + 2 * srcStride);
        var r3 = Avx.LoadVector256(src + 3 * srcStride);
        var r4 = Avx.LoadVector256(src + 4 * srcStride);
        var r5 = Avx.LoadVector256(src + 5 * srcStride);
        var r6 = Vector256<float>.Zero;
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r6);
        var t7 = t6;
        var s0 = Avx.Shuffle(t0, t2, 0x44);
        var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44);
        var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44);
        var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44);
        var s7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(s0, s4, 0x20));
        Avx.Store(dst + 6, Avx.Permute2x128(s1, s5, 0x20));
        Avx.Store(dst + 12, Avx.Permute2x128(s2, s6, 0x20));
        Avx.Store(dst + 18, Avx.Permute2x128(s3, s7, 0x20));
        Avx.Store(dst + 24, Avx.Permute2x128(s0, s4, 0x31));
        Avx.Store(dst + 30, Avx.Permute2x128(s1, s5, 0x31));
        Avx.Store(dst + 36, Avx.Permute2x128(s2, s6, 0x31));
        var last = Avx.Permute2x128(s3, s7, 0x31);
        Sse.Store(dst + 42, last.GetLower());
        Sse.StoreLow(dst + 46, last.GetUpper());
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
        public bool TransA, TransB, Accumulate;
        public int M, N, K, MStrips, NStrips, MsPer, NsPer, MTiles, NTiles;
        public long Mp, Np;
        public T* A, B, C, PackedA, PackedB;

        /// <summary>Strip s of op(A): for each k block, kc steps of MR values (rows past M are zero).</summary>
        /// <remarks>op(A)[i, p] is A[p * M + i] when transposed (runs), A[i * K + p] otherwise (streams).</remarks>
        public readonly void PackA(int s) => PackStrip(A, TransA, M, s, TKernel.MR, PackedA, Mp);

        /// <summary>Strip s of op(B): for each k block, kc steps of NR values (columns past N are zero).</summary>
        /// <remarks>op(B)[p, j] is B[p * N + j] when not transposed (runs), B[j * K + p] otherwise (streams).</remarks>
        public readonly void PackB(int s) => PackStrip(B, !TransB, N, s, TKernel.NR, PackedB, Np);

        /// <summary>
        /// Strip s (<paramref name="width"/> rows of op(A) or columns of op(B), of <paramref name="extent"/>) of an
        /// operand whose k steps are either contiguous runs <paramref name="extent"/> apart (<paramref name="runs"/>)
        /// or <paramref name="width"/> row streams K apart read side by side; written k-step-major per k block into
        /// the panel of <paramref name="panel"/> values per k step, zeros past the operand's edge.
        /// </summary>
        private readonly void PackStrip(T* operand, bool runs, int extent, int s, int width, T* packed, long panel)
        {
            int kcMax = TKernel.KC;
            int first = s * width, present = Math.Min(width, extent - first);
            for (int k0 = 0; k0 < K; k0 += kcMax)
            {
                int kc = Math.Min(kcMax, K - k0);
                T* dst = packed + k0 * panel + (long)s * width * kc;
                if (runs)
                {
                    CopyRuns(operand + (long)k0 * extent + first, extent, present, width, kc, dst);
                    continue;
                }
                T* src = operand + (long)first * K + k0;
                int p0 = 0;
                if (present == width && typeof(T) == typeof(float) && Avx.IsSupported)
                {
                    // Eight k steps at a time, transposed in registers: 6 rows at once, or blocks of 8.
                    if (width == 6)
                        for (; p0 + 8 <= kc; p0 += 8)
                            Transpose6x8((float*)(src + p0), K, (float*)(dst + p0 * width));
                    else if (width % 8 == 0)
                        for (; p0 + 8 <= kc; p0 += 8)
                            for (int j = 0; j < width; j += 8)
                                Transpose8x8((float*)(src + (long)j * K + p0), K, (float*)(dst + p0 * width + j), width);
                }
                GatherStreams(src, K, present, width, p0, kc, dst);
            }
        }

        /// <summary>One tile of C: every k block, every B strip, every A strip of the tile.</summary>
        public readonly void Compute(int tile)
        {
            int mr = TKernel.MR, nr = TKernel.NR, kcMax = TKernel.KC;
            int tm = tile / NTiles, tn = tile % NTiles;
            int s0 = tm * MsPer, s1 = Math.Min(MStrips, s0 + MsPer);
            int t0 = tn * NsPer, t1 = Math.Min(NStrips, t0 + NsPer);
            T* edge = stackalloc T[mr * nr];
            for (int k0 = 0; k0 < K; k0 += kcMax)
            {
                int kc = Math.Min(kcMax, K - k0);
                bool load = Accumulate || k0 > 0;
                for (int js = t0; js < t1; js++)
                {
                    T* bp = PackedB + k0 * Np + (long)js * nr * kc;
                    int j0 = js * nr, cols = Math.Min(nr, N - j0);
                    for (int s = s0; s < s1; s++)
                    {
                        T* ap = PackedA + k0 * Mp + (long)s * mr * kc;
                        int i0 = s * mr, rows = Math.Min(mr, M - i0);
                        T* cp = C + (long)i0 * N + j0;
                        if (rows == mr && cols == nr)
                        {
                            TKernel.Run(kc, ap, bp, cp, N, load);
                            continue;
                        }
                        // Edge tile: run the full kernel on a scratch tile, keep the part inside C.
                        if (load)
                            for (int r = 0; r < rows; r++)
                                for (int j = 0; j < cols; j++)
                                    edge[r * nr + j] = cp[(long)r * N + j];
                        TKernel.Run(kc, ap, bp, edge, nr, load);
                        for (int r = 0; r < rows; r++)
                            for (int j = 0; j < cols; j++)
                                cp[(long)r * N + j] = edge[r * nr + j];
                    }
                }
            }
        }
    }
}

/// <summary>
/// The packing buffer of the calling thread: pinned, 64-byte aligned, grown on demand and then reused,
/// so a training loop stops allocating after its first step.
/// </summary>
internal static unsafe class GemmWorkspace<T> where T : unmanaged
{
    [ThreadStatic] private static byte[]? t_buffer;

    public static T* Get(long elements)
    {
        long bytes = elements * sizeof(T) + 64;
        var buffer = t_buffer;
        if (buffer is null || buffer.LongLength < bytes)
        {
            buffer = GC.AllocateUninitializedArray<byte>(checked((int)Math.Max(bytes, (buffer?.LongLength ?? 0) * 3 / 2)), pinned: true);
            t_buffer = buffer;
        }
        nint p = (nint)Unsafe.AsPointer(ref buffer[0]);
        return (T*)((p + 63) & ~(nint)63);
    }
}
