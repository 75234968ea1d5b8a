using System.Globalization;

namespace Backprop.Data;

/// <summary>
/// One raw column as the model reads it, with what was fitted on the training rows: a numeric or boolean column's
/// median (and whether it has a missing indicator), a categorical column's categories (and "other", "missing"), a
/// date column's parts.
/// </summary>
public sealed record EncodedColumn
{
    /// <summary>The column's name in the training file.</summary>
    public required string Name { get; init; }

    /// <summary>Its 0-based position in the training file.</summary>
    public required int Position { get; init; }

    /// <summary>Numeric, Boolean, Categorical or Date.</summary>
    public required ColumnKind Kind { get; init; }

    /// <summary>The value a missing number (or a missing date's year) is replaced by: the training rows' median.</summary>
    public double Median { get; init; }

    /// <summary>True when a 0/1 "missing" feature follows the value (the training rows had missing values here).</summary>
    public bool Indicator { get; init; }

    /// <summary>The categories with a one-hot feature each, in feature order.</summary>
    public IReadOnlyList<string> Categories { get; init; } = [];

    /// <summary>True when an "other" feature follows the categories (rare training categories were folded into it).</summary>
    public bool Other { get; init; }

    /// <summary>True when a "missing" feature follows (the training rows had missing values here).</summary>
    public bool MissingCategory { get; init; }

    /// <summary>A date column's cyclic parts after the year: month, weekday, yearday, time (each a sine and a cosine).</summary>
    public IReadOnlyList<string> DateParts { get; init; } = [];

    /// <summary>How many features the column becomes.</summary>
    public int Width => Kind switch
    {
        ColumnKind.Numeric or ColumnKind.Boolean => 1 + (Indicator ? 1 : 0),
        ColumnKind.Categorical => Categories.Count + (Other ? 1 : 0) + (MissingCategory ? 1 : 0),
        ColumnKind.Date => 1 + 2 * DateParts.Count + (Indicator ? 1 : 0),
        _ => 0,
    };

    /// <summary>The names of its features.</summary>
    public IEnumerable<string> FeatureNames()
    {
        switch (Kind)
        {
            case ColumnKind.Numeric or ColumnKind.Boolean:
                yield return Name;
                if (Indicator)
                    yield return Name + " (missing)";
                break;
            case ColumnKind.Categorical:
                foreach (string c in Categories)
                    yield return $"{Name}={c}";
                if (Other)
                    yield return Name + "=(other)";
                if (MissingCategory)
                    yield return Name + "=(missing)";
                break;
            case ColumnKind.Date:
                yield return Name + ":year";
                foreach (string p in DateParts)
                {
                    yield return $"{Name}:{p} sin";
                    yield return $"{Name}:{p} cos";
                }
                if (Indicator)
                    yield return Name + " (missing)";
                break;
        }
    }
}

/// <summary>What encoding a table found at predict time: values treated as missing because they were unseen or would not parse.</summary>
public sealed class EncodeCounts
{
    /// <summary>Per column: categories not seen in training (treated as missing).</summary>
    public Dictionary<string, int> Unseen { get; } = new(StringComparer.Ordinal);

    /// <summary>Per column: values that would not parse as the column's kind (treated as missing).</summary>
    public Dictionary<string, int> Unparsable { get; } = new(StringComparer.Ordinal);

    /// <summary>Rows skipped because their label was missing.</summary>
    public int SkippedRows { get; set; }

    /// <summary>True when nothing was counted.</summary>
    public bool IsEmpty => Unseen.Count == 0 && Unparsable.Count == 0 && SkippedRows == 0;

    internal void Count(Dictionary<string, int> d, string column) => d[column] = d.GetValueOrDefault(column) + 1;

    /// <summary>One line per kind of count, for a note.</summary>
    public IEnumerable<string> Describe()
    {
        if (SkippedRows > 0)
            yield return $"{SkippedRows} row(s) with a missing label were skipped";
        foreach (var (c, n) in Unseen.OrderBy(p => p.Key, StringComparer.Ordinal))
            yield return $"{n} value(s) of \"{c}\" not seen in training were treated as missing";
        foreach (var (c, n) in Unparsable.OrderBy(p => p.Key, StringComparer.Ordinal))
            yield return $"{n} value(s) of \"{c}\" that are not of its kind were treated as missing";
    }
}

/// <summary>
/// The fitted encoding of a table (docs/data.md, "Encoding"): each used raw column to its numeric features. Fitted
/// on the training rows only; the model owns it (<c>Model&lt;T&gt;.Table</c>) and its file stores it, so every
/// entry point turns raw values into the network's inputs the same way. Missing values: numbers and booleans take
/// the training median and a 0/1 indicator (when the training rows had missing values), categories a "missing"
/// feature; an unseen category or an unparsable value is treated as missing and counted, never an error.
/// </summary>
public sealed class TablePipeline
{
    /// <summary>The missing-value spellings the pipeline was fitted with.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>The raw columns it reads, in feature order.</summary>
    public IReadOnlyList<EncodedColumn> Columns { get; }

    /// <summary>The features it makes (the network's inputs before scaling).</summary>
    public int Width { get; }

    /// <summary>The features' names.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>A pipeline of <paramref name="columns"/> with <paramref name="missing"/> spellings (as stored in a model file).</summary>
    public TablePipeline(IReadOnlyList<EncodedColumn> columns, IReadOnlyList<string> missing)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(missing);
        Columns = [.. columns];
        Missing = [.. missing];
        Width = Columns.Sum(c => c.Width);
        FeatureNames = Columns.SelectMany(c => c.FeatureNames()).ToArray();
    }

    /// <summary>
    /// Fits the encoders of the <paramref name="profiles"/> columns that are used (numeric, boolean, categorical,
    /// date) on the rows <paramref name="trainRows"/> of <paramref name="table"/>.
    /// </summary>
    public static TablePipeline Fit(RawTable table, IReadOnlyList<ColumnProfile> profiles, IReadOnlyList<int> trainRows, TableSettings settings)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(profiles);
        ArgumentNullException.ThrowIfNull(trainRows);
        ArgumentNullException.ThrowIfNull(settings);
        var columns = new List<EncodedColumn>();
        foreach (var p in profiles)
        {
            var values = table.Column(p.Index);
            var basis = new EncodedColumn { Name = p.Name, Position = p.Index, Kind = p.Kind };
            switch (p.Kind)
            {
                case ColumnKind.Numeric or ColumnKind.Boolean:
                {
                    var present = new List<double>(trainRows.Count);
                    foreach (int r in trainRows)
                        if (ParseValue(basis, values[r], settings.Missing) is { } x)
                            present.Add(x);
                    columns.Add(basis with { Median = Median(present), Indicator = present.Count < trainRows.Count });
                    break;
                }
                case ColumnKind.Categorical:
                {
                    var counts = new Dictionary<string, int>(StringComparer.Ordinal);
                    bool missing = false;
                    foreach (int r in trainRows)
                    {
                        if (TableInference.IsMissing(values[r], settings.Missing))
                            missing = true;
                        else
                        {
                            string key = TableInference.CategoryKey(values[r]!);
                            counts[key] = counts.GetValueOrDefault(key) + 1;
                        }
                    }
                    var ordered = counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).ToList();
                    var kept = ordered.Where(kv => kv.Value >= settings.MinCategoryRows).Take(settings.MaxCategories)
                        .Select(kv => kv.Key).OrderBy(k => k, StringComparer.Ordinal).ToArray();
                    columns.Add(basis with { Categories = kept, Other = kept.Length < ordered.Count, MissingCategory = missing });
                    break;
                }
                case ColumnKind.Date:
                {
                    var years = new List<double>();
                    var seen = new HashSet<int>[4] { [], [], [], [] };
                    foreach (int r in trainRows)
                    {
                        if (TableInference.IsMissing(values[r], settings.Missing) || !TableInference.TryDate(values[r], out var d))
                            continue;
                        years.Add(d.Year);
                        seen[0].Add(d.Month);
                        seen[1].Add((int)d.DayOfWeek);
                        seen[2].Add(d.DayOfYear);
                        seen[3].Add((int)d.TimeOfDay.TotalSeconds);
                    }
                    // A part that never varies on the training rows carries nothing: it is left out. So is the weekday
                    // when the day of the year never varies (dates that stand for a year, 1970-01-01): it is then only
                    // a function of the year.
                    string[] names = ["month", "weekday", "yearday", "time"];
                    var parts = names.Where((_, i) => seen[i].Count > 1 && (i != 1 || seen[2].Count > 1)).ToArray();
                    columns.Add(basis with { Median = Median(years), Indicator = years.Count < trainRows.Count, DateParts = parts });
                    break;
                }
            }
        }
        return new TablePipeline(columns, settings.Missing);
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0)
            return 0;
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    /// <summary>A numeric or boolean column's value, or null when missing or unparsable.</summary>
    private static double? ParseValue(EncodedColumn c, string? s, IReadOnlyList<string> missing)
    {
        if (TableInference.IsMissing(s, missing))
            return null;
        if (c.Kind == ColumnKind.Boolean)
            return TableInference.TryBoolean(s, out double b) ? b : RawTable.TryNumber(s, out double bn) ? bn : null;
        return RawTable.TryNumber(s!.Trim(), out double v) ? v : null;
    }

    /// <summary>
    /// For each of <see cref="Columns"/>, its position in a table with <paramref name="names"/> (by name); a column the
    /// table lacks is a <see cref="BackpropException"/> naming <paramref name="source"/>, the column and what the model expects.
    /// </summary>
    public int[] Map(IReadOnlyList<string> names, string source, bool byPosition = false)
    {
        ArgumentNullException.ThrowIfNull(names);
        var map = new int[Columns.Count];
        for (int j = 0; j < Columns.Count; j++)
        {
            var c = Columns[j];
            int found = -1;
            if (byPosition)
                found = c.Position < names.Count ? c.Position : -1;
            else
                for (int i = 0; i < names.Count; i++)
                    if (string.Equals(names[i], c.Name, StringComparison.Ordinal))
                    {
                        if (found >= 0)
                            throw new BackpropException($"{source}: the columns {found} and {i} are both called \"{RawTable.Shorten(c.Name)}\"; the model's column must be unique.");
                        found = i;
                    }
            if (found < 0)
                throw new BackpropException(
                    $"{source}: has no column \"{RawTable.Shorten(c.Name)}\", which the model was trained on ({TableInference.NameOf(c.Kind)}); "
                    + $"the file has {RawTable.Shorten(string.Join(", ", names))}.");
            map[j] = found;
        }
        return map;
    }

    /// <summary>
    /// Encodes one row: <paramref name="value"/>(j) is the raw value of <see cref="Columns"/>[j] (null: absent).
    /// Unseen categories and unparsable values are treated as missing and counted in <paramref name="counts"/>.
    /// </summary>
    public void Encode(Func<int, string?> value, Span<double> output, EncodeCounts? counts = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (output.Length != Width)
            throw new ArgumentException($"The pipeline makes {Width} features, the output has room for {output.Length}.", nameof(output));
        int at = 0;
        for (int j = 0; j < Columns.Count; j++)
        {
            var c = Columns[j];
            string? s = value(j);
            bool missing = TableInference.IsMissing(s, Missing);
            switch (c.Kind)
            {
                case ColumnKind.Numeric or ColumnKind.Boolean:
                {
                    double? x = missing ? null : ParseValue(c, s, Missing);
                    if (x is null && !missing)
                        counts?.Count(counts.Unparsable, c.Name);
                    output[at++] = x ?? c.Median;
                    if (c.Indicator)
                        output[at++] = x is null ? 1 : 0;
                    break;
                }
                case ColumnKind.Categorical:
                {
                    var slots = output.Slice(at, c.Width);
                    slots.Clear();
                    int k = -1;
                    if (!missing)
                    {
                        string key = TableInference.CategoryKey(s!);
                        k = BinarySearch(c.Categories, key);
                        if (k < 0)
                        {
                            // Unseen (counted): "other" when training folded rare categories into it, else treated as missing.
                            counts?.Count(counts.Unseen, c.Name);
                            if (c.Other)
                                k = c.Categories.Count;
                            else
                                missing = true;
                        }
                    }
                    if (missing && c.MissingCategory)
                        k = c.Categories.Count + (c.Other ? 1 : 0);
                    if (k >= 0)
                        slots[k] = 1;
                    at += c.Width;
                    break;
                }
                case ColumnKind.Date:
                {
                    DateTime d = default;
                    bool ok = !missing && TableInference.TryDate(s, out d);
                    if (!ok && !missing)
                        counts?.Count(counts.Unparsable, c.Name);
                    output[at++] = ok ? d.Year : c.Median;
                    foreach (string p in c.DateParts)
                    {
                        double angle = !ok ? double.NaN : p switch
                        {
                            "month" => 2 * Math.PI * (d.Month - 1) / 12,
                            "weekday" => 2 * Math.PI * (int)d.DayOfWeek / 7,
                            "yearday" => 2 * Math.PI * (d.DayOfYear - 1) / 366,
                            _ => 2 * Math.PI * d.TimeOfDay.TotalSeconds / 86400,
                        };
                        output[at++] = ok ? Math.Sin(angle) : 0;
                        output[at++] = ok ? Math.Cos(angle) : 0;
                    }
                    if (c.Indicator)
                        output[at++] = ok ? 0 : 1;
                    break;
                }
            }
        }
    }

    private static int BinarySearch(IReadOnlyList<string> sorted, string key)
    {
        int lo = 0, hi = sorted.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            int cmp = string.CompareOrdinal(sorted[mid], key);
            if (cmp == 0)
                return mid;
            if (cmp < 0)
                lo = mid + 1;
            else
                hi = mid - 1;
        }
        return -1;
    }

    /// <summary>Encodes <paramref name="rows"/> of <paramref name="table"/> (its columns found by <paramref name="map"/>), row-major.</summary>
    public double[] Encode(RawTable table, IReadOnlyList<int> map, IReadOnlyList<int> rows, EncodeCounts? counts = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(rows);
        var features = new double[(long)rows.Count * Width];
        for (int i = 0; i < rows.Count; i++)
        {
            int r = rows[i];
            Encode(j => table[r, map[j]], features.AsSpan(i * Width, Width), counts);
        }
        return features;
    }

    /// <summary>The encoding as text, one line per column, for <c>explain</c> and the schema table.</summary>
    public IEnumerable<string> Describe()
    {
        var inv = CultureInfo.InvariantCulture;
        foreach (var c in Columns)
        {
            string detail = c.Kind switch
            {
                ColumnKind.Numeric or ColumnKind.Boolean => $"missing -> median {c.Median.ToString("G6", inv)}" + (c.Indicator ? " + indicator" : ""),
                ColumnKind.Categorical => $"one-hot [{string.Join(", ", c.Categories)}]" + (c.Other ? " + other" : "") + (c.MissingCategory ? " + missing" : ""),
                ColumnKind.Date => $"year (missing -> {c.Median.ToString("G6", inv)})" + string.Concat(c.DateParts.Select(p => $", {p} sin/cos")) + (c.Indicator ? " + indicator" : ""),
                _ => "",
            };
            yield return $"{c.Name} ({TableInference.NameOf(c.Kind)}): {detail} -> {c.Width} feature(s)";
        }
    }
}
