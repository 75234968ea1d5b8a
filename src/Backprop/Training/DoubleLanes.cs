using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Backprop.Training;

/// <summary>
/// Several parameters at a time in double lanes, for the optimizers' update rules: float parameters widen exactly
/// to double and round back once, as the scalar <c>double.CreateChecked</c> / <c>T.CreateChecked</c> pair does,
/// and every lane does the scalar rule's operations in the same order, so a vector update is bit-identical to
/// the scalar one. Eight lanes (<see cref="Lanes8"/>, 512 bits) where the CPU accelerates Vector512, else four.
/// </summary>
internal static class DoubleLanes
{
    /// <summary>
    /// Lanes per vector the update rules run with for element type <typeparamref name="T"/> on this CPU: 8, 4, or 0
    /// for the scalar loops only.
    /// </summary>
    public static int Width<T>()
    {
        if (ForceScalar || (typeof(T) != typeof(float) && typeof(T) != typeof(double)))
            return 0;
        if (ForcedWidth != 0)
            return ForcedWidth;
        return Vector512.IsHardwareAccelerated ? 8 : Vector256.IsHardwareAccelerated ? 4 : 0;
    }

    /// <summary>Tests: run the updates made on the calling thread through the scalar loops.</summary>
    internal static bool ForceScalar
    {
        get => t_forceScalar;
        set => t_forceScalar = value;
    }

    /// <summary>
    /// Tests: run the updates made on the calling thread with 4 or 8 lanes whether or not the CPU accelerates them
    /// (0: by the CPU). Thread-local, like <see cref="ForceScalar"/>, so tests running in parallel do not see it.
    /// </summary>
    internal static int ForcedWidth
    {
        get => t_forcedWidth;
        set => t_forcedWidth = value;
    }

    [ThreadStatic] private static bool t_forceScalar;
    [ThreadStatic] private static int t_forcedWidth;
}

/// <summary>A vector of double lanes with the operations the update rules use; each is the IEEE operation per lane.</summary>
internal interface ILanes<TSelf> where TSelf : struct, ILanes<TSelf>
{
    static abstract int Count { get; }
    static abstract TSelf Create(double value);

    /// <summary>Count parameters from <paramref name="s"/>[i], widened to double (exact).</summary>
    static abstract TSelf Load<T>(ReadOnlySpan<T> s, int i) where T : unmanaged;

    /// <summary>Count values rounded once to T (as T.CreateChecked does) into <paramref name="s"/>[i].</summary>
    static abstract void Store<T>(TSelf v, Span<T> s, int i) where T : unmanaged;

    static abstract TSelf Load(Span<double> s, int i);
    static abstract void Store(TSelf v, Span<double> s, int i);
    static abstract TSelf Sqrt(TSelf x);
    static abstract TSelf operator +(TSelf x, TSelf y);
    static abstract TSelf operator -(TSelf x, TSelf y);
    static abstract TSelf operator *(TSelf x, TSelf y);
    static abstract TSelf operator /(TSelf x, TSelf y);
}

/// <summary>Four double lanes (Vector256).</summary>
internal readonly struct Lanes4 : ILanes<Lanes4>
{
    private readonly Vector256<double> _v;

    private Lanes4(Vector256<double> v) => _v = v;

    public static int Count => 4;

    public static Lanes4 Create(double value) => new(Vector256.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes4 Load<T>(ReadOnlySpan<T> s, int i) where T : unmanaged
    {
        if (typeof(T) == typeof(double))
            return new(Vector256.LoadUnsafe(ref Unsafe.As<T, double>(ref MemoryMarshal.GetReference(s)), (nuint)i));
        var f = Vector128.LoadUnsafe(ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(s)), (nuint)i);
        return new(Vector256.Create(Vector128.WidenLower(f), Vector128.WidenUpper(f)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<T>(Lanes4 v, Span<T> s, int i) where T : unmanaged
    {
        if (typeof(T) == typeof(double))
        {
            v._v.StoreUnsafe(ref Unsafe.As<T, double>(ref MemoryMarshal.GetReference(s)), (nuint)i);
            return;
        }
        Vector128.Narrow(v._v.GetLower(), v._v.GetUpper())
            .StoreUnsafe(ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(s)), (nuint)i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes4 Load(Span<double> s, int i) => new(Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Lanes4 v, Span<double> s, int i) => v._v.StoreUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);

    public static Lanes4 Sqrt(Lanes4 x) => new(Vector256.Sqrt(x._v));
    public static Lanes4 operator +(Lanes4 x, Lanes4 y) => new(x._v + y._v);
    public static Lanes4 operator -(Lanes4 x, Lanes4 y) => new(x._v - y._v);
    public static Lanes4 operator *(Lanes4 x, Lanes4 y) => new(x._v * y._v);
    public static Lanes4 operator /(Lanes4 x, Lanes4 y) => new(x._v / y._v);
}

/// <summary>Eight double lanes (Vector512).</summary>
internal readonly struct Lanes8 : ILanes<Lanes8>
{
    private readonly Vector512<double> _v;

    private Lanes8(Vector512<double> v) => _v = v;

    public static int Count => 8;

    public static Lanes8 Create(double value) => new(Vector512.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes8 Load<T>(ReadOnlySpan<T> s, int i) where T : unmanaged
    {
        if (typeof(T) == typeof(double))
            return new(Vector512.LoadUnsafe(ref Unsafe.As<T, double>(ref MemoryMarshal.GetReference(s)), (nuint)i));
        var f = Vector256.LoadUnsafe(ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(s)), (nuint)i);
        return new(Vector512.Create(Vector256.WidenLower(f), Vector256.WidenUpper(f)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<T>(Lanes8 v, Span<T> s, int i) where T : unmanaged
    {
        if (typeof(T) == typeof(double))
        {
            v._v.StoreUnsafe(ref Unsafe.As<T, double>(ref MemoryMarshal.GetReference(s)), (nuint)i);
            return;
        }
        Vector256.Narrow(v._v.GetLower(), v._v.GetUpper())
            .StoreUnsafe(ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(s)), (nuint)i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes8 Load(Span<double> s, int i) => new(Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Lanes8 v, Span<double> s, int i) => v._v.StoreUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);

    public static Lanes8 Sqrt(Lanes8 x) => new(Vector512.Sqrt(x._v));
    public static Lanes8 operator +(Lanes8 x, Lanes8 y) => new(x._v + y._v);
    public static Lanes8 operator -(Lanes8 x, Lanes8 y) => new(x._v - y._v);
    public static Lanes8 operator *(Lanes8 x, Lanes8 y) => new(x._v * y._v);
    public static Lanes8 operator /(Lanes8 x, Lanes8 y) => new(x._v / y._v);
}
