using System.Globalization;
using System.Numerics;
using Backprop.Data;
using Backprop.Numerics;
using Backprop.Training;

namespace Backprop.Evaluation;

/// <summary>
/// K-fold cross-validation: every row is tested exactly once, by a model that never saw it. The folds are stratified
/// for classification (<see cref="Folds"/>); each fold's model is built and trained afresh (its preprocessing fitted on
/// its own training rows), and every metric is reported per fold and as a mean and standard deviation.
/// </summary>
public static class CrossValidation
{
    /// <summary>The most folds: one per row is leave-one-out, and beyond this the per-fold report is not worth reading.</summary>
    public const int MaxFolds = 1000;

    /// <summary>
    /// The fold (0 to <paramref name="folds"/> - 1) of every row. The rule, fixed so that others can rebuild the same
    /// folds: the rows of each class (classes in <see cref="Dataset.ClassNames"/> order; for regression, all rows as one
    /// class) are shuffled with one <see cref="SplitMix64"/> stream seeded by <paramref name="seed"/>
    /// (<see cref="SplitMix64.Shuffle{TItem}"/>, the same shuffle as <see cref="DataSplit.StratifiedIndices"/>), then dealt
    /// out in turn: the i-th row of the whole sequence (class after class) goes to fold i mod K. Fold sizes differ by at
    /// most one, and each class is spread over the folds as evenly as it can be.
    /// </summary>
    public static int[] Folds(Dataset data, int folds, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        RequireFolds(data, folds);
        var rng = new SplitMix64(seed);
        var fold = new int[data.Rows];
        int next = 0;
        foreach (var rows in DataSplit.Strata(data))
        {
            rng.Shuffle<int>(rows);
            foreach (int r in rows)
                fold[r] = next++ % folds;
        }
        return fold;
    }

    private static void RequireFolds(Dataset data, int folds)
    {
        if (folds < 2 || folds > MaxFolds)
            throw new BackpropException($"The number of folds must be 2 to {MaxFolds}, got {folds}.");
        if (folds > data.Rows)
            throw new BackpropException($"{data.Name}: {data.Rows} row(s) cannot make {folds} folds (each fold needs a row to test).");
    }

    /// <summary>
    /// Cross-validates: for each fold k, <paramref name="build"/> makes a model for the other folds' rows, it is trained
    /// with <paramref name="options"/>(k) (a new optimizer each fold: an optimizer keeps state) and measured on fold k.
    /// </summary>
    /// <param name="data">The labelled rows, raw (each model fits its preprocessing on its own training rows).</param>
    /// <param name="folds">K, 2 to <see cref="MaxFolds"/> and at most the row count.</param>
    /// <param name="seed">The seed of the fold assignment (<see cref="Folds"/>).</param>
    /// <param name="build">Makes fold k's untrained model from its training rows.</param>
    /// <param name="options">Fold k's training options.</param>
    /// <param name="progress">Told after every fold.</param>
    /// <param name="cancellationToken">Stops between two batches.</param>
    public static CrossValidationResult Run<T>(Dataset data, int folds, ulong seed, Func<int, Dataset, Model<T>> build,
        Func<int, TrainingOptions> options, IProgress<FoldResult>? progress = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(build);
        ArgumentNullException.ThrowIfNull(options);
        return Run(data, folds, seed, (k, trainRows, testRows) =>
        {
            var train = data.Subset([.. trainRows]);
            var test = data.Subset([.. testRows]);
            var model = build(k, train);
            var report = model.Fit(train, options(k), cancellationToken);
            return new FoldResult(k + 1, train.Rows, test.Rows, model.History.Count, report.BestEpoch, model.Evaluate(test));
        }, progress, cancellationToken);
    }

    /// <summary>
    /// Cross-validates with a fold function: for each fold k, <paramref name="fold"/> gets k and the row indices (into
    /// <paramref name="data"/>) of its training rows and of its test rows, and trains and measures a model; the caller
    /// fits whatever it derives from data (a table's encoding, a target scale) on the training rows alone.
    /// </summary>
    /// <param name="data">The labelled rows (only the labels are used here: they stratify the folds).</param>
    /// <param name="folds">K, 2 to <see cref="MaxFolds"/> and at most the row count.</param>
    /// <param name="seed">The seed of the fold assignment (<see cref="Folds"/>).</param>
    /// <param name="fold">Trains fold k's model on the first rows and measures it on the second.</param>
    /// <param name="progress">Told after every fold.</param>
    /// <param name="cancellationToken">Checked before every fold.</param>
    public static CrossValidationResult Run(Dataset data, int folds, ulong seed, Func<int, IReadOnlyList<int>, IReadOnlyList<int>, FoldResult> fold,
        IProgress<FoldResult>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fold);
        var assignment = Folds(data, folds, seed);
        var results = new List<FoldResult>(folds);
        for (int k = 0; k < folds; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (train, test) = Rows(assignment, k);
            var result = fold(k, train, test);
            results.Add(result);
            progress?.Report(result);
        }
        return new CrossValidationResult(results, assignment);
    }

    /// <summary>The row indices of the training rows (every other fold) and of the test rows (fold <paramref name="fold"/>), each ascending.</summary>
    public static (int[] Train, int[] Test) Rows(IReadOnlyList<int> assignment, int fold)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        var train = new List<int>();
        var test = new List<int>();
        for (int r = 0; r < assignment.Count; r++)
            (assignment[r] == fold ? test : train).Add(r);
        return (train.ToArray(), test.ToArray());
    }

    /// <summary>The training rows (every other fold) and the test rows (fold <paramref name="fold"/>) of a fold assignment.</summary>
    public static (Dataset Train, Dataset Test) Split(Dataset data, IReadOnlyList<int> assignment, int fold)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(assignment);
        if (assignment.Count != data.Rows)
            throw new ArgumentException($"{assignment.Count} fold numbers for {data.Rows} rows.", nameof(assignment));
        var (train, test) = Rows(assignment, fold);
        return (data.Subset(train), data.Subset(test));
    }

    /// <summary>The named numbers of one set of metrics, in a fixed order: loss and accuracy and the macro averages of
    /// precision, recall and F1 for a classifier; loss, MAE, RMSE and R^2 for a regressor.</summary>
    public static IReadOnlyList<(string Name, double Value)> Numbers(Metrics metrics) => metrics switch
    {
        ClassificationMetrics c =>
        [
            ("loss", c.Loss), ("accuracy", c.Accuracy),
            ("macro_precision", c.Precision.Average()), ("macro_recall", c.Recall.Average()), ("macro_f1", c.F1.Average()),
        ],
        RegressionMetrics r => [("loss", r.Loss), ("mae", r.MeanAbsoluteError), ("rmse", r.RootMeanSquaredError), ("r2", r.RSquared)],
        _ => [("loss", metrics.Loss)],
    };
}

/// <summary>One fold's outcome.</summary>
/// <param name="Fold">The fold's number, from 1.</param>
/// <param name="TrainingRows">Rows trained on (every other fold).</param>
/// <param name="TestRows">Rows of this fold, measured.</param>
/// <param name="Epochs">Epochs run.</param>
/// <param name="BestEpoch">The epoch whose weights were kept (null without validation).</param>
/// <param name="Metrics">The model's measures on the fold.</param>
public sealed record FoldResult(int Fold, int TrainingRows, int TestRows, int Epochs, int? BestEpoch, Metrics Metrics)
{
    /// <summary>The fold's numbers (<see cref="CrossValidation.Numbers"/>).</summary>
    public IReadOnlyList<(string Name, double Value)> Numbers => CrossValidation.Numbers(Metrics);
}

/// <summary>The outcome of a cross-validation: each fold, and the mean and standard deviation of every metric.</summary>
/// <param name="Folds">Each fold, in order.</param>
/// <param name="Assignment">The fold (from 0) of every row of the data.</param>
public sealed record CrossValidationResult(IReadOnlyList<FoldResult> Folds, IReadOnlyList<int> Assignment)
{
    /// <summary>
    /// Every metric's mean over the folds and its sample standard deviation (n - 1 in the denominator; 0 for one fold),
    /// in the order of <see cref="CrossValidation.Numbers"/>.
    /// </summary>
    public IReadOnlyList<MetricSummary> Summary
    {
        get
        {
            if (Folds.Count == 0)
                return [];
            var names = Folds[0].Numbers.Select(n => n.Name).ToList();
            return names.Select((name, i) =>
            {
                var values = Folds.Select(f => f.Numbers[i].Value).ToArray();
                double mean = values.Average();
                double sd = values.Length < 2 ? 0 : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
                return new MetricSummary(name, mean, sd, values);
            }).ToList();
        }
    }

    /// <summary>The summary of one metric by name (e.g. <c>accuracy</c>), or null.</summary>
    public MetricSummary? this[string name] => Summary.FirstOrDefault(m => m.Name == name);

    /// <summary>The mean and standard deviation of every metric, one per line.</summary>
    public override string ToString() => string.Join('\n',
        Summary.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Name}: {m.Mean:G5} +/- {m.StandardDeviation:G3}")));
}

/// <summary>One metric over the folds.</summary>
/// <param name="Name">The metric (loss, accuracy, macro_f1, rmse, ...).</param>
/// <param name="Mean">Its mean over the folds.</param>
/// <param name="StandardDeviation">Its sample standard deviation over the folds.</param>
/// <param name="Values">Each fold's value, in fold order.</param>
public sealed record MetricSummary(string Name, double Mean, double StandardDeviation, IReadOnlyList<double> Values);
