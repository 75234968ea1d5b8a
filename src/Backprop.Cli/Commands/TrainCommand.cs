using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Backprop.Data;
using Backprop.IO;
using Backprop.Nn;
using Backprop.Plotting;
using Backprop.Training;

namespace Backprop.Cli.Commands;

/// <summary>
/// `backprop train`: from a CSV, MNIST IDX files or a built-in synthetic dataset to a trained, saved model in
/// one command, with a live progress line on a terminal, plain lines otherwise, or JSON lines.
/// </summary>
public static class TrainCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var data = new DataOptions();
        var dataset = new Option<string?>("--dataset") { Description = $"A built-in synthetic dataset instead of --data: {string.Join(", ", SyntheticData.Names)}.", HelpName = "NAME" };
        var test = new Option<string?>("--test") { Description = "A separate test file (same format and columns as --data).", HelpName = "FILE" };
        var testLabels = new Option<string?>("--test-labels") { Description = "The IDX labels file for an IDX --test file.", HelpName = "FILE" };
        var testFraction = new Option<double?>("--test-fraction") { Description = "Hold out this fraction of the data for testing, stratified by class and seeded (default 0.2 when there is no --test; 0 to train on everything).", HelpName = "F" };
        var preprocess = new Option<string?>("--preprocess") { Description = "standardize (default for tabular data), min-max, pixels (default for IDX images) or none; fitted on the training rows only and stored in the model.", HelpName = "KIND" };
        // One hidden layer of 256: on optdigits, MNIST and iris it beat 64,32 and 128 (docs/results.md, "Defaults").
        var hidden = new Option<string>("--hidden") { Description = "Hidden layer sizes, comma-separated; 'none' for no hidden layer.", DefaultValueFactory = _ => "256" };
        var activation = new Option<string>("--activation") { Description = "Hidden activation: relu, leaky-relu, tanh, sigmoid, identity.", DefaultValueFactory = _ => "relu" };
        var loss = new Option<string?>("--loss") { Description = "Loss: cross-entropy (default for classification, softmax outputs), binary-cross-entropy, mse (default for regression), half-sse.", HelpName = "NAME" };
        var optimizer = new Option<string>("--optimizer") { Description = "sgd, momentum (SGD, momentum 0.9), nesterov, adam (default), adamw, rmsprop.", DefaultValueFactory = _ => "adam" };
        var lr = new Option<double?>("--lr") { Description = "Learning rate (default: 0.001 for adam/adamw, 0.01 otherwise).", HelpName = "ETA" };
        var schedule = new Option<string>("--schedule") { Description = "constant, step:EVERY[:GAMMA], exponential:GAMMA or cosine:PERIOD[:MINIMUM].", DefaultValueFactory = _ => "constant" };
        var epochs = new Option<int?>("--epochs")
        {
            Description = "Passes over the training data (default: enough for about 2,000 updates, between 10 and 200 epochs).",
            HelpName = "N",
        };
        var batch = new Option<int>("--batch") { Description = "Mini-batch size.", DefaultValueFactory = _ => 32 };
        var seed = new Option<long>("--seed") { Description = "Seed for the weights, shuffling and splits; the same seed gives the same model.", DefaultValueFactory = _ => 1 };
        var validation = new Option<double>("--validation-fraction") { Description = "Hold out this fraction of the training rows for validation (needed by --patience).", HelpName = "F" };
        var patience = new Option<int?>("--patience") { Description = "Early stopping: stop after N epochs without a better validation loss and keep the best weights.", HelpName = "N" };
        var l2 = new Option<double>("--l2") { Description = "L2 regularisation strength (weights only).", HelpName = "LAMBDA" };
        var clip = new Option<double?>("--clip-norm") { Description = "Clip gradients to this global L2 norm.", HelpName = "NORM" };
        var save = new Option<string?>("--save") { Description = "Write the trained model here (JSON, docs/model-format.md), atomically.", HelpName = "FILE" };
        var plot = new Option<string?>("--plot") { Description = "Write the loss (and accuracy) curves per epoch to this PNG file.", HelpName = "FILE.png" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per epoch and a summary object as the last line." };
        var quiet = new Option<bool>("--quiet") { Description = "Print only the final summary." };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Write a checkpoint here (docs/checkpoint-format.md), atomically, every --checkpoint-every epochs, at the end and on Ctrl+C/SIGTERM.", HelpName = "FILE" };
        var checkpointEvery = new Option<int?>("--checkpoint-every") { Description = "Epochs between checkpoints (default 1; needs --checkpoint).", HelpName = "N" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run saved in this checkpoint (same data and options); ends bit-identical to an uninterrupted run.", HelpName = "FILE" };

        var command = new Command("train", "Train a network from a CSV file, MNIST IDX files or a built-in dataset, and save it.");
        data.AddTo(command);
        foreach (var o in new Option[] { dataset, test, testLabels, testFraction, preprocess, hidden, activation, loss, optimizer, lr, schedule,
                     epochs, batch, seed, validation, patience, l2, clip, save, plot, json, quiet, checkpoint, checkpointEvery, resume })
            command.Options.Add(o);

        command.SetAction(parse => App.Guard(error, () =>
        {
            var s = new Settings(
                parse.GetValue(data.Data), parse.GetValue(data.Labels), parse.GetValue(dataset), parse.GetValue(test), parse.GetValue(testLabels),
                parse.GetValue(testFraction), parse.GetValue(preprocess), parse.GetValue(hidden)!, parse.GetValue(activation)!, parse.GetValue(loss),
                parse.GetValue(optimizer)!, parse.GetValue(lr), parse.GetValue(schedule)!, parse.GetValue(epochs), parse.GetValue(batch),
                parse.GetValue(seed), parse.GetValue(validation), parse.GetValue(patience), parse.GetValue(l2), parse.GetValue(clip),
                parse.GetValue(save), parse.GetValue(plot), parse.GetValue(json), parse.GetValue(quiet),
                parse.GetValue(checkpoint), parse.GetValue(checkpointEvery), parse.GetValue(resume));
            return Run(s, data, parse, output, error);
        }));
        return command;
    }

    private sealed record Settings(string? Data, string? Labels, string? Dataset, string? Test, string? TestLabels, double? TestFraction,
        string? Preprocess, string Hidden, string Activation, string? Loss, string Optimizer, double? Lr, string Schedule, int? Epochs,
        int Batch, long Seed, double Validation, int? Patience, double L2, double? Clip, string? Save, string? Plot, bool Json, bool Quiet,
        string? Checkpoint, int? CheckpointEvery, string? Resume);

    /// <summary>Exit code after SIGINT (Ctrl+C): 128 + 2, as shells report it.</summary>
    public const int InterruptedExitCode = 130;

    /// <summary>Exit code after SIGTERM: 128 + 15.</summary>
    public const int TerminatedExitCode = 143;

    private static int Run(Settings s, DataOptions dataOptions, ParseResult parse, TextWriter output, TextWriter error)
    {
        if ((s.Data is null) == (s.Dataset is null))
            throw new BackpropException("Give either --data FILE or --dataset NAME (one of them).");
        if (s.Epochs is < 1)
            throw new BackpropException($"--epochs must be at least 1, got {s.Epochs}.");
        if (s.Batch < 1)
            throw new BackpropException($"--batch must be at least 1, got {s.Batch}.");
        if (s.TestFraction is { } tf && !(tf >= 0 && tf < 1))
            throw new BackpropException($"--test-fraction must be in [0, 1), got {tf.ToString(CultureInfo.InvariantCulture)}.");
        if (!(s.Validation >= 0 && s.Validation < 1))
            throw new BackpropException($"--validation-fraction must be in [0, 1), got {s.Validation.ToString(CultureInfo.InvariantCulture)}.");
        if (s.Patience is { } p && (p < 1 || s.Validation == 0))
            throw new BackpropException("--patience needs a whole number of at least 1 and a --validation-fraction to watch.");
        if (s.Test is not null && s.TestFraction is > 0)
            throw new BackpropException("Give either --test FILE or --test-fraction F, not both.");
        if (s.CheckpointEvery is { } every && (every < 1 || s.Checkpoint is null))
            throw new BackpropException("--checkpoint-every needs a whole number of at least 1 and a --checkpoint FILE.");
        // Fail before training, not after it, when an output file cannot be written.
        foreach (var (option, path) in new[] { ("--save", s.Save), ("--checkpoint", s.Checkpoint), ("--plot", s.Plot) })
            if (path is not null)
            {
                try
                {
                    AtomicFile.RequireWritableTarget(path);
                }
                catch (BackpropException e)
                {
                    throw new BackpropException($"{option} {e.Message}", e);
                }
            }
        var hidden = ParseHidden(s.Hidden);
        var hiddenActivation = Names.Parse<Activation>(s.Activation, "activation");
        if (hiddenActivation == Activation.Softmax)
            throw new BackpropException("--activation: softmax is only for the output layer; choose relu, leaky-relu, tanh, sigmoid or identity.");
        var optimizerFactory = OptimizerFactory(s.Optimizer, s.Lr);
        var schedule = LearningRateSchedule.Parse(s.Schedule);

        // Data: training and test sets (raw); the model fits its preprocessing on the training rows only.
        Dataset all, train, testSet;
        DataSchema? schema = null;
        PreprocessingKind kind = PreprocessingKind.None;
        string source;
        double fraction = s.TestFraction ?? (s.Test is null ? 0.2 : 0);
        if (s.Dataset is not null)
        {
            if (!SyntheticData.Names.Contains(s.Dataset.Trim().ToLowerInvariant()))
                throw new BackpropException($"--dataset: unknown dataset '{s.Dataset}'; expected one of {string.Join(", ", SyntheticData.Names)}.");
            all = SyntheticData.Create(s.Dataset.Trim().ToLowerInvariant(), seed: s.Seed);
            source = $"dataset {s.Dataset}";
            if (s.Preprocess is not null)
                kind = Preprocessing.Parse(s.Preprocess) ?? throw new BackpropException($"--preprocess: unknown kind '{s.Preprocess}'; expected standardize, min-max, pixels or none.");
        }
        else
        {
            var file = DataFiles.Read(s.Data!, s.Labels, dataOptions.Csv(parse));
            all = file.Data;
            schema = file.Schema;
            source = s.Data!;
            if (!all.HasTargets)
                throw new BackpropException($"{s.Data}: the data has no labels (label column), so it cannot be trained on.");
            kind = s.Preprocess is null ? DataFiles.DefaultPreprocessing(s.Data!, s.Labels)
                : Preprocessing.Parse(s.Preprocess) ?? throw new BackpropException($"--preprocess: unknown kind '{s.Preprocess}'; expected standardize, min-max, pixels or none.");
        }
        if (s.Test is not null)
        {
            if (schema is null)
                throw new BackpropException("--test needs --data (a built-in dataset is split with --test-fraction).");
            train = all;
            testSet = DataFiles.ReadFor(schema, s.Test, s.TestLabels, dataOptions.Csv(parse), requireLabels: true);
        }
        else if (fraction > 0)
        {
            (train, testSet) = all.Split(fraction, unchecked((ulong)s.Seed));
        }
        else
        {
            (train, testSet) = (all, all.Subset([]));
        }
        if (train.Rows == 0)
            throw new BackpropException($"{source}: no rows left to train on.");

        int batchesPerEpoch = (train.Rows + s.Batch - 1) / s.Batch;
        int epochCount = s.Epochs ?? Math.Clamp((2000 + batchesPerEpoch - 1) / batchesPerEpoch, 10, 200);
        var model = BuildModel(train, schema, kind, hidden, hiddenActivation, s.Loss, s.Seed);

        // Where a checkpoint goes: --checkpoint (periodic and on a signal), else on a signal only: the --resume
        // file, or beside --save, or in the current folder.
        string checkpointPath = s.Checkpoint ?? s.Resume
            ?? (s.Save is not null ? Path.Combine(Path.GetDirectoryName(s.Save) ?? "", Path.GetFileNameWithoutExtension(s.Save) + ".checkpoint.json")
                : "backprop.checkpoint.json");
        var checkpointOptions = CheckpointFile.Every(checkpointPath, s.Checkpoint is null ? 0 : s.CheckpointEvery ?? 1);

        // SIGINT (Ctrl+C) and SIGTERM: finish the batch in progress, write the checkpoint, exit 130 or 143.
        using var cts = new CancellationTokenSource();
        PosixSignal? signal = null;
        void OnSignal(PosixSignalContext context)
        {
            // A second signal is not waited on: the process ends at once, as without a handler (files stay whole: every write is atomic).
            context.Cancel = signal is null;
            signal ??= context.Signal;
            cts.Cancel();
        }
        bool console = ReferenceEquals(output, Console.Out);
        using var sigint = console ? PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal) : null;
        using var sigterm = console ? PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal) : null;
        var display = new ProgressDisplay(output, s.Json, s.Quiet, live: console && !Console.IsOutputRedirected && !s.Json && !s.Quiet,
            train.Rows, epochCount);
        if (!s.Json && !s.Quiet)
            output.WriteLine($"Training {model} on {source}: {train.Rows} training rows, {testSet.Rows} test rows, " +
                             $"{epochCount} epochs, batch {s.Batch}, optimizer {s.Optimizer}.");
        var watch = Stopwatch.StartNew();
        TrainingReport? report = null;
        bool interrupted = false;
        TrainingDivergedException? diverged = null;
        try
        {
            report = model.Fit(train, new TrainingOptions
            {
                Epochs = epochCount,
                BatchSize = s.Batch,
                Optimizer = optimizerFactory(),
                Schedule = schedule,
                L2 = s.L2,
                ClipNorm = s.Clip,
                Seed = s.Seed,
                ValidationFraction = s.Validation,
                EarlyStopping = s.Patience is { } pat ? new EarlyStopping(pat) : null,
                Progress = display,
                BatchProgress = display.Batches,
                Checkpoint = checkpointOptions,
                ResumeFrom = s.Resume is null ? null : CheckpointFile.Read(s.Resume),
            }, cts.Token);
        }
        catch (OperationCanceledException)
        {
            interrupted = true;
        }
        catch (TrainingDivergedException e)
        {
            diverged = e;
        }
        finally
        {
            display.EndLine();
        }
        double seconds = watch.Elapsed.TotalSeconds;

        var trainMetrics = model.Evaluate(train);
        Metrics? testMetrics = testSet.Rows > 0 ? model.Evaluate(testSet) : null;
        model.Metrics = new ModelMetrics
        {
            TrainingRows = train.Rows,
            TrainingLoss = trainMetrics.Loss,
            TrainingAccuracy = (trainMetrics as ClassificationMetrics)?.Accuracy,
            TestRows = testSet.Rows,
            TestLoss = testMetrics?.Loss,
            TestAccuracy = (testMetrics as ClassificationMetrics)?.Accuracy,
            TestRmse = (testMetrics as RegressionMetrics)?.RootMeanSquaredError,
            TestR2 = (testMetrics as RegressionMetrics)?.RSquared,
        };
        if (s.Save is not null)
            model.Save(s.Save);
        if (s.Plot is not null && model.History.Count > 0)
            TrainingPlot.SaveLossCurve(s.Plot,
                model.History.Select(h => h.TrainingLoss).ToList(),
                model.History.All(h => h.ValidationLoss is not null) ? model.History.Select(h => h.ValidationLoss!.Value).ToList() : null,
                model.History.All(h => h.TrainingAccuracy is not null) ? model.History.Select(h => h.TrainingAccuracy!.Value).ToList() : null,
                model.History.All(h => h.ValidationAccuracy is not null) ? model.History.Select(h => h.ValidationAccuracy!.Value).ToList() : null,
                title: $"{Path.GetFileName(source)}: {string.Join("-", new[] { model.Network.Inputs }.Concat(model.Network.Layers.Select(l => l.Units)))}");

        var summary = new Dictionary<string, object?>
        {
            ["summary"] = true,
            ["epochs"] = model.History.Count,
            ["train_loss"] = trainMetrics.Loss,
            ["train_accuracy"] = (trainMetrics as ClassificationMetrics)?.Accuracy,
            ["test_loss"] = testMetrics?.Loss,
            ["test_accuracy"] = (testMetrics as ClassificationMetrics)?.Accuracy,
            ["test_rmse"] = (testMetrics as RegressionMetrics)?.RootMeanSquaredError,
            ["test_r2"] = (testMetrics as RegressionMetrics)?.RSquared,
            ["seconds"] = Math.Round(seconds, 3),
            ["samples_per_s"] = Math.Round(train.Rows * (double)model.History.Count / Math.Max(seconds, 1e-9)),
            ["stopped_early"] = report?.StoppedEarly ?? false,
            ["interrupted"] = interrupted,
            ["signal"] = interrupted ? (signal == PosixSignal.SIGTERM ? "SIGTERM" : "SIGINT") : null,
            ["checkpoint"] = interrupted || s.Checkpoint is not null ? checkpointPath : null,
            ["diverged"] = diverged?.Message,
            ["saved"] = s.Save,
            ["plot"] = s.Plot,
        };
        if (s.Json)
            output.WriteLine(JsonSerializer.Serialize(summary.Where(kv => kv.Value is not null).ToDictionary()));
        else
        {
            if (interrupted)
            {
                output.WriteLine($"Interrupted{(signal == PosixSignal.SIGTERM ? " by SIGTERM" : "")} after {model.History.Count} complete epoch(s); the model keeps the weights of the last finished batch.");
                output.WriteLine($"Checkpoint written to {checkpointPath}; run the same command with --resume {checkpointPath} to continue exactly where it stopped.");
            }
            if (diverged is not null)
                error.WriteLine($"Training stopped: {diverged.Message}");
            if (report?.StoppedEarly == true)
                output.WriteLine($"Stopped early at epoch {model.History.Count}; kept the weights of epoch {report.BestEpoch}.");
            output.WriteLine(Inv($"Done in {seconds:F1} s. Training: {Describe(trainMetrics)}."));
            if (testMetrics is not null)
                output.WriteLine($"Test: {Describe(testMetrics)}.");
            if (s.Save is not null)
                output.WriteLine($"Saved the model to {s.Save}.");
            if (s.Plot is not null)
                output.WriteLine($"Wrote the loss curves to {s.Plot}.");
        }
        return diverged is not null ? App.Failure
            : interrupted ? (signal == PosixSignal.SIGTERM ? TerminatedExitCode : InterruptedExitCode) : 0;
    }

    internal static string Describe(Metrics m) => m switch
    {
        ClassificationMetrics c => Inv($"loss {c.Loss:G5}, accuracy {c.Accuracy * 100:F2}% ({(int)Math.Round(c.Accuracy * c.Rows)}/{c.Rows})"),
        RegressionMetrics r => Inv($"loss {r.Loss:G5}, RMSE {r.RootMeanSquaredError:G5}, MAE {r.MeanAbsoluteError:G5}, R^2 {r.RSquared:F4}"),
        _ => Inv($"loss {m.Loss:G5}"),
    };

    private static int[] ParseHidden(string text)
    {
        if (text.Trim().Equals("none", StringComparison.OrdinalIgnoreCase) || text.Trim().Length == 0)
            return [];
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var sizes = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out sizes[i]) || sizes[i] < 1 || sizes[i] > 100_000)
                throw new BackpropException($"--hidden: '{parts[i]}' is not a layer size; expected comma-separated whole numbers like 64,32 (or 'none').");
        return sizes;
    }

    private static Func<Optimizer> OptimizerFactory(string name, double? lr)
    {
        if (lr is { } r && !(r > 0 && double.IsFinite(r)))
            throw new BackpropException($"--lr must be a positive number, got {r.ToString(CultureInfo.InvariantCulture)}.");
        return name.Trim().ToLowerInvariant() switch
        {
            "momentum" => () => new Sgd(lr ?? 0.01, momentum: 0.9),
            "nesterov" => () => new Sgd(lr ?? 0.01, momentum: 0.9, nesterov: true),
            "sgd" or "adam" or "adamw" or "rmsprop" => () => Optimizer.Create(name, lr),
            _ => throw new BackpropException($"--optimizer: unknown optimizer '{name}'; expected sgd, momentum, nesterov, adam, adamw or rmsprop."),
        };
    }

    private static Model<float> BuildModel(Dataset train, DataSchema? schema, PreprocessingKind preprocessing, int[] hidden,
        Activation activation, string? lossName, long seed)
    {
        var builder = Model.For(train).Preprocess(preprocessing);
        if (schema is not null)
            builder.WithSchema(schema);
        foreach (int units in hidden)
            builder.Dense(units, activation);
        if (lossName is not null)
        {
            var loss = Names.Parse<Loss>(lossName, "loss");
            var outputActivation = loss switch
            {
                Loss.CrossEntropy => Activation.Softmax,
                Loss.BinaryCrossEntropy => Activation.Sigmoid,
                _ => train.IsClassification ? Activation.Sigmoid : Activation.Identity,
            };
            if (loss == Loss.CrossEntropy && !train.IsClassification)
                throw new BackpropException("--loss cross-entropy needs class labels; this data is a regression task (see --task).");
            if (loss == Loss.BinaryCrossEntropy && train.IsClassification && train.ClassCount > 2)
                outputActivation = Activation.Sigmoid;
            builder.Output(outputActivation, loss);
        }
        return builder.Build(seed);
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>Progress per epoch (and per batch for the live line).</summary>
    private sealed class ProgressDisplay(TextWriter output, bool json, bool quiet, bool live, int rows, int epochs) : IProgress<EpochResult>
    {
        private readonly Stopwatch _watch = Stopwatch.StartNew();
        private long _lastDraw;
        private long _samples;
        private bool _lineOpen;

        public IProgress<BatchResult> Batches => new BatchSink(this);

        public void Report(EpochResult e)
        {
            if (quiet)
                return;
            if (json)
            {
                var o = new Dictionary<string, object?>
                {
                    ["epoch"] = e.Epoch,
                    ["train_loss"] = e.TrainingLoss,
                    ["train_accuracy"] = e.TrainingAccuracy,
                    ["validation_loss"] = e.ValidationLoss,
                    ["validation_accuracy"] = e.ValidationAccuracy,
                    ["learning_rate"] = e.LearningRate,
                    ["seconds"] = Math.Round(_watch.Elapsed.TotalSeconds, 3),
                };
                output.WriteLine(JsonSerializer.Serialize(o.Where(kv => kv.Value is not null).ToDictionary()));
                return;
            }
            EndLine();
            output.WriteLine(e.ToString());
        }

        private void Batch(BatchResult b)
        {
            _samples += b.Rows;
            if (!live)
                return;
            long now = _watch.ElapsedMilliseconds;
            if (now - _lastDraw < 100 && b.Batch < b.Batches)
                return;
            _lastDraw = now;
            double seconds = Math.Max(_watch.Elapsed.TotalSeconds, 1e-9);
            double rate = _samples / seconds;
            double remaining = ((double)rows * epochs - _samples) / Math.Max(rate, 1e-9);
            output.Write(Inv($"\r  epoch {b.Epoch}/{epochs}  batch {b.Batch}/{b.Batches}  loss {b.Loss:F5}  {rate:N0} samples/s  ETA {TimeSpan.FromSeconds(Math.Max(remaining, 0)):mm\\:ss}   "));
            _lineOpen = true;
        }

        public void EndLine()
        {
            if (_lineOpen)
            {
                output.Write("\r" + new string(' ', 100) + "\r");
                _lineOpen = false;
            }
        }

        private sealed class BatchSink(ProgressDisplay owner) : IProgress<BatchResult>
        {
            public void Report(BatchResult value) => owner.Batch(value);
        }
    }
}
