using System.CommandLine;
using System.Globalization;
using Backprop.Cli.Options;
using Backprop.Evaluation;
using Backprop.IO;
using Backprop.IO.Json;
using Backprop.Plotting;
using Backprop.Training;

namespace Backprop.Cli.Commands;

/// <summary>
/// `backprop importance`: permutation feature importance of a saved model on labelled data, per input column of its
/// schema (<see cref="PermutationImportance"/>), as a table and, with --plot, a PNG bar chart.
/// </summary>
public static class ImportanceCommand
{
    /// <summary>The default shuffles per column.</summary>
    public const int DefaultRepeats = 5;

    /// <summary>The options of `importance`.</summary>
    public sealed class Settings
    {
        /// <summary>--model FILE.</summary>
        public required string Model { get; init; }

        /// <summary>The data options.</summary>
        public required DataSettings Data { get; init; }

        /// <summary>--split all|test|train (as evaluate's).</summary>
        public string? Split { get; init; }

        /// <summary>--repeats N.</summary>
        public int Repeats { get; init; } = DefaultRepeats;

        /// <summary>--seed N.</summary>
        public long Seed { get; init; } = 1;

        /// <summary>--plot FILE.png.</summary>
        public string? Plot { get; init; }

        /// <summary>--json.</summary>
        public bool Json { get; init; }

        /// <summary>Checks the options and files before any work.</summary>
        public void Validate()
        {
            if (Repeats < 1 || Repeats > PermutationImportance.MaxRepeats)
                throw new BackpropException($"--repeats must be a whole number from 1 to {PermutationImportance.MaxRepeats}, got {Repeats}.");
            new EvaluateCommand.Settings { Model = Model, Data = Data, Split = Split }.Validate();
            FileChecks.Check([new("--model", Model), .. Data.Files], [new("--plot", Plot)]);
        }
    }

    /// <summary>The command.</summary>
    public static Command Create(CliStreams streams)
    {
        var model = CommonOptions.Model("The model file.", required: true);
        var data = new DataOptions();
        data.Data.Required = true;
        var split = new Option<string?>("--split") { Description = "Which rows of --data: all (default), test (the rows train held out of this file) or train.", HelpName = "all|test|train" };
        var repeats = new Option<int>("--repeats") { Description = $"Shuffles per column (default {DefaultRepeats}): the table gives their mean and standard deviation.", HelpName = "N", DefaultValueFactory = _ => DefaultRepeats };
        var seed = new Option<long>("--seed") { Description = "Seed of the shuffles; the same seed gives the same numbers.", HelpName = "N", DefaultValueFactory = _ => 1 };
        var plot = new OutputFileOption("--plot", "Write a bar chart of the importances (mean, with the spread as error bars) to this PNG file.", "FILE.png");
        var json = CommonOptions.Json("Print one JSON object.");
        var command = new Command("importance", "Permutation feature importance: how much the model's accuracy (R^2 for a regressor) falls when each input column is shuffled.");
        command.Options.Add(model);
        data.AddTo(command);
        foreach (var o in new Option[] { split, repeats, seed, plot.Option, json })
            command.Options.Add(o);
        command.SetAction(parse => App.Guard(streams, () => Run(new Settings
        {
            Model = parse.GetValue(model)!,
            Data = data.Bind(parse),
            Split = parse.GetValue(split)?.Trim().ToLowerInvariant(),
            Repeats = parse.GetValue(repeats),
            Seed = parse.GetValue(seed),
            Plot = parse.GetValue(plot.Option),
            Json = parse.GetValue(json),
        }, streams)));
        return command;
    }

    /// <summary>Validates, measures, reports and draws.</summary>
    public static int Run(Settings s, CliStreams streams)
    {
        s.Validate();
        var m = ModelFile.Load(s.Model);
        var rows = EvaluateCommand.Rows(new EvaluateCommand.Settings { Model = s.Model, Data = s.Data, Split = s.Split }, m,
            s.Data.ReadFor(m, requireLabels: true), streams);
        var result = PermutationImportance.Compute(m, rows, s.Repeats, unchecked((ulong)s.Seed));
        var ranked = result.Ranked;
        string measure = result.Score == "accuracy" ? "accuracy drop" : "R^2 drop";
        if (s.Plot is not null)
            ImportancePlot.SaveBarChart(s.Plot, ranked.Select(c => c.Column).ToList(), ranked.Select(c => c.Mean).ToList(),
                ranked.Select(c => c.StandardDeviation).ToList(), $"{Path.GetFileName(s.Model)}: permutation importance ({s.Repeats} shuffles)", measure);
        double baseline = result.Baseline is ClassificationMetrics c ? c.Accuracy : ((RegressionMetrics)result.Baseline).RSquared;
        new Reporter(streams, s.Json).Report(new ImportanceReport
        {
            Rows = rows.Rows,
            Score = result.Score,
            Baseline = baseline,
            Repeats = s.Repeats,
            Seed = result.Seed,
            Columns = ranked.Select(col => new ImportanceColumn
            {
                Column = col.Column,
                Index = col.Index,
                Mean = col.Mean,
                Sd = col.StandardDeviation,
                LossIncrease = col.LossIncrease,
            }).ToList(),
            Plot = s.Plot,
        }, BackpropJson.Compact.ImportanceReport, _ =>
        {
            var inv = CultureInfo.InvariantCulture;
            int width = Math.Max(6, ranked.Max(col => col.Column.Length));
            var lines = new List<string>
            {
                string.Create(inv, $"Permutation importance of {s.Model} on {rows.Rows} rows of {s.Data.Data}{(s.Split is "test" or "train" ? $" (--split {s.Split})" : "")}: {result.Score} {baseline:G4} unshuffled, {s.Repeats} shuffles per column."),
                $"{"column".PadRight(width)}  {measure,14}  {"sd",8}  {"loss increase",13}",
            };
            foreach (var col in ranked)
                lines.Add(string.Create(inv, $"{col.Column.PadRight(width)}  {col.Mean,14:F4}  {col.StandardDeviation,8:F4}  {col.LossIncrease,13:G4}"));
            if (s.Plot is not null)
                lines.Add($"Wrote the bar chart to {s.Plot}.");
            return string.Join('\n', lines);
        });
        return ExitCodes.Success;
    }
}
