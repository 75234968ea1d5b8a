using System.Numerics;

namespace Backprop.Numerics;

/// <summary>
/// The scalar reference matrix product: the test oracle for every faster kernel and the
/// fallback where no vector path applies. Each element of C is one dot product summed in
/// increasing k order, so the result is fully determined by the inputs.
/// </summary>
public static class GemmReference
{
    /// <summary>Same contract as <see cref="Gemm.Multiply{T}(bool, bool, int, int, int, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, bool)"/>.</summary>
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, bool accumulate = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Gemm.Validate(m, n, k, a.Length, b.Length, c.Length);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                T sum = T.Zero;
                for (int p = 0; p < k; p++)
                {
                    T av = transA ? a[p * m + i] : a[i * k + p];
                    T bv = transB ? b[j * k + p] : b[p * n + j];
                    sum += av * bv;
                }
                c[i * n + j] = accumulate ? c[i * n + j] + sum : sum;
            }
        }
    }
}
