using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Numerics;

/// <summary>
/// A register-blocked micro-kernel: C[MR x NR] (row stride ldc) = (load ? C : 0) + Apanel * Bpanel, where
/// Apanel holds kc steps of MR values (packed, step-major) and Bpanel kc steps of NR values.
/// </summary>
internal unsafe interface IMicroKernel<T> where T : unmanaged
{
    /// <summary>Rows of C per call.</summary>
    static abstract int MR { get; }
    /// <summary>Columns of C per call.</summary>
    static abstract int NR { get; }
    /// <summary>The k block: an MR x KC panel of A and a KC x NR panel of B stay in cache.</summary>
    static abstract int KC { get; }
    static abstract void Run(int kc, T* a, T* b, T* c, nint ldc, bool load);
}

/// <summary>
/// The 6 x (2 x Vector256&lt;T&gt;.Count) micro-kernel: 12 accumulators held in registers across the k loop,
/// one broadcast of A and two loads of B per row step. Every lane is one fused multiply-add chain in increasing k.
/// </summary>
internal readonly unsafe struct MicroKernel256<T> : IMicroKernel<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int MR => 6;
    public static int NR => 2 * Vector256<T>.Count;
    public static int KC => 256;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, T* a, T* b, T* c, nint ldc, bool load)
    {
        nint w = Vector256<T>.Count;
        Vector256<T> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (load)
        {
            c00 = Vector256.Load(c + 0 * ldc); c01 = Vector256.Load(c + 0 * ldc + w);
            c10 = Vector256.Load(c + 1 * ldc); c11 = Vector256.Load(c + 1 * ldc + w);
            c20 = Vector256.Load(c + 2 * ldc); c21 = Vector256.Load(c + 2 * ldc + w);
            c30 = Vector256.Load(c + 3 * ldc); c31 = Vector256.Load(c + 3 * ldc + w);
            c40 = Vector256.Load(c + 4 * ldc); c41 = Vector256.Load(c + 4 * ldc + w);
            c50 = Vector256.Load(c + 5 * ldc); c51 = Vector256.Load(c + 5 * ldc + w);
        }
        else
        {
            c00 = Vector256<T>.Zero; c01 = Vector256<T>.Zero;
            c10 = Vector256<T>.Zero; c11 = Vector256<T>.Zero;
            c20 = Vector256<T>.Zero; c21 = Vector256<T>.Zero;
            c30 = Vector256<T>.Zero; c31 = Vector256<T>.Zero;
            c40 = Vector256<T>.Zero; c41 = Vector256<T>.Zero;
            c50 = Vector256<T>.Zero; c51 = Vector256<T>.Zero;
        }
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + w);
            Vector256<T> x;
            x = Vector256.Create(a[0]); c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
            x = Vector256.Create(a[1]); c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11);
            x = Vector256.Create(a[2]); c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21);
            x = Vector256.Create(a[3]); c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31);
            x = Vector256.Create(a[4]); c40 = Fma(x, b0, c40); c41 = Fma(x, b1, c41);
            x = Vector256.Create(a[5]); c50 = Fma(x, b0, c50); c51 = Fma(x, b1, c51);
            a += 6;
            b += 2 * w;
        }
        c00.Store(c + 0 * ldc); c01.Store(c + 0 * ldc + w);
        c10.Store(c + 1 * ldc); c11.Store(c + 1 * ldc + w);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + w);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + w);
        c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + w);
        c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + w);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> Fma(Vector256<T> x, Vector256<T> y, Vector256<T> addend)
    {
        if (typeof(T) == typeof(float))
            return Vector256.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), addend.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector256.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), addend.AsDouble()).As<double, T>();
        throw new NotSupportedException();
    }
}

/// <summary>
/// The 6 x (2 x Vector512&lt;T&gt;.Count) micro-kernel: 12 accumulators held in registers across the k loop,
/// one broadcast of A and two loads of B per row step. Every lane is one fused multiply-add chain in increasing k.
/// </summary>
internal readonly unsafe struct MicroKernel512<T> : IMicroKernel<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int MR => 6;
    public static int NR => 2 * Vector512<T>.Count;
    public static int KC => 192;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, T* a, T* b, T* c, nint ldc, bool load)
    {
        nint w = Vector512<T>.Count;
        Vector512<T> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (load)
        {
            c00 = Vector512.Load(c + 0 * ldc); c01 = Vector512.Load(c + 0 * ldc + w);
            c10 = Vector512.Load(c + 1 * ldc); c11 = Vector512.Load(c + 1 * ldc + w);
            c20 = Vector512.Load(c + 2 * ldc); c21 = Vector512.Load(c + 2 * ldc + w);
            c30 = Vector512.Load(c + 3 * ldc); c31 = Vector512.Load(c + 3 * ldc + w);
            c40 = Vector512.Load(c + 4 * ldc); c41 = Vector512.Load(c + 4 * ldc + w);
            c50 = Vector512.Load(c + 5 * ldc); c51 = Vector512.Load(c + 5 * ldc + w);
        }
        else
        {
            c00 = Vector512<T>.Zero; c01 = Vector512<T>.Zero;
            c10 = Vector512<T>.Zero; c11 = Vector512<T>.Zero;
            c20 = Vector512<T>.Zero; c21 = Vector512<T>.Zero;
            c30 = Vector512<T>.Zero; c31 = Vector512<T>.Zero;
            c40 = Vector512<T>.Zero; c41 = Vector512<T>.Zero;
            c50 = Vector512<T>.Zero; c51 = Vector512<T>.Zero;
        }
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + w);
            Vector512<T> x;
            x = Vector512.Create(a[0]); c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
            x = Vector512.Create(a[1]); c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11);
            x = Vector512.Create(a[2]); c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21);
            x = Vector512.Create(a[3]); c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31);
            x = Vector512.Create(a[4]); c40 = Fma(x, b0, c40); c41 = Fma(x, b1, c41);
            x = Vector512.Create(a[5]); c50 = Fma(x, b0, c50); c51 = Fma(x, b1, c51);
            a += 6;
            b += 2 * w;
        }
        c00.Store(c + 0 * ldc); c01.Store(c + 0 * ldc + w);
        c10.Store(c + 1 * ldc); c11.Store(c + 1 * ldc + w);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + w);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + w);
        c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + w);
        c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + w);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Fma(Vector512<T> x, Vector512<T> y, Vector512<T> addend)
    {
        if (typeof(T) == typeof(float))
            return Vector512.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), addend.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector512.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), addend.AsDouble()).As<double, T>();
        throw new NotSupportedException();
    }
}
