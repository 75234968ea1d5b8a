using System.Numerics;
using Backprop.Data;
using Backprop.Numerics;
using Backprop.Training;

namespace Backprop.Evaluation;

/// <summary>
/// Permutation feature importance: how much a model's score falls when one input column's values are shuffled across
/// the rows (breaking its link to the answer while keeping its distribution), per column of the model's schema, with
/// the mean and spread over several shuffles. The columns are the RAW columns the model reads (the schema's), before
/// its preprocessing: a column a pipeline encodes into several network inputs is shuffled as one.
/// </summary>
public static class PermutationImportance
{
    /// <summary>The most repeats.</summary>
    public const int MaxRepeats = 1000;

    /// <summary>
    /// Measures <paramref name="model"/> on <paramref name="data"/> (raw, labelled, in the model's columns: <c>Model.Align</c>),
    /// then for each column, <paramref name="repeats"/> times, on a copy of the data with that column shuffled
    /// (seeded by <paramref name="seed"/>; the same seed gives the same numbers). The score is the accuracy for a
    /// classifier and R^2 for a regressor; the importance is the baseline score minus the shuffled score (a drop: higher
    /// means more important; about 0 or below means the model does not use the column). The loss increase is reported too.
    /// </summary>
    public static ImportanceResult Compute<T>(Model<T> model, Dataset data, int repeats = 5, ulong seed = 1, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (repeats < 1 || repeats > MaxRepeats)
            throw new BackpropException($"The repeats must be 1 to {MaxRepeats}, got {repeats}.");
        if (!data.HasTargets)
            throw new BackpropException($"{data.Name}: permutation importance needs labelled data.");
        if (data.Rows < 2)
            throw new BackpropException($"{data.Name}: {data.Rows} row(s): shuffling a column needs at least 2.");
        data = model.Align(data);
        var baseline = model.Evaluate(data);
        double baseScore = Score(baseline);
        int rows = data.Rows, inputs = data.Inputs;
        var features = data.Features.ToArray();
        var order = new int[rows];
        var rng = new SplitMix64(seed);
        var groups = Columns(model, inputs);
        var column = new double[rows * groups.Max(g => g.Width)];
        var results = new List<ColumnImportance>(groups.Count);
        for (int j = 0; j < groups.Count; j++)
        {
            var (name, first, width) = groups[j];
            for (int r = 0; r < rows; r++)
                features.AsSpan(r * inputs + first, width).CopyTo(column.AsSpan(r * width, width));
            var drops = new double[repeats];
            var losses = new double[repeats];
            for (int k = 0; k < repeats; k++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                for (int r = 0; r < rows; r++)
                    order[r] = r;
                rng.Shuffle<int>(order);
                // The column's features move together: a row gets another row's raw value, encoded as one.
                for (int r = 0; r < rows; r++)
                    column.AsSpan(order[r] * width, width).CopyTo(features.AsSpan(r * inputs + first, width));
                var m = model.Evaluate(data.WithFeatures(features));
                drops[k] = baseScore - Score(m);
                losses[k] = m.Loss - baseline.Loss;
            }
            for (int r = 0; r < rows; r++)
                column.AsSpan(r * width, width).CopyTo(features.AsSpan(r * inputs + first, width));
            results.Add(new ColumnImportance(name, j, Mean(drops), Sd(drops), Mean(losses), drops));
        }
        return new ImportanceResult(baseline, baseline is ClassificationMetrics ? "accuracy" : "r2", results, repeats, seed);
    }

    /// <summary>
    /// The columns shuffled one at a time: a table model's raw columns (the features each one is encoded into, moved
    /// together: shuffling the rows of an encoded block is encoding a shuffled raw column, as the encoding is per value),
    /// else each input with the schema's names (x1, x2, ... without them).
    /// </summary>
    private static List<(string Name, int First, int Width)> Columns<T>(Model<T> model, int inputs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var groups = new List<(string, int, int)>();
        if (model.Table is { } table && table.Width == inputs)
        {
            int at = 0;
            foreach (var c in table.Columns)
            {
                if (c.Width > 0)
                    groups.Add((c.Name, at, c.Width));
                at += c.Width;
            }
            return groups;
        }
        var names = model.Schema.FeatureNames ?? Enumerable.Range(0, inputs).Select(i => $"x{i + 1}").ToArray();
        for (int j = 0; j < inputs; j++)
            groups.Add((names[j], j, 1));
        return groups;
    }

    private static double Score(Metrics m) => m switch
    {
        ClassificationMetrics c => c.Accuracy,
        RegressionMetrics r => r.RSquared,
        _ => -m.Loss,
    };

    private static double Mean(double[] v) => v.Average();

    private static double Sd(double[] v)
    {
        if (v.Length < 2)
            return 0;
        double mean = v.Average();
        return Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
    }
}

/// <summary>One column's importance.</summary>
/// <param name="Column">Its name (the schema's, or x1, x2, ... without one).</param>
/// <param name="Index">Its position among the model's input columns (a table model's raw columns), from 0.</param>
/// <param name="Mean">The mean drop of the score over the repeats.</param>
/// <param name="StandardDeviation">The sample standard deviation of the drop over the repeats.</param>
/// <param name="LossIncrease">The mean increase of the loss.</param>
/// <param name="Drops">Each repeat's drop.</param>
public sealed record ColumnImportance(string Column, int Index, double Mean, double StandardDeviation, double LossIncrease, IReadOnlyList<double> Drops);

/// <summary>The outcome of <see cref="PermutationImportance.Compute"/>.</summary>
/// <param name="Baseline">The model's measures on the unshuffled data.</param>
/// <param name="Score">The score whose drop is the importance: accuracy or r2.</param>
/// <param name="Columns">Every column, in the model's column order.</param>
/// <param name="Repeats">Shuffles per column.</param>
/// <param name="Seed">The shuffles' seed.</param>
public sealed record ImportanceResult(Metrics Baseline, string Score, IReadOnlyList<ColumnImportance> Columns, int Repeats, ulong Seed)
{
    /// <summary>The columns, most important first (ties: in column order).</summary>
    public IReadOnlyList<ColumnImportance> Ranked => Columns.OrderByDescending(c => c.Mean).ThenBy(c => c.Index).ToList();
}
