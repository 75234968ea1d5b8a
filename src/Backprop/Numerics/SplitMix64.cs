namespace Backprop.Numerics;

/// <summary>
/// The SplitMix64 generator (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014),
/// written out here so that a seed gives the same numbers on every machine and every .NET version
/// (<see cref="System.Random"/> documents no algorithm).
/// </summary>
/// <remarks>
/// Each draw adds the golden-ratio increment 0x9E3779B97F4A7C15 to the 64-bit state and returns
/// <c>z ^ (z &gt;&gt; 31)</c> after <c>z = (z ^ (z &gt;&gt; 30)) * 0xBF58476D1CE4E5B9</c> and
/// <c>z = (z ^ (z &gt;&gt; 27)) * 0x94D049BB133111EB</c>. Seeded with 1234567 its first outputs are
/// 6457827717110365317, 3203168211198807973, 9817491932198370423 (the published reference values).
/// Derived quantities are defined exactly: <see cref="NextDouble()"/> takes the top 53 bits,
/// <see cref="NextInt"/> rejects the few draws that would bias the remainder, and
/// <see cref="Shuffle{TItem}"/> is Fisher-Yates from the last element down.
/// </remarks>
public sealed class SplitMix64
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private ulong _state;

    /// <summary>A generator whose first draw depends only on <paramref name="seed"/>.</summary>
    public SplitMix64(ulong seed) => _state = seed;

    /// <summary>The current state: saving it and assigning it back later continues the stream exactly (checkpoints).</summary>
    public ulong State
    {
        get => _state;
        set => _state = value;
    }

    /// <summary>A generator for a signed seed (the seed's two's-complement bits).</summary>
    public SplitMix64(long seed) : this(unchecked((ulong)seed)) { }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong z = unchecked(_state += Golden);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>A double in [0, 1): the top 53 bits of <see cref="NextUInt64"/> times 2^-53.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A double uniform in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public double NextDouble(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>An integer uniform in [0, <paramref name="exclusiveMax"/>), without modulo bias.</summary>
    public int NextInt(int exclusiveMax)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(exclusiveMax, 1);
        ulong bound = (ulong)exclusiveMax;
        // Accept draws in [0, q * bound) where q * bound is the largest multiple of bound below 2^64.
        ulong zone = ulong.MaxValue - ((ulong.MaxValue % bound) + 1) % bound;
        ulong r;
        do
            r = NextUInt64();
        while (r > zone);
        return (int)(r % bound);
    }

    /// <summary>
    /// A standard normal draw by the Box-Muller transform, one output per two uniforms:
    /// sqrt(-2 ln(1 - u1)) cos(2 pi u2). (Log and Cos come from the platform's math library.)
    /// </summary>
    public double NextGaussian()
    {
        double u1 = NextDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(1.0 - u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Fisher-Yates shuffle in place: for i from n-1 down to 1, swap item i with item NextInt(i + 1).</summary>
    public void Shuffle<TItem>(Span<TItem> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>
    /// A seed for an independent stream numbered <paramref name="stream"/> of a user's <paramref name="seed"/>:
    /// the first output of SplitMix64 seeded with <c>seed ^ (stream * 0x9E3779B97F4A7C15)</c>.
    /// </summary>
    public static ulong Derive(long seed, ulong stream) =>
        new SplitMix64(unchecked((ulong)seed ^ (stream * Golden))).NextUInt64();
}
