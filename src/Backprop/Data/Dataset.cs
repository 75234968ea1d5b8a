using System.Globalization;
using Backprop.Numerics;

namespace Backprop.Data;

/// <summary>What a model predicts, and what a dataset's targets are.</summary>
public enum TaskKind
{
    /// <summary>One of several classes: each row has a label, an index into the class names.</summary>
    Classification,
    /// <summary>Real-valued targets: each row has one value per output.</summary>
    Regression,
}

/// <summary>
/// The one table type: samples held in memory as rows of numeric features (rows x <see cref="Inputs"/>,
/// row-major) and, when the data is labelled, a class label per row (classification) or a target vector per
/// row (regression). Readers produce it, splits and preprocessing map it to new datasets, training and
/// evaluation consume it. Instances never change after construction.
/// </summary>
/// <remarks>
/// A subset (<see cref="Subset"/>, both parts of <see cref="Split"/>) shares its parent's feature array and keeps
/// only a row index per row (4 bytes a row instead of 8 a value); its labels and targets are copied. Reading it row by
/// row (<see cref="FeatureRow"/>, <see cref="CopyFeatures"/>) costs nothing more; <see cref="Features"/> of a subset
/// gathers its rows into one array at the first call (kept for later calls), so code that can go row by row should.
/// Training, evaluation and prediction do.
/// </remarks>
public sealed class Dataset
{
    /// <summary>The most classes a dataset may have. A label column with more distinct values is almost always an
    /// identifier (a value per row) taken for the label; the bound also bounds the memory per-class measures take.</summary>
    public const int MaxClasses = 1000;

    private readonly FeatureBlocks _features;
    // Row r of this dataset is row _rows[r] of _features; null: every row of _features, in order.
    private readonly int[]? _rows;
    private readonly double[] _targets;
    private readonly int[] _labels;
    private double[]? _gathered;

    private Dataset(FeatureBlocks features, int inputs, TaskKind task, int[] labels, double[] targets, int outputs,
        IReadOnlyList<string> classNames, bool hasTargets, string name, IReadOnlyList<string>? featureNames, string? targetName,
        int[]? rows = null)
    {
        _features = features;
        _rows = rows;
        _targets = targets;
        _labels = labels;
        Inputs = inputs;
        Rows = rows?.Length ?? features.Rows;
        Task = task;
        Outputs = outputs;
        ClassNames = classNames;
        HasTargets = hasTargets;
        Name = name;
        FeatureNames = featureNames;
        TargetName = targetName;
    }

    /// <summary>A classification dataset: one label in [0, classes) per row.</summary>
    /// <param name="features">Row-major, rows x <paramref name="inputs"/>, every value finite. Not copied.</param>
    /// <param name="inputs">Features per row.</param>
    /// <param name="labels">The class index of each row. Not copied.</param>
    /// <param name="classes">The number of classes (1 to <see cref="MaxClasses"/>; a model needs data of at least 2 to train).</param>
    /// <param name="classNames">One name per class in output order; default "0", "1", ...</param>
    /// <param name="name">A name for messages (e.g. the file name).</param>
    /// <param name="featureNames">The feature columns' names (a file's header), when known.</param>
    /// <param name="targetName">The label column's name, when known.</param>
    public static Dataset Classification(double[] features, int inputs, int[] labels, int classes,
        IReadOnlyList<string>? classNames = null, string name = "data", IReadOnlyList<string>? featureNames = null,
        string? targetName = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        CheckShape(features, inputs, name, featureNames);
        return Classification(new FeatureBlocks(features, inputs), inputs, labels, classes, classNames, name, featureNames, targetName);
    }

    /// <summary>A classification dataset over rows a reader holds in blocks (see <see cref="FeatureBlocks"/>).</summary>
    internal static Dataset Classification(FeatureBlocks features, int inputs, int[] labels, int classes,
        IReadOnlyList<string>? classNames = null, string name = "data", IReadOnlyList<string>? featureNames = null,
        string? targetName = null)
    {
        int rows = CheckFeatures(features, inputs, name, featureNames);
        if (classes < 1 || classes > MaxClasses)
            throw new BackpropException($"{name}: a classification dataset has 1 to {MaxClasses} classes, got {classes}"
                + (classes > MaxClasses ? "; a label column with about a value per row is usually an identifier, not a label." : "."));
        if (labels.Length != rows)
            throw new BackpropException($"{name}: {rows} rows need {rows} labels, found {labels.Length}.");
        for (int r = 0; r < rows; r++)
            if ((uint)labels[r] >= (uint)classes)
                throw new BackpropException($"{name}: row {r} has label {labels[r]}; labels must be in 0..{classes - 1}.");
        var names = CheckClassNames(classNames, classes, name);
        return new Dataset(features, inputs, TaskKind.Classification, labels, [], classes, names, true, name, featureNames, targetName);
    }

    /// <summary>A regression dataset: <paramref name="targets"/> holds rows x <paramref name="outputs"/> finite values.</summary>
    /// <param name="features">Row-major, rows x <paramref name="inputs"/>, every value finite. Not copied.</param>
    /// <param name="inputs">Features per row.</param>
    /// <param name="targets">Row-major, rows x <paramref name="outputs"/>. Not copied.</param>
    /// <param name="outputs">Target values per row.</param>
    /// <param name="name">A name for messages (e.g. the file name).</param>
    /// <param name="featureNames">The feature columns' names (a file's header), when known.</param>
    /// <param name="targetName">The target column's name, when known.</param>
    public static Dataset Regression(double[] features, int inputs, double[] targets, int outputs = 1, string name = "data",
        IReadOnlyList<string>? featureNames = null, string? targetName = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        CheckShape(features, inputs, name, featureNames);
        return Regression(new FeatureBlocks(features, inputs), inputs, targets, outputs, name, featureNames, targetName);
    }

    /// <summary>A regression dataset over rows a reader holds in blocks (see <see cref="FeatureBlocks"/>).</summary>
    internal static Dataset Regression(FeatureBlocks features, int inputs, double[] targets, int outputs = 1, string name = "data",
        IReadOnlyList<string>? featureNames = null, string? targetName = null)
    {
        int rows = CheckFeatures(features, inputs, name, featureNames);
        if (outputs < 1)
            throw new BackpropException($"{name}: a regression dataset needs at least 1 output, got {outputs}.");
        if (targets.Length != (long)rows * outputs)
            throw new BackpropException($"{name}: {rows} rows of {outputs} target(s) need {(long)rows * outputs} values, found {targets.Length}.");
        for (int i = 0; i < targets.Length; i++)
            if (!double.IsFinite(targets[i]))
                throw new BackpropException($"{name}: row {i / outputs}, target {i % outputs} is {targets[i].ToString(CultureInfo.InvariantCulture)}; targets must be finite numbers.");
        return new Dataset(features, inputs, TaskKind.Regression, [], targets, outputs, [], true, name, featureNames, targetName);
    }

    /// <summary>
    /// Rows without targets (data to predict on). <paramref name="task"/> and <paramref name="classNames"/> say what
    /// a model of it predicts, when known.
    /// </summary>
    public static Dataset Unlabelled(double[] features, int inputs, string name = "data", IReadOnlyList<string>? featureNames = null,
        TaskKind task = TaskKind.Classification, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        CheckShape(features, inputs, name, featureNames, allowEmpty: true);
        return Unlabelled(new FeatureBlocks(features, inputs), inputs, name, featureNames, task, classNames);
    }

    /// <summary>Rows without targets over rows a reader holds in blocks (see <see cref="FeatureBlocks"/>).</summary>
    internal static Dataset Unlabelled(FeatureBlocks features, int inputs, string name = "data", IReadOnlyList<string>? featureNames = null,
        TaskKind task = TaskKind.Classification, IReadOnlyList<string>? classNames = null)
    {
        CheckFeatures(features, inputs, name, featureNames, allowEmpty: true);
        var names = classNames is null ? [] : (IReadOnlyList<string>)[.. classNames];
        return new Dataset(features, inputs, task, [], [], task == TaskKind.Classification ? names.Count : 0, names, false, name, featureNames, null);
    }

    private static void CheckShape(double[] features, int inputs, string name, IReadOnlyList<string>? featureNames, bool allowEmpty = false)
    {
        if (inputs < 1)
            throw new BackpropException($"{name}: samples need at least 1 input, got {inputs}.");
        if ((!allowEmpty && features.Length == 0) || features.Length % inputs != 0)
            throw new BackpropException($"{name}: {features.Length} feature values are not a whole number (>= 1) of rows of {inputs} inputs.");
    }

    private static int CheckFeatures(FeatureBlocks features, int inputs, string name, IReadOnlyList<string>? featureNames, bool allowEmpty = false)
    {
        if (inputs < 1 || features.Inputs != inputs)
            throw new BackpropException($"{name}: samples need at least 1 input, got {inputs}.");
        if (!allowEmpty && features.Rows == 0)
            throw new BackpropException($"{name}: 0 feature values are not a whole number (>= 1) of rows of {inputs} inputs.");
        if (featureNames is not null && featureNames.Count != inputs)
            throw new BackpropException($"{name}: {featureNames.Count} feature names for {inputs} inputs.");
        long at = 0;
        foreach (var segment in features.Segments())
        {
            var values = segment.AsSpan();
            for (int i = 0; i < values.Length; i++)
                if (!double.IsFinite(values[i]))
                    throw new BackpropException(
                        $"{name}: row {(at + i) / inputs}, input {(at + i) % inputs} is {values[i].ToString(CultureInfo.InvariantCulture)}; inputs must be finite numbers.");
            at += values.Length;
        }
        return features.Rows;
    }

    /// <summary>Throws unless <paramref name="classes"/> is a class count a dataset or model may have.</summary>
    public static void CheckClassCount(int classes, string name)
    {
        if (classes < 2)
            throw new BackpropException($"{name}: classification needs at least 2 classes, got {classes}.");
        if (classes > MaxClasses)
            throw new BackpropException(
                $"{name}: {classes} classes is more than the {MaxClasses} a classifier may have; a label column with a value per row is usually an identifier, not a label.");
    }

    private static IReadOnlyList<string> CheckClassNames(IReadOnlyList<string>? classNames, int classes, string name)
    {
        if (classNames is null)
            return DefaultClassNames(classes);
        if (classNames.Count != classes)
            throw new BackpropException($"{name}: {classes} classes need {classes} class names, found {classNames.Count}.");
        if (classNames.Distinct(StringComparer.Ordinal).Count() != classes)
            throw new BackpropException($"{name}: the class names must be distinct.");
        return [.. classNames];
    }

    /// <summary>The names classes get when none are given: "0", "1", ...</summary>
    public static IReadOnlyList<string> DefaultClassNames(int classes) =>
        Enumerable.Range(0, classes).Select(c => c.ToString(CultureInfo.InvariantCulture)).ToArray();

    /// <summary>A name for messages (e.g. the dataset or file name).</summary>
    public string Name { get; }

    /// <summary>Number of samples.</summary>
    public int Rows { get; }

    /// <summary>Features per sample.</summary>
    public int Inputs { get; }

    /// <summary>Classification or regression (for unlabelled data: what a model of it predicts).</summary>
    public TaskKind Task { get; }

    /// <summary>True for labelled classification data.</summary>
    public bool IsClassification => Task == TaskKind.Classification && HasTargets;

    /// <summary>True when every row has a target (a label or values).</summary>
    public bool HasTargets { get; }

    /// <summary>Width of a target row: the number of classes (a one-hot row) or of regression outputs.</summary>
    public int Outputs { get; }

    /// <summary>Number of classes: 0 for regression.</summary>
    public int ClassCount => Task == TaskKind.Classification ? ClassNames.Count : 0;

    /// <summary>The class names in output order (empty for regression).</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The feature columns' names (a file's header), when known.</summary>
    public IReadOnlyList<string>? FeatureNames { get; }

    /// <summary>The target column's name, when known.</summary>
    public string? TargetName { get; }

    /// <summary>
    /// All features, rows x <see cref="Inputs"/>. For a subset the rows are gathered into one array at the first call
    /// (8 bytes a value); <see cref="FeatureRow"/> and <see cref="CopyFeatures"/> read a subset without that copy.
    /// </summary>
    public ReadOnlySpan<double> Features => _rows is null && _features.Single is { } all ? all : Gathered();

    private double[] Gathered()
    {
        if (Volatile.Read(ref _gathered) is { } done)
            return done;
        var all = new double[(long)Rows * Inputs];
        CopyFeatures(0, Rows, all);
        Interlocked.CompareExchange(ref _gathered, all, null);
        return _gathered!;
    }

    /// <summary>True when this dataset shares another's feature values (a subset or a split's part).</summary>
    public bool IsView => _rows is not null;

    /// <summary>
    /// Copies the features of rows <paramref name="firstRow"/> .. <paramref name="firstRow"/> + <paramref name="rows"/> - 1
    /// (row-major, <paramref name="rows"/> x <see cref="Inputs"/> values) into <paramref name="destination"/>.
    /// </summary>
    public void CopyFeatures(int firstRow, int rows, Span<double> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstRow);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((long)firstRow + rows, Rows, nameof(rows));
        int m = Inputs;
        if (destination.Length < (long)rows * m)
            throw new ArgumentException($"The destination holds {destination.Length} values; {rows} rows of {m} need {(long)rows * m}.", nameof(destination));
        if (_rows is null && _features.Single is { } all)
        {
            all.AsSpan().Slice(firstRow * m, rows * m).CopyTo(destination);
            return;
        }
        for (int r = 0; r < rows; r++)
            _features.Row(_rows is null ? firstRow + r : _rows[firstRow + r]).CopyTo(destination.Slice(r * m, m));
    }

    /// <summary>Regression targets, rows x <see cref="Outputs"/> (empty for classification: see <see cref="Labels"/>).</summary>
    public ReadOnlySpan<double> Targets => _targets;

    /// <summary>The class labels (classification only; empty otherwise).</summary>
    public ReadOnlySpan<int> Labels => _labels;

    /// <summary>The features of one row.</summary>
    public ReadOnlySpan<double> FeatureRow(int row)
    {
        if ((uint)row >= (uint)Rows)
            throw new ArgumentOutOfRangeException(nameof(row), row, $"Row index outside 0..{Rows - 1}.");
        return _features.Row(_rows is null ? row : _rows[row]);
    }

    /// <summary>The regression targets of one row.</summary>
    public ReadOnlySpan<double> TargetRow(int row) => _targets.AsSpan(row * Outputs, Outputs);

    /// <summary>
    /// The rows <paramref name="indices"/>, in that order, as a new dataset. It shares this dataset's features (a row
    /// index per row, no copy of the values); labels and targets are copied.
    /// </summary>
    public Dataset Subset(ReadOnlySpan<int> indices, string? name = null)
    {
        var map = new int[indices.Length];
        var t = _targets.Length == 0 ? [] : new double[(long)indices.Length * Outputs];
        int[] labels = _labels.Length == 0 ? [] : new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            int r = indices[i];
            if ((uint)r >= (uint)Rows)
                throw new ArgumentOutOfRangeException(nameof(indices), r, $"Row index outside 0..{Rows - 1}.");
            map[i] = _rows is null ? r : _rows[r];
            if (t.Length != 0)
                Array.Copy(_targets, (long)r * Outputs, t, (long)i * Outputs, Outputs);
            if (labels.Length != 0)
                labels[i] = _labels[r];
        }
        return new Dataset(_features, Inputs, Task, labels, t, Outputs, ClassNames, HasTargets, name ?? Name, FeatureNames, TargetName, map);
    }

    /// <summary>The same rows with other features (as preprocessing produces), of the same width.</summary>
    public Dataset WithFeatures(double[] features, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Length != (long)Rows * Inputs)
            throw new ArgumentException($"{features.Length} values are not {Rows} rows of {Inputs}.", nameof(features));
        return new Dataset(new FeatureBlocks(features, Inputs), Inputs, Task, _labels, _targets, Outputs, ClassNames, HasTargets, name ?? Name, FeatureNames, TargetName);
    }

    /// <summary>
    /// The features in another column order: column j of the result is column <paramref name="columns"/>[j] of this
    /// dataset. Targets and labels are kept.
    /// </summary>
    public Dataset SelectColumns(IReadOnlyList<int> columns, IReadOnlyList<string>? featureNames = null)
    {
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Count == 0)
            throw new ArgumentException("Select at least one column.", nameof(columns));
        foreach (int c in columns)
            if ((uint)c >= (uint)Inputs)
                throw new ArgumentOutOfRangeException(nameof(columns), c, $"Column index outside 0..{Inputs - 1}.");
        int m = columns.Count;
        var f = new double[(long)Rows * m];
        for (int r = 0; r < Rows; r++)
        {
            var row = FeatureRow(r);
            for (int j = 0; j < m; j++)
                f[(long)r * m + j] = row[columns[j]];
        }
        var names = featureNames ?? (FeatureNames is null ? null : columns.Select(c => FeatureNames[c]).ToArray());
        return new Dataset(new FeatureBlocks(f, m), m, Task, _labels, _targets, Outputs, ClassNames, HasTargets, Name, names, TargetName);
    }

    /// <summary>The same rows and features with other class names (as many as there are classes).</summary>
    public Dataset WithClassNames(IReadOnlyList<string> classNames)
    {
        if (Task != TaskKind.Classification)
            throw new BackpropException($"{Name}: only classification data has class names.");
        var names = CheckClassNames(classNames, ClassNames.Count, Name);
        return new Dataset(_features, Inputs, Task, _labels, _targets, Outputs, names, HasTargets, Name, FeatureNames, TargetName, _rows);
    }

    /// <summary>
    /// The same rows and features (shared, not copied) with other labels: <paramref name="labels"/> has one label per
    /// row in 0 .. <paramref name="classNames"/>.Count - 1.
    /// </summary>
    public Dataset WithLabels(int[] labels, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        if (Task != TaskKind.Classification)
            throw new BackpropException($"{Name}: only classification data has class labels.");
        int classes = classNames.Count;
        if (classes < 1 || classes > MaxClasses)
            throw new BackpropException($"{Name}: a classification dataset has 1 to {MaxClasses} classes, got {classes}.");
        if (labels.Length != Rows)
            throw new BackpropException($"{Name}: {Rows} rows need {Rows} labels, found {labels.Length}.");
        for (int r = 0; r < labels.Length; r++)
            if ((uint)labels[r] >= (uint)classes)
                throw new BackpropException($"{Name}: row {r} has label {labels[r]}; labels must be in 0..{classes - 1}.");
        var names = CheckClassNames(classNames, classes, Name);
        return new Dataset(_features, Inputs, Task, labels, _targets, classes, names, true, Name, FeatureNames, TargetName, _rows);
    }

    /// <summary>
    /// Splits off about <paramref name="fraction"/> of the rows, stratified by class (<see cref="DataSplit.StratifiedIndices"/>).
    /// Returns the rest and the split-off part, each in the original row order. Both share this dataset's features
    /// (see <see cref="Subset"/>): a split costs a row index per row, not a copy of the values.
    /// </summary>
    public (Dataset Train, Dataset HeldOut) Split(double fraction, ulong seed)
    {
        var (train, heldOut) = DataSplit.StratifiedIndices(this, fraction, seed);
        return (Subset(train), Subset(heldOut));
    }

    /// <summary>Number of rows of each class, in <see cref="ClassNames"/> order (empty for regression).</summary>
    public int[] ClassCounts()
    {
        var counts = new int[ClassCount];
        foreach (int l in _labels)
            counts[l]++;
        return counts;
    }

    /// <summary>The largest |x| of each input column (used to spot unscaled inputs).</summary>
    public double[] MaxAbsPerInput()
    {
        var max = new double[Inputs];
        for (int r = 0; r < Rows; r++)
        {
            var row = FeatureRow(r);
            for (int i = 0; i < row.Length; i++)
                max[i] = Math.Max(max[i], Math.Abs(row[i]));
        }
        return max;
    }

    /// <summary>A one-line description: name, rows, inputs, task.</summary>
    public override string ToString() =>
        $"{Name}: {Rows} rows, {Inputs} inputs, "
        + (!HasTargets ? "unlabelled" : Task == TaskKind.Classification ? $"{ClassCount} classes" : $"{Outputs} target(s)");
}
