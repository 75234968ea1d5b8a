using System.Globalization;
using System.Text;
using nietras.SeparatedValues;

namespace Backprop.IO;

/// <summary>
/// Reads CSV / TSV files into a <see cref="Dataset"/> (parsing by Sep). The rules (docs/data.md):
/// <list type="bullet">
/// <item>Delimiter: unless given, the one of comma, semicolon and tab that occurs most often (outside quotes) in the
/// first non-blank line; ties go to comma, then semicolon, then tab; none of them means one column.</item>
/// <item>Header (auto): the first non-blank row is a header when some column holds a non-number there and a
/// number in the next non-blank row. A file whose columns are all text needs <see cref="HeaderMode.Yes"/>.</item>
/// <item>Blank lines (empty or only spaces) are skipped anywhere, e.g. a trailing one. Fields are trimmed; quoted fields
/// (RFC 4180, "" for a quote) may hold the delimiter.</item>
/// <item>Every row must have as many fields as the first. Every feature must be a finite number in invariant
/// culture (1.5, -2e-3); empty, ?, NA are missing values, and those, NaN, Inf and text are errors naming the line and column.</item>
/// <item>Task (auto): classification when some label is not a number, or every label is a whole number and there are
/// at most <see cref="CsvOptions.MaxAutoClasses"/> distinct labels; otherwise regression.</item>
/// <item>Classes: whole-number labels are written canonically ("01" and "1.0" are class "1") and ordered by value;
/// other labels are ordered by ordinal string comparison.</item>
/// </list>
/// Column numbers in options and messages are 0-based indices into the file's columns as they are.
/// </summary>
public static class CsvDataset
{
    /// <summary>Reads <paramref name="path"/>; any problem with the file is a <see cref="BackpropException"/>.</summary>
    public static Dataset Read(string path, CsvOptions? options = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new BackpropException($"{path}: cannot read the file ({e.Message}).", e);
        }
        return Parse(text, options, path);
    }

    /// <summary>Parses CSV text; <paramref name="source"/> names it in error messages.</summary>
    public static Dataset Parse(string text, CsvOptions? options = null, string source = "data")
    {
        options ??= new CsvOptions();
        char delimiter = options.Delimiter ?? DetectDelimiter(text);
        if (delimiter is '"' or '\r' or '\n' || char.IsWhiteSpace(delimiter) && delimiter != '\t')
            throw new BackpropException($"{source}: '{delimiter}' cannot be the delimiter.");

        var rows = ReadRows(text, delimiter, source);
        if (rows.Count == 0)
            throw new BackpropException($"{source}: the file is empty (no rows).");

        int width = rows[0].Fields.Length;
        foreach (var row in rows)
            if (row.Fields.Length != width)
                throw new BackpropException(
                    $"{source}: line {row.Line}: found {row.Fields.Length} fields, expected {width} as on line {rows[0].Line} (ragged rows).");

        bool header = options.Header switch
        {
            HeaderMode.Yes => true,
            HeaderMode.No => false,
            _ => DetectHeader(rows),
        };
        string[]? names = header ? rows[0].Fields : null;
        int first = header ? 1 : 0;
        if (rows.Count - first == 0)
            throw new BackpropException($"{source}: the file has a header but no data rows.");

        int label = ResolveLabel(options.LabelColumn, width, names, source);
        var drop = new bool[width];
        foreach (string d in options.DropColumns)
        {
            int c = ResolveColumn(d, width, names, source, "--drop-columns");
            if (c == label)
                throw new BackpropException($"{source}: column {c} is the label column and cannot be dropped.");
            drop[c] = true;
        }
        var featureColumns = Enumerable.Range(0, width).Where(c => c != label && !drop[c]).ToArray();
        if (featureColumns.Length == 0)
            throw new BackpropException($"{source}: no feature columns are left (the file has {width} column(s)).");

        int n = rows.Count - first;
        int m = featureColumns.Length;
        var features = new double[(long)n * m];
        for (int r = 0; r < n; r++)
        {
            var row = rows[first + r];
            for (int j = 0; j < m; j++)
            {
                int c = featureColumns[j];
                features[(long)r * m + j] = ParseNumber(row.Fields[c], source, row.Line, c, names, "feature");
            }
        }
        var featureNames = names is null ? null : featureColumns.Select(c => names[c]).ToArray();
        string? targetName = names is not null && label >= 0 ? names[label] : null;

        if (label < 0)
        {
            var task0 = options.Task == TaskMode.Regression ? TaskKind.Regression : TaskKind.Classification;
            var classes0 = task0 == TaskKind.Classification ? options.Classes ?? [] : [];
            return new Dataset(features, n, m, task0, [], [], classes0, featureNames, null, source);
        }

        var task = DecideTask(options, rows, first, label);
        if (task == TaskKind.Regression)
        {
            var values = new double[n];
            for (int r = 0; r < n; r++)
            {
                var row = rows[first + r];
                values[r] = ParseNumber(row.Fields[label], source, row.Line, label, names, "target");
            }
            return new Dataset(features, n, m, task, [], values, [], featureNames, targetName, source);
        }

        var keys = new string[n];
        for (int r = 0; r < n; r++)
        {
            var row = rows[first + r];
            string raw = row.Fields[label];
            if (raw.Length == 0)
                throw new BackpropException($"{source}: line {row.Line}, {Column(label, names)}: the label is missing.");
            keys[r] = ClassKey(raw);
        }
        IReadOnlyList<string> classes;
        if (options.Classes is { } given)
        {
            classes = given;
        }
        else
        {
            classes = OrderClasses(keys.Distinct(StringComparer.Ordinal));
        }
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < classes.Count; i++)
            index.TryAdd(ClassKey(classes[i]), i);
        var labels = new int[n];
        for (int r = 0; r < n; r++)
        {
            if (!index.TryGetValue(keys[r], out labels[r]))
                throw new BackpropException(
                    $"{source}: line {rows[first + r].Line}, {Column(label, names)}: label \"{Shorten(keys[r])}\" is not one of the classes ({Shorten(string.Join(", ", classes))}).");
        }
        return new Dataset(features, n, m, task, labels, [], classes, featureNames, targetName, source);
    }

    /// <summary>The canonical form of a class label: whole numbers as plain integers ("01", "1.0" -> "1"), other text trimmed.</summary>
    public static string ClassKey(string label)
    {
        string t = label.Trim();
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
            && double.IsFinite(v) && v == Math.Floor(v) && Math.Abs(v) < 1e15)
            return ((long)v).ToString(CultureInfo.InvariantCulture);
        return t;
    }

    /// <summary>Sorts class keys: by value when all are whole numbers, otherwise ordinally.</summary>
    public static string[] OrderClasses(IEnumerable<string> keys)
    {
        var list = keys.ToArray();
        if (list.All(k => long.TryParse(k, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)))
            return list.OrderBy(k => long.Parse(k, CultureInfo.InvariantCulture)).ToArray();
        return list.OrderBy(k => k, StringComparer.Ordinal).ToArray();
    }

    /// <summary>Comma, semicolon or tab: whichever occurs most often outside quotes in the first non-blank line.</summary>
    public static char DetectDelimiter(string text)
    {
        int start = 0;
        while (start < text.Length)
        {
            int end = text.IndexOf('\n', start);
            if (end < 0)
                end = text.Length;
            var line = text.AsSpan(start, end - start);
            if (!line.IsWhiteSpace())
            {
                int comma = 0, semicolon = 0, tab = 0;
                bool quoted = false;
                foreach (char ch in line)
                {
                    if (ch == '"')
                        quoted = !quoted;
                    else if (!quoted)
                    {
                        if (ch == ',') comma++;
                        else if (ch == ';') semicolon++;
                        else if (ch == '\t') tab++;
                    }
                }
                if (comma >= semicolon && comma >= tab)
                    return ',';
                return semicolon >= tab ? ';' : '\t';
            }
            start = end + 1;
        }
        return ',';
    }

    private sealed record Row(int Line, string[] Fields);

    private static List<Row> ReadRows(string text, char delimiter, string source)
    {
        var rows = new List<Row>();
        try
        {
            using var reader = Sep.New(delimiter).Reader(o => o with
            {
                HasHeader = false,
                DisableColCountCheck = true,
                Unescape = true,
                Trim = SepTrim.All,
                CultureInfo = CultureInfo.InvariantCulture,
            }).FromText(text);
            foreach (var row in reader)
            {
                if (row.ColCount == 1 && row[0].Span.IsWhiteSpace())
                    continue;
                var fields = new string[row.ColCount];
                for (int c = 0; c < fields.Length; c++)
                    fields[c] = row[c].ToString();
                // Sep 0.17.1 reports the first row's LineNumberFrom as 2 (later rows are right); it starts at line 1.
                rows.Add(new Row(row.RowIndex == 0 ? 1 : row.LineNumberFrom, fields));
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or NotSupportedException)
        {
            throw new BackpropException($"{source}: cannot be read as delimited text ({e.Message}).", e);
        }
        return rows;
    }

    private static bool DetectHeader(List<Row> rows)
    {
        if (rows.Count < 2)
            return false;
        var a = rows[0].Fields;
        var b = rows[1].Fields;
        for (int c = 0; c < a.Length; c++)
            if (!IsNumber(a[c]) && a[c].Length > 0 && IsNumber(b[c]))
                return true;
        return false;
    }

    private static bool IsNumber(string s) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v);

    private static int ResolveLabel(string spec, int width, string[]? names, string source)
    {
        string s = spec.Trim();
        if (s.Equals("last", StringComparison.OrdinalIgnoreCase))
            return width - 1;
        if (s.Equals("first", StringComparison.OrdinalIgnoreCase))
            return 0;
        if (s.Equals("none", StringComparison.OrdinalIgnoreCase))
            return -1;
        return ResolveColumn(s, width, names, source, "--label-column");
    }

    private static int ResolveColumn(string spec, int width, string[]? names, string source, string option)
    {
        string s = spec.Trim();
        if (int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int index))
        {
            if (index < 0 || index >= width)
                throw new BackpropException(
                    $"{source}: {option} {index}: no such column; the file has {width} column(s), numbered 0 to {width - 1}.");
            return index;
        }
        if (names is null)
            throw new BackpropException(
                $"{source}: {option} \"{Shorten(s)}\": a column name needs a header row, and this file has none (use a 0-based index, or --header yes).");
        int found = -1;
        for (int c = 0; c < names.Length; c++)
        {
            if (!string.Equals(names[c], s, StringComparison.Ordinal))
                continue;
            if (found >= 0)
                throw new BackpropException($"{source}: {option} \"{Shorten(s)}\": the header names columns {found} and {c} alike; use an index.");
            found = c;
        }
        if (found < 0)
            throw new BackpropException(
                $"{source}: {option} \"{Shorten(s)}\": no such column; the header has {Shorten(string.Join(", ", names))}.");
        return found;
    }

    private static TaskKind DecideTask(CsvOptions options, List<Row> rows, int first, int label)
    {
        if (options.Classes is not null || options.Task == TaskMode.Classification)
            return TaskKind.Classification;
        if (options.Task == TaskMode.Regression)
            return TaskKind.Regression;
        var distinct = new HashSet<double>();
        for (int r = first; r < rows.Count; r++)
        {
            string s = rows[r].Fields[label];
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                return TaskKind.Classification;
            if (v != Math.Floor(v) || Math.Abs(v) >= 1e15)
                return TaskKind.Regression;
            distinct.Add(v);
        }
        return distinct.Count <= CsvOptions.MaxAutoClasses ? TaskKind.Classification : TaskKind.Regression;
    }

    private static double ParseNumber(string s, string source, int line, int column, string[]? names, string what)
    {
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
        {
            if (double.IsFinite(v))
                return v;
            throw new BackpropException($"{source}: line {line}, {Column(column, names)}: the {what} is \"{Shorten(s)}\"; expected a finite number.");
        }
        if (s.Length == 0 || s is "?" or "NA" or "N/A" or "na" or "n/a" or "null" or "NULL")
            throw new BackpropException($"{source}: line {line}, {Column(column, names)}: missing value{(s.Length == 0 ? "" : $" \"{s}\"")}; expected a number (fill or drop missing values first).");
        throw new BackpropException($"{source}: line {line}, {Column(column, names)}: the {what} \"{Shorten(s)}\" is not a number.");
    }

    private static string Column(int c, string[]? names) =>
        names is null ? $"column {c}" : $"column {c} (\"{Shorten(names[c])}\")";

    /// <summary>Text for messages: at most 60 characters, control characters shown as '?'.</summary>
    internal static string Shorten(string s)
    {
        var sb = new StringBuilder(Math.Min(s.Length, 64));
        foreach (char ch in s.Length > 60 ? s[..57] : s)
            sb.Append(char.IsControl(ch) ? '?' : ch);
        if (s.Length > 60)
            sb.Append("...");
        return sb.ToString();
    }
}
