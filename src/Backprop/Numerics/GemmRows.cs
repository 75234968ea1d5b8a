using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Numerics;

/// <summary>
/// Products with few rows in C (batch-1 inference, a few samples): no packing, which would cost as much as
/// the product itself. Without transB each row of C is built by fused multiply-adds of rows of op(B) in
/// increasing k, exactly the chain the packed kernel computes; with transB each element is a vector dot
/// product of two contiguous rows (four rows of B at a time, sharing the loads of A). Threads split the columns of C, never k.
/// </summary>
internal static unsafe class GemmRows
{
    private const int ColumnChunk = 512;

    public static void Multiply<T>(GemmKernel kernel, bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, bool accumulate, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        _ = kernel; // TensorPrimitives picks the widest vector the CPU accelerates.
        int chunk = transB ? 64 : ColumnChunk;
        int chunks = (n + chunk - 1) / chunk;
        fixed (T* pa = a, pb = b, pc = c)
        {
            var job = new Job<T>
            {
                TransA = transA, TransB = transB, M = m, N = n, K = k, Accumulate = accumulate,
                Chunk = chunk, A = pa, B = pb, C = pc,
                Column = transA && transB ? GemmWorkspace<T>.Get((long)m * k) : null,
            };
            if (job.Column != null)
            {
                // op(A) rows are strided in a transposed A: gather them once for the dot products.
                for (int i = 0; i < m; i++)
                    for (int p = 0; p < k; p++)
                        job.Column[(long)i * k + p] = pa[(long)p * m + i];
            }
            if (threads <= 1 || chunks == 1)
            {
                for (int t = 0; t < chunks; t++)
                    job.Run(t);
                return;
            }
            var box = Box<T>.Cached ??= new Box<T>();
            box.Job = job;
            GemmPool.Shared.Run(box, chunks, threads);
        }
    }

    private sealed class Box<T> : IGemmWork where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The calling thread's holder, reused so a product allocates nothing.</summary>
        [ThreadStatic] public static Box<T>? Cached;

        public Job<T> Job;

        public void Run(int chunk) => Job.Run(chunk);
    }

    /// <summary>
    /// Four dot products of x with four rows, sharing the loads of x: lane-wise fused chains over k in
    /// vector steps, lanes summed in a fixed order, then the scalar tail. Every element is computed the same
    /// way whichever group of four it falls in, so the result depends on neither tiling nor threads.
    /// </summary>
    private static void Dot4<T>(T* x, T* r0, T* r1, T* r2, T* r3, int k, out T d0, out T d1, out T d2, out T d3)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = Vector256<T>.Count;
        Vector256<T> a0 = Vector256<T>.Zero, a1 = a0, a2 = a0, a3 = a0;
        int p = 0;
        for (; p + w <= k; p += w)
        {
            var xv = Vector256.Load(x + p);
            a0 = Fma(xv, Vector256.Load(r0 + p), a0);
            a1 = Fma(xv, Vector256.Load(r1 + p), a1);
            a2 = Fma(xv, Vector256.Load(r2 + p), a2);
            a3 = Fma(xv, Vector256.Load(r3 + p), a3);
        }
        d0 = Vector256.Sum(a0);
        d1 = Vector256.Sum(a1);
        d2 = Vector256.Sum(a2);
        d3 = Vector256.Sum(a3);
        for (; p < k; p++)
        {
            d0 = T.FusedMultiplyAdd(x[p], r0[p], d0);
            d1 = T.FusedMultiplyAdd(x[p], r1[p], d1);
            d2 = T.FusedMultiplyAdd(x[p], r2[p], d2);
            d3 = T.FusedMultiplyAdd(x[p], r3[p], d3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> Fma<T>(Vector256<T> x, Vector256<T> y, Vector256<T> addend)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
            return Vector256.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), addend.AsSingle()).As<float, T>();
        return Vector256.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), addend.AsDouble()).As<double, T>();
    }

    private struct Job<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public bool TransA, TransB, Accumulate;
        public int M, N, K, Chunk;
        public T* A, B, C, Column;

        public readonly void Run(int chunk)
        {
            int j0 = chunk * Chunk, cols = Math.Min(Chunk, N - j0);
            for (int i = 0; i < M; i++)
            {
                var ci = new Span<T>(C + (long)i * N + j0, cols);
                if (TransB)
                {
                    // C[i, j] (+)= dot(op(A) row i, stored B row j).
                    T* ai = Column != null ? Column + (long)i * K : TransA ? null : A + (long)i * K;
                    if (ai == null)
                        throw new InvalidOperationException("unreachable: transposed A is gathered first");
                    int j = 0;
                    for (; j + 4 <= cols; j += 4)
                    {
                        T* b0 = B + (long)(j0 + j) * K;
                        Dot4(ai, b0, b0 + K, b0 + 2 * K, b0 + 3 * K, K, out T d0, out T d1, out T d2, out T d3);
                        ci[j] = Accumulate ? ci[j] + d0 : d0;
                        ci[j + 1] = Accumulate ? ci[j + 1] + d1 : d1;
                        ci[j + 2] = Accumulate ? ci[j + 2] + d2 : d2;
                        ci[j + 3] = Accumulate ? ci[j + 3] + d3 : d3;
                    }
                    for (; j < cols; j++)
                    {
                        T* bj = B + (long)(j0 + j) * K;
                        Dot4(ai, bj, bj, bj, bj, K, out T d, out _, out _, out _);
                        ci[j] = Accumulate ? ci[j] + d : d;
                    }
                }
                else
                {
                    // C[i, :] = fma(op(A)[i, p], B[p, :], C[i, :]) for p = 0, 1, ..., k-1.
                    if (!Accumulate)
                        ci.Clear();
                    for (int p = 0; p < K; p++)
                    {
                        T aip = TransA ? A[(long)p * M + i] : A[(long)i * K + p];
                        TensorPrimitives.FusedMultiplyAdd(new ReadOnlySpan<T>(B + (long)p * N + j0, cols), aip, ci, ci);
                    }
                }
            }
        }
    }
}
