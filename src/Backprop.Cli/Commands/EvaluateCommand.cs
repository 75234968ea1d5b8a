using System.CommandLine;
using Backprop.Cli.Options;
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

        /// <summary>Checks the file arguments.</summary>
        public void Validate() => FileChecks.Check([new("--model", Model), .. Data.Files], []);
    }

    /// <summary>The command.</summary>
    public static Command Create(CliStreams streams)
    {
        var model = CommonOptions.Model("The model file.", required: true);
        var data = new DataOptions();
        data.Data.Required = true;
        var json = CommonOptions.Json("Print one JSON object.");
        var command = new Command("evaluate", "Measure a saved model on labelled data: loss, accuracy, per-class precision/recall/F1 and confusion matrix, or MAE/RMSE/R^2.");
        command.Options.Add(model);
        data.AddTo(command);
        command.Options.Add(json);
        command.SetAction(parse => App.Guard(streams, () =>
        {
            var s = new Settings { Model = parse.GetValue(model)!, Data = data.Bind(parse), Json = parse.GetValue(json) };
            s.Validate();
            var m = ModelFile.Load(s.Model);
            var metrics = m.Evaluate(s.Data.ReadFor(m, requireLabels: true, streams.Error));
            new Reporter(streams, s.Json).Report(Report(metrics), BackpropJson.Compact.EvaluationReport, _ => metrics.ToString());
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>The metrics as the JSON record (non-finite numbers as null).</summary>
    public static EvaluationReport Report(Metrics metrics) => metrics switch
    {
        ClassificationMetrics c => new EvaluationReport
        {
            Rows = c.Rows,
            Loss = JsonNumbers.Finite(c.Loss),
            Accuracy = JsonNumbers.Finite(c.Accuracy),
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
            Loss = JsonNumbers.Finite(r.Loss),
            Mae = JsonNumbers.Finite(r.MeanAbsoluteError),
            Rmse = JsonNumbers.Finite(r.RootMeanSquaredError),
            R2 = JsonNumbers.Finite(r.RSquared),
        },
        _ => new EvaluationReport { Rows = metrics.Rows, Loss = JsonNumbers.Finite(metrics.Loss) },
    };
}
