using Backprop.Data;

namespace Backprop.IO;

/// <summary>A dataset read from a file, with the schema it was read by (which columns were features, label, dropped).</summary>
/// <param name="Data">The rows.</param>
/// <param name="Schema">The columns as read, for a model trained on them to remember.</param>
public sealed record DataFile(Dataset Data, DataSchema Schema);

/// <summary>
/// One entry point for the CLI's <c>--data FILE [--labels FILE]</c>: IDX when a labels file is given or the data
/// file starts with an IDX or gzip magic number, CSV/TSV otherwise.
/// </summary>
public static class DataFiles
{
    /// <summary>True when <paramref name="path"/> starts like an IDX file (00 00 08 ..) or a gzip file (1F 8B).</summary>
    public static bool LooksLikeIdx(string path)
    {
        try
        {
            using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            Span<byte> head = stackalloc byte[3];
            int got = s.ReadAtLeast(head, 3, throwOnEndOfStream: false);
            return (got >= 2 && head[0] == 0x1F && head[1] == 0x8B) || (got == 3 && head[0] == 0 && head[1] == 0 && head[2] == 0x08);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new BackpropException($"{path}: cannot read the file ({e.Message}).", e);
        }
    }

    /// <summary>
    /// Reads a dataset: IDX images (+ labels) or CSV. <paramref name="csv"/> applies to CSV files; its
    /// <see cref="CsvOptions.Classes"/> are used for IDX labels too.
    /// </summary>
    public static DataFile Read(string dataPath, string? labelsPath = null, CsvOptions? csv = null)
    {
        if (labelsPath is not null || LooksLikeIdx(dataPath))
        {
            var classes = csv?.Columns?.ClassNames is { Count: > 0 } c ? c : csv?.Classes;
            var images = labelsPath is not null
                ? IdxDataset.Read(dataPath, labelsPath, classes, csv?.MaxValues)
                : IdxDataset.ReadImages(dataPath, classes, csv?.MaxValues);
            return new DataFile(images, IdxDataset.SchemaOf(images));
        }
        return CsvDataset.ReadFile(dataPath, csv);
    }

    /// <summary>
    /// Reads a data file for a model: its columns matched to the model's <paramref name="schema"/> (by name when the file
    /// has a header, by position otherwise), labels encoded with the model's classes. The features are raw: the model
    /// applies its preprocessing. With <paramref name="requireLabels"/> false a file without the label column is read
    /// as unlabelled. <paramref name="csv"/> gives the CSV settings (header, delimiter; for a model file of format
    /// version 1, which does not record its columns, also the label and dropped columns).
    /// </summary>
    public static Dataset ReadFor(DataSchema schema, string dataPath, string? labelsPath, CsvOptions csv, bool requireLabels)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(csv);
        IReadOnlyList<string>? classes = schema.Task == TaskKind.Classification ? schema.ClassNames : null;
        bool idx = labelsPath is not null || LooksLikeIdx(dataPath);
        bool knowsColumns = schema.FeatureNames is not null || schema.FeatureColumns is not null;
        Dataset data;
        if (idx)
            data = Read(dataPath, labelsPath, csv with { Classes = classes, Columns = null }).Data;
        else if (knowsColumns)
            data = CsvDataset.Read(dataPath, csv with { Columns = schema, RequireLabels = requireLabels, Classes = classes, Task = schema.Task });
        else if (!requireLabels && csv.LabelColumn == "last")
        {
            // A model that does not record its columns: a file with exactly the model's inputs has no label column.
            Dataset? unlabelled = null;
            try
            {
                unlabelled = CsvDataset.Read(dataPath, csv with { LabelColumn = "none", Classes = classes, Task = schema.Task });
            }
            catch (BackpropException)
            {
                // e.g. a text label column that is not a number: read it as labelled below.
            }
            data = unlabelled is not null && unlabelled.Inputs == schema.Features
                ? unlabelled
                : CsvDataset.Read(dataPath, csv with { Classes = classes, Task = schema.Task });
        }
        else
            data = CsvDataset.Read(dataPath, csv with { Classes = classes, Task = schema.Task });
        if (data.Inputs != schema.Features)
            throw new BackpropException($"{dataPath}: has {data.Inputs} feature column(s), but the model takes {schema.Features} inputs.");
        if (requireLabels && !data.HasTargets)
            throw new BackpropException($"{dataPath}: has no labels; this command needs labelled data.");
        return data;
    }

    /// <summary>The default preprocessing for a data file: <see cref="PreprocessingKind.Pixels"/> for IDX images, otherwise standardisation.</summary>
    public static PreprocessingKind DefaultPreprocessing(string dataPath, string? labelsPath = null) =>
        labelsPath is not null || LooksLikeIdx(dataPath) ? PreprocessingKind.Pixels : PreprocessingKind.Standardize;
}
