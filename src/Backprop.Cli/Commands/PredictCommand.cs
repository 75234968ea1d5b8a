using System.CommandLine;
using System.Globalization;
using System.Text;
using Backprop.Data;
using Backprop.IO;
using Backprop.Training;

namespace Backprop.Cli.Commands;

/// <summary>`backprop predict`: a saved model's predictions for every row of a data file, as CSV.</summary>
public static class PredictCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "The model file.", Required = true, HelpName = "FILE" };
        var data = new DataOptions();
        data.Data.Required = true;
        var outFile = new Option<string?>("--output") { Description = "Write the predictions to this CSV file (atomically) instead of the terminal.", HelpName = "FILE" };
        var command = new Command("predict",
            "Predict every row of a data file: for a classifier the class and each class's probability, for a regressor the value(s). " +
            "A CSV with one column more than the model's inputs is read with its label column, which is ignored.");
        command.Options.Add(model);
        data.AddTo(command);
        command.Options.Add(outFile);
        command.SetAction(parse => App.Guard(error, () =>
        {
            var m = ModelFile.Load(parse.GetValue(model)!);
            var table = data.ReadFor(m, parse.GetValue(data.Data)!, parse.GetValue(data.Labels), parse, requireLabels: false);
            string csv = Format(m, table);
            if (parse.GetValue(outFile) is { } path)
            {
                AtomicFile.WriteAllText(path, csv);
                error.WriteLine($"Wrote {table.Rows} predictions to {path}.");
            }
            else
                output.Write(csv);
            return 0;
        }));
        return command;
    }

    internal static string Format(Model<float> model, Dataset table)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        int outs = model.Network.Outputs;
        bool classifier = model.Task == TaskKind.Classification;
        if (classifier)
            sb.AppendLine("predicted," + string.Join(",", model.ClassNames.Select(n => "p_" + Csv(n))));
        else
            sb.AppendLine(outs == 1 ? "predicted" : string.Join(",", Enumerable.Range(1, outs).Select(i => $"predicted_{i}")));
        var outputs = model.PredictAll(table);
        var p = new double[classifier ? model.ClassCount : 0];
        for (int r = 0; r < table.Rows; r++)
        {
            var y = outputs.AsSpan(r * outs, outs);
            if (classifier)
            {
                // One sigmoid output is P(class 1); a softmax gives every class's probability.
                ClassRule.Probabilities<double>(y, p);
                sb.Append(Csv(model.ClassNames[ClassRule.Predict<double>(y)]));
                foreach (var v in p)
                    sb.Append(',').Append(v.ToString("G6", inv));
            }
            else
            {
                // The network computes in float32: print each value as the float32 it is.
                for (int k = 0; k < outs; k++)
                    sb.Append(k == 0 ? "" : ",").Append(((float)y[k]).ToString("R", inv));
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private static string Csv(string s) => s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
