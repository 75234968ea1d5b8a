using System.Globalization;
using System.Text;
using Backprop.Data;

namespace Backprop.IO;

/// <summary>A table read from a file, with its label column and each other column's inferred (or given) kind.</summary>
/// <param name="Table">The raw values.</param>
/// <param name="Label">The label column's index (-1: none).</param>
/// <param name="Profiles">Every other column: its kind and why.</param>
/// <param name="Settings">The kinds given, the missing spellings, the category limits.</param>
public sealed record TableFile(RawTable Table, int Label, IReadOnlyList<ColumnProfile> Profiles, TableSettings Settings);

/// <summary>A table ready to train on: the encoded rows, the fitted pipeline, and what was counted on the way.</summary>
/// <param name="Data">Every row with a label, encoded (the network's inputs before scaling).</param>
/// <param name="Schema">The schema a model trained on it records.</param>
/// <param name="Pipeline">The encoding, fitted on the training rows only.</param>
/// <param name="Counts">Rows skipped for a missing label.</param>
public sealed record PreparedTable(Dataset Data, DataSchema Schema, TablePipeline Pipeline, EncodeCounts Counts);

/// <summary>
/// A table's labelled rows (<see cref="TableFiles.Label"/>), before any encoding is fitted: what a split or the folds
/// of a cross-validation are made of, so that each split's encoding can be fitted on its own training rows.
/// </summary>
public sealed class LabelledTable
{
    internal LabelledTable(TableFile file, IReadOnlyList<int> rows, Dataset labels, EncodeCounts counts)
    {
        File = file;
        Rows = rows;
        Labels = labels;
        Counts = counts;
    }

    /// <summary>The table and its column kinds.</summary>
    public TableFile File { get; }

    /// <summary>The table rows that have a label, ascending: row i of <see cref="Labels"/> is table row Rows[i].</summary>
    public IReadOnlyList<int> Rows { get; }

    /// <summary>The labels (classes or targets) of <see cref="Rows"/>, with one placeholder feature: for splits and folds.</summary>
    public Dataset Labels { get; }

    /// <summary>Rows skipped for a missing label.</summary>
    public EncodeCounts Counts { get; }

    /// <summary>
    /// Fits the encoding on <paramref name="trainRows"/> (indices into <see cref="Rows"/>, as a split of
    /// <see cref="Labels"/> gives them) and nothing else: the medians, categories and date parts of the other rows never
    /// reach it. Every labelled row is encoded, in <see cref="Rows"/> order.
    /// </summary>
    public PreparedTable Fit(IReadOnlyList<int> trainRows)
    {
        ArgumentNullException.ThrowIfNull(trainRows);
        var table = File.Table;
        var used = File.Profiles.Where(p => p.Kind is not (ColumnKind.Text or ColumnKind.Ignored)).ToArray();
        var pipeline = TablePipeline.Fit(table, used, trainRows.Select(i => Rows[i]).ToArray(), File.Settings);
        var map = pipeline.Columns.Select(c => c.Position).ToArray();
        var features = pipeline.Encode(table, map, Rows);
        string? target = table.HasHeader ? table.ColumnNames[File.Label] : null;
        var data = Labels.IsClassification
            ? Dataset.Classification(features, pipeline.Width, Labels.Labels.ToArray(), Labels.ClassCount, Labels.ClassNames, table.Name, pipeline.FeatureNames, target)
            : Dataset.Regression(features, pipeline.Width, Labels.Targets.ToArray(), 1, table.Name, pipeline.FeatureNames, target);
        var schema = new DataSchema
        {
            Task = Labels.IsClassification ? TaskKind.Classification : TaskKind.Regression,
            ClassNames = Labels.IsClassification ? Labels.ClassNames : [],
            Features = pipeline.Width,
            FeatureNames = pipeline.FeatureNames,
            Target = target,
            TargetColumn = File.Label,
            DroppedColumns = File.Profiles.Where(p => p.Kind is ColumnKind.Text or ColumnKind.Ignored).Select(p => p.Name).ToArray(),
            FileColumns = table.Columns,
            SourceFormat = table.Format,
        };
        return new PreparedTable(data, schema, pipeline, Counts);
    }
}

/// <summary>
/// Reads tables with column kinds (docs/data.md, "Tables"): CSV/TSV whose columns are not all numbers, JSON and JSON
/// lines. Each column's kind is inferred (<see cref="TableInference"/>) or given (<see cref="CsvOptions.Categorical"/>
/// and the others); <see cref="Prepare"/> fits the encoding on the training rows of a split.
/// </summary>
public static class TableFiles
{
    /// <summary>
    /// Reads a data file for training: a numeric CSV (or IDX) exactly as <see cref="DataFiles.Read(string, string?, CsvOptions?)"/>
    /// reads it (the same dataset, so the same model as before), anything else as a table. One of the two results is null.
    /// </summary>
    public static (DataFile? Numeric, TableFile? Table) Read(string path, string? labelsPath, CsvOptions? options = null)
    {
        options ??= new CsvOptions();
        using var input = DataFiles.OpenInput(path);
        if (labelsPath is not null || !options.HasKinds && LooksLikeCsv(input, path))
        {
            try
            {
                return (DataFiles.Read(input, path, labelsPath, options), null);
            }
            catch (BackpropException e) when (CsvDataset.IsNotNumeric(e))
            {
                // Text, dates or missing values: read as a table below.
                input.Seek(0, SeekOrigin.Begin);
            }
        }
        return (null, ReadTable(input, path, options));
    }

    /// <summary>True when the stream is neither JSON nor Parquet (left at its start): CSV, or IDX for the numeric reader.</summary>
    private static bool LooksLikeCsv(Stream input, string path) => Sniff(input, path) is "csv" or "idx";

    /// <summary>"json", "parquet", "idx" or "csv", from the first bytes (the stream is left at its start).</summary>
    internal static string Sniff(Stream input, string path)
    {
        try
        {
            Span<byte> head = stackalloc byte[64];
            int got = input.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            input.Seek(0, SeekOrigin.Begin);
            var h = head[..got];
            if (h.Length >= 4 && h[..4].SequenceEqual("PAR1"u8))
                return "parquet";
            if ((h.Length >= 2 && h[0] == 0x1F && h[1] == 0x8B) || (h.Length >= 3 && h[0] == 0 && h[1] == 0 && h[2] == 0x08))
                return "idx";
            int i = 0;
            if (h.Length >= 3 && h[0] == 0xEF && h[1] == 0xBB && h[2] == 0xBF)
                i = 3;
            while (i < h.Length && h[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
                i++;
            return i < h.Length && h[i] is (byte)'[' or (byte)'{' ? "json" : "csv";
        }
        catch (Exception e) when (e is IOException or NotSupportedException)
        {
            throw new BackpropException($"{path}: cannot read the file ({e.Message}).", e);
        }
    }

    /// <summary>Reads <paramref name="path"/> as a table (CSV, JSON or JSON lines), its kinds inferred or given.</summary>
    public static TableFile ReadTable(string path, CsvOptions? options = null)
    {
        using var input = DataFiles.OpenInput(path);
        return ReadTable(input, path, options ?? new CsvOptions());
    }

    /// <summary>Reads the raw table from <paramref name="input"/> (its format sniffed) and profiles its columns.</summary>
    public static TableFile ReadTable(Stream input, string source, CsvOptions options)
    {
        var table = ReadRaw(input, source, options);
        return Profile(table, options);
    }

    /// <summary>The raw values of <paramref name="input"/>: JSON (an array of records, or JSON lines), Parquet or CSV (sniffed).</summary>
    public static RawTable ReadRaw(Stream input, string source, CsvOptions options, IReadOnlyList<string>? expectNames = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Sniff(input, source) switch
        {
            "json" => JsonTable.Read(input, source, DataLimits.Check(options.MaxValues)),
            "parquet" => ParquetTable.Read(input, source, DataLimits.Check(options.MaxValues)),
            "idx" => throw new BackpropException($"{source}: is an IDX (or gzip) file, not a table; IDX images have no columns to infer."),
            _ => CsvTable.Read(input, source, options, expectNames),
        };
    }

    /// <summary>Finds the label column and profiles the others (kinds given by <paramref name="options"/> win).</summary>
    public static TableFile Profile(RawTable table, CsvOptions options)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(options);
        string[]? names = table.HasHeader ? [.. table.ColumnNames] : null;
        int width = table.Columns;
        string spec = options.LabelColumn.Trim();
        int label = spec.Equals("last", StringComparison.OrdinalIgnoreCase) ? width - 1
            : spec.Equals("first", StringComparison.OrdinalIgnoreCase) ? 0
            : spec.Equals("none", StringComparison.OrdinalIgnoreCase) ? -1
            : CsvDataset.ResolveColumn(spec, width, names, table.Name, "--label-column");
        var kinds = new Dictionary<string, ColumnKind>(StringComparer.Ordinal);
        var ignored = new HashSet<int>();
        void Give(IEnumerable<string> specs, string option, ColumnKind kind)
        {
            foreach (string s in specs)
            {
                int c = CsvDataset.ResolveColumn(s, width, names, table.Name, option);
                if (c == label)
                    throw new BackpropException($"{table.Name}: {option} {s}: column {c} is the label column; it cannot also be a feature of another kind.");
                if (kind == ColumnKind.Ignored)
                    ignored.Add(c);
                else if (kinds.TryGetValue(table.ColumnNames[c], out var was) && was != kind)
                    throw new BackpropException($"{table.Name}: column {c} is given two kinds ({TableInference.NameOf(was)} and {TableInference.NameOf(kind)}).");
                else
                    kinds[table.ColumnNames[c]] = kind;
            }
        }
        Give(options.DropColumns, "--drop-columns", ColumnKind.Ignored);
        Give(options.Categorical, "--categorical", ColumnKind.Categorical);
        Give(options.Numeric, "--numeric", ColumnKind.Numeric);
        Give(options.Date, "--date", ColumnKind.Date);
        Give(options.Text, "--text", ColumnKind.Text);
        var settings = new TableSettings { Kinds = kinds, Missing = options.Missing ?? TableSettings.DefaultMissing };
        var profiles = TableInference.Profile(table, settings, label, ignored);
        if (!profiles.Any(p => p.Kind is not (ColumnKind.Text or ColumnKind.Ignored)))
            throw new BackpropException($"{table.Name}: no feature columns are left: every column other than the label is text, ignored or empty.");
        return new TableFile(table, label, profiles, settings);
    }

    /// <summary>
    /// Encodes a table for training: rows whose label is missing are skipped (and counted), the labels become classes
    /// or targets (the task as <see cref="CsvDataset"/> decides it), the split (<see cref="DataSplit.StratifiedIndices"/>
    /// with <paramref name="testFraction"/> and <paramref name="seed"/>, the same one <see cref="Dataset.Split"/> makes of
    /// the result) picks the training rows the pipeline is fitted on, and every row is encoded.
    /// </summary>
    public static PreparedTable Prepare(TableFile file, CsvOptions options, double testFraction, ulong seed)
    {
        var labelled = Label(file, options);
        IReadOnlyList<int> trainRows = Enumerable.Range(0, labelled.Rows.Count).ToArray();
        if (testFraction > 0 && testFraction < 1)
            trainRows = DataSplit.StratifiedIndices(labelled.Labels, testFraction, seed).Train;
        return labelled.Fit(trainRows);
    }

    /// <summary>
    /// The labelled rows of a table, before any encoding is fitted: rows whose label is missing are skipped (and
    /// counted), the labels become classes or targets (the task as <see cref="CsvDataset"/> decides it). Splits and
    /// folds are made of <see cref="LabelledTable.Labels"/>; <see cref="LabelledTable.Fit"/> fits the encoding on the
    /// training rows of one of them.
    /// </summary>
    public static LabelledTable Label(TableFile file, CsvOptions options)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(options);
        var table = file.Table;
        if (file.Label < 0)
            throw new BackpropException($"{table.Name}: the data has no labels (label column), so it cannot be trained on.");
        var counts = new EncodeCounts();
        var labelValues = table.Column(file.Label);
        var rows = new List<int>(table.Rows);
        for (int r = 0; r < table.Rows; r++)
        {
            if (TableInference.IsMissing(labelValues[r], file.Settings.Missing))
                counts.SkippedRows++;
            else
                rows.Add(r);
        }
        if (rows.Count == 0)
            throw new BackpropException($"{table.Name}: every label in {table.Describe(file.Label)} is missing.");
        var distinct = rows.Select(r => labelValues[r]!.Trim()).Distinct(StringComparer.Ordinal).ToList();
        var task = CsvDataset.DecideTask(options, distinct);
        var placeholder = new double[rows.Count];
        Dataset labelsOnly;
        if (task == TaskKind.Classification)
        {
            IReadOnlyList<string> classNames = options.Classes ?? CsvDataset.OrderClasses(distinct.Select(CsvDataset.ClassKey).Distinct(StringComparer.Ordinal));
            if (classNames.Count > Dataset.MaxClasses)
                throw new BackpropException($"{table.Name}: {table.Describe(file.Label)} holds {classNames.Count:N0} distinct labels, more than the {Dataset.MaxClasses} classes a classifier may have; choose the label column with --label-column, or --task regression.");
            if (classNames.Count < 2)
                throw new BackpropException($"{table.Name}: the label column {table.Describe(file.Label)} has one class (\"{RawTable.Shorten(classNames.Count > 0 ? classNames[0] : "")}\"); a classifier needs at least two.");
            var index = classNames.Select((n, i) => (n, i)).ToDictionary(p => CsvDataset.ClassKey(p.n), p => p.i, StringComparer.Ordinal);
            var classes = new int[rows.Count];
            for (int i = 0; i < rows.Count; i++)
                if (!index.TryGetValue(CsvDataset.ClassKey(labelValues[rows[i]]!), out classes[i]))
                    throw new BackpropException($"{table.Name}: {table.LineWord} {table.Line(rows[i])}, {table.Describe(file.Label)}: label \"{RawTable.Shorten(labelValues[rows[i]]!)}\" is not one of the classes ({RawTable.Shorten(string.Join(", ", classNames))}).");
            labelsOnly = Dataset.Classification(placeholder, 1, classes, classNames.Count, classNames, table.Name);
        }
        else
        {
            var targets = new double[rows.Count];
            for (int i = 0; i < rows.Count; i++)
                if (!RawTable.TryNumber(labelValues[rows[i]]!.Trim(), out targets[i]))
                    throw new BackpropException($"{table.Name}: {table.LineWord} {table.Line(rows[i])}, {table.Describe(file.Label)}: the target \"{RawTable.Shorten(labelValues[rows[i]]!)}\" is not a number.");
            labelsOnly = Dataset.Regression(placeholder, 1, targets, 1, table.Name);
        }
        return new LabelledTable(file, rows, labelsOnly, counts);
    }

    /// <summary>
    /// Reads a file for a model with a table pipeline: its columns found by name (by position in a CSV without a
    /// header), encoded by the pipeline; labels mapped to the model's classes. Unseen and unparsable values are counted
    /// in <paramref name="counts"/>; with <paramref name="requireLabels"/> rows with a missing label are skipped and counted.
    /// </summary>
    public static Dataset ReadFor(DataSchema schema, TablePipeline pipeline, string path, CsvOptions options, bool requireLabels, EncodeCounts counts)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(counts);
        using var input = DataFiles.OpenInput(path);
        var table = ReadRaw(input, path, options, pipeline.Columns.Select(c => c.Name).ToArray());
        var map = pipeline.Map(table.ColumnNames, path, byPosition: !table.HasHeader);
        int label = schema.Target is { } t && table.HasHeader ? table.IndexOf(t)
            : !table.HasHeader && schema.TargetColumn is { } tc && table.Columns == schema.FileColumns ? tc : -1;
        if (requireLabels && label < 0)
            throw new BackpropException(schema.Target is { } name
                ? $"{path}: has no label column \"{RawTable.Shorten(name)}\" (the model's target); the file has {RawTable.Shorten(string.Join(", ", table.ColumnNames))}."
                : $"{path}: the model does not know its label column's name; this command needs the labels.");
        var rows = new List<int>(table.Rows);
        for (int r = 0; r < table.Rows; r++)
        {
            if (label >= 0 && requireLabels && TableInference.IsMissing(table[r, label], pipeline.Missing))
                counts.SkippedRows++;
            else
                rows.Add(r);
        }
        var features = pipeline.Encode(table, map, rows, counts);
        if (label < 0 || !requireLabels)
            return Dataset.Unlabelled(features, pipeline.Width, path, pipeline.FeatureNames, schema.Task, schema.ClassNames);
        if (schema.Task == TaskKind.Regression)
        {
            var y = new double[rows.Count];
            for (int i = 0; i < rows.Count; i++)
                if (!RawTable.TryNumber(table[rows[i], label]!.Trim(), out y[i]))
                    throw new BackpropException($"{path}: {table.LineWord} {table.Line(rows[i])}, {table.Describe(label)}: the target \"{RawTable.Shorten(table[rows[i], label]!)}\" is not a number.");
            return Dataset.Regression(features, pipeline.Width, y, 1, path, pipeline.FeatureNames, schema.Target);
        }
        var index = schema.ClassNames.Select((n, i) => (n, i)).ToDictionary(p => CsvDataset.ClassKey(p.n), p => p.i, StringComparer.Ordinal);
        var labels = new int[rows.Count];
        for (int i = 0; i < rows.Count; i++)
            if (!index.TryGetValue(CsvDataset.ClassKey(table[rows[i], label]!), out labels[i]))
                throw new BackpropException($"{path}: {table.LineWord} {table.Line(rows[i])}, {table.Describe(label)}: label \"{RawTable.Shorten(table[rows[i], label]!)}\" is not one of the model's classes ({RawTable.Shorten(string.Join(", ", schema.ClassNames))}).");
        return Dataset.Classification(features, pipeline.Width, labels, schema.ClassCount, schema.ClassNames, path, pipeline.FeatureNames, schema.Target);
    }

    /// <summary>The schema table: one line per column, its kind, missing and distinct values and the rule that decided.</summary>
    public static IReadOnlyList<string> SchemaTable(TableFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var t = file.Table;
        var rows = new List<string[]> { new[] { "#", "column", "kind", "missing", "distinct", "why" } };
        for (int c = 0; c < t.Columns; c++)
        {
            if (c == file.Label)
            {
                int missing = t.Column(c).Count(v => TableInference.IsMissing(v, file.Settings.Missing));
                int distinct = t.Column(c).Where(v => !TableInference.IsMissing(v, file.Settings.Missing)).Select(v => v!.Trim()).Distinct(StringComparer.Ordinal).Count();
                rows.Add([Inv(c), t.ColumnNames[c], "label", Inv(missing), Inv(distinct), missing > 0 ? "the label; rows where it is missing are skipped" : "the label"]);
                continue;
            }
            var p = file.Profiles.First(x => x.Index == c);
            rows.Add([Inv(c), p.Name, TableInference.NameOf(p.Kind), Inv(p.Missing), Inv(p.Distinct),
                p.Why + (p.Unparsable > 0 ? $"; {p.Unparsable} value(s) of another kind read as missing" : "")]);
        }
        return Align(rows);
    }

    /// <summary>
    /// The schema of a numeric file, in one line (a file of 65 numeric columns needs no 67-line table; <c>inspect</c>
    /// prints the table): every feature numeric, no missing values, the label and the dropped columns.
    /// </summary>
    public static IReadOnlyList<string> SchemaSummary(DataFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var s = file.Schema;
        if (s.FileColumns is not { } width || s.FeatureColumns is not { } positions)
            return [];
        string label = s.TargetColumn is { } t ? $"the label is column {t}" + (s.Target is { } name ? $" (\"{RawTable.Shorten(name)}\")" : "") : "no label column";
        string dropped = s.DroppedColumns.Count > 0 ? $"; ignored: {RawTable.Shorten(string.Join(", ", s.DroppedColumns))}" : "";
        return [$"  {positions.Count} of {width} columns numeric, no missing values (read by the numeric reader); {label}{dropped}."];
    }

    /// <summary>The schema table of a numeric file: every feature numeric.</summary>
    public static IReadOnlyList<string> SchemaTable(DataFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var s = file.Schema;
        if (s.FileColumns is not { } width || s.FeatureColumns is not { } positions)
            return [];
        var rows = new List<string[]> { new[] { "#", "column", "kind", "missing", "distinct", "why" } };
        for (int c = 0; c < width; c++)
        {
            string name = s.FeatureNames is { } n && positions.ToList().IndexOf(c) is int j && j >= 0 ? n[j]
                : c == s.TargetColumn && s.Target is { } tn ? tn : Inv(c);
            string kind = c == s.TargetColumn ? "label" : positions.Contains(c) ? "numeric" : "ignored";
            string why = kind switch { "label" => "the label", "numeric" => "every value is a number", _ => "ignored by option" };
            rows.Add([Inv(c), name, kind, "0", "", why]);
        }
        return Align(rows);
    }

    private static IReadOnlyList<string> Align(List<string[]> rows)
    {
        int cols = rows[0].Length;
        var widths = Enumerable.Range(0, cols - 1).Select(i => rows.Max(r => Math.Min(r[i].Length, 40))).ToArray();
        var lines = new List<string>();
        foreach (var r in rows)
        {
            var sb = new StringBuilder("  ");
            for (int i = 0; i < cols - 1; i++)
            {
                string cell = RawTable.Shorten(r[i]);
                bool right = i is 0 or 3 or 4;
                sb.Append(right ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i])).Append("  ");
            }
            sb.Append(r[^1]);
            lines.Add(sb.ToString().TrimEnd());
        }
        return lines;
    }

    private static string Inv(int v) => v.ToString(CultureInfo.InvariantCulture);
}
