using System.Text.Json.Serialization;

namespace Backprop.IO;

/// <summary>
/// The model file's <c>pipeline</c> section (format version 2): what the model expects of a raw row and how it scales
/// it (docs/model-format.md). Read and written through <see cref="Json.BackpropJson"/>.
/// </summary>
public sealed record PipelineSection
{
    /// <summary>"classification" or "regression".</summary>
    public required string Task { get; init; }

    /// <summary>Class names in output order (classification only).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Classes { get; init; }

    /// <summary>Number of feature columns (the network's inputs).</summary>
    public required int Features { get; init; }

    /// <summary>Feature column names in input order, when the training file had a header.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? FeatureNames { get; init; }

    /// <summary>0-based positions of the feature columns in the training file.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<int>? FeatureColumns { get; init; }

    /// <summary>The label column's name.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Target { get; init; }

    /// <summary>The label column's position in the training file.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? TargetColumn { get; init; }

    /// <summary>Columns of the training file that were ignored (names, or positions as text).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? DroppedColumns { get; init; }

    /// <summary>Columns of the training file.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? FileColumns { get; init; }

    /// <summary>"csv" or "idx" (how the training data was read).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? SourceFormat { get; init; }

    /// <summary>The scaling of the raw features.</summary>
    public required PreprocessingSection Preprocessing { get; init; }

    /// <summary>Format version 3: the encoding of a table's raw columns into the features (absent for numeric columns).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TableSection? Table { get; init; }
}

/// <summary>The encoding of a table (format version 3): the missing-value spellings and each raw column's fitted encoder.</summary>
public sealed record TableSection
{
    /// <summary>The spellings of a missing value.</summary>
    public required IReadOnlyList<string> Missing { get; init; }

    /// <summary>The raw columns in feature order.</summary>
    public required IReadOnlyList<TableColumnSection> Columns { get; init; }
}

/// <summary>One raw column's encoder (see <see cref="Data.EncodedColumn"/>).</summary>
public sealed record TableColumnSection
{
    /// <summary>The column's name.</summary>
    public required string Name { get; init; }

    /// <summary>Its position in the training file.</summary>
    public required int Position { get; init; }

    /// <summary>numeric, boolean, categorical or date.</summary>
    public required string Kind { get; init; }

    /// <summary>The training median (numeric, boolean; a date's year).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Median { get; init; }

    /// <summary>True when a missing indicator follows.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Indicator { get; init; }

    /// <summary>The one-hot categories, in order.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Categories { get; init; }

    /// <summary>True when an "other" feature follows the categories.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Other { get; init; }

    /// <summary>True when a "missing" feature follows.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? MissingCategory { get; init; }

    /// <summary>A date's cyclic parts: month, weekday, yearday, time.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? DateParts { get; init; }

    /// <summary>The record of a fitted column, as the model file writes it (also the explain JSON's <c>encoding</c>).</summary>
    public static TableColumnSection Of(Data.EncodedColumn c)
    {
        ArgumentNullException.ThrowIfNull(c);
        return new TableColumnSection
        {
            Name = c.Name,
            Position = c.Position,
            Kind = Data.TableInference.NameOf(c.Kind),
            Median = c.Kind is Data.ColumnKind.Categorical ? null : c.Median,
            Indicator = c.Kind is Data.ColumnKind.Categorical ? null : c.Indicator,
            Categories = c.Kind is Data.ColumnKind.Categorical ? c.Categories : null,
            Other = c.Kind is Data.ColumnKind.Categorical ? c.Other : null,
            MissingCategory = c.Kind is Data.ColumnKind.Categorical ? c.MissingCategory : null,
            DateParts = c.Kind is Data.ColumnKind.Date ? c.DateParts : null,
        };
    }
}

/// <summary>A per-feature scaling x' = (x - offset) / scale: its kind and, once fitted, its numbers.</summary>
public sealed record PreprocessingSection
{
    /// <summary>none, standardize, min-max or pixels.</summary>
    public required string Kind { get; init; }

    /// <summary>Feature count (format version 1 only).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Features { get; init; }

    /// <summary>Subtracted from each feature (absent while not fitted).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double[]? Offset { get; init; }

    /// <summary>Each feature is divided by it (absent while not fitted).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double[]? Scale { get; init; }
}

/// <summary>The model file's <c>training</c> section (format version 2): what the model records about its training.</summary>
public sealed record TrainingSection
{
    /// <summary>The seed the weights were drawn from.</summary>
    public long Seed { get; init; }

    /// <summary>Epochs trained in total.</summary>
    public int EpochsTrained { get; init; }

    /// <summary>Each layer's weight initialiser.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Init { get; init; }

    /// <summary>The last optimizer, as text.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Optimizer { get; init; }

    /// <summary>The last optimizer's base learning rate.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? LearningRate { get; init; }

    /// <summary>The last batch size.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? BatchSize { get; init; }

    /// <summary>The last run's hidden-layer dropout rate (optional: absent when none).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Dropout { get; init; }

    /// <summary>The last run's input dropout rate (optional: absent when none).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? InputDropout { get; init; }

    // The held-out split (issue 17): optional, all five or none; a file without them reads as before (format version 2).

    /// <summary>The seed of the split that held out the test rows of the data file.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ulong? HeldOutSeed { get; init; }

    /// <summary>The fraction of the data file's rows held out.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? HeldOutFraction { get; init; }

    /// <summary>Rows of the whole data file.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? DataRows { get; init; }

    /// <summary>Rows held out.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? HeldOutRows { get; init; }

    /// <summary>SHA-256 of the data file's rows as the model read them (Training.HeldOutSplit.Hash).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? DataSha256 { get; init; }
}

/// <summary>Format version 1's <c>training</c> section (read only).</summary>
public sealed record LegacyTrainingSection
{
    /// <summary>"classification" or "regression".</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Task { get; init; }

    /// <summary>The seed.</summary>
    public long Seed { get; init; }

    /// <summary>Epochs trained in total.</summary>
    public int EpochsTrained { get; init; }

    /// <summary>The number of classes.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Classes { get; init; }

    /// <summary>The class names.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>Each layer's weight initialiser.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Init { get; init; }

    /// <summary>The last optimizer, as text.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Optimizer { get; init; }

    /// <summary>The last batch size.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? BatchSize { get; init; }
}

/// <summary>Format version 1's <c>data</c> section (read only).</summary>
public sealed record LegacyDataSection
{
    /// <summary>"classification" or "regression".</summary>
    public required string Task { get; init; }

    /// <summary>Number of feature columns.</summary>
    public required int Features { get; init; }

    /// <summary>Class names in output order.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Classes { get; init; }

    /// <summary>Feature column names.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? FeatureNames { get; init; }

    /// <summary>The target column's name.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Target { get; init; }
}

/// <summary>Converts between a <see cref="Training.Model{T}"/> and the model file's typed sections, checking every value read.</summary>
internal static class ModelSections
{
    public static PipelineSection Pipeline<T>(Training.Model<T> model) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var s = model.Schema;
        var pre = model.Preprocessing;
        return new PipelineSection
        {
            Task = TaskName(s.Task),
            Classes = s.Task == Data.TaskKind.Classification ? s.ClassNames : null,
            Features = s.Features,
            FeatureNames = s.FeatureNames,
            FeatureColumns = s.FeatureColumns,
            Target = s.Target,
            TargetColumn = s.TargetColumn,
            DroppedColumns = s.DroppedColumns.Count == 0 ? null : s.DroppedColumns,
            FileColumns = s.FileColumns,
            SourceFormat = s.SourceFormat,
            Preprocessing = new PreprocessingSection
            {
                Kind = Data.Preprocessing.NameOf(model.PreprocessingKind),
                Offset = pre is null || pre.IsIdentity ? null : [.. pre.Offset],
                Scale = pre is null || pre.IsIdentity ? null : [.. pre.Scale],
            },
            Table = model.Table is { } t ? new TableSection
            {
                Missing = t.Missing,
                Columns = t.Columns.Select(TableColumnSection.Of).ToArray(),
            } : null,
        };
    }

    private static readonly HashSet<string> DatePartNames = ["month", "weekday", "yearday", "time"];

    /// <summary>The table section as a pipeline, every field checked; a problem names the field.</summary>
    private static Data.TablePipeline ReadTable(TableSection t, int features, string source)
    {
        if (t.Columns.Count > Data.DataSchema.MaxFeatures || t.Missing.Count > 1000)
            throw new ModelFormatException($"{source}: field 'pipeline.table': too many columns or missing spellings.");
        var columns = new List<Data.EncodedColumn>(t.Columns.Count);
        for (int i = 0; i < t.Columns.Count; i++)
        {
            var c = t.Columns[i];
            string at = $"pipeline.table.columns[{i}]";
            var kind = Data.TableInference.ParseKind(c.Kind) is { } k && k is not (Data.ColumnKind.Text or Data.ColumnKind.Ignored) ? k
                : throw new ModelFormatException($"{source}: field '{at}.kind': expected numeric, boolean, categorical or date, found \"{c.Kind}\".");
            if (c.Position < 0)
                throw new ModelFormatException($"{source}: field '{at}.position': expected a whole number >= 0, found {c.Position}.");
            if (c.Median is { } m && !double.IsFinite(m))
                throw new ModelFormatException($"{source}: field '{at}.median': expected a finite number.");
            if (kind == Data.ColumnKind.Categorical)
            {
                var cats = c.Categories ?? throw new ModelFormatException($"{source}: field '{at}.categories': a categorical column lists its categories.");
                for (int j = 1; j < cats.Count; j++)
                    if (string.CompareOrdinal(cats[j - 1], cats[j]) >= 0)
                        throw new ModelFormatException($"{source}: field '{at}.categories': expected distinct categories in ordinal order.");
            }
            if (c.DateParts is { } parts && (parts.Any(p => !DatePartNames.Contains(p)) || parts.Distinct().Count() != parts.Count))
                throw new ModelFormatException($"{source}: field '{at}.date_parts': expected distinct parts among month, weekday, yearday, time.");
            columns.Add(new Data.EncodedColumn
            {
                Name = c.Name,
                Position = c.Position,
                Kind = kind,
                Median = c.Median ?? 0,
                Indicator = c.Indicator ?? false,
                Categories = c.Categories ?? [],
                Other = c.Other ?? false,
                MissingCategory = c.MissingCategory ?? false,
                DateParts = c.DateParts ?? [],
            });
        }
        var pipeline = new Data.TablePipeline(columns, t.Missing);
        if (pipeline.Width != features)
            throw new ModelFormatException($"{source}: field 'pipeline.table': the columns make {pipeline.Width} features, but the pipeline has {features}.");
        return pipeline;
    }

    public static TrainingSection Training<T>(Training.Model<T> model) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var t = model.Training;
        return new TrainingSection
        {
            Seed = t.Seed,
            EpochsTrained = t.EpochsTrained,
            Init = t.Init.Count == 0 ? null : t.Init,
            Optimizer = t.Optimizer,
            LearningRate = t.LearningRate,
            BatchSize = t.BatchSize,
            Dropout = t.Dropout,
            InputDropout = t.InputDropout,
            HeldOutSeed = t.HeldOut?.Seed,
            HeldOutFraction = t.HeldOut?.Fraction,
            DataRows = t.HeldOut?.Rows,
            HeldOutRows = t.HeldOut?.TestRows,
            DataSha256 = t.HeldOut?.DataSha256,
        };
    }

    public static string TaskName(Data.TaskKind task) => task == Data.TaskKind.Classification ? "classification" : "regression";

    private static Data.TaskKind ParseTask(string? name, string field, string source) => name switch
    {
        "classification" => Data.TaskKind.Classification,
        "regression" => Data.TaskKind.Regression,
        _ => throw new ModelFormatException($"{source}: field '{field}': expected \"classification\" or \"regression\", found \"{CsvDataset.Shorten(name ?? "")}\"."),
    };

    /// <summary>A section through the context; a JSON error becomes a <see cref="ModelFormatException"/> naming the field.</summary>
    public static TSection Read<TSection>(JsonValue element, string name, System.Text.Json.Serialization.Metadata.JsonTypeInfo<TSection> info, string source)
    {
        if (element.Kind != System.Text.Json.JsonTokenType.StartObject)
            throw new ModelFormatException($"{source}: field '{name}': expected an object, found {JsonValue.Describe(element.Kind)}.");
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize(element.Bytes.Span, info)
                ?? throw new ModelFormatException($"{source}: field '{name}': expected an object, found null.");
        }
        catch (System.Text.Json.JsonException e)
        {
            var (field, what) = Explain(e, name);
            throw new ModelFormatException($"{source}: field '{field}': {what}.", e);
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or FormatException or OverflowException)
        {
            throw new ModelFormatException($"{source}: field '{name}': {e.Message.TrimEnd('.')}.", e);
        }
    }

    /// <summary>The field a serializer error is about and what was expected there, in the words of the other messages.</summary>
    internal static (string Field, string What) Explain(System.Text.Json.JsonException e, string root)
    {
        string field = e.Path is { Length: > 1 } p ? root + (p[1] == '.' || p[1] == '[' ? p[1..] : "." + p[1..]) : root;
        string message = e.Message;
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut >= 0)
            message = message[..cut];
        var element = System.Text.RegularExpressions.Regex.Match(message, @"^expected a (finite number|whole number) at element (\d+)$");
        if (element.Success)
            return (field + "[" + element.Groups[2].Value + "]", "expected a " + element.Groups[1].Value + (element.Groups[1].Value == "whole number" ? " in range" : ""));
        var unknown = System.Text.RegularExpressions.Regex.Match(message, @"The JSON property '([^']*)' could not be mapped");
        if (unknown.Success)
            return (field.EndsWith("." + unknown.Groups[1].Value, StringComparison.Ordinal) ? field : field + "." + unknown.Groups[1].Value,
                "unknown field; this version does not read it");
        var missing = System.Text.RegularExpressions.Regex.Match(message, @"missing required properties including: (.*)\.?$");
        if (missing.Success)
            return (field, $"missing {missing.Groups[1].Value.TrimEnd('.')}");
        // The serializer names the record being read ("could not be converted to ModelMetrics"); the value's own
        // problem is in the inner exception: a token of the wrong kind, or a number out of its type's range.
        if (e.InnerException is InvalidOperationException { Message: var io }
            && System.Text.RegularExpressions.Regex.Match(io, @"token type '(\w+)' as an? (\w+)") is { Success: true } kind)
            return (field, $"expected {(kind.Groups[2].Value == "number" ? "a number" : kind.Groups[2].Value == "boolean" ? "true or false" : "a " + kind.Groups[2].Value)}, "
                + $"found {TokenName(kind.Groups[1].Value)}");
        if (e.InnerException is FormatException { Message: var fm } && fm.Contains("out of bounds for an Int", StringComparison.Ordinal))
            return (field, "expected a whole number in range");
        var converted = System.Text.RegularExpressions.Regex.Match(message, @"could not be converted to ([\w.`\[\], ]+)");
        if (converted.Success)
            return (field, "expected " + Friendly(converted.Groups[1].Value.TrimEnd('.', ' ')));
        if (message.Contains("null", StringComparison.OrdinalIgnoreCase))
            return (field, "expected a value, found null");
        return (field, message.TrimEnd('.'));
    }

    private static string TokenName(string token) => token switch
    {
        "String" => "a string",
        "Number" => "a number",
        "True" or "False" => "true/false",
        "Null" => "null",
        "StartArray" => "an array",
        "StartObject" => "an object",
        _ => token,
    };

    private static string Friendly(string type) => type switch
    {
        _ when type.Contains("Double", StringComparison.Ordinal) && type.Contains("[]", StringComparison.Ordinal) => "an array of numbers",
        _ when type.Contains("IReadOnlyList", StringComparison.Ordinal) || type.Contains("[]", StringComparison.Ordinal) => "an array",
        "System.Double" or "System.Single" => "a number",
        "System.Int32" or "System.Int64" => "a whole number in range",
        "System.String" => "a string",
        "System.Boolean" => "true or false",
        _ => "an object",
    };

    public static Training.Model<T> FromVersion2<T>(Nn.Network<T> network, Dictionary<string, JsonValue> sections, string source)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        Data.DataSchema schema;
        Data.Preprocessing? pre = null;
        Data.TablePipeline? table = null;
        var kind = Data.PreprocessingKind.None;
        if (sections.TryGetValue("pipeline", out var pe))
        {
            var p = Read(pe, "pipeline", Json.BackpropJson.Default.PipelineSection, source);
            // Checked before anything is sized by it.
            if (p.Features != network.Inputs)
                throw new ModelFormatException($"{source}: field 'pipeline.features': {p.Features} features, but the network takes {network.Inputs} inputs.");
            var task = ParseTask(p.Task, "pipeline.task", source);
            schema = new Data.DataSchema
            {
                Task = task,
                ClassNames = task == Data.TaskKind.Classification ? p.Classes ?? [] : [],
                Features = p.Features,
                FeatureNames = p.FeatureNames,
                FeatureColumns = p.FeatureColumns,
                Target = p.Target,
                TargetColumn = p.TargetColumn,
                DroppedColumns = p.DroppedColumns ?? [],
                FileColumns = p.FileColumns,
                SourceFormat = p.SourceFormat,
            };
            if (task == Data.TaskKind.Regression && p.Classes is not null)
                throw new ModelFormatException($"{source}: field 'pipeline.classes': a regression model has no classes.");
            if (task == Data.TaskKind.Classification && p.Classes is { Count: 0 })
                throw new ModelFormatException($"{source}: field 'pipeline.classes': a classifier lists its classes, found none.");
            if (task == Data.TaskKind.Classification && p.Classes is { } given)
                CheckCanonicalClasses(given, "pipeline.classes", source);
            (pre, kind) = ReadPreprocessing(p.Preprocessing, "pipeline.preprocessing", p.Features, source);
            if (p.Table is { } t)
                table = ReadTable(t, p.Features, source);
        }
        else
        {
            schema = Data.DataSchema.For(InferTask(network), network.Inputs);
            pre = Data.Preprocessing.Identity(network.Inputs);
        }
        var training = sections.TryGetValue("training", out var te)
            ? Read(te, "training", Json.BackpropJson.Default.TrainingSection, source) : new TrainingSection();
        if (training.EpochsTrained < 0)
            throw new ModelFormatException($"{source}: field 'training.epochs_trained': expected a whole number >= 0, found {training.EpochsTrained}.");
        if (training.Init is { } init && init.Count != network.Layers.Count)
            throw new ModelFormatException($"{source}: field 'training.init': expected {network.Layers.Count} names (one per layer), found {init.Count}.");
        return Build(network, schema, pre, kind, new Training.ModelTraining
        {
            Seed = training.Seed,
            EpochsTrained = training.EpochsTrained,
            Init = training.Init ?? [],
            Optimizer = training.Optimizer,
            LearningRate = training.LearningRate,
            BatchSize = training.BatchSize,
            Dropout = DropoutRate(training.Dropout, "training.dropout", source),
            InputDropout = DropoutRate(training.InputDropout, "training.input_dropout", source),
            HeldOut = HeldOut(training, source),
        }, source, "pipeline", table);
    }

    /// <summary>An optional dropout rate of a training section: absent, or in (0, 1).</summary>
    private static double? DropoutRate(double? rate, string field, string source) =>
        rate is not { } r || (r > 0 && r < 1) ? rate
            : throw new ModelFormatException($"{source}: field '{field}': expected a number greater than 0 and less than 1, found {r.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}.");

    /// <summary>The held-out split of a training section: all five fields or none, each in range.</summary>
    private static Training.HeldOutSplit? HeldOut(TrainingSection t, string source)
    {
        int given = (t.HeldOutSeed is null ? 0 : 1) + (t.HeldOutFraction is null ? 0 : 1) + (t.DataRows is null ? 0 : 1)
                    + (t.HeldOutRows is null ? 0 : 1) + (t.DataSha256 is null ? 0 : 1);
        if (given == 0)
            return null;
        if (given != 5)
            throw new ModelFormatException($"{source}: section 'training': the held-out split needs all of held_out_seed, held_out_fraction, data_rows, held_out_rows and data_sha256, or none of them.");
        if (!(t.HeldOutFraction > 0 && t.HeldOutFraction < 1))
            throw new ModelFormatException($"{source}: field 'training.held_out_fraction': expected a number in (0, 1), found {t.HeldOutFraction}.");
        if (t.DataRows < 2 || t.HeldOutRows < 1 || t.HeldOutRows >= t.DataRows)
            throw new ModelFormatException($"{source}: fields 'training.data_rows' and 'training.held_out_rows': expected 1 <= held_out_rows < data_rows, found {t.HeldOutRows} and {t.DataRows}.");
        if (t.DataSha256!.Length != 64 || !t.DataSha256.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f')))
            throw new ModelFormatException($"{source}: field 'training.data_sha256': expected 64 lowercase hex digits.");
        return new Training.HeldOutSplit(t.HeldOutSeed!.Value, t.HeldOutFraction!.Value, t.DataRows!.Value, t.HeldOutRows!.Value, t.DataSha256);
    }

    /// <summary>
    /// A version 1 file: the task from the <c>training</c> section (or the output layer), class names from <c>data</c> or
    /// <c>training</c>, feature names from <c>data</c>, the scaling from <c>preprocessing</c>. Version 1 did not record
    /// the label and dropped columns: reading data for such a model still takes the CSV options.
    /// </summary>
    public static Training.Model<T> FromVersion1<T>(Nn.Network<T> network, Dictionary<string, JsonValue> sections, string source)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var task = InferTask(network);
        var training = sections.TryGetValue("training", out var te)
            ? Read(te, "training", Json.BackpropJson.Default.LegacyTrainingSection, source) : new LegacyTrainingSection();
        if (training.Task is not null)
            task = ParseTask(training.Task, "training.task", source);
        IReadOnlyList<string>? classes = training.ClassNames;
        IReadOnlyList<string>? featureNames = null;
        string? target = null;
        if (sections.TryGetValue("data", out var de))
        {
            var d = Read(de, "data", Json.BackpropJson.Default.LegacyDataSection, source);
            var dataTask = ParseTask(d.Task, "data.task", source);
            if (dataTask != task)
                throw new ModelFormatException($"{source}: field 'data.task': \"{d.Task}\" but the model is a {TaskName(task)} model.");
            if (d.Features != network.Inputs)
                throw new ModelFormatException($"{source}: field 'data.features': {d.Features} features, but the network takes {network.Inputs} inputs.");
            if (task == Data.TaskKind.Classification && d.Classes is not null)
            {
                if (classes is not null && !classes.SequenceEqual(d.Classes, StringComparer.Ordinal))
                    throw new ModelFormatException($"{source}: field 'data.classes': differs from 'training.class_names'.");
                classes = d.Classes;
            }
            featureNames = d.FeatureNames;
            target = d.Target;
        }
        if (task == Data.TaskKind.Classification && classes is not null && classes.Count != Math.Max(2, network.Outputs))
            throw new ModelFormatException($"{source}: field 'training.class_names': expected {Math.Max(2, network.Outputs)} names, found {classes.Count}.");
        if (task == Data.TaskKind.Classification && classes is not null)
            CheckCanonicalClasses(classes, "data.classes", source);
        var schema = new Data.DataSchema
        {
            Task = task,
            ClassNames = task == Data.TaskKind.Classification ? classes ?? [] : [],
            Features = network.Inputs,
            FeatureNames = featureNames,
            Target = target,
        };
        Data.Preprocessing? pre = Data.Preprocessing.Identity(network.Inputs);
        var kind = Data.PreprocessingKind.None;
        if (sections.TryGetValue("preprocessing", out var pe))
        {
            var p = Read(pe, "preprocessing", Json.BackpropJson.Default.PreprocessingSection, source);
            if (p.Features is not { } f || f < 1 || f > Data.DataSchema.MaxFeatures)
                throw new ModelFormatException($"{source}: field 'preprocessing.features': expected a whole number from 1 to {Data.DataSchema.MaxFeatures}.");
            if (f != network.Inputs)
                throw new ModelFormatException($"{source}: field 'preprocessing.features': {f} features, but the network takes {network.Inputs} inputs.");
            (pre, kind) = ReadPreprocessing(p, "preprocessing", f, source);
            if (pre is null)
                throw new ModelFormatException($"{source}: field 'preprocessing.offset': expected an array of {f} numbers.");
        }
        return Build(network, schema, pre, kind, new Training.ModelTraining
        {
            Seed = training.Seed,
            EpochsTrained = Math.Max(training.EpochsTrained, 0),
            Init = training.Init is { } init && init.Count == network.Layers.Count ? init : [],
            Optimizer = training.Optimizer,
            BatchSize = training.BatchSize,
        }, source, "data");
    }

    /// <summary>
    /// Data labels are matched to a model's classes by their canonical form (CsvDataset.ClassKey: "01", "1.0" and "1" are
    /// all class "1"), so two class names of one canonical form would make a label ambiguous.
    /// </summary>
    private static void CheckCanonicalClasses(IReadOnlyList<string> classes, string field, string source)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in classes)
        {
            string key = CsvDataset.ClassKey(name);
            if (seen.TryGetValue(key, out var other) && other != name)
                throw new ModelFormatException(
                    $"{source}: field '{field}': the classes \"{CsvDataset.Shorten(other)}\" and \"{CsvDataset.Shorten(name)}\" are the same label "
                    + $"(labels are compared as whole numbers where they are ones: 01, 1.0 and 1 are all 1).");
            seen.TryAdd(key, name);
        }
    }

    private static (Data.Preprocessing? Fitted, Data.PreprocessingKind Kind) ReadPreprocessing(PreprocessingSection p, string at, int features, string source)
    {
        var kind = Data.Preprocessing.Parse(p.Kind)
            ?? throw new ModelFormatException($"{source}: field '{at}.kind': expected one of none, standardize, min-max, pixels.");
        if (kind == Data.PreprocessingKind.None)
            return (Data.Preprocessing.Identity(features), kind);
        if (p.Offset is null && p.Scale is null)
            return (null, kind);
        foreach (var (name, values, allowZero) in new[] { ("offset", p.Offset, true), ("scale", p.Scale, false) })
        {
            if (values is null)
                throw new ModelFormatException($"{source}: field '{at}.{name}': expected an array of {features} numbers.");
            if (values.Length != features)
                throw new ModelFormatException($"{source}: field '{at}.{name}': expected {features} numbers (one per feature), found {values.Length}.");
            for (int i = 0; i < values.Length; i++)
                if (!double.IsFinite(values[i]) || (!allowZero && values[i] == 0))
                    throw new ModelFormatException($"{source}: field '{at}.{name}[{i}]': expected a finite number{(allowZero ? "" : " other than 0")}.");
        }
        return (Data.Preprocessing.Create(kind, p.Offset!, p.Scale!), kind);
    }

    private static Training.Model<T> Build<T>(Nn.Network<T> network, Data.DataSchema schema, Data.Preprocessing? pre, Data.PreprocessingKind kind,
        Training.ModelTraining training, string source, string section, Data.TablePipeline? table = null)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (schema.Features != network.Inputs)
            throw new ModelFormatException($"{source}: field '{section}.features': {schema.Features} features, but the network takes {network.Inputs} inputs.");
        try
        {
            return new Training.Model<T>(network, schema, pre, kind, training) { Table = table };
        }
        catch (BackpropException e) when (e is not ModelFormatException)
        {
            throw new ModelFormatException($"{source}: section '{section}': {e.Message.Replace("model: ", "")}", e);
        }
    }

    private static Data.TaskKind InferTask<T>(Nn.Network<T> net) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        net.Layers[^1].Activation == Nn.Activation.Softmax || (net.Outputs == 1 && net.Loss == Nn.Loss.BinaryCrossEntropy)
            ? Data.TaskKind.Classification : Data.TaskKind.Regression;
}
