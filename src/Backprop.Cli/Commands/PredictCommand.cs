using System.CommandLine;
using System.Globalization;
using System.Text;
using Backprop.Cli.Options;
using Backprop.Data;
using Backprop.IO;
using Backprop.Training;

namespace Backprop.Cli.Commands;

/// <summary>`backprop predict`: a saved model's predictions for every row of a data file, as CSV.</summary>
public static class PredictCommand
{
    /// <summary>The command's options.</summary>
    public sealed class Settings
    {
        /// <summary>--model FILE.</summary>
        public required string Model { get; init; }

        /// <summary>The data options.</summary>
        public required DataSettings Data { get; init; }

        /// <summary>--output FILE (null: standard output).</summary>
        public string? Output { get; init; }

        /// <summary>Checks the files: the output must not be the model or the data.</summary>
        public void Validate() => FileChecks.Check([new("--model", Model), .. Data.Files], [new("--output", Output)]);
    }

    /// <summary>The command.</summary>
    public static Command Create(CliStreams streams)
    {
        var model = CommonOptions.Model("The model file.", required: true);
        var data = new DataOptions();
        data.Data.Required = true;
        var output = new OutputFileOption("--output", "Write the predictions to this CSV file (atomically) instead of standard output (- is standard output).");
        var command = new Command("predict",
            "Predict every row of a data file: for a classifier the class and each class's probability, for a regressor the value(s). " +
            "A CSV with one column more than the model's inputs is read with its label column, which is ignored.");
        command.Options.Add(model);
        data.AddTo(command);
        command.Options.Add(output.Option);
        command.SetAction(parse => App.Guard(streams, () =>
        {
            var s = new Settings { Model = parse.GetValue(model)!, Data = data.Bind(parse), Output = parse.GetValue(output.Option) is "-" ? null : parse.GetValue(output.Option) };
            s.Validate();
            var m = ModelFile.Load(s.Model);
            var table = s.Data.ReadFor(m, requireLabels: false, streams.Error);
            string csv = Format(m, table);
            if (s.Output is { } path)
            {
                AtomicFile.WriteAllText(path, csv);
                streams.Error.WriteLine($"Wrote {table.Rows} predictions to {path}.");
            }
            else
                streams.Out.Write(csv);
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>The predictions as CSV: a header, then one line per row.</summary>
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
