using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Numerics;

/// <summary>
/// Tiny products (the seed network's 1x2 * 2x3): scalar loops with no set-up, one per transpose
/// combination so the inner loop has no branch. Each element is summed exactly as
/// <see cref="GemmReference"/> sums it (separate multiply and add, increasing k), so the two agree bit for bit.
/// </summary>
internal static class GemmSmall
{
    /// <summary>Callers have validated the lengths.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T ra = ref MemoryMarshal.GetReference(a);
        ref T rb = ref MemoryMarshal.GetReference(b);
        ref T rc = ref MemoryMarshal.GetReference(c);
        // Strides of op(A)[i, p] and op(B)[p, j] in the stored layouts.
        nint aRow = transA ? 1 : k, aCol = transA ? m : 1;
        nint bRow = transB ? 1 : n, bCol = transB ? k : 1;
        for (nint i = 0; i < m; i++)
        {
            ref T ai = ref Unsafe.Add(ref ra, i * aRow);
            ref T ci = ref Unsafe.Add(ref rc, i * n);
            for (nint j = 0; j < n; j++)
            {
                ref T bj = ref Unsafe.Add(ref rb, j * bCol);
                T sum = T.Zero;
                for (nint p = 0; p < k; p++)
                    sum += Unsafe.Add(ref ai, p * aCol) * Unsafe.Add(ref bj, p * bRow);
                ref T cij = ref Unsafe.Add(ref ci, j);
                cij = accumulate ? cij + sum : sum;
            }
        }
    }
}
