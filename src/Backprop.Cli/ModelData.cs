using System.CommandLine;
using Backprop.IO;
using Backprop.Training;

namespace Backprop.Cli;

/// <summary>Reads a data file the way a saved model expects it: its classes, its feature count, its preprocessing.</summary>
public static class ModelData
{
    /// <summary>
    /// Reads <paramref name="path"/> for <paramref name="model"/>. With <paramref name="requireLabels"/> false, a CSV
    /// that has exactly the model's feature count of columns is read without a label column.
    /// </summary>
    public static DataTable Read(Model<float> model, string path, string? labels, DataOptions options, ParseResult parse, bool requireLabels)
    {
        var schema = DataSchema.ReadFrom(model.Sections, path);
        IReadOnlyList<string>? classes = model.Task == ModelTask.Classification ? (schema?.Classes ?? model.ClassNames) : null;
        DataTable table;
        if (!requireLabels && labels is null && !DataFiles.LooksLikeIdx(path))
        {
            // A file with exactly the model's inputs has no label column; otherwise read it with its labels.
            DataTable? unlabelled = null;
            try
            {
                unlabelled = DataFiles.Read(path, null, options.Csv(parse, classes, labelColumn: "none"));
            }
            catch (BackpropException)
            {
                // e.g. a text label column that is not a number: read it as labelled below.
            }
            table = unlabelled is not null && unlabelled.Columns == model.Network.Inputs
                ? unlabelled
                : DataFiles.Read(path, null, options.Csv(parse, classes));
        }
        else
            table = DataFiles.Read(path, labels, options.Csv(parse, classes));
        if (table.Columns != model.Network.Inputs)
            throw new BackpropException($"{path}: has {table.Columns} feature columns, but the model takes {model.Network.Inputs} inputs.");
        var preprocessing = Preprocessing.ReadFrom(model.Sections, path);
        return preprocessing is null ? table : preprocessing.Apply(table);
    }
}
