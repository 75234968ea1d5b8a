using Backprop.Numerics;
namespace Backprop.Training;

/// <summary>
/// Samples held in memory as rows: features (rows x inputs, row-major) and, for classification,
/// an integer label per row; for regression, a target vector per row.
/// </summary>
public sealed class Dataset
{
    private readonly double[] _features;
    private readonly double[] _targets;
    private readonly int[]? _labels;

    private Dataset(double[] features, int inputs, double[] targets, int outputs, int[]? labels, int classes,
        IReadOnlyList<string>? classNames, string name)
    {
        _features = features;
        _targets = targets;
        _labels = labels;
        Inputs = inputs;
        Outputs = outputs;
        Rows = features.Length / inputs;
        Classes = classes;
        ClassNames = classNames ?? (classes > 0 ? Enumerable.Range(0, classes).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray() : []);
        Name = name;
    }

    /// <summary>A regression dataset: <paramref name="targets"/> holds rows x <paramref name="outputs"/> values.</summary>
    public static Dataset Regression(double[] features, int inputs, double[] targets, int outputs = 1, string name = "data")
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        int rows = CheckFeatures(features, inputs, name);
        if (outputs < 1)
            throw new BackpropException($"{name}: a regression dataset needs at least 1 output, got {outputs}.");
        if (targets.Length != rows * outputs)
            throw new BackpropException($"{name}: {rows} rows of {outputs} target(s) need {rows * outputs} values, found {targets.Length}.");
        for (int i = 0; i < targets.Length; i++)
            if (!double.IsFinite(targets[i]))
                throw new BackpropException($"{name}: row {i / outputs}, target {i % outputs} is {targets[i]}; targets must be finite numbers.");
        return new Dataset(features, inputs, targets, outputs, null, 0, null, name);
    }

    /// <summary>A classification dataset: one label in [0, classes) per row.</summary>
    public static Dataset Classification(double[] features, int inputs, int[] labels, int classes,
        IReadOnlyList<string>? classNames = null, string name = "data")
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        int rows = CheckFeatures(features, inputs, name);
        if (classes < 2)
            throw new BackpropException($"{name}: classification needs at least 2 classes, got {classes}.");
        if (labels.Length != rows)
            throw new BackpropException($"{name}: {rows} rows need {rows} labels, found {labels.Length}.");
        for (int r = 0; r < rows; r++)
            if ((uint)labels[r] >= (uint)classes)
                throw new BackpropException($"{name}: row {r} has label {labels[r]}; labels must be in 0..{classes - 1}.");
        if (classNames is not null && classNames.Count != classes)
            throw new BackpropException($"{name}: {classes} classes need {classes} class names, found {classNames.Count}.");
        var oneHot = new double[rows * classes];
        for (int r = 0; r < rows; r++)
            oneHot[r * classes + labels[r]] = 1;
        return new Dataset(features, inputs, oneHot, classes, labels, classes, classNames, name);
    }

    private static int CheckFeatures(double[] features, int inputs, string name)
    {
        if (inputs < 1)
            throw new BackpropException($"{name}: samples need at least 1 input, got {inputs}.");
        if (features.Length == 0 || features.Length % inputs != 0)
            throw new BackpropException($"{name}: {features.Length} feature values are not a whole number (>= 1) of rows of {inputs} inputs.");
        for (int i = 0; i < features.Length; i++)
            if (!double.IsFinite(features[i]))
                throw new BackpropException($"{name}: row {i / inputs}, input {i % inputs} is {features[i]}; inputs must be finite numbers.");
        return features.Length / inputs;
    }

    /// <summary>A name for messages (e.g. the dataset or file name).</summary>
    public string Name { get; }
    public int Rows { get; }
    public int Inputs { get; }

    /// <summary>Width of a target row: the number of classes (one-hot) or of regression outputs.</summary>
    public int Outputs { get; }

    /// <summary>Number of classes; 0 for regression.</summary>
    public int Classes { get; }
    public bool IsClassification => _labels is not null;
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>All features, rows x <see cref="Inputs"/>.</summary>
    public ReadOnlySpan<double> Features => _features;

    /// <summary>All targets, rows x <see cref="Outputs"/> (one-hot rows for classification).</summary>
    public ReadOnlySpan<double> Targets => _targets;

    /// <summary>The class labels (classification only; empty for regression).</summary>
    public ReadOnlySpan<int> Labels => _labels;

    public ReadOnlySpan<double> FeatureRow(int row) => _features.AsSpan(row * Inputs, Inputs);
    public ReadOnlySpan<double> TargetRow(int row) => _targets.AsSpan(row * Outputs, Outputs);

    /// <summary>The rows <paramref name="indices"/>, in that order, as a new dataset.</summary>
    public Dataset Subset(ReadOnlySpan<int> indices, string? name = null)
    {
        var f = new double[indices.Length * Inputs];
        var t = new double[indices.Length * Outputs];
        int[]? labels = _labels is null ? null : new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            FeatureRow(indices[i]).CopyTo(f.AsSpan(i * Inputs));
            TargetRow(indices[i]).CopyTo(t.AsSpan(i * Outputs));
            if (labels is not null)
                labels[i] = _labels![indices[i]];
        }
        return new Dataset(f, Inputs, t, Outputs, labels, Classes, ClassNames, name ?? Name);
    }

    /// <summary>
    /// Splits off a validation set of about <paramref name="fraction"/> of the rows, chosen with
    /// <see cref="SplitMix64"/> seeded with <paramref name="seed"/>. For classification the split is
    /// stratified: each class gives round(fraction * its count) rows (at least one training row is kept per class),
    /// so both parts keep the class proportions. Rows keep their original order within each part.
    /// </summary>
    public (Dataset Training, Dataset Validation) Split(double fraction, long seed)
    {
        if (!(fraction > 0 && fraction < 1))
            throw new BackpropException($"The validation fraction must be between 0 and 1 (exclusive), got {fraction}.");
        var rng = new SplitMix64(SplitMix64.Derive(seed, 3));
        var isValidation = new bool[Rows];
        if (_labels is not null)
        {
            for (int c = 0; c < Classes; c++)
            {
                var rows = Enumerable.Range(0, Rows).Where(r => _labels[r] == c).ToArray();
                rng.Shuffle(rows.AsSpan());
                int take = Math.Min((int)Math.Round(fraction * rows.Length, MidpointRounding.AwayFromZero), rows.Length - 1);
                for (int i = 0; i < take; i++)
                    isValidation[rows[i]] = true;
            }
        }
        else
        {
            var rows = Enumerable.Range(0, Rows).ToArray();
            rng.Shuffle(rows.AsSpan());
            int take = Math.Min((int)Math.Round(fraction * Rows, MidpointRounding.AwayFromZero), Rows - 1);
            for (int i = 0; i < take; i++)
                isValidation[rows[i]] = true;
        }
        var val = Enumerable.Range(0, Rows).Where(r => isValidation[r]).ToArray();
        var train = Enumerable.Range(0, Rows).Where(r => !isValidation[r]).ToArray();
        if (val.Length == 0)
            throw new BackpropException($"{Name}: a validation fraction of {fraction} of {Rows} rows leaves no validation rows; use a larger fraction or more data.");
        return (Subset(train, Name + " (training part)"), Subset(val, Name + " (validation part)"));
    }

    /// <summary>The largest |x| of each input column (used to spot unscaled inputs).</summary>
    public double[] MaxAbsPerInput()
    {
        var max = new double[Inputs];
        for (int r = 0; r < Rows; r++)
            for (int i = 0; i < Inputs; i++)
                max[i] = Math.Max(max[i], Math.Abs(_features[r * Inputs + i]));
        return max;
    }
}
