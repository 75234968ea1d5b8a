using Backprop.Data;

namespace Backprop.IO;

/// <summary>Whether the first row of a CSV file holds column names.</summary>
public enum HeaderMode
{
    /// <summary>Detect it: see <see cref="CsvDataset"/> for the rule.</summary>
    Auto,
    /// <summary>The first row is a header.</summary>
    Yes,
    /// <summary>Every row is data.</summary>
    No,
}

/// <summary>How to read a CSV/TSV file into a <see cref="Dataset"/> (the CLI's --header, --label-column, ... options).</summary>
public sealed record CsvOptions
{
    /// <summary>Whether the first row is a header.</summary>
    public HeaderMode Header { get; init; } = HeaderMode.Auto;

    /// <summary>The field separator, or null to detect comma, semicolon or tab from the first row.</summary>
    public char? Delimiter { get; init; }

    /// <summary>
    /// The target column: <c>first</c>, <c>last</c> (default), a 0-based INDEX into the file's columns as they
    /// are (before any is dropped), a column NAME from the header, or <c>none</c> for unlabelled data.
    /// </summary>
    public string LabelColumn { get; init; } = "last";

    /// <summary>Columns to ignore: 0-based indices into the file's columns, or header names. A whole number is an index.</summary>
    public IReadOnlyList<string> DropColumns { get; init; } = [];

    /// <summary>Classification, regression, or null to decide from the label column's values (see <see cref="CsvDataset"/>).</summary>
    public TaskKind? Task { get; init; }

    /// <summary>
    /// The classes to map labels onto (e.g. a model's classes when reading its test data), or null to take
    /// them from the file. With classes given the task is classification and an unknown label is an error.
    /// </summary>
    public IReadOnlyList<string>? Classes { get; init; }

    /// <summary>
    /// The columns a model takes (its schema): when set, the features are exactly these columns in this order, by
    /// header name when the schema and the file both have names, by position otherwise; the label column is the
    /// schema's; <see cref="LabelColumn"/> and <see cref="DropColumns"/> are not used, and other columns are ignored.
    /// </summary>
    public DataSchema? Columns { get; init; }

    /// <summary>With <see cref="Columns"/>: whether the label column must be present (evaluate) or may be absent (predict).</summary>
    public bool RequireLabels { get; init; } = true;

    /// <summary>
    /// The most feature values (rows x feature columns) the file may hold, or null for <see cref="DataLimits.MaxValues"/>
    /// (2^27 unless the environment variable BACKPROP_MAX_VALUES says otherwise). Counted while reading: a file with more
    /// is refused at the row that passes the limit. Also applies to IDX files read through <see cref="DataFiles"/>.
    /// </summary>
    public long? MaxValues { get; init; }

    /// <summary>Columns to read as categorical whatever inference says (names or 0-based indices; --categorical).</summary>
    public IReadOnlyList<string> Categorical { get; init; } = [];

    /// <summary>Columns to read as numbers (--numeric); a value that is not a number is then missing, and counted.</summary>
    public IReadOnlyList<string> Numeric { get; init; } = [];

    /// <summary>Columns to read as dates (--date); a value that is not a date is then missing, and counted.</summary>
    public IReadOnlyList<string> Date { get; init; } = [];

    /// <summary>Columns to treat as text/identifiers (--text): dropped.</summary>
    public IReadOnlyList<string> Text { get; init; } = [];

    /// <summary>The spellings of a missing value (--missing), or null for <see cref="TableSettings.DefaultMissing"/>.</summary>
    public IReadOnlyList<string>? Missing { get; init; }

    /// <summary>True when a column kind is given (the file is then read as a table, whatever its values).</summary>
    public bool HasKinds => Categorical.Count + Numeric.Count + Date.Count + Text.Count > 0 || Missing is not null;

    /// <summary>Auto task rule: numeric labels that are all whole numbers with at most this many distinct values are classes.</summary>
    public const int MaxAutoClasses = 20;
}
