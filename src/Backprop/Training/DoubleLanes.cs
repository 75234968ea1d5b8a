using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Backprop.Training;

/// <summary>
/// Four parameters at a time in double lanes, for the optimizers' update rules: float parameters widen exactly
/// to double and round back once, as the scalar <c>double.CreateChecked</c> / <c>T.CreateChecked</c> pair does,
/// and every lane does the scalar rule's operations in the same order, so a vector update is bit-identical to
/// the scalar one.
/// </summary>
internal static class DoubleLanes
{
    /// <summary>Parameters per vector.</summary>
    public const int Count = 4;

    /// <summary>Whether the vector path runs for element type <typeparamref name="T"/> on this CPU.</summary>
    public static bool Supported<T>() =>
        !ForceScalar && Vector256.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double));

    /// <summary>Tests: run every update through the scalar loops.</summary>
    internal static bool ForceScalar { get; set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Load<T>(ReadOnlySpan<T> s, int i) where T : unmanaged
    {
        if (typeof(T) == typeof(double))
            return Vector256.LoadUnsafe(ref Unsafe.As<T, double>(ref MemoryMarshal.GetReference(s)), (nuint)i);
        var f = Vector128.LoadUnsafe(ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(s)), (nuint)i);
        return Vector256.Create(Vector128.WidenLower(f), Vector128.WidenUpper(f));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<T>(Vector256<double> v, Span<T> s, int i) where T : unmanaged
    {
        if (typeof(T) == typeof(double))
        {
            v.StoreUnsafe(ref Unsafe.As<T, double>(ref MemoryMarshal.GetReference(s)), (nuint)i);
            return;
        }
        Vector128.Narrow(v.GetLower(), v.GetUpper())
            .StoreUnsafe(ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(s)), (nuint)i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Load(Span<double> s, int i) =>
        Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<double> v, Span<double> s, int i) =>
        v.StoreUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);
}
