using System.Globalization;

namespace Backprop.Data;

/// <summary>What a column of a table holds, inferred from its values (docs/data.md, "Column kinds") or given.</summary>
public enum ColumnKind
{
    /// <summary>Numbers: used as they are, missing values imputed with the training median plus a missing indicator.</summary>
    Numeric,
    /// <summary>Two values (true/false, yes/no): one 0/1 feature, imputed as a number.</summary>
    Boolean,
    /// <summary>A few distinct values: one-hot, rare ones folded into "other", missing ones into "missing".</summary>
    Categorical,
    /// <summary>Dates or times: expanded into the year and cyclic month, day of week, day of year (and time of day).</summary>
    Date,
    /// <summary>Free text or an identifier (about a value per row): dropped, as it teaches nothing that carries to new rows.</summary>
    Text,
    /// <summary>Not used (every value missing, or named by --ignore / --drop-columns).</summary>
    Ignored,
}

/// <summary>A table as read, before any encoding: named columns of text, each row's source line for messages.</summary>
public sealed class RawTable
{
    private readonly string?[][] _columns;
    private readonly int[] _lines;

    /// <summary>A table of <paramref name="columns"/> (column-major; null is an absent value, as JSON's null).</summary>
    /// <param name="name">The file, for messages.</param>
    /// <param name="columnNames">One name per column (a headerless CSV's columns are named by their 0-based index).</param>
    /// <param name="columns">Each column's values, all of the same length.</param>
    /// <param name="lines">Each row's line (CSV) or record number (JSON, Parquet), for messages; null: 1, 2, ...</param>
    /// <param name="format">csv, json or parquet.</param>
    /// <param name="hasHeader">False for a CSV without a header: its columns are matched by position.</param>
    public RawTable(string name, IReadOnlyList<string> columnNames, string?[][] columns, int[]? lines, string format, bool hasHeader = true)
    {
        ArgumentNullException.ThrowIfNull(columnNames);
        ArgumentNullException.ThrowIfNull(columns);
        if (columnNames.Count != columns.Length)
            throw new ArgumentException("One name per column.", nameof(columnNames));
        int rows = columns.Length == 0 ? 0 : columns[0].Length;
        if (columns.Any(c => c.Length != rows))
            throw new ArgumentException("Every column needs the same number of rows.", nameof(columns));
        Name = name;
        ColumnNames = [.. columnNames];
        _columns = columns;
        _lines = lines ?? Enumerable.Range(1, rows).ToArray();
        Format = format;
        HasHeader = hasHeader;
        Rows = rows;
    }

    /// <summary>The file, for messages.</summary>
    public string Name { get; }

    /// <summary>csv, json or parquet.</summary>
    public string Format { get; }

    /// <summary>False for a CSV without a header line (columns named "0", "1", ...).</summary>
    public bool HasHeader { get; }

    /// <summary>The columns' names in file order.</summary>
    public IReadOnlyList<string> ColumnNames { get; }

    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>Number of columns.</summary>
    public int Columns => _columns.Length;

    /// <summary>The value at <paramref name="row"/>, <paramref name="column"/> as read (null: absent).</summary>
    public string? this[int row, int column] => _columns[column][row];

    /// <summary>A column's values.</summary>
    public IReadOnlyList<string?> Column(int column) => _columns[column];

    /// <summary>The line (or record number) row <paramref name="row"/> came from.</summary>
    public int Line(int row) => _lines[row];

    /// <summary>The word for <see cref="Line"/> in messages: "line" for CSV, "record" otherwise.</summary>
    public string LineWord => Format == "csv" ? "line" : "record";

    /// <summary>The column called <paramref name="name"/> (ordinal), or -1.</summary>
    public int IndexOf(string name)
    {
        for (int c = 0; c < ColumnNames.Count; c++)
            if (string.Equals(ColumnNames[c], name, StringComparison.Ordinal))
                return c;
        return -1;
    }

    /// <summary>"column 2 ("Island")" for messages.</summary>
    public string Describe(int column) => HasHeader
        ? $"column {column} (\"{Shorten(ColumnNames[column])}\")"
        : $"column {column}";

    internal static string Shorten(string s)
    {
        var sb = new System.Text.StringBuilder(Math.Min(s.Length, 64));
        foreach (char ch in s.Length > 60 ? s[..57] : s)
            sb.Append(char.IsControl(ch) ? '?' : ch);
        if (s.Length > 60)
            sb.Append("...");
        return sb.ToString();
    }

    /// <summary>A number in invariant culture ("1.5", "-2e-3"); false for anything else, including NaN and infinities.</summary>
    public static bool TryNumber(string? s, out double value) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
}
