using Backprop.Numerics;

namespace Backprop.Data;

/// <summary>The one split of a <see cref="Dataset"/> (test sets, validation sets), seeded so a seed gives the same split on every machine.</summary>
public static class DataSplit
{
    /// <summary>
    /// The rows of each class in <see cref="Dataset.ClassNames"/> order, each ascending (for regression, all rows as
    /// one stratum): what the stratified split and the cross-validation folds shuffle.
    /// </summary>
    internal static int[][] Strata(Dataset data)
    {
        if (!data.IsClassification)
            return [Enumerable.Range(0, data.Rows).ToArray()];
        var strata = Enumerable.Range(0, data.ClassCount).Select(_ => new List<int>()).ToArray();
        var labels = data.Labels;
        for (int r = 0; r < data.Rows; r++)
            strata[labels[r]].Add(r);
        return strata.Select(s => s.ToArray()).ToArray();
    }

    /// <summary>
    /// A stratified split: within each class (for regression or unlabelled data, within the whole set) the rows are
    /// shuffled with <see cref="SplitMix64"/> seeded by <paramref name="seed"/> (one stream, classes in
    /// <see cref="Dataset.ClassNames"/> order) and the first round(count x fraction) go to the part (halves round away
    /// from zero). A class with at least two rows keeps at least one row on each side. Both sides keep the
    /// dataset's row order.
    /// </summary>
    /// <returns>The row indices of the rest and of the split-off part, each ascending.</returns>
    public static (int[] Train, int[] HeldOut) StratifiedIndices(Dataset data, double fraction, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!(fraction > 0 && fraction < 1))
            throw new BackpropException($"The fraction to split off must be between 0 and 1 (exclusive), found {fraction}.");
        var rng = new SplitMix64(seed);
        var inPart = new bool[data.Rows];
        var strata = Strata(data);
        foreach (var rows in strata)
        {
            rng.Shuffle<int>(rows);
            int take = (int)Math.Round(rows.Length * fraction, MidpointRounding.AwayFromZero);
            if (rows.Length >= 2)
                take = Math.Clamp(take, 1, rows.Length - 1);
            for (int i = 0; i < take; i++)
                inPart[rows[i]] = true;
        }
        var rest = new List<int>();
        var part = new List<int>();
        for (int r = 0; r < data.Rows; r++)
            (inPart[r] ? part : rest).Add(r);
        if (rest.Count == 0 || part.Count == 0)
        {
            // A class of one row stays whole on the first side (a class of two or more has rows on both): a
            // stratified split of classification data fails only when every class has a single row.
            bool allSingle = data.IsClassification && strata.All(rows => rows.Length <= 1);
            var names = data.IsClassification ? data.ClassNames.Where((_, c) => strata[c].Length == 1).ToList() : [];
            throw new BackpropException(
                $"{data.Name}: {data.Rows} row(s) cannot be split into two non-empty parts with fraction {fraction.ToString(System.Globalization.CultureInfo.InvariantCulture)}"
                + (!allSingle ? "."
                    : $": every class has a single row ({string.Join(", ", names.Take(10).Select(n => $"\"{n}\""))}{(names.Count > 10 ? $" and {names.Count - 10} more" : "")}), "
                      + "and the split is stratified: a class's only row is never split off. Give each class at least two rows, or do not split this data."));
        }
        return (rest.ToArray(), part.ToArray());
    }

    /// <summary>The seed of the validation split inside training, derived from the run's seed (its own stream).</summary>
    public static ulong ValidationSeed(long seed) => SplitMix64.Derive(seed, 3);
}
