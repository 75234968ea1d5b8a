using System.Numerics;

namespace Backprop.Numerics;

/// <summary>
/// The single entry point for matrix products. All matrices are dense and row-major.
/// Effectively computes <c>C = op(A) * op(B) (+ C when accumulate)</c> where
/// <c>op(X)</c> is X or its transpose, <c>op(A)</c> is m x k and <c>op(B)</c> is k x n.
/// </summary>
/// <remarks>
/// Backpropagation needs three products and none of them materialises a transpose:
/// the forward pass <c>Z = A_prev * W^T</c> (<see cref="Multiply{T}"/> with transB),
/// the weight gradient <c>dW = delta^T * A_prev</c> (transA) and the back-propagated
/// error <c>dA_prev = delta * W</c> (no transpose). Every implementation behind this
/// seam must give results that do not depend on the number of threads.
/// </remarks>
public static class Gemm
{
    /// <summary>
    /// C[m x n] = op(A) * op(B), or C += op(A) * op(B) when <paramref name="accumulate"/> is true.
    /// A is stored m x k (k x m when <paramref name="transA"/>), B is stored k x n (n x k when <paramref name="transB"/>).
    /// </summary>
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, bool accumulate = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validate(m, n, k, a.Length, b.Length, c.Length);
        GemmReference.Multiply(transA, transB, m, n, k, a, b, c, accumulate);
    }

    internal static void Validate(int m, int n, int k, int aLength, int bLength, int cLength)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"Matrix dimensions must be non-negative (m={m}, n={n}, k={k}).");
        if (aLength < (long)m * k)
            throw new ArgumentException($"A holds {aLength} elements; an {m}x{k} operand needs {(long)m * k}.", "a");
        if (bLength < (long)k * n)
            throw new ArgumentException($"B holds {bLength} elements; a {k}x{n} operand needs {(long)k * n}.", "b");
        if (cLength < (long)m * n)
            throw new ArgumentException($"C holds {cLength} elements; an {m}x{n} result needs {(long)m * n}.", "c");
    }
}
