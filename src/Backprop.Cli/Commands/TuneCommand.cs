using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Backprop.Cli.Options;
using Backprop.Data;
using Backprop.Evaluation;
using Backprop.IO;
using Backprop.IO.Json;
using Backprop.Training;

namespace Backprop.Cli.Commands;

/// <summary>
/// `backprop tune`: random search with successive halving over architectures, activations, optimizers, learning rates,
/// L2, batch sizes and epochs (<see cref="RandomSearch"/>), scored on a validation split of --data or by K-fold
/// cross-validation; the leaderboard is printed as it goes, the best model is saved (atomically, each time it
/// changes) with the settings that made it, and Ctrl+C keeps the best so far.
/// </summary>
public static partial class TuneCommand
{
    /// <summary>The options of `tune`.</summary>
    public sealed class Settings
    {
        /// <summary>--data, --labels and the CSV options.</summary>
        public required DataSettings Data { get; init; }

        /// <summary>--test FILE: measured with the best model at the end (never used to choose it).</summary>
        public string? Test { get; init; }

        /// <summary>--test-labels FILE.</summary>
        public string? TestLabels { get; init; }

        /// <summary>--time DURATION as given.</summary>
        public string? Time { get; init; }

        /// <summary>--trials N.</summary>
        public int? Trials { get; init; }

        /// <summary>--seed N.</summary>
        public long Seed { get; init; } = 1;

        /// <summary>--folds K (0: a validation split).</summary>
        public int Folds { get; init; }

        /// <summary>--validation-fraction F.</summary>
        public double ValidationFraction { get; init; } = TrainingDefaults.TuneValidationFraction;

        /// <summary>--preprocess KIND.</summary>
        public string? Preprocess { get; init; }

        /// <summary>--save FILE.</summary>
        public string? Save { get; init; }

        /// <summary>--json.</summary>
        public bool Json { get; init; }

        /// <summary>The time budget (after <see cref="Validate"/>).</summary>
        public TimeSpan? Budget { get; private set; }

        /// <summary>Checks every option and file before any work.</summary>
        public void Validate()
        {
            if (Data.Data is null)
                throw new BackpropException("--data: tune needs a data file (--data FILE).");
            if (Time is null && Trials is null)
                throw new BackpropException("Give --time DURATION (e.g. 60s) or --trials N (or both): the search needs a bound.");
            if (Trials is < 1)
                throw new BackpropException($"--trials must be at least 1, got {Trials}.");
            if (Time is not null)
                Budget = ParseDuration(Time);
            if (Folds is 1 or < 0 || Folds > CrossValidation.MaxFolds)
                throw new BackpropException($"--folds must be 0 (score on a validation split) or 2 to {CrossValidation.MaxFolds}, got {Folds}.");
            if (!(ValidationFraction > 0 && ValidationFraction < 1))
                throw new BackpropException($"--validation-fraction must be in (0, 1), got {ValidationFraction.ToString(CultureInfo.InvariantCulture)}.");
            if (TestLabels is not null && Test is null)
                throw new BackpropException("--test-labels needs --test (the IDX images file it labels).");
            if (Preprocess is not null && Preprocessing.Parse(Preprocess) is null)
                throw new BackpropException($"--preprocess: unknown kind '{Preprocess}'; expected standardize, min-max, pixels or none.");
            FileChecks.Check([.. Data.Files, new("--test", Test), new("--test-labels", TestLabels)], [new("--save", Save)]);
        }
    }

    [GeneratedRegex(@"^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s?)?$")]
    private static partial Regex DurationPattern();

    /// <summary>A duration: 60s, 90 (seconds), 2m, 1m30s, 1h, 0.5s; positive, at most a week.</summary>
    public static TimeSpan ParseDuration(string text)
    {
        var m = DurationPattern().Match(text.Trim().ToLowerInvariant());
        if (text.Trim().Length == 0 || !m.Success)
            throw new BackpropException($"--time: '{text}' is not a duration; expected e.g. 60s, 90, 2m, 1m30s or 1h.");
        double seconds = (m.Groups[1].Success ? 3600 * double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0)
                         + (m.Groups[2].Success ? 60 * double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : 0)
                         + (m.Groups[3].Success ? double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) : 0);
        if (!(seconds > 0) || seconds > 7 * 24 * 3600)
            throw new BackpropException($"--time: '{text}' must be more than 0 and at most a week.");
        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>The command.</summary>
    public static Command Create(CliStreams streams)
    {
        var data = new DataOptions();
        data.Data.Required = true;
        var test = new Option<string?>("--test") { Description = "A test file (same format and columns as --data): the best model is measured on it at the end; it never chooses.", HelpName = "FILE" };
        var testLabels = new Option<string?>("--test-labels") { Description = "The IDX labels file for an IDX --test file.", HelpName = "FILE" };
        var time = new Option<string?>("--time") { Description = "The time budget, e.g. 60s, 2m, 1m30s: training stops when it is spent (between two batches); the summary gives the trial count reached, which --trials replays exactly.", HelpName = "DURATION" };
        var trials = new Option<int?>("--trials") { Description = "Configurations to try, in brackets of 9 (successive halving: each rung keeps the best third and trains it three times as long). The same seed and count give the same leaderboard.", HelpName = "N" };
        var seed = new Option<long>("--seed") { Description = "Seed of the configurations, the validation split and every model.", HelpName = "N", DefaultValueFactory = _ => 1 };
        var folds = new Option<int>("--folds") { Description = "Score each configuration by K-fold cross-validation (K times the work) instead of one validation split.", HelpName = "K" };
        var validation = new Option<double>("--validation-fraction") { Description = $"The fraction of --data held out to score the configurations (default {TrainingDefaults.TuneValidationFraction.ToString(CultureInfo.InvariantCulture)}; not with --folds).", HelpName = "F", DefaultValueFactory = _ => TrainingDefaults.TuneValidationFraction };
        var preprocess = new Option<string?>("--preprocess") { Description = "standardize (default for tabular data), min-max, pixels (default for IDX images) or none.", HelpName = "KIND" };
        var save = new OutputFileOption("--save", "Write the best model here (atomically, each time a better one is found), with a 'tune' section holding its settings.");
        var json = CommonOptions.Json("Print one JSON object per configuration and rung and a summary object as the last line (docs/cli.md).");
        var command = new Command("tune", "Search architectures, activations, optimizers, learning rates, L2, batch sizes and epochs (random search with successive halving) within a time budget or a trial count; save the best model.");
        data.AddTo(command, includeKinds: true);
        foreach (var o in new Option[] { test, testLabels, time, trials, seed, folds, validation, preprocess, save.Option, json })
            command.Options.Add(o);
        command.SetAction(parse => App.Guard(streams, () => Run(new Settings
        {
            Data = data.Bind(parse),
            Test = DataOptions.StandardInput("--test", parse.GetValue(test)),
            TestLabels = DataOptions.StandardInput("--test-labels", parse.GetValue(testLabels)),
            Time = parse.GetValue(time),
            Trials = parse.GetValue(trials),
            Seed = parse.GetValue(seed),
            Folds = parse.GetValue(folds),
            ValidationFraction = parse.GetValue(validation),
            Preprocess = parse.GetValue(preprocess),
            Save = parse.GetValue(save.Option),
            Json = parse.GetValue(json),
        }, streams)));
        return command;
    }

    /// <summary>Validates, reads the data, searches, reports and saves.</summary>
    public static int Run(Settings s, CliStreams streams)
    {
        s.Validate();
        string path = s.Data.Data!;
        // The data as train reads it; a table's encoding is fitted on each part's training rows only (Prepare below).
        var source = TrainingSource.Read(s.Data);
        var all = source.Labels;
        var kind = source.Preprocessing(s.Preprocess is null ? null : Preprocessing.Parse(s.Preprocess));
        // A numeric --test file is checked before the search; a table's is read at the end with the saved model's
        // encoding, but one that is not there is refused now, not after the whole search.
        if (s.Test is not null && source.Numeric is null && !FileIdentity.Of(s.Test).Exists)
            throw new BackpropException($"--test {s.Test}: no such file.");
        var testData = s.Test is not null && source.Numeric is { } numeric
            ? DataFiles.ReadFor(numeric.Schema, s.Test, s.TestLabels, s.Data.Csv, requireLabels: true) : null;
        // A fifth of a time budget is kept for the refit of the best configuration on every row.
        var options = new SearchOptions
        {
            Seed = s.Seed, Trials = s.Trials, Time = s.Budget * SearchShare, Folds = s.Folds, ValidationFraction = s.ValidationFraction,
            // Trial 1 is what train would do with the file alone, so the search never ends worse than the defaults
            // (its L2 that of the refit's rows: every row of the file).
            Baseline = TrialSettings.DefaultsFor(all.Rows),
        };
        var parts = new Dictionary<Dataset, Part>(ReferenceEqualityComparer.Instance);
        string scoredBy = s.Folds >= 2 ? $"cv {s.Folds}" : string.Create(CultureInfo.InvariantCulture, $"validation {s.ValidationFraction}");
        var reporter = new Reporter(streams, s.Json);
        reporter.Line($"Searching on {path} ({all.Rows} rows): "
                      + string.Join(" and ", new[] { s.Time is null ? null : $"for {s.Time}", s.Trials is null ? null : $"{s.Trials} configurations" }.Where(x => x is not null))
                      + $", seed {s.Seed}, scored by {(s.Folds >= 2 ? $"{s.Folds}-fold cross-validation" : string.Create(CultureInfo.InvariantCulture, $"a {s.ValidationFraction * 100:0.#}% validation split"))}.");
        reporter.Line($"{"trial",5} {"rung",4} {"epochs",6}  {(all.IsClassification ? "accuracy" : ""),9}  {"val loss",9}  {"s",6}  settings   (ranked by validation loss)");

        using var cts = new CancellationTokenSource();
        PosixSignal? signal = null;
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = signal is null;
            signal ??= context.Signal;
            cts.Cancel();
        }
        using var sigint = streams.IsConsole ? PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal) : null;
        using var sigterm = streams.IsConsole ? PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal) : null;

        var watch = Stopwatch.StartNew();
        Model<float>? bestModel = null;
        var result = RandomSearch.Run(all, options,
            (train, stop, validation) => Prepare(source, parts, train, stop, validation),
            (settings, train, seed) => Build(train, parts[train].Schema, parts[train].Pipeline, kind, settings, seed),
            new Progress(r => reporter.Report(Line(r, r.IsBest), BackpropJson.Compact.TuneTrialLine, l => Text(r, l.Best))),
            (r, model) =>
            {
                // A copy: a provisional best goes on training in the next rung. Part 1's model, in its targets' units.
                bestModel = ModelFile.Deserialize<float>(ModelFile.Serialize(model), "the best model");
                parts.Values.First(p => p.Index == 0).Unscale(bestModel);
                if (s.Save is not null)
                    Save(bestModel, s.Save, s, r, scoredBy, "running");
            },
            cts.Token);

        var best = result.Best;
        string stoppedBy = signal is not null ? "cancelled" : result.StoppedBy;
        bool refitted = false;
        if (best is not null && signal is null && result.CompleteTrials > 0)
        {
            // The search's models trained on the rows left after the validation split; the best configuration is
            // trained again on every row for the epochs that scored best, when that fits in what is left of the budget.
            double estimate = best.SecondsPerEpoch * best.Epochs / (s.Folds >= 2 ? s.Folds : 1) / (1 - (s.Folds >= 2 ? 1.0 / s.Folds : s.ValidationFraction));
            var left = s.Budget is { } b ? b - watch.Elapsed : (TimeSpan?)null;
            if (left is null || left.Value.TotalSeconds > estimate * 1.25 + 0.5)
            {
                var refit = Refit(source, kind, best, s.Seed, left, cts.Token);
                if (refit is not null)
                {
                    bestModel = refit;
                    refitted = true;
                }
            }
        }
        var notes = new List<string>();
        if (s.Test is not null && best is not null && bestModel is not null && testData is null)
            testData = TrainingSource.ReadTest(bestModel.Schema, bestModel.Table, s.Test, s.TestLabels, s.Data.Csv, notes);
        foreach (string note in notes)
            reporter.Note($"note: {note}");
        Metrics? testMetrics = best is not null && bestModel is not null && testData is not null ? bestModel.Evaluate(testData) : null;
        if (s.Save is not null && best is not null && bestModel is not null)
            Save(bestModel, s.Save, s, best, scoredBy, stoppedBy, result.CompleteTrials, refitted);
        var summary = new TuneSummary
        {
            Seed = s.Seed,
            Trials = result.CompleteTrials,
            StoppedBy = stoppedBy,
            ScoredBy = scoredBy,
            BestTrial = best?.Trial,
            BestSettings = best?.Settings.ToCommandLine(best.Epochs),
            BestScore = best?.Score,
            TestRows = testMetrics?.Rows ?? 0,
            TestAccuracy = (testMetrics as ClassificationMetrics)?.Accuracy,
            TestLoss = testMetrics?.Loss,
            Saved = best is not null ? s.Save : null,
            Refit = refitted,
            Seconds = Math.Round(watch.Elapsed.TotalSeconds, 3),
        };
        reporter.Report(summary, BackpropJson.Compact.TuneSummary, _ => SummaryText(s, result, best, testMetrics, stoppedBy, watch.Elapsed.TotalSeconds, refitted));
        return signal switch { PosixSignal.SIGTERM => ExitCodes.Terminated, PosixSignal.SIGINT => ExitCodes.Interrupted, _ => ExitCodes.Success };
    }

    /// <summary>The share of a --time budget the search itself may use; the rest is for the refit on every row.</summary>
    public const double SearchShare = TrainingDefaults.TuneSearchShare;

    /// <summary>
    /// One part of the search (the validation split, or a fold) as its models see it: the encoding (a table's) fitted
    /// on its training rows only, and for a table's regression the targets of all three sets standardised by the
    /// training rows' mean and scale (the scores are losses on that scale; <see cref="Unscale"/> maps a model back).
    /// </summary>
    internal sealed record Part(int Index, DataSchema Schema, TablePipeline? Pipeline, (double Mean, double Scale)? Targets)
    {
        public void Unscale(Model<float> model)
        {
            if (Targets is { } t && model.CanUnscaleOutputs)
                model.UnscaleOutputs([t.Mean], [t.Scale]);
        }
    }

    internal static SearchPart Prepare(TrainingSource source, Dictionary<Dataset, Part> parts, IReadOnlyList<int> train, IReadOnlyList<int> stop, IReadOnlyList<int> validation)
    {
        var (all, schema, pipeline) = source.Encode(train);
        (double, double)? targets = null;
        if (pipeline is not null && !all.IsClassification && all.Outputs == 1)
        {
            var (mean, scale) = TrainingSource.TargetScale(all.Subset([.. train]));
            all = TrainingSource.Scale(all, mean, scale);
            targets = (mean, scale);
        }
        var part = new SearchPart(all.Subset([.. train]), all.Subset([.. stop]), all.Subset([.. validation]));
        parts[part.Train] = new Part(parts.Count, schema, pipeline, targets);
        return part;
    }

    /// <summary>An untrained model of a configuration for its training rows (and, for a table, their fitted encoding).</summary>
    private static Model<float> Build(Dataset train, DataSchema schema, TablePipeline? table, PreprocessingKind kind, TrialSettings settings, long seed)
    {
        var builder = Model.For(train).Preprocess(kind).WithSchema(schema);
        if (table is not null)
            builder.WithTable(table);
        foreach (int units in settings.Hidden)
            builder.Dense(units, settings.Activation);
        return builder.Build<float>(seed);
    }

    /// <summary>The best configuration trained on every row for its best epoch count; null when the budget ran out first.</summary>
    private static Model<float>? Refit(TrainingSource source, PreprocessingKind kind, TrialResult best, long seed, TimeSpan? left, CancellationToken token)
    {
        var every = Enumerable.Range(0, source.Rows).ToArray();
        var data = source.Split(every, [], kind);
        var model = Build(data.Train, data.Schema!, data.Table, kind, best.Settings, RandomSearch.WeightSeed(seed, best.Trial));
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(token);
        if (left is { } l)
            budget.CancelAfter(l);
        try
        {
            model.Fit(data.Standardised?.Train ?? data.Train,
                best.Settings.Options(Math.Max(1, best.Epochs), RandomSearch.TrainingSeed(seed, best.Trial)), budget.Token);
            TrainCommand.Unscale(data, model);
            return model;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private static void Save(Model<float> model, string path, Settings s, TrialResult best, string scoredBy, string stoppedBy, int? trials = null, bool refit = false)
    {
        var record = new TuneSummary
        {
            Seed = s.Seed,
            Trials = trials ?? 0,
            StoppedBy = stoppedBy,
            ScoredBy = scoredBy,
            BestTrial = best.Trial,
            BestSettings = best.Settings.ToCommandLine(best.Epochs),
            BestScore = best.Score,
            Refit = refit,
            Seconds = best.Seconds,
        };
        model.ExtraSections["tune"] = JsonSerializer.Serialize(record, BackpropJson.Compact.TuneSummary);
        model.Save(path);
    }

    private static TuneTrialLine Line(TrialResult r, bool best) => new()
    {
        Trial = r.Trial,
        Bracket = r.Bracket,
        Rung = r.Rung,
        Epochs = r.Epochs,
        Score = r.Score,
        ValidationLoss = r.ValidationLoss,
        ValidationAccuracy = r.ValidationAccuracy,
        Settings = r.Settings.ToCommandLine(),
        Best = best,
        Seconds = r.Seconds,
    };

    private static string Text(TrialResult r, bool best) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Trial,5} {r.Rung,4} {r.Epochs,6}  {(r.ValidationAccuracy is { } a ? $"{a * 100:F2}%" : ""),9}  {r.ValidationLoss,9:G4}  {r.Seconds,6:F1}  {r.Settings.ToCommandLine()}{(best ? "  * best so far" : "")}");

    private static string SummaryText(Settings s, SearchResult result, TrialResult? best, Metrics? test, string stoppedBy, double seconds, bool refitted)
    {
        var lines = new List<string>
        {
            "",
            stoppedBy switch
            {
                "time" => $"Time is up ({s.Time}) after {seconds:F1} s: {result.CompleteTrials} configurations in complete brackets (a bracket cut short by the time is left out); `--trials {result.CompleteTrials} --seed {s.Seed}` replays this search exactly.",
                "cancelled" => $"Stopped after {seconds:F1} s; kept the best so far ({result.CompleteTrials} configurations in complete brackets).",
                _ => $"Done in {seconds:F1} s: {result.CompleteTrials} configurations.",
            },
            "Leaderboard (each configuration's last rung, best first):",
        };
        foreach (var r in result.Leaderboard.Take(10))
            lines.Add(Text(r, false));
        if (best is null)
            lines.Add("No configuration finished a rung: nothing to save.");
        else
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"Best: trial {best.Trial}, validation loss {best.ValidationLoss:G4}{(best.ValidationAccuracy is { } a ? $", accuracy {a * 100:F2}%" : "")}: backprop train {best.Settings.ToCommandLine(best.Epochs)}"));
            lines.Add(refitted
                ? $"Trained it again on every row of --data for {best.Epochs} epochs: that is the saved and tested model."
                : "The saved model is the search's (trained on the rows left after the validation split): the refit on every row did not fit in the budget, or the search was stopped.");
            if (test is not null)
                lines.Add($"Test ({s.Test}): {TrainCommand.Describe(test)}.");
            if (s.Save is not null)
                lines.Add($"Saved the best model to {s.Save} (its settings in the model's 'tune' section).");
        }
        return string.Join('\n', lines);
    }

    private sealed class Progress(Action<TrialResult> report) : IProgress<TrialResult>
    {
        public void Report(TrialResult value) => report(value);
    }
}
