using Backprop.Numerics;

namespace Backprop.Bench;

/// <summary>
/// `--verify`: every kernel against the scalar reference (rounding bound) and the packed path against a literal
/// fused multiply-add chain (bit for bit), on this machine. The unit tests do the same; this mode exists so a
/// machine without the SDK (e.g. one with AVX-512 where Vector512 really runs) can check the kernels too.
/// </summary>
internal static class Verify
{
    public static int Run()
    {
        int failures = 0;
        var rng = new Random(1);
        int[] dims = [1, 2, 5, 7, 16, 17, 31, 33, 65, 200];
        foreach (var kernel in new[] { GemmKernel.Vector256, GemmKernel.Vector512 })
        {
            int shapes = 0, bad = 0;
            foreach (int m in dims)
                foreach (int n in dims)
                    foreach (int k in new[] { 1, 3, 17, 300 })
                        foreach (bool ta in new[] { false, true })
                            foreach (bool tb in new[] { false, true })
                            {
                                var a = Fill(rng, m * k);
                                var b = Fill(rng, k * n);
                                var c0 = Fill(rng, m * n);
                                bool acc = ((m + n + k) & 1) == 1;
                                var chain = new float[m * n];
                                for (int i = 0; i < m; i++)
                                    for (int j = 0; j < n; j++)
                                    {
                                        float s = acc ? c0[i * n + j] : 0f;
                                        for (int p = 0; p < k; p++)
                                            s = MathF.FusedMultiplyAdd(ta ? a[p * m + i] : a[i * k + p], tb ? b[j * k + p] : b[p * n + j], s);
                                        chain[i * n + j] = s;
                                    }
                                foreach (int threads in new[] { 1, 2, 7 })
                                {
                                    var c = (float[])c0.Clone();
                                    Gemm.Multiply(new GemmOptions { Kernel = kernel, MaxThreads = threads }, ta, tb, m, n, k, a, b, c, acc);
                                    var packed = (float[])c0.Clone();
                                    Gemm.Multiply(new GemmOptions { Kernel = kernel, MaxThreads = threads, Path = GemmPath.Packed }, ta, tb, m, n, k, a, b, packed, acc);
                                    shapes++;
                                    bool ok = packed.AsSpan().SequenceEqual(chain);
                                    for (int i = 0; i < c.Length && ok; i++)
                                        ok = Math.Abs(c[i] - chain[i]) <= 1e-5f * (k + 1);
                                    if (!ok)
                                    {
                                        bad++;
                                        if (bad <= 3)
                                            Console.Error.WriteLine($"verify: {kernel} m={m} n={n} k={k} tA={ta} tB={tb} acc={acc} threads={threads} FAILED");
                                    }
                                }
                            }
            Console.WriteLine($"{{\"check\":\"gemm\",\"kernel\":\"{kernel}\",\"accelerated\":{(Gemm.AvailableKernels.Contains(kernel) ? "true" : "false")},\"products\":{shapes},\"failures\":{bad}}}");
            failures += bad;
        }
        return failures == 0 ? 0 : 1;
    }

    private static float[] Fill(Random rng, int count)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++)
            x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}
