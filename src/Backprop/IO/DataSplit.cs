using Backprop.Numerics;
namespace Backprop.IO;

/// <summary>Train/test splits of a <see cref="DataTable"/>, seeded so a seed gives the same split on every machine.</summary>
public static class DataSplit
{
    /// <summary>
    /// A stratified split: within each class (for regression, within the whole set) the rows are shuffled with
    /// <see cref="SplitMix64"/> seeded by <paramref name="seed"/> (one stream, classes in <see cref="DataTable.Classes"/>
    /// order) and the first round(count x fraction) go to the test set (halves round up). A class with at
    /// least two rows keeps at least one row on each side. Both sides keep the file's row order.
    /// </summary>
    public static (DataTable Train, DataTable Test) Stratified(DataTable data, double testFraction, ulong seed)
    {
        var (train, test) = StratifiedIndices(data, testFraction, seed);
        return (data.Subset(train), data.Subset(test));
    }

    /// <summary>The row indices of <see cref="Stratified"/>, each side in ascending order.</summary>
    public static (int[] Train, int[] Test) StratifiedIndices(DataTable data, double testFraction, ulong seed)
    {
        if (!(testFraction > 0 && testFraction < 1))
            throw new BackpropException($"The test fraction must be between 0 and 1 (exclusive), found {testFraction}.");
        if (!data.HasTargets)
            throw new BackpropException($"{data.Source}: a stratified split needs labelled data.");
        List<int>[] strata;
        if (data.Task == TaskKind.Classification)
        {
            strata = Enumerable.Range(0, data.Classes.Count).Select(_ => new List<int>()).ToArray();
            for (int r = 0; r < data.Rows; r++)
                strata[data.Labels[r]].Add(r);
        }
        else
        {
            strata = [Enumerable.Range(0, data.Rows).ToList()];
        }
        var rng = new SplitMix64(seed);
        var isTest = new bool[data.Rows];
        foreach (var stratum in strata)
        {
            var rows = stratum.ToArray();
            rng.Shuffle<int>(rows);
            int take = (int)Math.Round(rows.Length * testFraction, MidpointRounding.AwayFromZero);
            if (rows.Length >= 2)
                take = Math.Clamp(take, 1, rows.Length - 1);
            for (int i = 0; i < take; i++)
                isTest[rows[i]] = true;
        }
        var train = new List<int>();
        var test = new List<int>();
        for (int r = 0; r < data.Rows; r++)
            (isTest[r] ? test : train).Add(r);
        if (train.Count == 0 || test.Count == 0)
            throw new BackpropException(
                $"{data.Source}: {data.Rows} row(s) cannot be split into non-empty train and test sets with fraction {testFraction}.");
        return (train.ToArray(), test.ToArray());
    }
}
