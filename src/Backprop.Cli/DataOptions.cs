using System.CommandLine;
using Backprop.Data;
using Backprop.IO;

namespace Backprop.Cli;

/// <summary>The options that say how to read a data file, shared by train, evaluate and predict.</summary>
public sealed class DataOptions
{
    public Option<string?> Data { get; } = new("--data")
    {
        Description = "The data: a CSV/TSV file, or an IDX images file (MNIST format, gzipped or not) with --labels.",
        HelpName = "FILE",
    };

    public Option<string?> Labels { get; } = new("--labels") { Description = "The IDX labels file that goes with an IDX images file.", HelpName = "FILE" };

    public Option<string> LabelColumn { get; } = new("--label-column")
    {
        Description = "Which CSV column holds the label: first, last (default), a 0-based INDEX of the file's columns as they are (before any are dropped), or a header NAME.",
        DefaultValueFactory = _ => "last",
    };

    public Option<string?> DropColumns { get; } = new("--drop-columns")
    {
        Description = "CSV columns to ignore (e.g. an id column), comma-separated 0-based indices of the file's columns as they are, or header names.",
        HelpName = "COLUMNS",
    };

    public Option<string> Header { get; } = new("--header") { Description = "Does the CSV start with a header line: auto (default), yes or no.", DefaultValueFactory = _ => "auto" };

    public Option<string?> Delimiter { get; } = new("--delimiter") { Description = "CSV delimiter: comma, semicolon, tab (default: detected).", HelpName = "comma|semicolon|tab" };

    public Option<string> Task { get; } = new("--task")
    {
        Description = "auto (default: non-numeric labels, or at most 20 distinct whole numbers, mean classification), classification or regression.",
        DefaultValueFactory = _ => "auto",
    };

    public void AddTo(Command command, bool includeData = true)
    {
        if (includeData)
        {
            command.Options.Add(Data);
            command.Options.Add(Labels);
        }
        foreach (var o in new Option[] { LabelColumn, DropColumns, Header, Delimiter, Task })
            command.Options.Add(o);
    }

    /// <summary>
    /// Reads <paramref name="path"/> for <paramref name="model"/>: columns matched to its schema, labels to its classes,
    /// features raw (the model applies its preprocessing).
    /// </summary>
    public Dataset ReadFor<T>(Backprop.Training.Model<T> model, string path, string? labels, ParseResult parse, bool requireLabels)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        DataFiles.ReadFor(model.Schema, path, labels, Csv(parse), requireLabels);

    /// <summary>The CSV settings the options describe; <paramref name="classes"/> fixes the class list (test data, evaluation).</summary>
    public CsvOptions Csv(ParseResult parse, IReadOnlyList<string>? classes = null, string? labelColumn = null) => new()
    {
        Header = parse.GetValue(Header)?.Trim().ToLowerInvariant() switch
        {
            "auto" or null => HeaderMode.Auto,
            "yes" or "true" => HeaderMode.Yes,
            "no" or "false" => HeaderMode.No,
            var h => throw new BackpropException($"--header: expected auto, yes or no, got '{h}'."),
        },
        Delimiter = parse.GetValue(Delimiter)?.Trim().ToLowerInvariant() switch
        {
            null => null,
            "comma" or "," => ',',
            "semicolon" or ";" => ';',
            "tab" or "\\t" or "\t" => '\t',
            var d => throw new BackpropException($"--delimiter: expected comma, semicolon or tab, got '{d}'."),
        },
        LabelColumn = labelColumn ?? parse.GetValue(LabelColumn) ?? "last",
        DropColumns = (parse.GetValue(DropColumns) ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
        Task = parse.GetValue(Task)?.Trim().ToLowerInvariant() switch
        {
            "auto" or null => null,
            "classification" => TaskKind.Classification,
            "regression" => TaskKind.Regression,
            var t => throw new BackpropException($"--task: expected auto, classification or regression, got '{t}'."),
        },
        Classes = classes,
    };
}
