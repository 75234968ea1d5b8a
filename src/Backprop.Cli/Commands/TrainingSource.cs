using Backprop.Cli.Options;
using Backprop.Data;
using Backprop.IO;
using Backprop.Training;

namespace Backprop.Cli.Commands;

/// <summary>
/// The labelled data of a --data file as the commands that train read it (train, cv, tune): a numeric file (CSV, IDX)
/// exactly as the numeric reader reads it, or a table (CSV/TSV with text, categories, dates or missing values, JSON,
/// Parquet) with its column kinds inferred or given by --categorical, --numeric, --date, --text, --ignore and
/// --missing. A table's encoding is fitted on the training rows of each split (<see cref="Split"/>) and on nothing
/// else, so a held-out row or fold never reaches the medians, categories or date parts that encode it.
/// </summary>
public sealed class TrainingSource
{
    private TrainingSource(string path, DataFile? numeric, LabelledTable? table, IReadOnlyList<string> schemaLines)
    {
        Path = path;
        Numeric = numeric;
        Table = table;
        SchemaLines = schemaLines;
        Labels = numeric?.Data ?? table!.Labels;
    }

    /// <summary>The --data file, for messages.</summary>
    public string Path { get; }

    /// <summary>A numeric file's rows and schema; null for a table.</summary>
    public DataFile? Numeric { get; }

    /// <summary>A table's labelled rows; null for a numeric file.</summary>
    public LabelledTable? Table { get; }

    /// <summary>The schema table printed before training (one line per column).</summary>
    public IReadOnlyList<string> SchemaLines { get; }

    /// <summary>
    /// The rows to split or fold, one per labelled row: a numeric file's data, or a table's labels (with a placeholder
    /// feature: the splits depend on the labels only).
    /// </summary>
    public Dataset Labels { get; }

    /// <summary>The labelled rows.</summary>
    public int Rows => Labels.Rows;

    /// <summary>The format the file was read as (csv, idx, json, parquet).</summary>
    public string SourceFormat => Numeric?.Schema.SourceFormat ?? Table!.File.Table.Format;

    /// <summary>The preprocessing <paramref name="asked"/> for, or by the format the file was read as (pixels for IDX images).</summary>
    public PreprocessingKind Preprocessing(PreprocessingKind? asked) =>
        asked ?? (SourceFormat == "idx" ? PreprocessingKind.Pixels : PreprocessingKind.Standardize);

    /// <summary>Reads --data (and --labels) with the data options; the file must have labels.</summary>
    public static TrainingSource Read(DataSettings data)
    {
        ArgumentNullException.ThrowIfNull(data);
        string path = data.Data ?? throw new BackpropException("--data: a data file is needed.");
        var (numeric, tableFile) = TableFiles.Read(path, data.Labels, data.Csv);
        TrainingSource source = numeric is not null
            ? new TrainingSource(path, numeric, null, TableFiles.SchemaSummary(numeric))
            : new TrainingSource(path, null, TableFiles.Label(tableFile!, data.Csv), TableFiles.SchemaTable(tableFile!));
        if (!source.Labels.HasTargets)
            throw new BackpropException($"{path}: the data has no labels (label column), so it cannot be trained on.");
        return source;
    }

    /// <summary>
    /// Every labelled row, encoded by an encoding fitted on <paramref name="trainRows"/> (indices into <see cref="Labels"/>)
    /// only; a numeric file's rows as read. Also the schema a model of it records and its table pipeline (null: numeric).
    /// </summary>
    public (Dataset All, DataSchema Schema, TablePipeline? Pipeline) Encode(IReadOnlyList<int> trainRows)
    {
        if (Numeric is { } n)
            return (n.Data, n.Schema, null);
        var prepared = Table!.Fit(trainRows);
        return (prepared.Data, prepared.Schema, prepared.Pipeline);
    }

    /// <summary>
    /// One split as train's data: the encoding fitted on <paramref name="trainRows"/> alone, the training and test rows
    /// encoded by it, and (a table's regression) the training rows with standardised targets, as <c>train</c> fits them.
    /// </summary>
    public TrainCommand.TrainingData Split(IReadOnlyList<int> trainRows, IReadOnlyList<int> testRows, PreprocessingKind kind)
    {
        ArgumentNullException.ThrowIfNull(trainRows);
        ArgumentNullException.ThrowIfNull(testRows);
        var (all, schema, pipeline) = Encode(trainRows);
        var train = all.Subset([.. trainRows]);
        var test = all.Subset([.. testRows]);
        return new TrainCommand.TrainingData(train, test, schema, kind, Path, [])
        {
            Table = pipeline,
            SchemaLines = SchemaLines,
            Standardised = pipeline is not null ? StandardiseTargets(train) : null,
        };
    }

    /// <summary>
    /// A table's regression: <paramref name="train"/> with its targets standardised (mean 0, standard deviation 1 on
    /// these rows), and the mean and scale that map a network's outputs back (<see cref="Model{T}.UnscaleOutputs"/>):
    /// the network learns at the scale its initialisation and learning rate suit. Null for a classification or a
    /// regression of several outputs.
    /// </summary>
    public static (Dataset Train, double Mean, double Scale)? StandardiseTargets(Dataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.IsClassification || train.Outputs != 1 || train.Rows == 0)
            return null;
        var (mean, sd) = TargetScale(train);
        return (Scale(train, mean, sd), mean, sd);
    }

    /// <summary>The mean and (population) standard deviation of a one-output regression's targets; 1 when it is 0 or not finite.</summary>
    public static (double Mean, double Scale) TargetScale(Dataset rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var y = Enumerable.Range(0, rows.Rows).Select(r => rows.TargetRow(r)[0]).ToArray();
        double mean = y.Average();
        double sd = Math.Sqrt(y.Sum(v => (v - mean) * (v - mean)) / y.Length);
        if (!(sd > 0) || !double.IsFinite(sd))
            sd = 1;
        return (mean, sd);
    }

    /// <summary><paramref name="rows"/> with its targets mapped to (y - mean) / scale.</summary>
    public static Dataset Scale(Dataset rows, double mean, double scale)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var scaled = Enumerable.Range(0, rows.Rows).Select(r => (rows.TargetRow(r)[0] - mean) / scale).ToArray();
        return Dataset.Regression(rows.Features.ToArray(), rows.Inputs, scaled, 1, rows.Name, rows.FeatureNames, rows.TargetName);
    }

    /// <summary>
    /// Reads a --test file for a model of this source: a table through <paramref name="pipeline"/> (the one fitted on the
    /// training rows; what it treats as missing is added to <paramref name="notes"/>), a numeric file by
    /// <paramref name="schema"/>'s columns.
    /// </summary>
    public static Dataset ReadTest(DataSchema schema, TablePipeline? pipeline, string test, string? testLabels, CsvOptions csv, List<string> notes)
    {
        ArgumentNullException.ThrowIfNull(notes);
        if (pipeline is null)
            return DataFiles.ReadFor(schema, test, testLabels, csv, requireLabels: true);
        var counts = new EncodeCounts();
        var data = TableFiles.ReadFor(schema, pipeline, test, csv, requireLabels: true, counts);
        notes.AddRange(counts.Describe().Select(d => $"{test}: {d}."));
        return data;
    }
}
