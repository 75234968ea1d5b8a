using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Backprop.Numerics;

namespace Backprop.Bench;

/// <summary>The machine a run measured: CPU model, the widest accelerated vector, cache sizes (one JSON line).</summary>
internal static class Machine
{
    public static int VectorBits => Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 128;

    /// <summary>"model name" (and family/model numbers) from /proc/cpuinfo, or the architecture elsewhere.</summary>
    public static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                string name = "", family = "", model = "";
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                {
                    int colon = line.IndexOf(':', StringComparison.Ordinal);
                    if (colon < 0)
                    {
                        if (name.Length > 0)
                            break;
                        continue;
                    }
                    string key = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
                    if (key == "model name" && name.Length == 0) name = value;
                    else if (key == "cpu family" && family.Length == 0) family = value;
                    else if (key == "model" && model.Length == 0) model = value;
                }
                if (name.Length > 0)
                    return family.Length > 0 ? $"{name} (family {family} model {model})" : name;
            }
        }
        catch (IOException)
        {
        }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    public static string Describe() =>
        $"{CpuModel()}, {Environment.ProcessorCount} cpus, widest accelerated vector {VectorBits} bits, " +
        $"caches L1d {CacheInfo.L1Data >> 10} KiB / L2 {CacheInfo.L2 >> 10} KiB / L3 {CacheInfo.L3 >> 20} MiB ({CacheInfo.Source})";

    public static void Emit(int threads, GemmKernel kernel) =>
        Measure.Emit("machine", "vector_bits", VectorBits, threads,
            extra: $"\"cpu\":\"{CpuModel().Replace("\"", "'", StringComparison.Ordinal)}\",\"kernel\":\"{kernel}\"," +
                   $"\"l1d_kib\":{CacheInfo.L1Data >> 10},\"l2_kib\":{CacheInfo.L2 >> 10},\"l3_mib\":{CacheInfo.L3 >> 20}," +
                   $"\"kc\":{Blocks(kernel).Kc},\"mc\":{Blocks(kernel).Mc}");

    /// <summary>The block sizes the packed product uses with this kernel (float): derived from the caches, or <c>--kc</c>/<c>--mc</c>.</summary>
    public static (int Kc, int Mc) Blocks(GemmKernel kernel) => kernel == GemmKernel.Vector256
        ? (GemmBlocking<float, MicroKernel256<float>>.KC, GemmBlocking<float, MicroKernel256<float>>.MC)
        : (GemmBlocking<float, MicroKernel512<float>>.KC, GemmBlocking<float, MicroKernel512<float>>.MC);
}

/// <summary>
/// The FMA peak: 16 independent fused multiply-add chains per thread on the widest accelerated vector, on dedicated
/// threads released together, best of many short windows (interference only ever lowers a window). Every window
/// times the slowest thread, so threads that did not run concurrently cannot inflate it, and a product can never
/// exceed it. Emitted for one thread and for all threads.
/// </summary>
internal static class Peak
{
    private const long Iterations = 1_000_000;

    /// <summary>At least this many windows, and at least <see cref="MinSeconds"/> of them.</summary>
    private const int Windows = 60;

    private const double MinSeconds = 1.5;

    public static void Run(int threads)
    {
        double one = Best(1);
        double all = threads > 1 ? Best(threads) : one;
        Measure.Emit("peak", "gflop_per_s", all, threads, extra: $"\"bits\":{Machine.VectorBits},\"one_thread\":{one.ToString("F1", CultureInfo.InvariantCulture)}");
        Measure.Emit("peak", "one_thread_gflop_per_s", one, 1, extra: $"\"bits\":{Machine.VectorBits}");
    }

    private static double FlopsPerIteration => 16 * 2.0 * Machine.VectorBits / 32;

    private static double Best(int threads)
    {
        using var start = new Barrier(threads);
        const int capacity = 100_000;
        var begin = new long[threads * capacity];
        var end = new long[threads * capacity];
        int windows = 0;
        var workers = new Thread[threads];
        var clock = Stopwatch.StartNew();
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() =>
            {
                for (int w = 0; w < capacity; w++)
                {
                    // Thread 0 decides, inside the barrier's phase, whether another window runs; all see the same answer.
                    start.SignalAndWait();
                    if (id == 0)
                        Volatile.Write(ref windows, w < Windows + 1 || clock.Elapsed.TotalSeconds < MinSeconds ? w + 1 : w);
                    start.SignalAndWait();
                    if (Volatile.Read(ref windows) <= w)
                        return;
                    begin[w * threads + id] = Stopwatch.GetTimestamp();
                    float sink = Chains(Iterations);
                    end[w * threads + id] = Stopwatch.GetTimestamp();
                    if (sink == 42)
                        Console.Error.Write("");
                }
            }) { IsBackground = true };
            workers[t].Start();
        }
        foreach (var worker in workers)
            worker.Join();
        double best = 0;
        for (int w = 1; w < windows; w++) // the first window is the warm-up
        {
            // From the first thread's start to the last thread's end: threads that did not overlap only lower it.
            long first = long.MaxValue, last = long.MinValue;
            for (int t = 0; t < threads; t++)
            {
                first = Math.Min(first, begin[w * threads + t]);
                last = Math.Max(last, end[w * threads + t]);
            }
            double seconds = (last - first) / (double)Stopwatch.Frequency;
            best = Math.Max(best, threads * Iterations * FlopsPerIteration / seconds / 1e9);
        }
        return best;
    }

    private static float Chains(long iterations) =>
        Vector512.IsHardwareAccelerated ? Chains512(iterations) : Chains256(iterations);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chains256(long iterations)
    {
        var m = Vector256.Create(0.999999f);
        var add = Vector256.Create(1e-7f);
        Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0,
            c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, m, add); c1 = Vector256.FusedMultiplyAdd(c1, m, add);
            c2 = Vector256.FusedMultiplyAdd(c2, m, add); c3 = Vector256.FusedMultiplyAdd(c3, m, add);
            c4 = Vector256.FusedMultiplyAdd(c4, m, add); c5 = Vector256.FusedMultiplyAdd(c5, m, add);
            c6 = Vector256.FusedMultiplyAdd(c6, m, add); c7 = Vector256.FusedMultiplyAdd(c7, m, add);
            c8 = Vector256.FusedMultiplyAdd(c8, m, add); c9 = Vector256.FusedMultiplyAdd(c9, m, add);
            c10 = Vector256.FusedMultiplyAdd(c10, m, add); c11 = Vector256.FusedMultiplyAdd(c11, m, add);
            c12 = Vector256.FusedMultiplyAdd(c12, m, add); c13 = Vector256.FusedMultiplyAdd(c13, m, add);
            c14 = Vector256.FusedMultiplyAdd(c14, m, add); c15 = Vector256.FusedMultiplyAdd(c15, m, add);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11 + c12 + c13 + c14 + c15);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chains512(long iterations)
    {
        var m = Vector512.Create(0.999999f);
        var add = Vector512.Create(1e-7f);
        Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0,
            c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, m, add); c1 = Vector512.FusedMultiplyAdd(c1, m, add);
            c2 = Vector512.FusedMultiplyAdd(c2, m, add); c3 = Vector512.FusedMultiplyAdd(c3, m, add);
            c4 = Vector512.FusedMultiplyAdd(c4, m, add); c5 = Vector512.FusedMultiplyAdd(c5, m, add);
            c6 = Vector512.FusedMultiplyAdd(c6, m, add); c7 = Vector512.FusedMultiplyAdd(c7, m, add);
            c8 = Vector512.FusedMultiplyAdd(c8, m, add); c9 = Vector512.FusedMultiplyAdd(c9, m, add);
            c10 = Vector512.FusedMultiplyAdd(c10, m, add); c11 = Vector512.FusedMultiplyAdd(c11, m, add);
            c12 = Vector512.FusedMultiplyAdd(c12, m, add); c13 = Vector512.FusedMultiplyAdd(c13, m, add);
            c14 = Vector512.FusedMultiplyAdd(c14, m, add); c15 = Vector512.FusedMultiplyAdd(c15, m, add);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11 + c12 + c13 + c14 + c15);
    }
}

/// <summary>
/// `--only kernel`: each accelerated micro-kernel alone, one thread, on packed panels that stay in cache: one A strip
/// against one B strip ("strip"), and a tile's A block of MC rows against 512 columns of B ("tile", L2), as the
/// product's inner loops run them, KC deep. The ceiling of what a product can reach with this kernel on this machine
/// (best of many windows).
/// </summary>
internal static unsafe class KernelProbe
{
    public static void OverrideBlocks(GemmKernel kernel, int kc, int mc)
    {
        if (kernel == GemmKernel.Vector512)
            GemmBlocking<float, MicroKernel512<float>>.Override(kc, mc);
        else
            GemmBlocking<float, MicroKernel256<float>>.Override(kc, mc);
    }

    public static void Run()
    {
        foreach (var kernel in Gemm.AvailableKernels)
        {
            if (kernel == GemmKernel.Vector512)
                Probe<MicroKernel512<float>>(kernel);
            else if (kernel == GemmKernel.Vector256)
                Probe<MicroKernel256<float>>(kernel);
        }
    }

    private static void Probe<TKernel>(GemmKernel kernel) where TKernel : struct, IMicroKernel<float>
    {
        int kc = GemmBlocking<float, TKernel>.KC, mc = GemmBlocking<float, TKernel>.MC;
        int mr = TKernel.MR, nr = TKernel.NR;
        string shape = $"{mr}x{nr}";
        Emit(kernel, shape, kc, mc, "strip", Time<TKernel>(kc, 1, 1));
        Emit(kernel, shape, kc, mc, "tile", Time<TKernel>(kc, mc / mr, Math.Max(1, 512 / nr)));
    }

    private static void Emit(GemmKernel kernel, string shape, int kc, int mc, string where, double gflops) =>
        Measure.Emit("kernel", "gflop_per_s", gflops, 1,
            extra: $"\"kernel\":\"{kernel}\",\"shape\":\"{shape}\",\"kc\":{kc},\"mc\":{mc},\"panels\":\"{where}\"");

    /// <summary><paramref name="aStrips"/> A strips against <paramref name="bStrips"/> B strips, B strip outer, as a tile runs.</summary>
    private static double Time<TKernel>(int kc, int aStrips, int bStrips) where TKernel : struct, IMicroKernel<float>
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        int ldc = bStrips * nr;
        float* a = Alloc((long)aStrips * mr * kc), b = Alloc((long)bStrips * nr * kc), c = Alloc((long)aStrips * mr * ldc);
        try
        {
            long flopsPerSweep = 2L * aStrips * mr * bStrips * nr * kc;
            int sweeps = (int)Math.Max(1, 20_000_000 / flopsPerSweep);
            double best = 0;
            var until = Stopwatch.StartNew();
            for (int w = 0; w < 60 || until.Elapsed.TotalSeconds < 1.5; w++)
            {
                long t0 = Stopwatch.GetTimestamp();
                for (int sweep = 0; sweep < sweeps; sweep++)
                    for (int js = 0; js < bStrips; js++)
                        for (int s = 0; s < aStrips; s++)
                            TKernel.Run(mr, kc, a + (long)s * mr * kc, b + (long)js * nr * kc, c + (long)s * mr * ldc + js * nr, ldc, true, null, 0);
                double seconds = (Stopwatch.GetTimestamp() - t0) / (double)Stopwatch.Frequency;
                if (w > 2)
                    best = Math.Max(best, sweeps * flopsPerSweep / seconds / 1e9);
            }
            return best;
        }
        finally
        {
            NativeMemory.AlignedFree(a);
            NativeMemory.AlignedFree(b);
            NativeMemory.AlignedFree(c);
        }
    }

    /// <summary>Aligned floats, filled with small values (freed with NativeMemory.AlignedFree).</summary>
    internal static float* Alloc(long n)
    {
        var p = (float*)NativeMemory.AlignedAlloc((nuint)(n * sizeof(float)), 64);
        for (long i = 0; i < n; i++)
            p[i] = (i % 7) * 0.01f;
        return p;
    }
}

/// <summary>
/// `--only replay`: the one-thread packed product's loops (tiles of MC rows, k blocks of the product's depth, B strips,
/// then A strips) replayed with the micro-kernel alone on buffers of a square product's sizes, no packing, so what the
/// kernel loses inside a product can be told from what packing costs. Variants: "product" (every B strip of every k
/// block distinct, as packed, the next strip prefetched one line per k step as the product does), "no-prefetch" (the
/// same without it: each strip's first call reads it from wherever it is, L3 once B exceeds L2), "b-in-l2" (the same
/// loops over 4 distinct B strips, which stay in L2: the bound for what prefetching can give), "c-padded" (the product
/// with C rows n + 32 apart: rows of C a multiple of 4 KiB apart share their L1 sets). The variants take turns window
/// by window, so a slow spell of a shared machine slows all of them alike; best and median of the windows.
/// </summary>
internal static unsafe class ReplayProbe
{
    private static readonly (string Name, int DistinctBStrips, int Pad, bool Prefetch)[] s_variants =
        [("product", int.MaxValue, 0, true), ("no-prefetch", int.MaxValue, 0, false), ("b-in-l2", 4, 0, false), ("c-padded", int.MaxValue, 32, true)];

    public static void Run(GemmKernel kernel)
    {
        foreach (int n in new[] { 1024, 2048 })
        {
            var (best, median) = kernel == GemmKernel.Vector256 ? Time<MicroKernel256<float>>(n) : Time<MicroKernel512<float>>(n);
            for (int v = 0; v < s_variants.Length; v++)
                Measure.Emit("replay", "gflop_per_s", best[v], 1, n,
                    $"\"kernel\":\"{(kernel == GemmKernel.Vector256 ? "Vector256" : "Vector512")}\",\"variant\":\"{s_variants[v].Name}\"," +
                    $"\"median\":{median[v].ToString("F1", CultureInfo.InvariantCulture)}");
        }
    }

    private static (double[] Best, double[] Median) Time<TKernel>(int n) where TKernel : struct, IMicroKernel<float>
    {
        int mr = TKernel.MR, nr = TKernel.NR, kc = GemmPacked<float, TKernel>.BlockDepth(n);
        int msMax = Math.Max(1, GemmBlocking<float, TKernel>.MC / mr);
        int mStrips = n / mr, nStrips = n / nr, tiles = (mStrips + msMax - 1) / msMax, kBlocks = (n + kc - 1) / kc;
        float* a = KernelProbe.Alloc((long)msMax * mr * kc), b = KernelProbe.Alloc((long)kBlocks * nStrips * nr * kc), c = KernelProbe.Alloc((long)n * (n + 32));
        try
        {
            double flops = 2.0 * mStrips * mr * nStrips * nr * ((long)kBlocks * kc);
            var rates = s_variants.Select(_ => new List<double>()).ToArray();
            var until = Stopwatch.StartNew();
            for (int w = 0; w < 8 * s_variants.Length || until.Elapsed.TotalSeconds < 4; w++)
            {
                var (_, distinct, pad, prefetch) = s_variants[w % s_variants.Length];
                int ldc = n + pad;
                long t0 = Stopwatch.GetTimestamp();
                for (int t = 0; t < tiles; t++)
                {
                    int s0 = (int)((long)t * mStrips / tiles), s1 = (int)((long)(t + 1) * mStrips / tiles);
                    for (int kb = 0; kb < kBlocks; kb++)
                        for (int js = 0; js < nStrips; js++)
                        {
                            float* bp = b + ((long)kb * nStrips + js % distinct) * nr * kc;
                            float* next = prefetch && js + 1 < nStrips ? bp + (long)nr * kc : null;
                            for (int s = s0; s < s1; s++)
                            {
                                int lines = GemmPacked<float, TKernel>.NextStripSlice(next, kc, s - s0, s1 - s0, out byte* pf);
                                TKernel.Run(mr, kc, a + (long)(s - s0) * mr * kc, bp, c + (long)s * mr * ldc + js * nr, ldc, kb > 0, pf, lines);
                            }
                        }
                }
                double seconds = (Stopwatch.GetTimestamp() - t0) / (double)Stopwatch.Frequency;
                if (w >= s_variants.Length)
                    rates[w % s_variants.Length].Add(flops / seconds / 1e9);
            }
            foreach (var list in rates)
                list.Sort();
            return (rates.Select(r => r[^1]).ToArray(), rates.Select(r => r[r.Count / 2]).ToArray());
        }
        finally
        {
            NativeMemory.AlignedFree(a);
            NativeMemory.AlignedFree(b);
            NativeMemory.AlignedFree(c);
        }
    }
}
