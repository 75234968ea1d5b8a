using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Numerics;

/// <summary>
/// Products with few rows in C (batch-1 inference, a few samples): no packing, which would cost as much as
/// the product itself. Without transB each row of C is built by fused multiply-adds of rows of op(B) in
/// increasing k, exactly the chain the packed kernel computes; with transB each element is a vector dot
/// product of two contiguous rows. Threads split the columns of C, never k.
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
            var box = new Box<T>(job);
            Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, box.Run);
        }
    }

    private sealed class Box<T>(Job<T> job) where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Job<T> _job = job;
        public void Run(int chunk) => _job.Run(chunk);
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
                    var arow = new ReadOnlySpan<T>(ai, K);
                    for (int j = 0; j < cols; j++)
                    {
                        T dot = TensorPrimitives.Dot(arow, new ReadOnlySpan<T>(B + (long)(j0 + j) * K, K));
                        ci[j] = Accumulate ? ci[j] + dot : dot;
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
