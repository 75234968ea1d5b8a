using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Backprop.Numerics;

/// <summary>
/// A 64-bit fingerprint of a block of memory, to tell whether weights changed since they were packed. Each 64-bit
/// word goes through acc = (acc ^ word) * P in one of 32 lanes (a bijection of acc for every word, odd P), and the
/// lanes are folded by XOR of rotations, so changing any single word always changes the result; several changes
/// can only cancel by a 64-bit coincidence. About the cost of reading the memory once.
/// </summary>
internal static class ContentHash
{
    private const ulong Prime = 0x9E3779B97F4A7C15;

    public static ulong Of<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(values);
        var words = MemoryMarshal.Cast<byte, ulong>(bytes);
        var p = Vector256.Create(Prime);
        Vector256<ulong> a0 = Vector256.Create(1UL), a1 = Vector256.Create(2UL), a2 = Vector256.Create(3UL), a3 = Vector256.Create(4UL),
            a4 = Vector256.Create(5UL), a5 = Vector256.Create(6UL), a6 = Vector256.Create(7UL), a7 = Vector256.Create(8UL);
        ref ulong w = ref MemoryMarshal.GetReference(words);
        int i = 0;
        for (; i <= words.Length - 32; i += 32)
        {
            a0 = (a0 ^ Vector256.LoadUnsafe(ref w, (nuint)i)) * p;
            a1 = (a1 ^ Vector256.LoadUnsafe(ref w, (nuint)(i + 4))) * p;
            a2 = (a2 ^ Vector256.LoadUnsafe(ref w, (nuint)(i + 8))) * p;
            a3 = (a3 ^ Vector256.LoadUnsafe(ref w, (nuint)(i + 12))) * p;
            a4 = (a4 ^ Vector256.LoadUnsafe(ref w, (nuint)(i + 16))) * p;
            a5 = (a5 ^ Vector256.LoadUnsafe(ref w, (nuint)(i + 20))) * p;
            a6 = (a6 ^ Vector256.LoadUnsafe(ref w, (nuint)(i + 24))) * p;
            a7 = (a7 ^ Vector256.LoadUnsafe(ref w, (nuint)(i + 28))) * p;
        }
        ulong h = (ulong)bytes.Length * Prime;
        Span<ulong> lanes = stackalloc ulong[32];
        a0.CopyTo(lanes); a1.CopyTo(lanes[4..]); a2.CopyTo(lanes[8..]); a3.CopyTo(lanes[12..]);
        a4.CopyTo(lanes[16..]); a5.CopyTo(lanes[20..]); a6.CopyTo(lanes[24..]); a7.CopyTo(lanes[28..]);
        for (int l = 0; l < 32; l++)
            h ^= ulong.RotateLeft(lanes[l], 2 * l + 1);
        // The words after the last whole group, then the bytes after the last whole word, each in its own step.
        for (; i < words.Length; i++)
            h = (h ^ Unsafe.Add(ref w, i)) * Prime;
        for (int b = words.Length * 8; b < bytes.Length; b++)
            h = (h ^ bytes[b]) * Prime;
        return h ^ (h >> 29);
    }
}
