using System.CommandLine;
using System.Text.Json;
using Backprop.IO;
using Backprop.Training;

namespace Backprop.Cli.Commands;

/// <summary>`backprop evaluate`: a saved model's loss and accuracy (or regression errors) on labelled data.</summary>
public static class EvaluateCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "The model file.", Required = true, HelpName = "FILE" };
        var data = new DataOptions();
        data.Data.Required = true;
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var command = new Command("evaluate", "Measure a saved model on labelled data: loss, accuracy, per-class precision/recall/F1 and confusion matrix, or MAE/RMSE/R^2.");
        command.Options.Add(model);
        data.AddTo(command);
        command.Options.Add(json);
        command.SetAction(parse => App.Guard(error, () =>
        {
            var m = ModelFile.Load(parse.GetValue(model)!);
            var table = data.ReadFor(m, parse.GetValue(data.Data)!, parse.GetValue(data.Labels), parse, requireLabels: true);
            var metrics = m.Evaluate(table);
            if (parse.GetValue(json))
            {
                object doc = metrics switch
                {
                    ClassificationMetrics c => new
                    {
                        rows = c.Rows,
                        loss = c.Loss,
                        accuracy = c.Accuracy,
                        classes = c.ClassNames,
                        precision = c.Precision,
                        recall = c.Recall,
                        f1 = c.F1,
                        support = c.Support,
                        confusion_matrix = Enumerable.Range(0, c.ConfusionMatrix.GetLength(0))
                            .Select(r => Enumerable.Range(0, c.ConfusionMatrix.GetLength(1)).Select(k => c.ConfusionMatrix[r, k]).ToArray()).ToArray(),
                    },
                    RegressionMetrics r => new { rows = r.Rows, loss = r.Loss, mae = r.MeanAbsoluteError, rmse = r.RootMeanSquaredError, r2 = r.RSquared },
                    _ => new { rows = metrics.Rows, loss = metrics.Loss },
                };
                output.WriteLine(JsonSerializer.Serialize(doc));
            }
            else
                output.WriteLine(metrics.ToString());
            return 0;
        }));
        return command;
    }
}
