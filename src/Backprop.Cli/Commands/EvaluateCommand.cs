using System.CommandLine;
using Backprop.Cli.Options;
using Backprop.Data;
using Backprop.IO;
using Backprop.IO.Json;
using Backprop.Training;

namespace Backprop.Cli.Commands;

/// <summary>`backprop evaluate`: a saved model's loss and accuracy (or regression errors) on labelled data.</summary>
public static class EvaluateCommand
{
    /// <summary>The command's options.</summary>
    public sealed class Settings
    {
        /// <summary>--model FILE.</summary>
        public required string Model { get; init; }

        /// <summary>The data options.</summary>
        public required DataSettings Data { get; init; }

        /// <summary>--json.</summary>
        public bool Json { get; init; }

        /// <summary>--split all|test|train (null: all).</summary>
        public string? Split { get; init; }

        /// <summary>Checks the options and the file arguments.</summary>
        public void Validate()
        {
            if (Split is not (null or "all" or "test" or "train"))
                throw new BackpropException($"--split: expected all, test or train, got '{Split}'.");
            FileChecks.Check([new("--model", Model), .. Data.Files], []);
        }
    }

    /// <summary>The command.</summary>
    public static Command Create(CliStreams streams)
    {
        var model = CommonOptions.Model("The model file.", required: true);
        var data = new DataOptions();
        data.Data.Required = true;
        var json = CommonOptions.Json("Print one JSON object.");
        var split = new Option<string?>("--split")
        {
            Description = "Which rows of --data: all (default), test (exactly the rows train held out of this file: the model records the split and a hash of the rows, so a changed file is an error) or train (the rest).",
            HelpName = "all|test|train",
        };
        var command = new Command("evaluate", "Measure a saved model on labelled data: loss, accuracy, per-class precision/recall/F1 and confusion matrix, or MAE/RMSE/R^2.");
        command.Options.Add(model);
        data.AddTo(command);
        command.Options.Add(json);
        command.Options.Add(split);
        command.SetAction(parse => App.Guard(streams, () =>
        {
            var s = new Settings { Model = parse.GetValue(model)!, Data = data.Bind(parse), Json = parse.GetValue(json), Split = parse.GetValue(split)?.Trim().ToLowerInvariant() };
            s.Validate();
            var m = ModelFile.Load(s.Model);
            var rows = Rows(s, m, s.Data.ReadFor(m, requireLabels: true, streams.Error), streams);
            var metrics = m.Evaluate(rows);
            new Reporter(streams, s.Json).Report(Report(metrics), BackpropJson.Compact.EvaluationReport, _ => metrics.ToString());
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>
    /// The rows --split asks for. With --split test or train, the model's recorded split is found again in the file
    /// (<see cref="HeldOutSplit.Find"/>: a changed file is an error). With all rows of the very file the model was
    /// trained on, a note on standard error says that they include its training rows.
    /// </summary>
    internal static Dataset Rows<T>(Settings s, Model<T> model, Dataset data, CliStreams streams)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var heldOut = model.Training.HeldOut;
        string file = s.Data.Data!;
        if (s.Split is "test" or "train")
        {
            if (heldOut is null)
                throw new BackpropException($"--split {s.Split}: {s.Model} records no held-out split (it was trained with a separate --test file, with --test-fraction 0, on a built-in dataset, or by an older version): evaluate it on data it was not trained on with --data.");
            var (train, test) = heldOut.Find(data, file);
            return s.Split == "test" ? test : train;
        }
        if (heldOut is not null && data.Rows == heldOut.Rows && HeldOutSplit.Hash(data) == heldOut.DataSha256)
            streams.Error.WriteLine($"Note: {file} is the file {s.Model} was trained on: its {data.Rows} rows include the {data.Rows - heldOut.TestRows} it was trained on, so this is not a test score. --split test evaluates only the {heldOut.TestRows} held-out rows.");
        return data;
    }

    /// <summary>The metrics as the JSON record (non-finite numbers as null).</summary>
    public static EvaluationReport Report(Metrics metrics) => metrics switch
    {
        ClassificationMetrics c => new EvaluationReport
        {
            Rows = c.Rows,
            Loss = c.Loss,
            Accuracy = c.Accuracy,
            Classes = c.ClassNames,
            Precision = JsonNumbers.Finite(c.Precision),
            Recall = JsonNumbers.Finite(c.Recall),
            F1 = JsonNumbers.Finite(c.F1),
            Support = c.Support,
            ConfusionMatrix = Enumerable.Range(0, c.ConfusionMatrix.GetLength(0))
                .Select(r => (IReadOnlyList<int>)Enumerable.Range(0, c.ConfusionMatrix.GetLength(1)).Select(k => c.ConfusionMatrix[r, k]).ToArray()).ToArray(),
        },
        RegressionMetrics r => new EvaluationReport
        {
            Rows = r.Rows,
            Loss = r.Loss,
            Mae = r.MeanAbsoluteError,
            Rmse = r.RootMeanSquaredError,
            R2 = r.RSquared,
        },
        _ => new EvaluationReport { Rows = metrics.Rows, Loss = metrics.Loss },
    };
}
