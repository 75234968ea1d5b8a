using System.Globalization;

namespace Backprop.Data;

/// <summary>How a table's columns are read and encoded: overrides of the inferred kinds, missing-value spellings, category limits.</summary>
public sealed record TableSettings
{
    /// <summary>The spellings of a missing value (besides an absent one), compared after trimming, ignoring case.</summary>
    public static readonly IReadOnlyList<string> DefaultMissing = ["", "NA", "N/A", "NaN", "null", "?", "."];

    /// <summary>The missing-value spellings (default <see cref="DefaultMissing"/>).</summary>
    public IReadOnlyList<string> Missing { get; init; } = DefaultMissing;

    /// <summary>Kinds given by column name (a headerless CSV's columns are named "0", "1", ...); they win over inference.</summary>
    public IReadOnlyDictionary<string, ColumnKind> Kinds { get; init; } = new Dictionary<string, ColumnKind>();

    /// <summary>A category seen on fewer training rows than this is folded into "other" (default 5).</summary>
    public int MinCategoryRows { get; init; } = 5;

    /// <summary>The most categories a column one-hot encodes (the most frequent; the rest are "other"; default 50).</summary>
    public int MaxCategories { get; init; } = 50;
}

/// <summary>What inference found in one column: its kind, its missing and distinct values, and why.</summary>
/// <param name="Index">0-based position in the file.</param>
/// <param name="Name">The column's name.</param>
/// <param name="Kind">The kind it will be read as.</param>
/// <param name="Missing">Rows whose value is missing.</param>
/// <param name="Distinct">Distinct values that are not missing (counted up to <see cref="TableInference.MaxDistinctCounted"/>).</param>
/// <param name="Unparsable">Values that do not parse as the kind (read as missing).</param>
/// <param name="Given">True when an option or the API gave the kind.</param>
/// <param name="Why">The rule that decided, for the schema table.</param>
public sealed record ColumnProfile(int Index, string Name, ColumnKind Kind, int Missing, int Distinct, int Unparsable, bool Given, string Why);

/// <summary>
/// Infers each column's kind from its values (the rules, with their thresholds, are in docs/data.md, "Column kinds"):
/// numbers are numeric (whole numbers with 3 or 4 distinct values are codes: categorical; a column where at least
/// <see cref="NumericShare"/> of the values are numbers is numeric, the rest read as missing); ISO dates are dates;
/// true/false or yes/no is boolean; other text is categorical, unless it has about a value per row (more than
/// <see cref="TextShare"/> of its rows distinct, from <see cref="MinRowsForText"/> rows) or more than
/// <see cref="MaxCategoricalDistinct"/> distinct values: then it is text (a name, an identifier) and dropped.
/// </summary>
public static class TableInference
{
    /// <summary>The share of non-missing values that must be numbers for a column to be numeric: 0.95.</summary>
    public const double NumericShare = 0.95;

    /// <summary>More than this share of distinct values (of the non-missing ones) makes text a text/identifier column: 0.5.</summary>
    public const double TextShare = 0.5;

    /// <summary>The fewest non-missing values for the text rule to apply: 20.</summary>
    public const int MinRowsForText = 20;

    /// <summary>More distinct values than this make a column text, whatever the rows: 1000.</summary>
    public const int MaxCategoricalDistinct = 1000;

    /// <summary>Distinct values are counted up to this (past it the count is "more than").</summary>
    public const int MaxDistinctCounted = 100_000;

    /// <summary>The date and time formats a date column may use (invariant culture, exactly these).</summary>
    public static readonly string[] DateFormats =
    [
        "yyyy-MM-dd", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-ddTHH:mm:ssK", "yyyy-MM-ddTHH:mm:ss.FFFFFFF", "yyyy-MM-ddTHH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-ddTHH:mm", "yyyy/MM/dd", "yyyy/MM/dd HH:mm:ss",
    ];

    private static readonly HashSet<string> TrueWords = new(StringComparer.OrdinalIgnoreCase) { "true", "yes", "y", "t" };
    private static readonly HashSet<string> FalseWords = new(StringComparer.OrdinalIgnoreCase) { "false", "no", "n", "f" };

    /// <summary>True when <paramref name="value"/> is missing: absent, or one of <paramref name="spellings"/> once trimmed (ignoring case).</summary>
    public static bool IsMissing(string? value, IReadOnlyList<string> spellings)
    {
        if (value is null)
            return true;
        var t = value.AsSpan().Trim();
        foreach (string s in spellings)
            if (t.Equals(s.AsSpan().Trim(), StringComparison.OrdinalIgnoreCase))
                return true;
        return false;
    }

    /// <summary>A date or time in one of <see cref="DateFormats"/> (invariant culture; times with an offset are taken to UTC).</summary>
    public static bool TryDate(string? s, out DateTime value) =>
        DateTime.TryParseExact(s?.Trim(), DateFormats, CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out value);

    /// <summary>true/yes/y/t is 1, false/no/n/f is 0 (ignoring case); 1 and 0 as numbers too.</summary>
    public static bool TryBoolean(string? s, out double value)
    {
        string t = s?.Trim() ?? "";
        if (TrueWords.Contains(t) || t == "1") { value = 1; return true; }
        if (FalseWords.Contains(t) || t == "0") { value = 0; return true; }
        value = 0;
        return false;
    }

    /// <summary>The category a value stands for: trimmed, a whole number written as a plain integer ("01", "1.0" are "1").</summary>
    public static string CategoryKey(string value)
    {
        string t = value.Trim();
        if (RawTable.TryNumber(t, out double v))
            return v == Math.Floor(v) && Math.Abs(v) < 1e15 ? ((long)v).ToString(CultureInfo.InvariantCulture) : v.ToString("R", CultureInfo.InvariantCulture);
        return t;
    }

    /// <summary>Profiles every column except <paramref name="label"/> (and <paramref name="ignored"/> ones, reported as ignored).</summary>
    public static IReadOnlyList<ColumnProfile> Profile(RawTable table, TableSettings settings, int label, ISet<int>? ignored = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(settings);
        var result = new List<ColumnProfile>();
        for (int c = 0; c < table.Columns; c++)
        {
            if (c == label)
                continue;
            string name = table.ColumnNames[c];
            if (ignored?.Contains(c) == true)
            {
                result.Add(new ColumnProfile(c, name, ColumnKind.Ignored, 0, 0, 0, true, "ignored by option"));
                continue;
            }
            ColumnKind? given = settings.Kinds.TryGetValue(name, out var k) ? k : null;
            result.Add(ProfileColumn(table, c, settings, given));
        }
        return result;
    }

    private static ColumnProfile ProfileColumn(RawTable table, int c, TableSettings settings, ColumnKind? given)
    {
        int missing = 0, numbers = 0, whole = 0, dates = 0, booleanWords = 0;
        var distinct = new HashSet<string>(StringComparer.Ordinal);
        bool capped = false;
        var values = table.Column(c);
        for (int r = 0; r < values.Count; r++)
        {
            string? v = values[r];
            if (IsMissing(v, settings.Missing))
            {
                missing++;
                continue;
            }
            string t = v!.Trim();
            if (RawTable.TryNumber(t, out double x))
            {
                numbers++;
                if (x == Math.Floor(x))
                    whole++;
            }
            else if (TryDate(t, out _))
                dates++;
            else if (TrueWords.Contains(t) || FalseWords.Contains(t))
                booleanWords++;
            if (!capped)
            {
                distinct.Add(CategoryKey(t));
                capped = distinct.Count >= MaxDistinctCounted;
            }
        }
        int n = values.Count - missing;
        int d = distinct.Count;
        string Share(int count) => n == 0 ? "0%" : (count * 100.0 / n).ToString("0.#", CultureInfo.InvariantCulture) + "%";
        if (given is { } kind)
        {
            int bad = kind switch
            {
                ColumnKind.Numeric => n - numbers,
                ColumnKind.Date => n - dates,
                ColumnKind.Boolean => n - booleanWords - values.Count(v => !IsMissing(v, settings.Missing) && v!.Trim() is "0" or "1"),
                _ => 0,
            };
            return new ColumnProfile(c, table.ColumnNames[c], kind, missing, d, bad, true, "given by option");
        }
        if (n == 0)
            return new ColumnProfile(c, table.ColumnNames[c], ColumnKind.Ignored, missing, 0, 0, false, "every value is missing");
        if (numbers == n && whole == n && d is 3 or 4)
            return new ColumnProfile(c, table.ColumnNames[c], ColumnKind.Categorical, missing, d, 0, false, $"{d} distinct whole numbers: codes");
        if (numbers >= NumericShare * n)
            return new ColumnProfile(c, table.ColumnNames[c], ColumnKind.Numeric, missing, d, n - numbers, false,
                numbers == n ? "every value is a number" : $"{Share(numbers)} numbers; the rest read as missing");
        if (dates == n)
            return new ColumnProfile(c, table.ColumnNames[c], ColumnKind.Date, missing, d, 0, false, "every value is an ISO date");
        if (booleanWords == n && d <= 2)
            return new ColumnProfile(c, table.ColumnNames[c], ColumnKind.Boolean, missing, d, 0, false, "true/false or yes/no");
        if (d > MaxCategoricalDistinct || (n >= MinRowsForText && d > TextShare * n))
            return new ColumnProfile(c, table.ColumnNames[c], ColumnKind.Text, missing, d, 0, false,
                $"{(capped ? "more than " : "")}{d} distinct values in {n} rows: a name or identifier; dropped (it teaches nothing that carries to new rows; --categorical to one-hot it)");
        return new ColumnProfile(c, table.ColumnNames[c], ColumnKind.Categorical, missing, d, 0, false, $"text with {d} distinct values");
    }

    /// <summary>The name of a kind in options, files and the schema table: numeric, boolean, categorical, date, text, ignored.</summary>
    public static string NameOf(ColumnKind kind) => kind switch
    {
        ColumnKind.Numeric => "numeric",
        ColumnKind.Boolean => "boolean",
        ColumnKind.Categorical => "categorical",
        ColumnKind.Date => "date",
        ColumnKind.Text => "text",
        ColumnKind.Ignored => "ignored",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown column kind."),
    };

    /// <summary>Parses a name from <see cref="NameOf"/>; null when unknown.</summary>
    public static ColumnKind? ParseKind(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "numeric" => ColumnKind.Numeric,
        "boolean" => ColumnKind.Boolean,
        "categorical" => ColumnKind.Categorical,
        "date" => ColumnKind.Date,
        "text" => ColumnKind.Text,
        "ignored" => ColumnKind.Ignored,
        _ => null,
    };
}
