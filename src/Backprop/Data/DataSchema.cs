namespace Backprop.Data;

/// <summary>
/// What a model expects of a raw row and what its outputs mean: the task, the class names in output order, the
/// feature columns (their names when the training file had a header, their positions in that file), the label
/// column and the columns that were dropped. A model file stores it, so that <c>predict</c>, <c>evaluate</c> and
/// every other reader of new data match columns exactly as training did: by name when the file has a header
/// (in any order, extra columns ignored), by position otherwise.
/// </summary>
public sealed record DataSchema
{
    /// <summary>Bound on the feature columns a schema may describe (bounds what loading a model allocates).</summary>
    public const int MaxFeatures = 1 << 20;

    /// <summary>Classification or regression.</summary>
    public required TaskKind Task { get; init; }

    /// <summary>Class names in the order of the network's outputs (empty for regression).</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = [];

    /// <summary>Number of feature columns (the network's inputs after preprocessing).</summary>
    public required int Features { get; init; }

    /// <summary>Names of the feature columns in the model's input order, when the training file had a header.</summary>
    public IReadOnlyList<string>? FeatureNames { get; init; }

    /// <summary>0-based positions of the feature columns in the training file (its columns as they were), when known.</summary>
    public IReadOnlyList<int>? FeatureColumns { get; init; }

    /// <summary>Name of the target (label) column, when the training file had a header.</summary>
    public string? Target { get; init; }

    /// <summary>0-based position of the target column in the training file, when known.</summary>
    public int? TargetColumn { get; init; }

    /// <summary>Columns of the training file that were ignored: their names (with a header) or positions.</summary>
    public IReadOnlyList<string> DroppedColumns { get; init; } = [];

    /// <summary>Number of columns of the training file (features, target and dropped ones), when known.</summary>
    public int? FileColumns { get; init; }

    /// <summary>How the training data was read: <c>csv</c>, <c>idx</c> (images), or null for data given in memory.</summary>
    public string? SourceFormat { get; init; }

    /// <summary>Number of classes (0 for regression).</summary>
    public int ClassCount => Task == TaskKind.Classification ? ClassNames.Count : 0;

    /// <summary>The schema of a model built for <paramref name="features"/> inputs and no known columns.</summary>
    public static DataSchema For(TaskKind task, int features, IReadOnlyList<string>? classNames = null) => new()
    {
        Task = task,
        Features = features,
        ClassNames = task == TaskKind.Classification ? [.. classNames ?? []] : [],
    };

    /// <summary>The name of feature <paramref name="index"/> for messages: its header name, or "input N".</summary>
    public string FeatureName(int index) =>
        FeatureNames is { } names && index < names.Count ? names[index] : $"input {index}";

    /// <summary>
    /// Checks that the parts fit together (counts, distinct names, positions inside the file); throws
    /// <see cref="BackpropException"/> naming the first problem, prefixed by <paramref name="source"/>.
    /// </summary>
    public void Validate(string source)
    {
        if (Features < 1 || Features > MaxFeatures)
            throw new BackpropException($"{source}: a schema needs 1 to {MaxFeatures} features, found {Features}.");
        if (Task == TaskKind.Classification && ClassNames.Count > 0)
        {
            Dataset.CheckClassCount(ClassNames.Count, source);
            if (ClassNames.Distinct(StringComparer.Ordinal).Count() != ClassNames.Count)
                throw new BackpropException($"{source}: the class names must be distinct.");
        }
        if (Task == TaskKind.Regression && ClassNames.Count > 0)
            throw new BackpropException($"{source}: a regression model has no class names.");
        if (FeatureNames is { } names)
        {
            if (names.Count != Features)
                throw new BackpropException($"{source}: {names.Count} feature names for {Features} features.");
            var dup = names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
            if (dup is not null)
                throw new BackpropException($"{source}: the feature name \"{dup.Key}\" appears twice.");
        }
        if (FeatureColumns is { } columns)
        {
            if (columns.Count != Features)
                throw new BackpropException($"{source}: {columns.Count} feature positions for {Features} features.");
            if (FileColumns is not { } width)
                throw new BackpropException($"{source}: feature positions need the file's column count.");
            var seen = new HashSet<int>();
            foreach (int c in columns)
                if (c < 0 || c >= width || !seen.Add(c) || c == TargetColumn)
                    throw new BackpropException($"{source}: feature position {c} is not a distinct column 0..{width - 1} other than the target's.");
        }
        if (TargetColumn is { } t && (t < 0 || FileColumns is not { } w || t >= w))
            throw new BackpropException($"{source}: the target position {t} is not a column of the file.");
        if (FileColumns is { } fc && (fc < 1 || fc > MaxFeatures + 1 + DroppedColumns.Count))
            throw new BackpropException($"{source}: {fc} file columns is out of range.");
    }
}
