using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Backprop.Cli.Options;
using Backprop.Data;
using Backprop.Evaluation;
using Backprop.IO;
using Backprop.IO.Json;
using Backprop.Training;

namespace Backprop.Cli.Commands;

/// <summary>
/// `backprop cv`: K-fold cross-validation of the model `train` would build from the same options (stratified folds
/// for classification, seeded): each fold's model is trained on the other folds and measured on its own; every metric
/// is printed per fold and as a mean and standard deviation (library: <see cref="CrossValidation"/>).
/// </summary>
public static class CvCommand
{
    /// <summary>The default K.</summary>
    public const int DefaultFolds = 5;

    /// <summary>The options of `cv`.</summary>
    public sealed class Settings
    {
        /// <summary>The model and training options, as `train` has them (with --data and the CSV options).</summary>
        public required TrainCommand.Settings Train { get; init; }

        /// <summary>--folds K.</summary>
        public int Folds { get; init; } = DefaultFolds;

        /// <summary>--folds-out FILE: the fold of every row, as CSV.</summary>
        public string? FoldsOut { get; init; }

        /// <summary>--json.</summary>
        public bool Json { get; init; }

        /// <summary>Checks every option and file before any work.</summary>
        public void Validate()
        {
            if (Train.Data.Data is null)
                throw new BackpropException("--data: cv needs a data file (--data FILE).");
            if (Folds < 2 || Folds > CrossValidation.MaxFolds)
                throw new BackpropException($"--folds must be a whole number from 2 to {CrossValidation.MaxFolds}, got {Folds}.");
            FileChecks.Check(Train.Data.Files, [new("--folds-out", FoldsOut)]);
            Train.Validate(checkFiles: false);
        }
    }

    /// <summary>The command.</summary>
    public static Command Create(CliStreams streams)
    {
        var data = new DataOptions();
        data.Data.Required = true;
        var set = new TrainingOptionSet();
        var folds = new Option<int>("--folds") { Description = $"K: the number of folds (default {DefaultFolds}); stratified by class for classification, seeded by --seed.", HelpName = "K", DefaultValueFactory = _ => DefaultFolds };
        var foldsOut = new OutputFileOption("--folds-out", "Write the fold of every row here (CSV: row,fold; row 0 is the first data row of the file, folds from 1), atomically.");
        var json = CommonOptions.Json("Print one JSON object per fold and a summary object as the last line (docs/cli.md).");
        var command = new Command("cv", "Cross-validate: train the model `train` would build on K-1 folds, measure it on the K-th, for every fold; each metric's mean and standard deviation.");
        data.AddTo(command, includeKinds: true);
        set.AddTo(command);
        foreach (var o in new Option[] { folds, foldsOut.Option, json })
            command.Options.Add(o);
        command.SetAction(parse => App.Guard(streams, () => Run(new Settings
        {
            Train = set.Bind(parse, data.Bind(parse)) with { TestFraction = 0 },
            Folds = parse.GetValue(folds),
            FoldsOut = parse.GetValue(foldsOut.Option),
            Json = parse.GetValue(json),
        }, streams)));
        return command;
    }

    /// <summary>Validates, reads the data, runs every fold and reports.</summary>
    public static int Run(Settings s, CliStreams streams)
    {
        s.Validate();
        var t = s.Train;
        string path = t.Data.Data!;
        // The data as train reads it: a table's encoding is fitted on each fold's training rows only (below).
        var source = TrainingSource.Read(t.Data);
        var all = source.Labels;
        if (s.Folds > all.Rows)
            throw new BackpropException($"--folds {s.Folds}: {path} has only {all.Rows} rows (each fold needs at least one).");
        var kind = source.Preprocessing(t.PreprocessingKind);
        var reporter = new Reporter(streams, s.Json);
        var folds = CrossValidation.Folds(all, s.Folds, unchecked((ulong)t.Seed));
        var plan = t.Plan(CrossValidation.Rows(folds, 0).Train.Length); // fold 1's plan (the folds' training rows differ by a row at most)
        if (!s.Json && source.Table is not null)
        {
            reporter.Line($"Columns of {path} (each fold's encoding is fitted on its training rows only):");
            foreach (string line in source.SchemaLines)
                reporter.Line(line);
            foreach (string note in source.Table.Counts.Describe())
                reporter.Line($"Note: {note}.");
        }
        static string Describe(TrainCommand.TrainingPlan plan) =>
            (plan.Patience is { } p ? Inv($"at most {plan.Epochs} epochs (early stopping, patience {p}, {plan.Validation * 100:0.#}% validation split)") : $"{plan.Epochs} epochs")
            + Inv($", L2 {plan.L2:G3}");
        // Each fold trains with the plan of its own training rows: folds that straddle a threshold (early stopping and
        // the small-table L2 start at 1,000 rows) are named.
        var others = Enumerable.Range(1, s.Folds - 1).Select(f => CrossValidation.Rows(folds, f).Train.Length)
            .Select(rows => (Rows: rows, Plan: t.Plan(rows))).Where(x => x.Plan != plan).DistinctBy(x => x.Plan).ToList();
        reporter.Line($"{s.Folds}-fold cross-validation of {path}: {all.Rows} rows, {(all.IsClassification ? "stratified by class" : "not stratified (regression)")}, seed {t.Seed}; "
                      + Describe(plan) + string.Concat(others.Select(o => $" (a fold of {o.Rows} training rows: {Describe(o.Plan)})"))
                      + $", hidden {t.Hidden}, {t.Activation}, {t.Optimizer}.");
        if (s.FoldsOut is not null)
            WriteFolds(s.FoldsOut, folds);
        var watch = Stopwatch.StartNew();
        var names = all.IsClassification ? new[] { "loss", "accuracy", "macro_f1" } : ["loss", "mae", "rmse", "r2"];
        reporter.Line(Row("fold", "train", "test", "epochs", names));
        var result = CrossValidation.Run(all, s.Folds, unchecked((ulong)t.Seed),
            (k, trainRows, testRows) => Fold(t, source, kind, k, trainRows, testRows),
            new Progress(r =>
            {
                var numbers = r.Numbers.ToDictionary(n => n.Name, n => n.Value);
                reporter.Report(new CrossValidationFoldLine
                {
                    Fold = r.Fold,
                    TrainingRows = r.TrainingRows,
                    TestRows = r.TestRows,
                    Epochs = r.Epochs,
                    BestEpoch = r.BestEpoch,
                    Metrics = r.Numbers.ToDictionary(n => n.Name, n => JsonNumbers.Finite(n.Value)),
                }, BackpropJson.Compact.CrossValidationFoldLine,
                    _ => Row(r.Fold.ToString(CultureInfo.InvariantCulture), Num(r.TrainingRows), Num(r.TestRows), Num(r.Epochs), names.Select(n => Format(n, numbers[n])).ToArray()));
            }));
        var summary = result.Summary;
        reporter.Report(new CrossValidationSummary
        {
            Folds = s.Folds,
            Rows = all.Rows,
            Seed = t.Seed,
            Task = all.IsClassification ? "classification" : "regression",
            Mean = summary.ToDictionary(m => m.Name, m => JsonNumbers.Finite(m.Mean)),
            Sd = summary.ToDictionary(m => m.Name, m => JsonNumbers.Finite(m.StandardDeviation)),
            FoldsOut = s.FoldsOut,
            Seconds = Math.Round(watch.Elapsed.TotalSeconds, 3),
        }, BackpropJson.Compact.CrossValidationSummary, _ =>
        {
            var byName = summary.ToDictionary(m => m.Name);
            var lines = new List<string>
            {
                Row("mean", "", "", "", names.Select(n => Format(n, byName[n].Mean)).ToArray()),
                Row("sd", "", "", "", names.Select(n => Format(n, byName[n].StandardDeviation)).ToArray()),
                Inv($"Done in {watch.Elapsed.TotalSeconds:F1} s. ") + string.Join(", ", summary.Select(m => Inv($"{m.Name} {Format(m.Name, m.Mean)} +/- {Format(m.Name, m.StandardDeviation)}"))) + ".",
            };
            if (s.FoldsOut is not null)
                lines.Add($"Wrote the fold of every row to {s.FoldsOut}.");
            return string.Join('\n', lines);
        });
        return ExitCodes.Success;
    }

    /// <summary>
    /// One fold: the data encoded by an encoding fitted on the fold's training rows (a table's), the model train would
    /// build, trained as train trains it (standardised targets for a table's regression, mapped back), measured on the fold.
    /// </summary>
    internal static FoldResult Fold(TrainCommand.Settings t, TrainingSource source, PreprocessingKind kind, int k, IReadOnlyList<int> trainRows, IReadOnlyList<int> testRows) =>
        FoldModel(t, source, kind, k, trainRows, testRows).Result;

    /// <summary><see cref="Fold"/>, with the fold's trained model (its table encoding is the one fitted on the fold's training rows).</summary>
    internal static (FoldResult Result, Model<float> Model) FoldModel(TrainCommand.Settings t, TrainingSource source, PreprocessingKind kind, int k,
        IReadOnlyList<int> trainRows, IReadOnlyList<int> testRows)
    {
        var data = source.Split(trainRows, testRows, kind);
        var model = TrainCommand.BuildModel(t, data);
        var report = model.Fit(data.Standardised?.Train ?? data.Train, TrainCommand.FitOptions(t, t.Plan(data.Train.Rows)));
        TrainCommand.Unscale(data, model);
        return (new FoldResult(k + 1, data.Train.Rows, data.Test.Rows, model.History.Count, report.BestEpoch, model.Evaluate(data.Test)), model);
    }

    /// <summary>Writes the fold assignment: a header line "row,fold", then one line per row (row from 0, fold from 1).</summary>
    internal static void WriteFolds(string path, IReadOnlyList<int> folds)
    {
        var text = new StringBuilder("row,fold\n");
        for (int r = 0; r < folds.Count; r++)
            text.Append(CultureInfo.InvariantCulture, $"{r},{folds[r] + 1}\n");
        AtomicFile.WriteAllText(path, text.ToString());
    }

    private static string Row(string fold, string train, string test, string epochs, string[] values) =>
        $"{fold,-5} {train,6} {test,6} {epochs,6}  " + string.Join("  ", values.Select(v => $"{v,10}"));

    private static string Format(string name, double value) =>
        name is "accuracy" or "macro_f1" or "macro_precision" or "macro_recall" ? Inv($"{value * 100:F2}%") : Inv($"{value:G5}");

    private static string Num(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private sealed class Progress(Action<FoldResult> report) : IProgress<FoldResult>
    {
        public void Report(FoldResult value) => report(value);
    }
}
