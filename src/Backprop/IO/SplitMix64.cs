namespace Backprop.IO;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014; the
/// constants of Vigna's public-domain splitmix64.c): a 64-bit state advanced by 0x9E3779B97F4A7C15 and
/// mixed by two xor-shift-multiply rounds. Pure integer arithmetic, so a seed gives the same stream on
/// every machine, runtime and thread count. Used for seeded splits.
/// </summary>
public sealed class SplitMix64
{
    private ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    /// <summary>The current state (to save and restore a stream exactly).</summary>
    public ulong State
    {
        get => _state;
        set => _state = value;
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// A uniform integer in [0, <paramref name="bound"/>): Lemire's multiply-shift with rejection
    /// ("Fast random integer generation in an interval", 2019), so no value is favoured.
    /// </summary>
    public int NextBelow(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bound, 1);
        ulong s = (ulong)bound;
        ulong high = Math.BigMul(Next(), s, out ulong low);
        if (low < s)
        {
            ulong threshold = (0UL - s) % s;
            while (low < threshold)
                high = Math.BigMul(Next(), s, out low);
        }
        return (int)high;
    }

    /// <summary>Fisher-Yates shuffle: for i from the end down to 1, swap item i with item NextBelow(i + 1).</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextBelow(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
