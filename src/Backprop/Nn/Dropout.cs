using System.Numerics;

namespace Backprop.Nn;

/// <summary>
/// Inverted dropout for a training forward pass (<see cref="Network{T}.ForwardTraining"/>):
/// each input (at <see cref="InputRate"/>) and each hidden unit's output (at <see cref="HiddenRate"/>) of each row is
/// kept or zeroed, and a kept value is divided by 1 - rate, so that the expected value is unchanged and a network
/// trained with dropout predicts with no change at all (prediction, explain and export never drop anything).
/// </summary>
/// <remarks>
/// Whether a value is kept is a function of <see cref="Key"/> (the training loop sets it from the run's seed and the
/// epoch), the row's global number in the training data (<see cref="RowIds"/>), the layer and the unit, and of nothing
/// else: not of the thread, the batch's position, the shard or the process that computes the row, so a run gives the
/// same bits for any thread count and any number of processes. The decision is SplitMix64 (the generator of
/// <c>Numerics.SplitMix64</c>, written out here as a counter-based hash): the row's stream is seeded with
/// <c>mix(key ^ mix(row * golden + layer + 1))</c> and unit u takes its draw number u + 1; the top 53 bits as a double
/// in [0, 1) keep the value when they are at least the rate.
/// </remarks>
public sealed class Dropout
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private long[] _rows = [];

    /// <param name="inputRate">The fraction of the inputs dropped, in [0, 1).</param>
    /// <param name="hiddenRate">The fraction of every hidden layer's outputs dropped, in [0, 1).</param>
    public Dropout(double inputRate, double hiddenRate)
    {
        Require(inputRate, "input dropout rate");
        Require(hiddenRate, "dropout rate");
        InputRate = inputRate;
        HiddenRate = hiddenRate;
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless <paramref name="rate"/> is in [0, 1).</summary>
    public static void Require(double rate, string what)
    {
        if (!(rate >= 0 && rate < 1))
            throw new ArgumentOutOfRangeException(nameof(rate), rate, $"The {what} must be in [0, 1), got {rate}.");
    }

    /// <summary>The fraction of the inputs dropped.</summary>
    public double InputRate { get; }

    /// <summary>The fraction of every hidden layer's outputs dropped (the last layer's outputs never are).</summary>
    public double HiddenRate { get; }

    /// <summary>The pass's key: the masks of a row differ from one key to the next (the training loop's: seed and epoch).</summary>
    public ulong Key { get; set; }

    /// <summary>
    /// The global number of each row of the batch, in the batch's order (at least as many as the batch has rows):
    /// what makes a row's mask independent of where the row is computed.
    /// </summary>
    public long[] RowIds(int rows)
    {
        if (_rows.Length < rows)
            _rows = new long[rows];
        return _rows;
    }

    /// <summary>The key of an epoch of a run with seed <paramref name="seed"/>.</summary>
    public static ulong EpochKey(long seed, int epoch) => Mix(Mix(unchecked((ulong)seed) ^ 0xD1B54A32D192ED03UL) + unchecked((ulong)epoch * Golden));

    /// <summary>Whether unit <paramref name="unit"/> of layer <paramref name="layer"/> (-1: the inputs) is kept for row <paramref name="row"/>.</summary>
    public static bool Keeps(ulong key, long row, int layer, int unit, double rate) =>
        Uniform(Draw(RowStream(key, row, layer), unit)) >= rate;

    private static ulong RowStream(ulong key, long row, int layer) =>
        Mix(key ^ Mix(unchecked((ulong)row * Golden + (ulong)(layer + 1))));

    private static ulong Draw(ulong stream, int unit) => Mix(unchecked(stream + (ulong)(unit + 1) * Golden));

    private static double Uniform(ulong bits) => (bits >> 11) * (1.0 / (1UL << 53));

    private static ulong Mix(ulong z)
    {
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }

    /// <summary>
    /// Writes the mask of layer <paramref name="layer"/> (-1: the inputs) for the batch's <paramref name="rows"/> rows
    /// (rows x units): 0 for a dropped value, 1 / (1 - rate) for a kept one.
    /// </summary>
    internal void FillMask<T>(int layer, int rows, int units, double rate, Span<T> mask) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T kept = T.CreateChecked(1.0 / (1.0 - rate));
        for (int r = 0; r < rows; r++)
        {
            ulong stream = RowStream(Key, _rows[r], layer);
            var m = mask.Slice(r * units, units);
            for (int u = 0; u < units; u++)
                m[u] = Uniform(Draw(stream, u)) >= rate ? kept : T.Zero;
        }
    }
}
