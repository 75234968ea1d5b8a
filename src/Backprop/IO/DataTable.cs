using System.Numerics;

namespace Backprop.IO;

/// <summary>What a dataset's target column holds.</summary>
public enum TaskKind
{
    /// <summary>Each row belongs to one of <see cref="DataTable.Classes"/>; targets are one-hot rows.</summary>
    Classification,
    /// <summary>Each row has one real-valued target.</summary>
    Regression,
}

/// <summary>
/// A table of samples: features as one row-major array (<see cref="Rows"/> x <see cref="Columns"/>) and,
/// when the data is labelled, targets (one-hot rows for classification, one value per row for regression).
/// Readers (<see cref="CsvDataset"/>, <see cref="IdxDataset"/>) produce it; preprocessing and splits map it to new datasets.
/// </summary>
/// <remarks>Instances are not changed after construction by this library; treat the arrays as read-only.</remarks>
public sealed class DataTable
{
    /// <summary>Builds a dataset and checks that the pieces fit together.</summary>
    /// <param name="features">Row-major, <paramref name="rows"/> x <paramref name="columns"/>, every value finite.</param>
    /// <param name="labels">Classification: the class index of each row. Empty for regression or unlabelled data.</param>
    /// <param name="values">Regression: the target of each row. Empty for classification or unlabelled data.</param>
    /// <param name="classes">Classification: the class names, in the order of the one-hot columns.</param>
    public DataTable(double[] features, int rows, int columns, TaskKind task, int[] labels, double[] values,
        IReadOnlyList<string> classes, IReadOnlyList<string>? featureNames = null, string? targetName = null,
        string source = "data")
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        if ((long)rows * columns != features.Length)
            throw new ArgumentException($"{features.Length} feature values do not make {rows} rows of {columns}.", nameof(features));
        if (featureNames is not null && featureNames.Count != columns)
            throw new ArgumentException($"{featureNames.Count} feature names for {columns} columns.", nameof(featureNames));
        if (task == TaskKind.Classification)
        {
            if (values.Length != 0)
                throw new ArgumentException("A classification dataset has labels, not values.", nameof(values));
            if (labels.Length != 0 && labels.Length != rows)
                throw new ArgumentException($"{labels.Length} labels for {rows} rows.", nameof(labels));
            if (labels.Length != 0 && classes.Count == 0)
                throw new ArgumentException("Labels need at least one class.", nameof(classes));
            foreach (int l in labels)
                if ((uint)l >= (uint)classes.Count)
                    throw new ArgumentException($"Label {l} is not a class index below {classes.Count}.", nameof(labels));
        }
        else
        {
            if (labels.Length != 0)
                throw new ArgumentException("A regression dataset has values, not labels.", nameof(labels));
            if (values.Length != 0 && values.Length != rows)
                throw new ArgumentException($"{values.Length} values for {rows} rows.", nameof(values));
            if (classes.Count != 0)
                throw new ArgumentException("A regression dataset has no classes.", nameof(classes));
        }
        Features = features;
        Rows = rows;
        Columns = columns;
        Task = task;
        Labels = labels;
        Values = values;
        Classes = classes;
        FeatureNames = featureNames;
        TargetName = targetName;
        Source = source;
    }

    /// <summary>Row-major features, <see cref="Rows"/> x <see cref="Columns"/>.</summary>
    public double[] Features { get; }

    public int Rows { get; }

    /// <summary>Number of features per row (the label column and dropped columns are not counted).</summary>
    public int Columns { get; }

    public TaskKind Task { get; }

    /// <summary>Classification: class index of each row (into <see cref="Classes"/>). Empty otherwise.</summary>
    public int[] Labels { get; }

    /// <summary>Regression: the target value of each row. Empty otherwise.</summary>
    public double[] Values { get; }

    /// <summary>Class names in one-hot column order (empty for regression).</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Names of the feature columns, when the file had a header.</summary>
    public IReadOnlyList<string>? FeatureNames { get; }

    /// <summary>Name of the target column, when known.</summary>
    public string? TargetName { get; }

    /// <summary>Where the data came from (a file name), for messages.</summary>
    public string Source { get; }

    /// <summary>True when every row has a target (a label or a value).</summary>
    public bool HasTargets => Rows > 0 && (Labels.Length == Rows || Values.Length == Rows);

    /// <summary>Width of a target row: the class count for classification, 1 for regression.</summary>
    public int TargetWidth => Task == TaskKind.Classification ? Classes.Count : 1;

    /// <summary>The features converted to <typeparamref name="T"/>.</summary>
    public T[] FeaturesAs<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new T[Features.Length];
        for (int i = 0; i < result.Length; i++)
            result[i] = T.CreateChecked(Features[i]);
        return result;
    }

    /// <summary>
    /// The targets as a row-major array (<see cref="Rows"/> x <see cref="TargetWidth"/>): one-hot rows for
    /// classification, the values for regression.
    /// </summary>
    public T[] TargetsAs<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!HasTargets)
            throw new BackpropException($"{Source}: the data has no targets (no label column).");
        if (Task == TaskKind.Regression)
        {
            var v = new T[Rows];
            for (int i = 0; i < Rows; i++)
                v[i] = T.CreateChecked(Values[i]);
            return v;
        }
        int k = Classes.Count;
        var oneHot = new T[Rows * k];
        for (int r = 0; r < Rows; r++)
            oneHot[r * k + Labels[r]] = T.One;
        return oneHot;
    }

    /// <summary>Number of rows of each class, in <see cref="Classes"/> order.</summary>
    public int[] ClassCounts()
    {
        var counts = new int[Classes.Count];
        foreach (int l in Labels)
            counts[l]++;
        return counts;
    }

    /// <summary>A dataset of the given rows, in the given order (classes and names are kept).</summary>
    public DataTable Subset(ReadOnlySpan<int> rows)
    {
        var f = new double[rows.Length * Columns];
        var labels = Labels.Length == 0 ? [] : new int[rows.Length];
        var values = Values.Length == 0 ? [] : new double[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            int r = rows[i];
            if ((uint)r >= (uint)Rows)
                throw new ArgumentOutOfRangeException(nameof(rows), r, $"Row index outside 0..{Rows - 1}.");
            Array.Copy(Features, (long)r * Columns, f, (long)i * Columns, Columns);
            if (labels.Length != 0)
                labels[i] = Labels[r];
            if (values.Length != 0)
                values[i] = Values[r];
        }
        return new DataTable(f, rows.Length, Columns, Task, labels, values, Classes, FeatureNames, TargetName, Source);
    }

    /// <summary>The same targets and names with other features (as preprocessing produces).</summary>
    public DataTable WithFeatures(double[] features) =>
        new(features, Rows, Columns, Task, Labels, Values, Classes, FeatureNames, TargetName, Source);

    /// <summary>
    /// The labelled samples as a <see cref="Training.Dataset"/> to train or evaluate on: classification rows
    /// keep their class indices and names, regression rows their values.
    /// </summary>
    public Training.Dataset ToDataset()
    {
        if (!HasTargets)
            throw new BackpropException($"{Source}: the data has no targets (label column), so it cannot be trained or evaluated on.");
        return Task == TaskKind.Classification
            ? Training.Dataset.Classification(Features, Columns, Labels, Math.Max(Classes.Count, 2),
                Classes.Count >= 2 ? Classes : [.. Classes, .. Enumerable.Range(Classes.Count, 2 - Classes.Count).Select(i => $"class {i}")], Source)
            : Training.Dataset.Regression(Features, Columns, Values, 1, Source);
    }
}
