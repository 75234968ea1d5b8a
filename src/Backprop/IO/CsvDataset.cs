using System.Globalization;
using System.Text;
using Backprop.Data;
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
    /// <summary>
    /// The longest line a CSV file may have: 2^22 = 4,194,304 characters (200,000 features of 20 characters). The
    /// parser holds a whole row at once, with an index entry per field, so the limit bounds what one line can take.
    /// </summary>
    public const int MaxLineChars = 1 << 22;

    /// <summary>
    /// The most fields a row may have: 2^18 = 262,144 (the parser takes about 70 bytes a field of the row it holds;
    /// IDX images may have more features, up to <see cref="DataSchema.MaxFeatures"/>). Counted as the text is read.
    /// </summary>
    public const int MaxColumns = 1 << 18;

    /// <summary>The longest class label, in characters (labels are kept, once each, as text).</summary>
    public const int MaxLabelChars = 4096;

    /// <summary>Reads <paramref name="path"/> (streamed); any problem with the file is a <see cref="BackpropException"/>.</summary>
    public static Dataset Read(string path, CsvOptions? options = null) => ReadFile(path, options).Data;

    /// <summary>Parses CSV text; <paramref name="source"/> names it in error messages.</summary>
    public static Dataset Parse(string text, CsvOptions? options = null, string source = "data") => ParseFile(text, options, source).Data;

    /// <summary>
    /// Reads <paramref name="path"/> with the schema it was read by (which columns were features, label, dropped). The
    /// file is opened once and read once (see <see cref="DataFiles.OpenInput"/>): a pipe or a device works too.
    /// </summary>
    public static DataFile ReadFile(string path, CsvOptions? options = null)
    {
        using var stream = DataFiles.OpenInput(path);
        return ReadFile(stream, options, path);
    }

    /// <summary>
    /// Reads CSV from <paramref name="stream"/>, from its current position to its end, in one pass: the delimiter is
    /// detected from the first block read, which is then parsed with the rest. <paramref name="source"/> names it in messages.
    /// </summary>
    public static DataFile ReadFile(Stream stream, CsvOptions? options, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= new CsvOptions();
        try
        {
            using var text = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
            TextReader input = text;
            char delimiter;
            if (options.Delimiter is { } d)
                delimiter = d;
            else
            {
                // The start of the file, enough for DetectDelimiter (the first non-blank line, up to 1 MiB), read in
                // 64 KiB steps until that line has ended, is then parsed with the rest.
                var buffer = new char[1 << 16];
                int n = 0;
                while (true)
                {
                    int got = text.ReadBlock(buffer, n, buffer.Length - n);
                    n += got;
                    if (got == 0 || n >= 1 << 20 || HasNonBlankLine(buffer.AsSpan(0, n)))
                        break;
                    if (n == buffer.Length)
                        Array.Resize(ref buffer, Math.Min(buffer.Length * 2, 1 << 20));
                }
                delimiter = DetectDelimiter(new string(buffer, 0, n));
                input = new PrefixedReader(buffer, n, text);
            }
            // Lines and fields are counted as the text is read, so a line without end cannot grow without bound.
            using var limited = new LineLimitReader(input, source, delimiter);
            using var reader = ReaderOptions(delimiter, source).From(limited);
            return Load(reader, options, source);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new BackpropException($"{source}: cannot read the file ({e.Message}).", e);
        }
    }

    /// <summary>True when <paramref name="text"/> holds a whole line that is not blank.</summary>
    private static bool HasNonBlankLine(ReadOnlySpan<char> text)
    {
        int start = 0;
        int end;
        while ((end = text[start..].IndexOf('\n')) >= 0)
        {
            if (!text.Slice(start, end).IsWhiteSpace())
                return true;
            start += end + 1;
        }
        return false;
    }

    /// <summary>A text reader that gives a block already read, then the rest of another reader.</summary>
    private sealed class PrefixedReader(char[] prefix, int length, TextReader rest) : TextReader
    {
        private int _at;

        public override int Peek() => _at < length ? prefix[_at] : rest.Peek();

        public override int Read() => _at < length ? prefix[_at++] : rest.Read();

        public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

        public override int Read(Span<char> buffer)
        {
            if (_at >= length)
                return rest.Read(buffer);
            int n = Math.Min(buffer.Length, length - _at);
            prefix.AsSpan(_at, n).CopyTo(buffer);
            _at += n;
            return n;
        }
    }

    /// <summary>Parses CSV text with the schema it was read by; <paramref name="source"/> names it in error messages.</summary>
    public static DataFile ParseFile(string text, CsvOptions? options = null, string source = "data")
    {
        options ??= new CsvOptions();
        char delimiter = options.Delimiter ?? DetectDelimiter(text);
        using var lines = new LineLimitReader(new StringReader(text), source, delimiter);
        using var reader = ReaderOptions(delimiter, source).From(lines);
        return Load(reader, options, source);
    }

    internal static SepReaderOptions ReaderOptions(char delimiter, string source)
    {
        if (delimiter is '"' or '\r' or '\n' || char.IsWhiteSpace(delimiter) && delimiter != '\t')
            throw new BackpropException($"{source}: '{delimiter}' cannot be the delimiter.");
        Sep sep;
        try
        {
            sep = Sep.New(delimiter);
        }
        catch (ArgumentException e)
        {
            throw new BackpropException($"{source}: '{delimiter}' cannot be the delimiter ({e.Message}).", e);
        }
        return sep.Reader(o => o with
        {
            HasHeader = false,
            DisableColCountCheck = true,
            Unescape = true,
            Trim = SepTrim.All,
            CultureInfo = CultureInfo.InvariantCulture,
        });
    }

    /// <summary>
    /// One pass over the rows: the first two non-blank rows are kept as text to decide the header and the columns,
    /// every later row is parsed straight from Sep's spans into the feature array. Labels are kept once per
    /// distinct text (with the first line it appears on), each row holding only its label's number.
    /// </summary>
    private static DataFile Load(SepReader reader, CsvOptions options, string source)
    {
        long maxValues = DataLimits.Check(options.MaxValues);
        var pending = new List<(int Line, string[] Fields)>(2);
        Layout? layout = null;
        // Filled in blocks of whole rows, which become the dataset's storage as they are (no final copy).
        FeatureBlocks.Builder? features = null;
        Labels? labels = null;
        int rows = 0;
        void StartRow(int line)
        {
            // Counted before the row's values are added: memory never passes the limit by more than one row.
            if ((long)(rows + 1) * layout!.FeatureColumns.Length > maxValues)
                throw new BackpropException(DataLimits.TooMany(source,
                    $"line {line}: row {rows + 1:N0} of {layout.FeatureColumns.Length:N0} feature(s) makes {(long)(rows + 1) * layout.FeatureColumns.Length:N0} values", maxValues));
        }
        try
        {
            foreach (var row in reader)
            {
                // Sep 0.17.1 reports the first row's LineNumberFrom as 2 (later rows are right); it starts at line 1.
                int line = row.RowIndex == 0 ? 1 : row.LineNumberFrom;
                // A quote that is never closed makes the rest of the file one field of this row (then blamed as ragged
                // rows, a text label, or too few rows to split). Quotes come in pairs in a row otherwise ("" inside a
                // quoted field is two): an odd count is that unclosed quote. Counted on the raw row, before any field
                // is read (Sep removes quotes in place as fields are read).
                var raw = row.Span;
                if (raw.Contains('"') && raw.Count('"') % 2 == 1)
                    throw new BackpropException(
                        $"{source}: line {line}: a quote (\") opens a field that is never closed, so everything after it to the end of the file "
                        + "would be one field; close the quote (a quote inside a quoted field is written twice: \"\").");
                if (row.ColCount == 1 && row[0].Span.IsWhiteSpace())
                    continue;
                if (layout is null)
                {
                    // The first two rows are kept as text (their width is bounded by LineLimitReader).
                    var fields = new string[row.ColCount];
                    for (int c = 0; c < fields.Length; c++)
                        fields[c] = row[c].ToString();
                    pending.Add((line, fields));
                    if (pending.Count < 2)
                        continue;
                    layout = Decide(pending, options, source);
                    labels = new Labels(options, layout, source);
                    features = new FeatureBlocks.Builder(layout.FeatureColumns.Length);
                    foreach (var (l, f) in pending.Skip(layout.Header ? 1 : 0))
                    {
                        layout.CheckWidth(f.Length, l);
                        StartRow(l);
                        foreach (int c in layout.FeatureColumns)
                            features.Add(ParseNumber(f[c], source, l, c, layout.Names, "feature"));
                        if (layout.Label >= 0)
                            labels.Add(f[layout.Label], l, rows + 1);
                        rows++;
                    }
                    continue;
                }
                layout.CheckWidth(row.ColCount, line);
                StartRow(line);
                foreach (int c in layout.FeatureColumns)
                {
                    // Sep's fast parser first (correctly rounded, as double.Parse); the BCL's for errors.
                    var col = row[c];
                    features!.Add(col.TryParse<double>() is double v && double.IsFinite(v)
                        ? v
                        : ParseNumber(col.Span, source, line, c, layout.Names, "feature"));
                }
                if (layout.Label >= 0)
                    labels!.Add(row[layout.Label].Span, line, rows + 1);
                rows++;
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException)
        {
            throw new BackpropException($"{source}: cannot be read as delimited text ({e.Message}).", e);
        }
        if (layout is null)
        {
            if (pending.Count == 0)
                throw new BackpropException($"{source}: the file is empty (no rows).");
            // One line, all text: a header with no rows under it (not a row whose first feature "is not a number").
            var only = pending[0].Fields;
            if (options.Header == HeaderMode.Auto && options.Columns is null && only.All(f => !IsNumber(f)))
                throw new BackpropException($"{source}: the file has a header ({Shorten(string.Join(", ", only))}) and no data rows.");
            layout = Decide(pending, options, source);
            labels = new Labels(options, layout, source);
            features = new FeatureBlocks.Builder(layout.FeatureColumns.Length);
            if (!layout.Header)
            {
                var (l, f) = pending[0];
                StartRow(l);
                foreach (int c in layout.FeatureColumns)
                    features.Add(ParseNumber(f[c], source, l, c, layout.Names, "feature"));
                if (layout.Label >= 0)
                    labels.Add(f[layout.Label], l, rows + 1);
                rows++;
            }
        }
        if (rows == 0)
            throw new BackpropException($"{source}: the file has a header ({Shorten(string.Join(", ", pending[0].Fields))}) and no data rows.");
        return Build(features!.Build(), rows, layout, labels!, options, source);
    }

    /// <summary>What the first rows decide: header or not, the width, the label and feature columns.</summary>
    private sealed class Layout(bool header, string[]? names, int width, int firstLine, int label, int[] featureColumns, int[] dropped, string source)
    {
        public bool Header => header;
        public string[]? Names => names;
        public int Label => label;
        public int[] FeatureColumns => featureColumns;
        public int[] Dropped => dropped;
        public int Width => width;

        public void CheckWidth(int fields, int line)
        {
            if (fields != width)
                throw new BackpropException(
                    $"{source}: line {line}: found {fields} fields, expected {width} as on line {firstLine} (ragged rows).");
        }
    }

    private static Layout Decide(List<(int Line, string[] Fields)> first, CsvOptions options, string source)
    {
        int width = first[0].Fields.Length;
        if (first.Count > 1 && first[1].Fields.Length != width)
            throw new BackpropException(
                $"{source}: line {first[1].Line}: found {first[1].Fields.Length} fields, expected {width} as on line {first[0].Line} (ragged rows).");
        if (options.Columns is { } schema && (schema.FeatureNames is not null || schema.FeatureColumns is not null))
            return DecideForModel(first, schema, options, source);
        bool header = options.Header switch
        {
            HeaderMode.Yes => true,
            HeaderMode.No => false,
            _ => first.Count > 1 && DetectHeader(first[0].Fields, first[1].Fields),
        };
        string[]? names = header ? first[0].Fields : null;
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
        return new Layout(header, names, width, first[0].Line, label, featureColumns,
            Enumerable.Range(0, width).Where(c => drop[c]).ToArray(), source);
    }

    /// <summary>
    /// The columns of a model's schema in this file: by header name when the schema has names and the file a header
    /// (any order, other columns ignored), by position otherwise (the file as wide as the training file, or one
    /// column narrower when it lacks the label column).
    /// </summary>
    private static Layout DecideForModel(List<(int Line, string[] Fields)> first, DataSchema schema, CsvOptions options, string source)
    {
        int width = first[0].Fields.Length;
        var row0 = first[0].Fields;
        bool header = options.Header switch
        {
            HeaderMode.Yes => true,
            HeaderMode.No => false,
            _ => (schema.FeatureNames is { } n && n.All(name => row0.Contains(name, StringComparer.Ordinal)))
                 || (first.Count > 1 && DetectHeader(row0, first[1].Fields)),
        };
        string[]? names = header ? row0 : null;
        int[] features;
        int label = -1;
        if (schema.FeatureNames is { } want && names is not null)
        {
            features = new int[want.Count];
            for (int j = 0; j < want.Count; j++)
            {
                int found = -1;
                for (int c = 0; c < names.Length; c++)
                {
                    if (!string.Equals(names[c], want[j], StringComparison.Ordinal))
                        continue;
                    if (found >= 0)
                        throw new BackpropException($"{source}: the header names columns {found} and {c} \"{Shorten(want[j])}\" alike; the model's column must be unique.");
                    found = c;
                }
                if (found < 0)
                    throw new BackpropException(
                        $"{source}: has no column \"{Shorten(want[j])}\", which the model was trained on; the header has {Shorten(string.Join(", ", names))}.");
                features[j] = found;
            }
            if (schema.Target is { } target)
                label = Array.FindIndex(names, c => string.Equals(c, target, StringComparison.Ordinal));
            if (label < 0 && options.RequireLabels)
                throw new BackpropException(schema.Target is null
                    ? $"{source}: the model does not know its label column's name; this command needs the labels."
                    : $"{source}: has no label column \"{Shorten(schema.Target)}\" (the model's target); the header has {Shorten(string.Join(", ", names))}.");
        }
        else if (schema.FeatureColumns is { } positions && schema.FileColumns is { } fileWidth)
        {
            if (width == fileWidth)
            {
                features = [.. positions];
                label = schema.TargetColumn ?? -1;
            }
            else if (schema.TargetColumn is { } t && width == fileWidth - 1)
            {
                if (options.RequireLabels)
                    throw new BackpropException(
                        $"{source}: has {width} columns, one fewer than the model's training file ({fileWidth}): the label column {t} is missing, and this command needs the labels.");
                features = positions.Select(p => p > t ? p - 1 : p).ToArray();
            }
            else
                throw new BackpropException(
                    $"{source}: has {width} column(s)"
                    + (schema.TargetColumn is not null ? $", that is {width - 1} feature(s) besides a label column," : "")
                    + $" but the model takes {schema.Features} feature(s): it was trained on a file of {fileWidth} column(s)"
                    + (schema.TargetColumn is { } tc ? $" ({fileWidth - 1} without its label column {tc})" : "")
                    + (schema.FeatureNames is not null ? "; give the file a header with the model's column names, or the same columns in the same order." : "; give it the same columns in the same order."));
        }
        else
            throw new BackpropException($"{source}: has no header, and the model knows its columns only by name ({Shorten(string.Join(", ", schema.FeatureNames!))}); add the header line.");
        var dropped = Enumerable.Range(0, width).Where(c => c != label && !features.Contains(c)).ToArray();
        return new Layout(header, names, width, first[0].Line, label, features, dropped, source);
    }

    /// <summary>
    /// Each row's label as the index of its distinct text, with the first line each text appears on. At most
    /// <see cref="Dataset.MaxClasses"/> distinct labels (by <see cref="ClassKey"/>) are kept as text: past that the
    /// column cannot be classes, so it is refused at once, or, when it may be a regression target (the task is not
    /// classification and every label so far is a number), read from then on as numbers (8 bytes a row). Memory is
    /// thus bounded by the rows, not by the labels' text.
    /// </summary>
    private sealed class Labels
    {
        private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
        private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
        private readonly CsvOptions _options;
        private readonly Layout _layout;
        private readonly string _source;
        private readonly TaskKind? _task;
        private ChunkedBuffer<int>? _rows = new();

        public Labels(CsvOptions options, Layout layout, string source)
        {
            _options = options;
            _layout = layout;
            _source = source;
            // The task when it does not depend on the labels: a model's, given classes (classification), --task.
            _task = options.Columns?.Task ?? (options.Classes is not null ? TaskKind.Classification : options.Task);
            if (_task == TaskKind.Regression)
                Values = new ChunkedBuffer<double>();
        }

        public List<string> Distinct { get; } = [];
        public List<int> FirstLine { get; } = [];

        /// <summary>Each row's index into <see cref="Distinct"/> (null once the labels are read as numbers).</summary>
        public int[] TakeRows() => _rows!.ToArray();

        /// <summary>Each row's label as a number, once they are read as numbers (a regression target), else null.</summary>
        public ChunkedBuffer<double>? Values { get; private set; }

        public void Add(ReadOnlySpan<char> text, int line, int row)
        {
            if (Values is not null)
            {
                Values.Add(Number(text, line, row));
                return;
            }
            var lookup = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
            if (!lookup.TryGetValue(text, out int id))
                id = New(text.ToString(), line, row);
            if (Values is not null)
                Values.Add(Number(text, line, row));
            else
                _rows!.Add(id);
        }

        public void Add(string text, int line, int row) => Add(text.AsSpan(), line, row);

        private double Number(ReadOnlySpan<char> text, int line, int row)
        {
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v))
                return v;
            if (_task is null)
                throw TooManyClasses(line, row, $"and line {line} holds \"{Shorten(text.ToString())}\", which is not a number, so the column cannot be a regression target either");
            return ParseNumber(text, _source, line, _layout.Label, _layout.Names, "target");
        }

        private int New(string text, int line, int row)
        {
            if (text.Length > MaxLabelChars && _task != TaskKind.Regression)
                throw new BackpropException(
                    $"{_source}: line {line}, {Column(_layout.Label, _layout.Names)}: the label is {text.Length:N0} characters long, more than the {MaxLabelChars:N0} a label may be.");
            int id = Distinct.Count;
            _ids.Add(text, id);
            Distinct.Add(text);
            FirstLine.Add(line);
            if (_keys.Add(ClassKey(text)) && _keys.Count > Dataset.MaxClasses)
                Overflow(line, row);
            return id;
        }

        /// <summary>More distinct labels than a classifier may have classes.</summary>
        private void Overflow(int line, int row)
        {
            if (_task == TaskKind.Classification)
            {
                if ((_options.Columns is { Task: TaskKind.Classification } m ? m.ClassNames : _options.Classes) is { } given)
                {
                    // Given classes: some label so far is not one of them; name the first.
                    var known = given.Select(ClassKey).ToHashSet(StringComparer.Ordinal);
                    for (int i = 0; i < Distinct.Count; i++)
                        if (Distinct[i].Length > 0 && !known.Contains(ClassKey(Distinct[i])))
                            throw new BackpropException(
                                $"{_source}: line {FirstLine[i]}, {Column(_layout.Label, _layout.Names)}: label \"{Shorten(ClassKey(Distinct[i]))}\" is not one of the classes ({Shorten(string.Join(", ", given))}).");
                }
                throw TooManyClasses(line, row, null);
            }
            var numbers = new double[Distinct.Count];
            for (int i = 0; i < numbers.Length; i++)
                if (!double.TryParse(Distinct[i], NumberStyles.Float, CultureInfo.InvariantCulture, out numbers[i]) || !double.IsFinite(numbers[i]))
                    throw TooManyClasses(line, row, null);
            // Every label so far is a number: a regression target (the auto rule gives regression past 20 distinct
            // whole numbers). From here on each row keeps its value, not a distinct text.
            Values = new ChunkedBuffer<double>();
            foreach (int id in _rows!.ToArray())
                Values.Add(numbers[id]);
            _rows = null;
            _ids.Clear();
            _keys.Clear();
        }

        private BackpropException TooManyClasses(int line, int row, string? why)
        {
            int distinct = Math.Max(_keys.Count, Dataset.MaxClasses + 1);
            bool numbers = why is null && Distinct.All(d => double.TryParse(d, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v));
            return new BackpropException(
                $"{_source}: {Column(_layout.Label, _layout.Names)} holds more than {Dataset.MaxClasses} distinct labels ({distinct:N0} by line {line}, row {row:N0}), "
                + $"more than the {Dataset.MaxClasses} classes a classifier may have"
                + (why is null ? "" : $", {why}")
                + ": "
                + (distinct * 2 > row
                    ? "nearly a value per row, as an identifier has; choose the real label with --label-column (or drop the identifier with --drop-columns)"
                    : "choose the label column with --label-column")
                + (numbers ? ", or use --task regression if it is a number to predict" : "")
                + ".");
        }
    }

    private static DataFile Build(FeatureBlocks features, int n, Layout layout, Labels labels, CsvOptions options, string source)
    {
        int m = layout.FeatureColumns.Length;
        var names = layout.Names;
        var featureNames = names is null ? null : layout.FeatureColumns.Select(c => names[c]).ToArray();
        int label = layout.Label;
        var model = options.Columns;
        DataSchema Schema(TaskKind task, IReadOnlyList<string> classes) => new()
        {
            Task = task,
            ClassNames = classes,
            Features = m,
            FeatureNames = featureNames,
            FeatureColumns = layout.FeatureColumns,
            Target = label >= 0 ? names?[label] : null,
            TargetColumn = label >= 0 ? label : null,
            DroppedColumns = layout.Dropped.Select(c => names?[c] ?? c.ToString(CultureInfo.InvariantCulture)).ToArray(),
            FileColumns = layout.Width,
            SourceFormat = "csv",
        };
        if (label < 0)
        {
            var task0 = model?.Task ?? options.Task ?? TaskKind.Classification;
            var classes0 = task0 == TaskKind.Classification ? model?.ClassNames ?? options.Classes ?? [] : [];
            return new DataFile(Dataset.Unlabelled(features, m, source, featureNames, task0, classes0), Schema(task0, classes0));
        }
        string? targetName = names?[label];
        if (labels.Values is { } numbers)
            return new DataFile(Dataset.Regression(features, m, numbers.ToArray(), 1, source, featureNames, targetName), Schema(TaskKind.Regression, []));
        var rowIds = labels.TakeRows();
        var task = model?.Task ?? DecideTask(options, labels.Distinct);
        if (task == TaskKind.Regression)
        {
            var distinctValues = new double[labels.Distinct.Count];
            for (int i = 0; i < distinctValues.Length; i++)
                distinctValues[i] = ParseNumber(labels.Distinct[i], source, labels.FirstLine[i], label, names, "target");
            var values = new double[n];
            for (int r = 0; r < n; r++)
                values[r] = distinctValues[rowIds[r]];
            return new DataFile(Dataset.Regression(features, m, values, 1, source, featureNames, targetName), Schema(task, []));
        }

        var keys = new string[labels.Distinct.Count];
        for (int i = 0; i < keys.Length; i++)
        {
            if (labels.Distinct[i].Length == 0)
                throw NotNumeric(new BackpropException($"{source}: line {labels.FirstLine[i]}, {Column(label, names)}: the label is missing."));
            keys[i] = ClassKey(labels.Distinct[i]);
        }
        IReadOnlyList<string>? given = model is { Task: TaskKind.Classification } ? model.ClassNames : options.Classes;
        IReadOnlyList<string> classes;
        if (given is not null)
            classes = given;
        else
        {
            // At most Dataset.MaxClasses: Labels refuses a column with more while reading it.
            var distinct = keys.Distinct(StringComparer.Ordinal).ToArray();
            classes = OrderClasses(distinct);
        }
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < classes.Count; i++)
            if (!index.TryAdd(ClassKey(classes[i]), i) && given is not null)
                throw new BackpropException(
                    $"{source}: the classes given{(model is not null ? " (the model's)" : "")} name one label twice: \"{Shorten(classes[index[ClassKey(classes[i])]])}\" and \"{Shorten(classes[i])}\" "
                    + "(labels are compared as whole numbers where they are ones: 01, 1.0 and 1 are all 1).");
        var classOf = new int[keys.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            if (!index.TryGetValue(keys[i], out classOf[i]))
                throw new BackpropException(
                    $"{source}: line {labels.FirstLine[i]}, {Column(label, names)}: label \"{Shorten(keys[i])}\" is not one of the classes ({Shorten(string.Join(", ", classes))}).");
        }
        var y = rowIds;
        for (int r = 0; r < n; r++)
            y[r] = classOf[rowIds[r]];
        return new DataFile(Dataset.Classification(features, m, y, classes.Count, classes, source, featureNames, targetName), Schema(task, classes));
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

    internal static bool DetectHeader(string[] a, string[] b)
    {
        for (int c = 0; c < a.Length; c++)
            if (!IsNumber(a[c]) && a[c].Length > 0 && IsNumber(b[c]))
                return true;
        return false;
    }

    // Any number, finite or not: "1e400" under a header is a number too large (an error about that value), not text.
    private static bool IsNumber(string s) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

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

    internal static int ResolveColumn(string spec, int width, string[]? names, string source, string option)
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

    internal static TaskKind DecideTask(CsvOptions options, List<string> distinctLabels)
    {
        if (options.Classes is not null)
            return TaskKind.Classification;
        if (options.Task is { } task)
            return task;
        var distinct = new HashSet<double>();
        foreach (string s in distinctLabels)
        {
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                return TaskKind.Classification;
            if (v != Math.Floor(v) || Math.Abs(v) >= 1e15)
                return TaskKind.Regression;
            distinct.Add(v);
        }
        return distinct.Count <= CsvOptions.MaxAutoClasses ? TaskKind.Classification : TaskKind.Regression;
    }

    private static double ParseNumber(ReadOnlySpan<char> s, string source, int line, int column, string[]? names, string what)
    {
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
        {
            if (double.IsFinite(v))
                return v;
            throw new BackpropException($"{source}: line {line}, {Column(column, names)}: the {what} is \"{Shorten(s.ToString())}\"; expected a finite number.");
        }
        if (s.Length == 0 || s is "?" or "NA" or "N/A" or "na" or "n/a" or "null" or "NULL")
            throw NotNumeric(new BackpropException($"{source}: line {line}, {Column(column, names)}: missing value{(s.Length == 0 ? "" : $" \"{s}\"")}; expected a number (fill or drop missing values first)."));
        var message = $"{source}: line {line}, {Column(column, names)}: the {what} \"{Shorten(s.ToString())}\" is not a number.";
        throw what == "feature" ? NotNumeric(new BackpropException(message)) : new BackpropException(message);
    }

    /// <summary>The <see cref="Exception.Data"/> key that marks an error of a CSV the numeric reader cannot take as it is.</summary>
    internal const string NotNumericKey = "backprop.not-numeric";

    /// <summary>
    /// Marks <paramref name="e"/> as "not a numeric CSV" (a feature that is not a number, a missing value, a missing
    /// label): <see cref="TableFiles"/> then reads the file as a table with column kinds instead.
    /// </summary>
    private static BackpropException NotNumeric(BackpropException e)
    {
        e.Data[NotNumericKey] = true;
        return e;
    }

    /// <summary>True for an error of <see cref="NotNumeric"/>.</summary>
    internal static bool IsNotNumeric(Exception e) => e.Data.Contains(NotNumericKey);

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
