using System.Numerics;
using Backprop.Numerics;
using CsCheck;

namespace Backprop.Tests.Numerics;

/// <summary>
/// Every kernel and every algorithm behind <see cref="Gemm"/> against two independent oracles: the scalar
/// reference (within a rounding bound scaled by k and the magnitudes) and, where the fast path promises it,
/// a literal scalar fused multiply-add chain in increasing k (bit for bit).
/// Vector kernels the CPU does not accelerate still run (the runtime emulates them), so all are checked here.
/// </summary>
public sealed class GemmTests
{
    public static readonly GemmKernel[] VectorKernels = [GemmKernel.Vector256, GemmKernel.Vector512];

    private static readonly int[] Dims = [0, 1, 2, 3, 5, 6, 7, 8, 9, 16, 17, 33];

    public static TheoryData<GemmKernel, bool, bool> KernelsAndTransposes()
    {
        var data = new TheoryData<GemmKernel, bool, bool>();
        foreach (var kernel in VectorKernels)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    data.Add(kernel, ta, tb);
        return data;
    }

    [Theory]
    [MemberData(nameof(KernelsAndTransposes))]
    public void PackedAndRowPathsMatchReferenceOnSmallShapesFloat(GemmKernel kernel, bool transA, bool transB)
    {
        var rng = new Random(17 + (int)kernel * 4 + (transA ? 2 : 0) + (transB ? 1 : 0));
        foreach (int m in Dims)
            foreach (int n in Dims)
                foreach (int k in Dims)
                {
                    bool accumulate = ((m + n + k) & 1) == 1;
                    var (a, b, c0) = Operands<float>(rng, m, n, k);
                    var expected = Reference(transA, transB, m, n, k, a, b, c0, accumulate);
                    var bound = ErrorBound(transA, transB, m, n, k, a, b, c0, accumulate);
                    foreach (var path in new[] { GemmPath.Packed, GemmPath.Rows, GemmPath.Auto })
                    {
                        var c = (float[])c0.Clone();
                        Gemm.Multiply(new GemmOptions { Kernel = kernel, MaxThreads = 1, Path = path }, transA, transB, m, n, k, a, b, c, accumulate);
                        AssertClose(expected, c, bound, $"{kernel} {path} tA={transA} tB={transB} m={m} n={n} k={k} acc={accumulate}");
                    }
                }
    }

    [Theory]
    [MemberData(nameof(KernelsAndTransposes))]
    public void PackedPathMatchesReferenceOnSmallShapesDouble(GemmKernel kernel, bool transA, bool transB)
    {
        var rng = new Random(99 + (int)kernel * 4 + (transA ? 2 : 0) + (transB ? 1 : 0));
        int[] dims = [1, 3, 4, 7, 9, 13];
        foreach (int m in dims)
            foreach (int n in dims)
                foreach (int k in dims)
                {
                    bool accumulate = ((m * n + k) & 1) == 1;
                    var (a, b, c0) = Operands<double>(rng, m, n, k);
                    var expected = Reference(transA, transB, m, n, k, a, b, c0, accumulate);
                    var bound = ErrorBound(transA, transB, m, n, k, a, b, c0, accumulate);
                    foreach (var path in new[] { GemmPath.Packed, GemmPath.Rows })
                    {
                        var c = (double[])c0.Clone();
                        Gemm.Multiply(new GemmOptions { Kernel = kernel, MaxThreads = 1, Path = path }, transA, transB, m, n, k, a, b, c, accumulate);
                        AssertClose(expected, c, bound, $"{kernel} {path} tA={transA} tB={transB} m={m} n={n} k={k}");
                    }
                }
    }

    /// <summary>
    /// Every value 0..33 of each dimension (all vector tails of both widths, empty operands, every edge strip):
    /// every (m, n) with k in a set of tails, and every k with (m, n) in that set; in all four layouts, with and
    /// without accumulation; through each natively run kernel on the packed and the row path, and through the
    /// plain entry point (small, row or packed path by shape); float and double; against the scalar reference
    /// within a bound scaled by k (all operands in [-1, 1), so each term is below 1 in magnitude).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EveryDimensionUpTo33MatchesReference(bool asDouble)
    {
        if (asDouble)
            EveryDimensionUpTo33<double>();
        else
            EveryDimensionUpTo33<float>();
    }

    private static void EveryDimensionUpTo33<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int Max = 33;
        int[] tails = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33];
        var shapes = new List<(int M, int N, int K)>();
        for (int m = 0; m <= Max; m++)
            for (int n = 0; n <= Max; n++)
                foreach (int k in tails)
                    shapes.Add((m, n, k));
        foreach (int m in tails)
            foreach (int n in tails)
                for (int k = 0; k <= Max; k++)
                    if (Array.IndexOf(tails, k) < 0)
                        shapes.Add((m, n, k));
        var rng = new Random(33);
        var (a, b, c0) = Operands<T>(rng, Max, Max, Max);
        var expected = new T[Max * Max];
        var c = new T[Max * Max];
        var vectorKernels = Gemm.AvailableKernels.Where(x => x != GemmKernel.Reference).ToArray();
        // Without an accelerated vector kernel this would compare the reference with itself; the SIMD-off runs of
        // GemmSimdSwitchTests check the emulated vector kernels on the smaller shapes of the other tests instead.
        Assert.SkipWhen(vectorKernels.Length == 0, "no vector kernel is accelerated on this CPU: the default path is the reference itself");
        var options = vectorKernels
            .SelectMany(x => new[] { new GemmOptions { Kernel = x, MaxThreads = 1, Path = GemmPath.Packed }, new GemmOptions { Kernel = x, MaxThreads = 1, Path = GemmPath.Rows } })
            .ToArray();
        double u = typeof(T) == typeof(float) ? Math.Pow(2, -24) : Math.Pow(2, -53);
        int checkedProducts = 0;
        for (int layout = 0; layout < 4; layout++)
        {
            bool ta = (layout & 1) != 0, tb = (layout & 2) != 0;
            foreach (var (m, n, k) in shapes)
            {
                bool acc = ((m + 2 * n + 3 * k + layout) & 1) == 1;
                var sa = a.AsSpan(0, m * k);
                var sb = b.AsSpan(0, k * n);
                c0.AsSpan(0, m * n).CopyTo(expected);
                GemmReference.Multiply(ta, tb, m, n, k, sa, sb, expected.AsSpan(0, m * n), acc);
                // Either result is within (k + 2) u (k + 1) of the exact value.
                double bound = 2 * (k + 2) * u * (k + 1);
                for (int o = 0; o <= options.Length; o++)
                {
                    c0.AsSpan(0, m * n).CopyTo(c);
                    if (o < options.Length)
                        Gemm.Multiply(options[o], ta, tb, m, n, k, sa, sb, c.AsSpan(0, m * n), acc);
                    else
                        Gemm.Multiply(ta, tb, m, n, k, sa, sb, c.AsSpan(0, m * n), acc);
                    for (int i = 0; i < m * n; i++)
                        if (!(Math.Abs(double.CreateChecked(c[i] - expected[i])) <= bound))
                            Assert.Fail($"{(o < options.Length ? options[o].ToString() : "default")} tA={ta} tB={tb} m={m} n={n} k={k} acc={acc}: [{i}] = {c[i]}, reference {expected[i]}");
                    checkedProducts++;
                }
            }
        }
        Assert.Equal(4 * shapes.Count * (options.Length + 1), checkedProducts);
    }

    /// <summary>
    /// The packed path (and the row path without transB) promise each element is ONE fused multiply-add
    /// chain in increasing k, across k blocks and tiles: check that bit for bit against the literal chain,
    /// on shapes with several k blocks (k above the largest KC, 1024, in the last shape), edge tiles and several threads.
    /// </summary>
    [Theory]
    [MemberData(nameof(KernelsAndTransposes))]
    public void PackedPathIsExactlyOneFusedChainPerElement(GemmKernel kernel, bool transA, bool transB)
    {
        var rng = new Random(5);
        (int m, int n, int k)[] shapes = kernel == GemmKernel.Vector512 && !System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated
            ? [(13, 37, 400), (7, 70, 193), (9, 45, 1100)]
            : [(13, 37, 600), (70, 90, 300), (131, 67, 260), (7, 300, 193), (24, 200, 300), (200, 40, 300), (40, 45, 2100)];
        foreach (var (m, n, k) in shapes)
            foreach (bool accumulate in new[] { false, true })
            {
                var (a, b, c0) = Operands<float>(rng, m, n, k);
                var chain = FmaChain(transA, transB, m, n, k, a, b, c0, accumulate);
                // On several threads some of these products have each thread pack one operand for itself (24 x 200 x 300
                // and 200 x 40 x 300, as PanelModesFollowTheOperandSizes checks); forced to share the panels, all take
                // the large products' layout.
                foreach (bool sharedOnly in new[] { false, true })
                    foreach (int threads in new[] { 1, 2, 3 })
                    {
                        var c = (float[])c0.Clone();
                        SharingPanels(sharedOnly, () => Gemm.Multiply(new GemmOptions { Kernel = kernel, MaxThreads = threads, Path = GemmPath.Packed }, transA, transB, m, n, k, a, b, c, accumulate));
                        Assert.True(chain.AsSpan().SequenceEqual(c), $"packed {kernel} threads={threads} shared={sharedOnly} m={m} n={n} k={k} acc={accumulate}");
                    }
                if (!transB)
                {
                    var c = (float[])c0.Clone();
                    Gemm.Multiply(new GemmOptions { Kernel = kernel, MaxThreads = 2, Path = GemmPath.Rows }, transA, transB, m, n, k, a, b, c, accumulate);
                    Assert.True(chain.AsSpan().SequenceEqual(c), $"rows {kernel} m={m} n={n} k={k} acc={accumulate}");
                }
            }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void LargeProductsAreBitIdenticalForAnyThreadCountAndCloseToReference(bool transA, bool transB)
    {
        var rng = new Random(11);
        // Big enough to pack, tile and run in parallel; the 3-row one takes the row path in parallel.
        (int m, int n, int k)[] shapes = [(150, 260, 300), (3, 2000, 200), (301, 9, 400)];
        foreach (var (m, n, k) in shapes)
        {
            var (a, b, c0) = Operands<float>(rng, m, n, k);
            var expected = Reference(transA, transB, m, n, k, a, b, c0, false);
            var bound = ErrorBound(transA, transB, m, n, k, a, b, c0, false);
            var one = new float[m * n];
            Gemm.Multiply(new GemmOptions { MaxThreads = 1 }, transA, transB, m, n, k, a, b, one);
            AssertClose(expected, one, bound, $"auto tA={transA} tB={transB} m={m} n={n} k={k}");
            foreach (int threads in new[] { 2, 4 })
            {
                var many = new float[m * n];
                Gemm.Multiply(new GemmOptions { MaxThreads = threads }, transA, transB, m, n, k, a, b, many);
                Assert.True(one.AsSpan().SequenceEqual(many), $"threads={threads} m={m} n={n} k={k}");
            }
        }
    }

    /// <summary>Runs <paramref name="body"/> with <see cref="Gemm.SharedPanelsOnly"/> set as asked on this thread, then clears it.</summary>
    private static void SharingPanels(bool sharedOnly, Action body)
    {
        Gemm.SharedPanelsOnly = sharedOnly;
        try
        {
            body();
        }
        finally
        {
            Gemm.SharedPanelsOnly = false;
        }
    }

    /// <summary>
    /// On several threads a small product shares no packed panel between cores: each thread packs the smaller operand
    /// whole for itself and the tiles split the other (A for itself and N split, or B and M split); a large one shares
    /// them, and so does any product on one thread or with <see cref="Gemm.SharedPanelsOnly"/>.
    /// </summary>
    [Fact]
    public void PanelModesFollowTheOperandSizes()
    {
        static void Check<TKernel>() where TKernel : struct, IMicroKernel<float>
        {
            // 24 x 200 x 300: op(A) (2-4 strips of rows) is the smaller; 200 x 40 x 300: op(B) (2-3 strips of columns)
            // is. Both copies are under 80 KB, and each thread has over 32 multiply-adds per element it copies.
            Assert.Equal('A', GemmPacked<float, TKernel>.PanelMode(24, 200, 300, 2));
            Assert.Equal('A', GemmPacked<float, TKernel>.PanelMode(24, 200, 300, 3));
            Assert.Equal('B', GemmPacked<float, TKernel>.PanelMode(200, 40, 300, 2));
            Assert.Equal('B', GemmPacked<float, TKernel>.PanelMode(200, 40, 300, 3));
            Assert.Equal('-', GemmPacked<float, TKernel>.PanelMode(200, 40, 300, 1));
            // Too little work per thread for a copy each: 13 x 37 x 600 on two threads is 144,000 multiply-adds a
            // thread for a 14,400-value op(A), and 200 x 40 x 300 on 16 threads 150,000 for a 19,200-value op(B).
            Assert.Equal('-', GemmPacked<float, TKernel>.PanelMode(13, 37, 600, 2));
            Assert.Equal('-', GemmPacked<float, TKernel>.PanelMode(200, 40, 300, 16));
            // 4 MiB operands: past a quarter of any L2, shared.
            Assert.Equal('-', GemmPacked<float, TKernel>.PanelMode(1024, 1024, 1024, 2));
            SharingPanels(true, () => Assert.Equal('-', GemmPacked<float, TKernel>.PanelMode(24, 200, 300, 2)));
        }
        Check<MicroKernel512<float>>();
        Check<MicroKernel256<float>>();
    }

    /// <summary>
    /// Threads claim tiles as they come free, so tiles of unequal size leave one thread working alone at the end: the
    /// M tiles of a multi-threaded product are a multiple of the thread count and differ by at most one strip, each
    /// within the MC-row block (n = 512 on 2 threads was seven tiles of 6 strips and one of 1).
    /// </summary>
    [Theory]
    [InlineData(64, 2)]
    [InlineData(128, 2)]
    [InlineData(256, 2)]
    [InlineData(512, 2)]
    [InlineData(1024, 2)]
    [InlineData(2048, 2)]
    [InlineData(2048, 3)]
    [InlineData(1000, 4)]
    [InlineData(512, 1)]
    [InlineData(2048, 1)]
    public void TilesSpreadTheStripsEvenlyOverTheThreads(int n, int threads)
    {
        static void Check<TKernel>(int n, int threads) where TKernel : struct, IMicroKernel<float>
        {
            int[] strips = GemmPacked<float, TKernel>.TileStrips(n, n, n, threads, columns: false);
            int mStrips = (n + TKernel.MR - 1) / TKernel.MR;
            Assert.Equal(mStrips, strips.Sum());
            Assert.True(strips.Max() - strips.Min() <= 1, $"{typeof(TKernel).Name} n={n}: strips per tile {string.Join(",", strips)}");
            Assert.True(strips.Max() <= Math.Max(1, GemmBlocking<float, TKernel>.MC / TKernel.MR), $"n={n}: a tile above MC rows");
            if (threads > 1 && strips.Length < mStrips)
                Assert.Equal(0, strips.Length % threads);
        }
        Check<MicroKernel512<float>>(n, threads);
        Check<MicroKernel256<float>>(n, threads);
    }

    /// <summary>
    /// When N is split (few rows, or each thread packing op(A) for itself), the N tiles spread the strips evenly too:
    /// sizes differ by at most one strip, and their count is a multiple of the threads where the strips allow (49
    /// strips cut 7 at a time left one of two threads 4 tiles and the other 3).
    /// </summary>
    [Theory]
    [InlineData(24, 1568, 300, 2)]
    [InlineData(24, 1568, 300, 3)]
    [InlineData(5, 2000, 200, 3)]
    [InlineData(24, 200, 300, 2)]
    public void NTilesSpreadTheStripsEvenly(int m, int n, int k, int threads)
    {
        static void Check<TKernel>(int m, int n, int k, int threads) where TKernel : struct, IMicroKernel<float>
        {
            int[] strips = GemmPacked<float, TKernel>.TileStrips(m, n, k, threads, columns: true);
            int nStrips = (n + TKernel.NR - 1) / TKernel.NR;
            Assert.True(strips.Length > 1, $"{typeof(TKernel).Name} {m}x{n}x{k}: N not split");
            Assert.Equal(nStrips, strips.Sum());
            Assert.True(strips.Max() - strips.Min() <= 1, $"{typeof(TKernel).Name} {m}x{n}x{k}: strips per tile {string.Join(",", strips)}");
            if (strips.Length < nStrips && GemmPacked<float, TKernel>.PanelMode(m, n, k, threads) == 'A')
                Assert.Equal(0, strips.Length % threads);
        }
        Check<MicroKernel512<float>>(m, n, k, threads);
        Check<MicroKernel256<float>>(m, n, k, threads);
    }

    /// <summary>
    /// The product asks each kernel call to prefetch a slice of the next B strip; the hint reads nothing the kernel
    /// computes with and writes nothing: every row count of both kernels, C loaded or not, gives the same bits with
    /// no lines, a few, and more lines than k steps, and leaves the operands and the prefetched buffer as they were.
    /// </summary>
    [Fact]
    public unsafe void ThePrefetchHintChangesNoValue()
    {
        static void Check<TKernel>(int seed) where TKernel : struct, IMicroKernel<float>
        {
            var rng = new Random(seed);
            int mr = TKernel.MR, nr = TKernel.NR, kc = 37;
            float[] a = Enumerable.Range(0, mr * kc).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            float[] b = Enumerable.Range(0, nr * kc).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            float[] c0 = Enumerable.Range(0, mr * nr).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            float[] next = Enumerable.Range(0, 64 * (kc + 8)).Select(i => (float)i).ToArray();
            float[] a0 = (float[])a.Clone(), b0 = (float[])b.Clone(), next0 = (float[])next.Clone();
            foreach (int rows in TKernel.RowCounts)
                foreach (bool load in new[] { false, true })
                {
                    var plain = (float[])c0.Clone();
                    fixed (float* pa = a, pb = b, pc = plain)
                        TKernel.Run(rows, kc, pa, pb, pc, nr, load, null, 0);
                    foreach (int lines in new[] { 0, 3, kc + 7 })
                    {
                        var hinted = (float[])c0.Clone();
                        fixed (float* pa = a, pb = b, pc = hinted, pn = next)
                            TKernel.Run(rows, kc, pa, pb, pc, nr, load, (byte*)pn, lines);
                        Assert.True(plain.AsSpan().SequenceEqual(hinted), $"{typeof(TKernel).Name} rows={rows} load={load} lines={lines}");
                    }
                    // Rows the call does not own are untouched, and it did compute (not a copy of C).
                    Assert.True(plain.AsSpan(rows * nr).SequenceEqual(c0.AsSpan(rows * nr)));
                    Assert.False(plain.AsSpan(0, rows * nr).SequenceEqual(c0.AsSpan(0, rows * nr)));
                }
            Assert.Equal(a0, a);
            Assert.Equal(b0, b);
            Assert.Equal(next0, next);
        }
        Check<MicroKernel256<float>>(5);
        Check<MicroKernel512<float>>(6);
    }

    /// <summary>The A strips' slices of the next B strip cover it exactly once, in order, whatever the strip count.</summary>
    [Theory]
    [InlineData(512, 28)]
    [InlineData(688, 28)]
    [InlineData(37, 1)]
    [InlineData(37, 5)]
    [InlineData(8, 40)]
    public unsafe void TheNextStripSlicesCoverItOnce(int kc, int count)
    {
        static void Check<TKernel>(int kc, int count) where TKernel : struct, IMicroKernel<float>
        {
            float* next = (float*)4096; // only compared, never read
            long stripBytes = (long)TKernel.NR * kc * sizeof(float), covered = 0;
            for (int i = 0; i < count; i++)
            {
                int lines = GemmPacked<float, TKernel>.NextStripSlice(next, kc, i, count, out byte* start);
                if (lines == 0)
                {
                    Assert.True(start == null);
                    continue;
                }
                Assert.Equal(covered, (long)(start - (byte*)next));
                covered = Math.Min(stripBytes, covered + 64L * lines);
            }
            Assert.Equal(stripBytes, covered);
            Assert.Equal(0, GemmPacked<float, TKernel>.NextStripSlice(null, kc, 0, count, out byte* none));
            Assert.True(none == null);
        }
        Check<MicroKernel512<float>>(kc, count);
        Check<MicroKernel256<float>>(kc, count);
    }

    [Fact]
    public void SmallPathIsBitIdenticalToReference()
    {
        var rng = new Random(3);
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                foreach (var (m, n, k) in new[] { (1, 3, 2), (1, 2, 3), (3, 2, 1), (2, 3, 1), (5, 4, 7), (12, 12, 12) })
                {
                    var (a, b, c0) = Operands<double>(rng, m, n, k);
                    foreach (bool acc in new[] { false, true })
                    {
                        var expected = (double[])c0.Clone();
                        GemmReference.Multiply(ta, tb, m, n, k, a, b, expected, acc);
                        var viaSeam = (double[])c0.Clone();
                        Gemm.Multiply(ta, tb, m, n, k, a, b, viaSeam, acc);
                        var forced = (double[])c0.Clone();
                        Gemm.Multiply(new GemmOptions { Path = GemmPath.Small }, ta, tb, m, n, k, a, b, forced, acc);
                        Assert.Equal(expected, viaSeam);
                        Assert.Equal(expected, forced);
                    }
                }
    }

    [Fact]
    public void SeedShapedProductIsTheLiteralSum()
    {
        // [1 2] * [[3 4 5] [6 7 8]] by hand: [1*3+2*6, 1*4+2*7, 1*5+2*8] = [15 18 21].
        double[] a = [1, 2], b = [3, 4, 5, 6, 7, 8], c = new double[3];
        Gemm.Multiply(false, false, 1, 3, 2, a, b, c);
        Assert.Equal([15.0, 18.0, 21.0], c);
        // Same with W stored transposed (3 x 2) and accumulate onto [1 1 1].
        double[] bt = [3, 6, 4, 7, 5, 8], c2 = [1, 1, 1];
        Gemm.Multiply(false, true, 1, 3, 2, a, bt, c2, accumulate: true);
        Assert.Equal([16.0, 19.0, 22.0], c2);
    }

    [Fact]
    public void KZeroClearsOrKeepsC()
    {
        foreach (var kernel in VectorKernels)
        {
            float[] c = [1, 2, 3, 4];
            Gemm.Multiply(new GemmOptions { Kernel = kernel, Path = GemmPath.Packed }, false, false, 2, 2, 0, ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty, c, accumulate: true);
            Assert.Equal([1f, 2, 3, 4], c);
            Gemm.Multiply(new GemmOptions { Kernel = kernel, Path = GemmPath.Packed }, false, false, 2, 2, 0, ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty, c);
            Assert.Equal([0f, 0, 0, 0], c);
        }
    }

    [Fact]
    public void InvalidShapesAreRejectedWithTheNumbers()
    {
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 2, 2, 2, new float[3], new float[4], new float[4]));
        Assert.Contains("A holds 3 elements", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 2, 2, 2, new float[4], new float[4], new float[3]));
        Assert.Contains("C holds 3 elements", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Multiply(false, false, -1, 2, 2, new float[4], new float[4], new float[4]));
    }

    [Fact]
    public void DefaultKernelIsOneOfTheAvailable()
    {
        // Stated from /proc/cpuinfo (skipped where there is none), not from the flags Gemm itself reads.
        var expected = CpuCapabilities.Expected();
        Assert.Equal(expected.Available, Gemm.AvailableKernels);
        Assert.Equal(expected.Default, Gemm.DefaultKernel);
        Assert.Equal(Gemm.AvailableKernels[^1], Gemm.DefaultKernel);
    }

    [Fact]
    public void RandomProductsMatchReference()
    {
        var gen = Gen.Select(Gen.Int[1, 40], Gen.Int[1, 40], Gen.Int[1, 70], Gen.Int[0, 15], Gen.Int[0, 1 << 20]);
        gen.Sample(t =>
        {
            var (m, n, k, flags, seed) = t;
            bool ta = (flags & 1) != 0, tb = (flags & 2) != 0, acc = (flags & 4) != 0;
            var kernel = (flags & 8) != 0 ? GemmKernel.Vector512 : GemmKernel.Auto;
            var (a, b, c0) = Operands<float>(new Random(seed), m, n, k);
            var expected = Reference(ta, tb, m, n, k, a, b, c0, acc);
            var bound = ErrorBound(ta, tb, m, n, k, a, b, c0, acc);
            var c = (float[])c0.Clone();
            Gemm.Multiply(new GemmOptions { Kernel = kernel }, ta, tb, m, n, k, a, b, c, acc);
            for (int i = 0; i < c.Length; i++)
                if (Math.Abs(c[i] - expected[i]) > bound[i])
                    return false;
            return true;
        }, iter: 300);
    }

    internal static (T[] A, T[] B, T[] C) Operands<T>(Random rng, int m, int n, int k) where T : IFloatingPointIeee754<T>
    {
        static T[] Fill(Random r, int count)
        {
            var x = new T[count];
            for (int i = 0; i < count; i++)
                x[i] = T.CreateChecked(r.NextDouble() * 2 - 1);
            return x;
        }
        return (Fill(rng, m * k), Fill(rng, k * n), Fill(rng, m * n));
    }

    private static T[] Reference<T>(bool ta, bool tb, int m, int n, int k, T[] a, T[] b, T[] c0, bool acc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var c = (T[])c0.Clone();
        GemmReference.Multiply(ta, tb, m, n, k, a, b, c, acc);
        return c;
    }

    /// <summary>
    /// Both results are sums of k + 1 rounded terms; each differs from the exact value by at most about
    /// (k + 1) u sum |a||b| (+ |c0| when accumulating), so they differ from each other by twice that.
    /// </summary>
    private static double[] ErrorBound<T>(bool ta, bool tb, int m, int n, int k, T[] a, T[] b, T[] c0, bool acc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double u = typeof(T) == typeof(float) ? Math.Pow(2, -24) : Math.Pow(2, -53);
        var bound = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = acc ? Math.Abs(double.CreateChecked(c0[i * n + j])) : 0;
                for (int p = 0; p < k; p++)
                    s += Math.Abs(double.CreateChecked(ta ? a[p * m + i] : a[i * k + p]) * double.CreateChecked(tb ? b[j * k + p] : b[p * n + j]));
                bound[i * n + j] = 2 * (k + 2) * u * s + 1e-300;
            }
        return bound;
    }

    /// <summary>The literal definition of the fast path: c = fma(a_ip, b_pj, c) for p = 0 .. k-1, from 0 or from C.</summary>
    private static float[] FmaChain(bool ta, bool tb, int m, int n, int k, float[] a, float[] b, float[] c0, bool acc)
    {
        var c = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float s = acc ? c0[i * n + j] : 0f;
                for (int p = 0; p < k; p++)
                    s = MathF.FusedMultiplyAdd(ta ? a[p * m + i] : a[i * k + p], tb ? b[j * k + p] : b[p * n + j], s);
                c[i * n + j] = s;
            }
        return c;
    }

    private static void AssertClose<T>(T[] expected, T[] actual, double[] bound, string what)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs(double.CreateChecked(expected[i]) - double.CreateChecked(actual[i]));
            if (!(diff <= bound[i]))
                Assert.Fail($"{what}: element {i} is {actual[i]}, reference {expected[i]}, |diff| {diff:g3} > bound {bound[i]:g3}");
        }
    }
}
