using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Backprop.Cli.Options;
using Backprop.Cli.Reporting;
using Backprop.Data;
using Backprop.IO;
using Backprop.IO.Json;
using Backprop.Nn;
using Backprop.Plotting;
using Backprop.Training;
using Backprop.Training.Distributed;

namespace Backprop.Cli.Commands;

/// <summary>
/// `backprop train`: from a CSV, MNIST IDX files or a built-in synthetic dataset to a trained, saved model in
/// one command, with a live progress line on a terminal, plain lines otherwise, or JSON lines. The run is four
/// steps: the data (<see cref="LoadData"/>), the model (<see cref="BuildModel"/>), the training
/// (<see cref="Train"/>) and the report (<see cref="Finish"/>).
/// </summary>
public static partial class TrainCommand
{
    /// <summary>Exit code after SIGINT (Ctrl+C): <see cref="ExitCodes.Interrupted"/>.</summary>
    public const int InterruptedExitCode = ExitCodes.Interrupted;

    /// <summary>Exit code after SIGTERM: <see cref="ExitCodes.Terminated"/>.</summary>
    public const int TerminatedExitCode = ExitCodes.Terminated;

    /// <summary>
    /// Without --test or --test-fraction, a test set is held out only from data of at least this many rows: below it
    /// a 20% split leaves too few rows to measure anything (xor has 4), so every row is trained on and the output says so.
    /// </summary>
    public const int MinRowsForDefaultTestSplit = 50;

    /// <summary>The default held-out fraction.</summary>
    public const double DefaultTestFraction = 0.2;

    /// <summary>The options of `train`, typed; <see cref="Validate"/> checks them together before any work.</summary>
    public sealed record Settings
    {
        /// <summary>--data, --labels and the CSV options.</summary>
        public required DataSettings Data { get; init; }

        /// <summary>--dataset NAME: a built-in dataset instead of --data.</summary>
        public string? Dataset { get; init; }

        /// <summary>--test FILE.</summary>
        public string? Test { get; init; }

        /// <summary>--test-labels FILE.</summary>
        public string? TestLabels { get; init; }

        /// <summary>--test-fraction F (null: the default rule).</summary>
        public double? TestFraction { get; init; }

        /// <summary>--preprocess KIND (null: by the data's format).</summary>
        public string? Preprocess { get; init; }

        /// <summary>--hidden as given.</summary>
        public string Hidden { get; init; } = TrainingDefaults.HiddenLayers;

        /// <summary>--activation NAME.</summary>
        public string Activation { get; init; } = TrainingDefaults.ActivationName;

        /// <summary>--loss NAME (null: by the task).</summary>
        public string? Loss { get; init; }

        /// <summary>--optimizer NAME.</summary>
        public string Optimizer { get; init; } = TrainingDefaults.OptimizerName;

        /// <summary>--lr ETA (null: the optimizer's default).</summary>
        public double? LearningRate { get; init; }

        /// <summary>--schedule as given.</summary>
        public string Schedule { get; init; } = "constant";

        /// <summary>--epochs N (null: <see cref="TrainingDefaults.MaxEpochs"/> with early stopping, else about 2,000 updates).</summary>
        public int? Epochs { get; init; }

        /// <summary>--batch N.</summary>
        public int Batch { get; init; } = TrainingDefaults.BatchSize;

        /// <summary>--seed N.</summary>
        public long Seed { get; init; } = 1;

        /// <summary>--validation-fraction F (null: <see cref="TrainingDefaults.ValidationFraction"/> for a data file, 0 for a built-in dataset).</summary>
        public double? Validation { get; init; }

        /// <summary>--patience N (null: <see cref="TrainingDefaults.Patience"/> whenever there is a validation split of a data file).</summary>
        public int? Patience { get; init; }

        /// <summary>--l2 LAMBDA (null: <see cref="TrainingDefaults.L2For"/> the training rows for a data file in memory, else <see cref="TrainingDefaults.CommandLineL2"/>).</summary>
        public double? L2 { get; init; }

        /// <summary>--dropout P (null: <see cref="TrainingDefaults.Dropout"/> for a data file in memory, else 0).</summary>
        public double? Dropout { get; init; }

        /// <summary>--input-dropout P (null: <see cref="TrainingDefaults.InputDropout"/> for a data file in memory, else 0).</summary>
        public double? InputDropout { get; init; }

        /// <summary>--clip-norm NORM.</summary>
        public double? ClipNorm { get; init; }

        /// <summary>--save FILE.</summary>
        public string? Save { get; init; }

        /// <summary>--plot FILE.png.</summary>
        public string? Plot { get; init; }

        /// <summary>--json.</summary>
        public bool Json { get; init; }

        /// <summary>--quiet.</summary>
        public bool Quiet { get; init; }

        /// <summary>--checkpoint FILE.</summary>
        public string? Checkpoint { get; init; }

        /// <summary>--checkpoint-every N.</summary>
        public int? CheckpointEvery { get; init; }

        /// <summary>--resume FILE.</summary>
        public string? Resume { get; init; }

        /// <summary>--shards S (null: unsharded alone, <see cref="TrainingDefaults.Shards"/> under mpirun).</summary>
        public int? Shards { get; init; }

        /// <summary>--stream: read the training rows from disk a block at a time (Parquet or CSV).</summary>
        public bool Stream { get; init; }

        /// <summary>The processes of an mpirun job this run is one of (set by <see cref="Run"/>); null: alone.</summary>
        public IShardGroup? Group { get; set; }

        /// <summary>The hidden layer sizes (after <see cref="Validate"/>).</summary>
        public int[] HiddenSizes { get; private set; } = [];

        /// <summary>The hidden activation (after <see cref="Validate"/>).</summary>
        public Activation HiddenActivation { get; private set; }

        /// <summary>The optimizer factory (after <see cref="Validate"/>).</summary>
        public Func<Optimizer> OptimizerFactory { get; private set; } = () => throw new InvalidOperationException("Validate first.");

        /// <summary>The learning-rate schedule (after <see cref="Validate"/>).</summary>
        public LearningRateSchedule LearningRateSchedule { get; private set; } = null!;

        /// <summary>The preprocessing asked for (after <see cref="Validate"/>; null: by the data's format).</summary>
        public PreprocessingKind? PreprocessingKind { get; private set; }

        /// <summary>
        /// Where a checkpoint goes: --checkpoint (periodic and on a signal), else on a signal only: the --resume file
        /// (when it is a regular file, not a pipe), or beside --save, or in the current folder.
        /// </summary>
        public string CheckpointPath => Checkpoint ?? (!string.IsNullOrEmpty(Resume) && FileIdentity.Of(Resume).IsRegularFile ? Resume : null)
            ?? (Save is not null ? Path.Combine(Path.GetDirectoryName(Save) ?? "", Path.GetFileNameWithoutExtension(Save) + ".checkpoint.json")
                : "backprop.checkpoint.json");

        /// <summary>
        /// The validation split, early stopping and epoch count of a run on <paramref name="trainingRows"/> rows: a data
        /// file (--data) of at least <see cref="TrainingDefaults.MinRowsForEarlyStopping"/> rows given neither
        /// --validation-fraction nor --patience is trained with early stopping on a
        /// <see cref="TrainingDefaults.ValidationFraction"/> split (patience <see cref="TrainingDefaults.Patience"/>,
        /// the best epoch's weights restored) and --epochs as an upper bound (default <see cref="TrainingDefaults.MaxEpochs"/>);
        /// --validation-fraction 0 turns it off. Without early stopping the epochs default to about 2,000 updates.
        /// A data file trained in memory (any size) takes <see cref="TrainingDefaults.Dropout"/> and
        /// <see cref="TrainingDefaults.InputDropout"/> unless --dropout or --input-dropout is given; a built-in dataset none.
        /// Its L2 strength is <see cref="TrainingDefaults.L2For"/> its training rows unless --l2 is given (a built-in
        /// dataset or a streamed file: <see cref="TrainingDefaults.CommandLineL2"/>).
        /// </summary>
        public TrainingPlan Plan(int trainingRows, bool streamed = false)
        {
            // A streamed run has no validation split (every row trains): no early stopping by default.
            bool file = Data.Data is not null && !streamed;
            double validation = Validation ?? (file && (Patience is not null || trainingRows >= TrainingDefaults.MinRowsForEarlyStopping)
                ? TrainingDefaults.ValidationFraction : 0);
            int? patience = Patience ?? (file && validation > 0 ? TrainingDefaults.Patience : null);
            int epochs = Epochs ?? (patience is not null ? TrainingDefaults.MaxEpochs : TrainingDefaults.AutoEpochs(trainingRows, Batch));
            return new TrainingPlan(validation, patience, epochs,
                Dropout ?? (file ? TrainingDefaults.Dropout : 0), InputDropout ?? (file ? TrainingDefaults.InputDropout : 0),
                L2 ?? (file ? TrainingDefaults.L2For(trainingRows) : TrainingDefaults.CommandLineL2));
        }

        /// <summary>The files this run reads.</summary>
        public IEnumerable<FileArgument> Inputs =>
            [.. Data.Files, new("--test", Test), new("--test-labels", TestLabels), new("--resume", Resume)];

        /// <summary>The files this run writes.</summary>
        public IEnumerable<FileArgument> Outputs => [new("--save", Save), new("--checkpoint", Checkpoint), new("--plot", Plot)];

        /// <summary>Checks every option and (unless <paramref name="checkFiles"/> is false: a command that checks its own
        /// files, as cv) every file before any work; throws <see cref="BackpropException"/>.</summary>
        public void Validate(bool checkFiles = true)
        {
            if ((Data.Data is null) == (Dataset is null))
                throw new BackpropException("Give either --data FILE or --dataset NAME (one of them).");
            if (Epochs is < 1)
                throw new BackpropException($"--epochs must be at least 1, got {Epochs}.");
            if (Batch < 1)
                throw new BackpropException($"--batch must be at least 1, got {Batch}.");
            if (TestFraction is { } tf && !(tf >= 0 && tf < 1))
                throw new BackpropException($"--test-fraction must be in [0, 1), got {Inv(tf)}.");
            if (Validation is { } vf && !(vf >= 0 && vf < 1))
                throw new BackpropException($"--validation-fraction must be in [0, 1), got {Inv(vf)}.");
            if (Patience is { } p && (p < 1 || Validation == 0 || (Validation is null && Data.Data is null)))
                throw new BackpropException("--patience needs a whole number of at least 1 and a --validation-fraction to watch.");
            if (Test is not null && TestFraction is > 0)
                throw new BackpropException("Give either --test FILE or --test-fraction F, not both.");
            if (Test is not null && Data.Data is null)
                throw new BackpropException("--test needs --data (a built-in dataset is split with --test-fraction).");
            if (TestLabels is not null && Test is null)
                throw new BackpropException("--test-labels needs --test (the IDX images file it labels).");
            if (CheckpointEvery is { } every && (every < 1 || Checkpoint is null))
                throw new BackpropException("--checkpoint-every needs a whole number of at least 1 and a --checkpoint FILE.");
            if (L2 is { } l2 && (!(l2 >= 0) || !double.IsFinite(l2)))
                throw new BackpropException($"--l2 must be a finite number >= 0, got {Inv(l2)}.");
            if (Dropout is { } dr && !(dr >= 0 && dr < 1))
                throw new BackpropException($"--dropout must be a number in [0, 1), got {Inv(dr)}.");
            if (InputDropout is { } idr && !(idr >= 0 && idr < 1))
                throw new BackpropException($"--input-dropout must be a number in [0, 1), got {Inv(idr)}.");
            if (ClipNorm is { } clip && !(clip > 0 && double.IsFinite(clip)))
                throw new BackpropException($"--clip-norm must be a finite number > 0, got {Inv(clip)}.");
            if (Dataset is not null && !SyntheticData.Names.Contains(Dataset.Trim().ToLowerInvariant()))
                throw new BackpropException($"--dataset: unknown dataset '{Dataset}'; expected one of {string.Join(", ", SyntheticData.Names)}.");
            // Before training, not after it: an output that is an input, a device, or in a folder that cannot be written.
            // --checkpoint may be the --resume file: the checkpoint is read whole first, then replaced by the next one.
            if (checkFiles)
                FileChecks.Check(Inputs, Outputs,
                    Checkpoint is null && CheckpointPath != Resume ? [new("the checkpoint written on Ctrl+C/SIGTERM", CheckpointPath)] : null,
                    updates: [("--checkpoint", "--resume")]);
            HiddenSizes = ParseHidden(Hidden);
            HiddenActivation = Names.Parse<Activation>(Activation, "activation");
            if (HiddenActivation == Nn.Activation.Softmax)
                throw new BackpropException("--activation: softmax is only for the output layer; choose relu, leaky-relu, tanh, sigmoid or identity.");
            OptimizerFactory = CreateOptimizer(Optimizer, LearningRate);
            LearningRateSchedule = LearningRateSchedule.Parse(Schedule);
            PreprocessingKind = Preprocess is null ? null
                : Preprocessing.Parse(Preprocess) ?? throw new BackpropException($"--preprocess: unknown kind '{Preprocess}'; expected standardize, min-max, pixels or none.");
            if (Loss is not null)
                Names.Parse<Loss>(Loss, "loss");
            if (Shards is { } shards && shards is < 1 or > TrainingOptions.MaxShards)
                throw new BackpropException($"--shards must be a whole number from 1 to {TrainingOptions.MaxShards}, got {shards}.");
            if (Stream)
                this.ValidateStream();
        }
    }

    /// <summary>What a run does about validation, early stopping and epochs (<see cref="Settings.Plan"/>).</summary>
    /// <param name="Validation">The fraction of the training rows held out for validation (0: none).</param>
    /// <param name="Patience">Early stopping's patience (null: no early stopping).</param>
    /// <param name="Epochs">The epochs (an upper bound with early stopping).</param>
    /// <param name="Dropout">The hidden layers' dropout rate (<see cref="TrainingOptions.Dropout"/>).</param>
    /// <param name="InputDropout">The inputs' dropout rate (<see cref="TrainingOptions.InputDropout"/>).</param>
    /// <param name="L2">The L2 strength (<see cref="TrainingOptions.L2"/>).</param>
    public sealed record TrainingPlan(double Validation, int? Patience, int Epochs, double Dropout = 0, double InputDropout = 0,
        double L2 = TrainingDefaults.CommandLineL2);

    /// <summary>The command and its options.</summary>
    public static Command Create(CliStreams streams)
    {
        var data = new DataOptions();
        var dataset = new Option<string?>("--dataset") { Description = $"A built-in synthetic dataset instead of --data: {string.Join(", ", SyntheticData.Names)}.", HelpName = "NAME" };
        var test = new Option<string?>("--test") { Description = "A separate test file (same format and columns as --data).", HelpName = "FILE" };
        var testLabels = new Option<string?>("--test-labels") { Description = "The IDX labels file for an IDX --test file.", HelpName = "FILE" };
        var testFraction = new Option<double?>("--test-fraction")
        {
            Description = $"Hold out this fraction of the data for testing, stratified by class and seeded (default {Inv(DefaultTestFraction)} when there is no --test and the data has at least {MinRowsForDefaultTestSplit} rows; 0 to train on everything).",
            HelpName = "F",
        };
        var set = new TrainingOptionSet();
        var save = new OutputFileOption("--save", "Write the trained model here (JSON, docs/model-format.md), atomically.");
        var plot = new OutputFileOption("--plot", "Write the loss (and accuracy) curves per epoch to this PNG file.", "FILE.png");
        var json = CommonOptions.Json("Print one JSON object per epoch and a summary object as the last line (docs/cli.md).");
        var quiet = new Option<bool>("--quiet") { Description = "Print only the final summary." };
        var checkpoint = new OutputFileOption("--checkpoint", "Write a checkpoint here (docs/checkpoint-format.md), atomically, every --checkpoint-every epochs, at the end and on Ctrl+C/SIGTERM.");
        var checkpointEvery = new Option<int?>("--checkpoint-every") { Description = "Epochs between checkpoints (default 1; needs --checkpoint).", HelpName = "N" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run saved in this checkpoint (same data and options); ends bit-identical to an uninterrupted run.", HelpName = "FILE" };
        var stream = new Option<bool>("--stream")
        {
            Description = "Read the training rows of --data (Parquet, or CSV with a header) from disk a block at a time, in shards, so memory does not grow with the rows (docs/distributed.md); no test or validation split.",
        };
        var shards = new Option<int?>("--shards")
        {
            Description = $"Define each batch's gradient as the sum of S shard gradients added in shard order, so that `mpirun -np K backprop train` gives the same model for any K and alone (default: {TrainingDefaults.Shards} under mpirun, unsharded alone; docs/distributed.md).",
            HelpName = "S",
        };

        var command = new Command("train", "Train a network from a CSV file, MNIST IDX files or a built-in dataset, and save it.");
        data.AddTo(command, includeKinds: true);
        foreach (var o in new Option[] { dataset, test, testLabels, testFraction })
            command.Options.Add(o);
        set.AddTo(command);
        foreach (var o in new Option[] { save.Option, plot.Option, json, quiet, checkpoint.Option, checkpointEvery, resume, shards, stream })
            command.Options.Add(o);

        command.SetAction(parse => App.Guard(streams, () =>
        {
            var s = set.Bind(parse, data.Bind(parse)) with
            {
                Dataset = parse.GetValue(dataset),
                Test = DataOptions.StandardInput("--test", parse.GetValue(test)),
                TestLabels = DataOptions.StandardInput("--test-labels", parse.GetValue(testLabels)),
                TestFraction = parse.GetValue(testFraction),
                Save = parse.GetValue(save.Option),
                Plot = parse.GetValue(plot.Option),
                Json = parse.GetValue(json),
                Quiet = parse.GetValue(quiet),
                Checkpoint = parse.GetValue(checkpoint.Option),
                CheckpointEvery = parse.GetValue(checkpointEvery),
                Resume = parse.GetValue(resume),
                Shards = parse.GetValue(shards),
                Stream = parse.GetValue(stream),
            };
            return Run(s, streams);
        }));
        return command;
    }

    /// <summary>
    /// Validates, then the four steps: data, model, training, report. Started by mpirun (<see cref="MpiGroup.UnderLauncher"/>),
    /// the process joins the job's group and trains its shards; rank 0 alone writes the output and the files, and an
    /// error on any rank is reported as that rank's and ends the job.
    /// </summary>
    public static int Run(Settings s, CliStreams streams)
    {
        if (!MpiGroup.UnderLauncher)
        {
            s.Validate();
            return RunSteps(s, streams);
        }
        var group = MpiGroup.World();
        var timed = new TimedGroup(group);
        s.Group = timed;
        try
        {
            s.Validate();
            // The other ranks print nothing but their errors: rank 0 speaks for the job.
            var watch = Stopwatch.StartNew();
            int code = RunSteps(s, group.Rank == 0 ? streams : new CliStreams(TextWriter.Null, streams.Error));
            if (Environment.GetEnvironmentVariable("BACKPROP_SHARD_TIMES") == "1")
                streams.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"shard times: rank {group.Rank} of {group.Size}: {timed.Steps} steps, communication {timed.Seconds:F3} s ({timed.Seconds / Math.Max(timed.Steps, 1) * 1e3:F3} ms a step), whole run {watch.Elapsed.TotalSeconds:F3} s"));
            group.Dispose();
            return code;
        }
        catch (Exception e) when (e is BackpropException or IOException or UnauthorizedAccessException)
        {
            // Exiting non-zero without MPI_Finalize makes mpirun end the other ranks (which may wait for this one's shards).
            throw new BackpropException($"rank {group.Rank} of {group.Size}: {e.Message}", e);
        }
    }

    private static int RunSteps(Settings s, CliStreams streams)
    {
        var data = s.Stream ? OpenStream(s) : LoadData(s);
        using var streamed = data.Streamed as IDisposable;
        var model = BuildModel(s, data);
        bool writes = s.Group is null or { Rank: 0 };
        // The model file it will write must fit on its file system: refused now, not after the epochs.
        if (s.Save is { } save && writes)
            FileRoom.RequireForModel(model, save);
        var reporter = new Reporter(streams, s.Json);
        var outcome = Train(s, data, model, reporter, streams);
        if (!writes)
            return outcome.Diverged is not null ? ExitCodes.Failed : ExitCodes.Success;
        return Finish(s, data, model, outcome, reporter);
    }

    /// <summary>The training and test sets (raw: the model fits its preprocessing on the training rows only), where they came from, and notes for the user.</summary>
    /// <param name="Train">The rows to train on.</param>
    /// <param name="Test">The rows to test on (none: empty).</param>
    /// <param name="Schema">The data file's schema (null for a built-in dataset).</param>
    /// <param name="Preprocessing">The preprocessing to fit.</param>
    /// <param name="Source">The file or dataset, for messages.</param>
    /// <param name="Notes">Notes for the user.</param>
    /// <param name="HeldOut">The held-out split of a data file, recorded in the model (null: none, or a separate --test file).</param>
    public sealed record TrainingData(Dataset Train, Dataset Test, DataSchema? Schema, PreprocessingKind Preprocessing, string Source, IReadOnlyList<string> Notes,
        HeldOutSplit? HeldOut = null)
    {
        /// <summary>A table's encoding (fitted on the training rows), for the model to own; null for numeric data.</summary>
        public TablePipeline? Table { get; init; }

        /// <summary>The schema table printed before training (one line per column).</summary>
        public IReadOnlyList<string> SchemaLines { get; init; } = [];

        /// <summary>
        /// For a table's regression: the training rows with standardised targets (what the network is fitted on) and
        /// the mean and scale that map its outputs back (<see cref="Model{T}.UnscaleOutputs"/>); null otherwise.
        /// </summary>
        public (Dataset Train, double Mean, double Scale)? Standardised { get; init; }

        /// <summary>With --stream: the rows on disk (<see cref="Train"/> then has none and gives only the shape).</summary>
        public IShardedRows? Streamed { get; init; }

        /// <summary>With --stream: the preprocessing fitted in the first passes over the rows.</summary>
        public Preprocessing? StreamedPreprocessing { get; init; }

        /// <summary>The training rows, in memory or streamed.</summary>
        public long TrainingRows => Streamed is { } rows ? StreamedRows(rows) : Train.Rows;
    }

    /// <summary>Step 1: reads (or makes) the data and splits off the test set.</summary>
    public static TrainingData LoadData(Settings s)
    {
        Dataset all, train, test;
        DataSchema? schema = null;
        PreprocessingKind kind;
        string source;
        var notes = new List<string>();
        TablePipeline? table = null;
        IReadOnlyList<string> schemaLines = [];
        if (s.Dataset is not null)
        {
            all = SyntheticData.Create(s.Dataset.Trim().ToLowerInvariant(), seed: s.Seed);
            source = $"dataset {s.Dataset}";
            kind = s.PreprocessingKind ?? PreprocessingKind.None;
        }
        else
        {
            var data = TrainingSource.Read(s.Data);
            // A table's encoding is fitted on the training rows of the same split as below (Dataset.Split of the
            // encoded rows takes the same rows: the split depends on the labels only); a numeric file's rows are as read.
            double f = s.TestFraction ?? (s.Test is null ? DefaultTestFraction : 0);
            if (s.Test is null && s.TestFraction is null && data.Rows < MinRowsForDefaultTestSplit)
                f = 0;
            IReadOnlyList<int> fitRows = f > 0 && data.Table is not null
                ? DataSplit.StratifiedIndices(data.Labels, f, unchecked((ulong)s.Seed)).Train
                : Enumerable.Range(0, data.Rows).ToArray();
            (all, schema, table) = data.Encode(fitRows);
            schemaLines = data.SchemaLines;
            if (data.Table is { } labelled)
                notes.AddRange(labelled.Counts.Describe().Select(d => d + "."));
            source = data.Path;
            // The format the file was read as decides the default (not a second look at the file: a pipe is read once).
            kind = data.Preprocessing(s.PreprocessingKind);
        }
        double fraction = s.TestFraction ?? (s.Test is null ? DefaultTestFraction : 0);
        if (s.Test is null && s.TestFraction is null && all.Rows < MinRowsForDefaultTestSplit)
        {
            fraction = 0;
            notes.Add($"{source} has only {all.Rows} rows, fewer than {MinRowsForDefaultTestSplit}: no test set is held out by default, so every row is trained on and there is no test score (give --test-fraction to hold some out anyway).");
        }
        HeldOutSplit? heldOut = null;
        if (s.Test is not null)
        {
            train = all;
            test = TrainingSource.ReadTest(schema!, table, s.Test, s.TestLabels, s.Data.Csv, notes);
        }
        else if (fraction > 0 && s.Dataset is null)
            (train, test, heldOut) = HeldOutSplit.Make(all, fraction, unchecked((ulong)s.Seed));
        else if (fraction > 0)
            (train, test) = all.Split(fraction, unchecked((ulong)s.Seed));
        else
            (train, test) = (all, all.Subset([]));
        if (train.Rows == 0)
            throw new BackpropException($"{source}: no rows left to train on.");
        // A table's regression trains on standardised targets, mapped back in the output layer's weights afterwards.
        var standardised = table is not null ? TrainingSource.StandardiseTargets(train) : null;
        return new TrainingData(train, test, schema, kind, source, notes, heldOut) { Table = table, SchemaLines = schemaLines, Standardised = standardised };
    }

    /// <summary>Step 2: the network for the data, from the options.</summary>
    public static Model<float> BuildModel(Settings s, TrainingData data)
    {
        var train = data.Train;
        var builder = Model.For(train).Preprocess(data.Preprocessing);
        if (data.Schema is not null)
            builder.WithSchema(data.Schema);
        if (data.Table is not null)
            builder.WithTable(data.Table);
        foreach (int units in s.HiddenSizes)
            builder.Dense(units, s.HiddenActivation);
        if (s.Loss is not null)
        {
            var loss = Names.Parse<Loss>(s.Loss, "loss");
            var outputActivation = loss switch
            {
                Nn.Loss.CrossEntropy => Activation.Softmax,
                Nn.Loss.BinaryCrossEntropy => Activation.Sigmoid,
                _ => train.IsClassification ? Activation.Sigmoid : Activation.Identity,
            };
            if (loss == Nn.Loss.CrossEntropy && !train.IsClassification)
                throw new BackpropException("--loss cross-entropy needs class labels; this data is a regression task (see --task).");
            builder.Output(outputActivation, loss);
        }
        var model = builder.Build(s.Seed);
        // Which rows of the file were held out, so that `evaluate --split test` finds exactly them again.
        model.RecordHeldOut(data.HeldOut);
        return model;
    }

    /// <summary>How the training loop ended.</summary>
    public sealed record TrainingOutcome(TrainingReport? Report, double Seconds, int Epochs, PosixSignal? Signal, TrainingDivergedException? Diverged, TrainingPlan Plan)
    {
        /// <summary>True when a signal stopped the run.</summary>
        public bool Interrupted => Signal is not null;
    }

    /// <summary>Step 3: the training loop, with progress, checkpoints and the signal handlers.</summary>
    public static TrainingOutcome Train(Settings s, TrainingData data, Model<float> model, Reporter reporter, CliStreams streams)
    {
        var train = data.Train;
        int? shards = data.Streamed?.Shards ?? s.Shards ?? (s.Group is not null ? TrainingDefaults.Shards : null);
        int trainingRows = (int)data.TrainingRows;
        var plan = s.Plan(trainingRows, streamed: data.Streamed is not null);
        int epochCount = plan.Epochs;
        var checkpointOptions = CheckpointFile.Every(s.CheckpointPath, s.Checkpoint is null ? 0 : s.CheckpointEvery ?? 1);
        var resumeFrom = s.Resume is null ? null : CheckpointFile.Read(s.Resume);

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
        // Under mpirun a signal ends the process at once: a rank finishing its batch would wait for ranks already gone
        // (the job resumes from its last periodic checkpoint).
        bool handleSignals = streams.IsConsole && s.Group is null;
        using var sigint = handleSignals ? PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal) : null;
        using var sigterm = handleSignals ? PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal) : null;
        var progress = new TrainingProgress(reporter, s.Quiet, live: streams.IsTerminal && !s.Json && !s.Quiet, trainingRows, epochCount);
        if (!s.Json && !s.Quiet)
        {
            if (data.SchemaLines.Count > 0)
            {
                reporter.Line($"Columns of {data.Source}:");
                foreach (string line in data.SchemaLines)
                    reporter.Line(line);
            }
            reporter.Line($"Training {model} on {data.Source}: {trainingRows} training rows{(data.Streamed is not null ? " (streamed)" : "")}, {data.Test.Rows} test rows, " +
                          (plan.Patience is { } pp
                              ? Inv($"at most {epochCount} epochs (early stopping: patience {pp} on a {plan.Validation * 100:0.#}% validation split, best weights kept)")
                              : $"{epochCount} epochs") +
                          $", batch {s.Batch}, optimizer {s.Optimizer}" + Inv($", L2 {plan.L2:G3}") +
                          (plan.Dropout > 0 || plan.InputDropout > 0 ? Inv($", dropout {plan.Dropout} (inputs {plan.InputDropout})") : "") +
                          (shards is { } sh ? $", {sh} shards" + (s.Group is { } g ? $" over {g.Size} process(es)" : "") : "") + ".");
            foreach (string note in data.Notes)
                reporter.Line($"Note: {note}");
        }
        var watch = Stopwatch.StartNew();
        TrainingReport? report = null;
        TrainingDivergedException? diverged = null;
        try
        {
            var options = FitOptions(s, plan) with
            {
                Progress = progress,
                BatchProgress = progress.Batches,
                Checkpoint = checkpointOptions,
                ResumeFrom = resumeFrom,
                Shards = shards,
                Group = s.Group,
            };
            report = data.Streamed is { } rows
                ? model.FitStreamed(rows, data.StreamedPreprocessing, options, cts.Token)
                : model.Fit(data.Standardised?.Train ?? train, options, cts.Token);
        }
        catch (OperationCanceledException) when (signal is not null)
        {
        }
        catch (TrainingDivergedException e)
        {
            diverged = e;
        }
        finally
        {
            progress.EndLine();
        }
        Unscale(data, model);
        return new TrainingOutcome(report, watch.Elapsed.TotalSeconds, model.History.Count, signal, diverged, plan);
    }

    /// <summary>Maps a model trained on <paramref name="data"/>'s standardised targets back to the targets' scale (nothing otherwise).</summary>
    public static void Unscale(TrainingData data, Model<float> model)
    {
        if (data.Standardised is { } st && model.CanUnscaleOutputs)
            model.UnscaleOutputs([st.Mean], [st.Scale]);
    }

    /// <summary>The training options of <paramref name="s"/> and its <paramref name="plan"/> (a new optimizer each call), without progress or checkpoints.</summary>
    public static TrainingOptions FitOptions(Settings s, TrainingPlan plan) => new()
    {
        Epochs = plan.Epochs,
        BatchSize = s.Batch,
        Optimizer = s.OptimizerFactory(),
        Schedule = s.LearningRateSchedule,
        L2 = plan.L2,
        Dropout = plan.Dropout,
        InputDropout = plan.InputDropout,
        ClipNorm = s.ClipNorm,
        Seed = s.Seed,
        ValidationFraction = plan.Validation,
        EarlyStopping = plan.Patience is { } pat ? (pat == TrainingDefaults.Patience ? TrainingDefaults.CreateEarlyStopping() : new EarlyStopping(pat)) : null,
    };

    /// <summary>Step 4: measures the model, saves it and the plot, and reports; returns the exit code.</summary>
    public static int Finish(Settings s, TrainingData data, Model<float> model, TrainingOutcome outcome, Reporter reporter)
    {
        if (data.Streamed is not null)
            return FinishStreamed(s, data, model, outcome, reporter);
        var trainMetrics = model.Evaluate(data.Train);
        Metrics? testMetrics = data.Test.Rows > 0 ? model.Evaluate(data.Test) : null;
        // A diverged run may leave a non-finite loss: the model is saved with its last finite weights and without the
        // metrics section (JSON has no Infinity), and the report writes null.
        model.Metrics = double.IsFinite(trainMetrics.Loss)
            ? new ModelMetrics
            {
                TrainingRows = data.Train.Rows,
                TrainingLoss = trainMetrics.Loss,
                TrainingAccuracy = JsonNumbers.Finite((trainMetrics as ClassificationMetrics)?.Accuracy),
                TestRows = data.Test.Rows,
                TestLoss = JsonNumbers.Finite(testMetrics?.Loss),
                TestAccuracy = JsonNumbers.Finite((testMetrics as ClassificationMetrics)?.Accuracy),
                TestRmse = JsonNumbers.Finite((testMetrics as RegressionMetrics)?.RootMeanSquaredError),
                TestR2 = JsonNumbers.Finite((testMetrics as RegressionMetrics)?.RSquared),
            }
            : null;
        if (s.Save is not null)
            model.Save(s.Save);
        Exception? plotFailure = null;
        bool plotted = false;
        if (s.Plot is not null && model.History.Count > 0)
        {
            try
            {
                SavePlot(s.Plot, model, data.Source);
                plotted = true;
            }
            catch (Exception e) when (e is BackpropException or IOException or UnauthorizedAccessException)
            {
                plotFailure = e;
            }
        }

        var summary = new TrainingSummary
        {
            Epochs = outcome.Epochs,
            TrainingRows = data.Train.Rows,
            TrainingLoss = trainMetrics.Loss,
            TrainingAccuracy = (trainMetrics as ClassificationMetrics)?.Accuracy,
            TestRows = data.Test.Rows,
            TestLoss = testMetrics?.Loss,
            TestAccuracy = (testMetrics as ClassificationMetrics)?.Accuracy,
            TestRmse = (testMetrics as RegressionMetrics)?.RootMeanSquaredError,
            TestR2 = (testMetrics as RegressionMetrics)?.RSquared,
            Seconds = Math.Round(outcome.Seconds, 3),
            SamplesPerS = Math.Round(data.Train.Rows * (double)outcome.Epochs / Math.Max(outcome.Seconds, 1e-9)),
            L2 = outcome.Plan.L2,
            StoppedEarly = outcome.Report?.StoppedEarly ?? false,
            Interrupted = outcome.Interrupted,
            Signal = outcome.Signal switch { PosixSignal.SIGTERM => "SIGTERM", PosixSignal.SIGINT => "SIGINT", _ => null },
            Checkpoint = outcome.Interrupted || s.Checkpoint is not null ? s.CheckpointPath : null,
            Diverged = outcome.Diverged?.Message,
            Saved = s.Save,
            Plot = plotted ? s.Plot : null,
            Notes = data.Notes.Count > 0 ? data.Notes : null,
        };
        if (outcome.Diverged is not null)
            reporter.Note(outcome.Diverged.Message);
        reporter.Report(summary, BackpropJson.Compact.TrainingSummary, _ => SummaryText(s, outcome, trainMetrics, testMetrics, plotted));
        if (plotFailure is not null)
        {
            reporter.Note($"error: --plot {plotFailure.Message}" + (s.Save is not null ? $" The model was saved to {s.Save}." : " The model was not saved (no --save)."));
            return App.CodeOf(plotFailure);
        }
        return outcome.Diverged is not null ? ExitCodes.Failed
            : outcome.Signal switch { PosixSignal.SIGTERM => ExitCodes.Terminated, PosixSignal.SIGINT => ExitCodes.Interrupted, _ => ExitCodes.Success };
    }

    private static string SummaryText(Settings s, TrainingOutcome outcome, Metrics trainMetrics, Metrics? testMetrics, bool plotted)
    {
        var lines = new List<string>();
        if (outcome.Interrupted)
        {
            lines.Add($"Interrupted{(outcome.Signal == PosixSignal.SIGTERM ? " by SIGTERM" : "")} after {outcome.Epochs} complete epoch(s); the model keeps the weights of the last finished batch.");
            lines.Add($"Checkpoint written to {s.CheckpointPath}; run the same command with --resume {s.CheckpointPath} to continue exactly where it stopped.");
        }
        if (outcome.Report?.StoppedEarly == true)
            lines.Add($"Stopped early at epoch {outcome.Epochs}; kept the weights of epoch {outcome.Report.BestEpoch}.");
        lines.Add(Inv($"Done in {outcome.Seconds:F1} s. Training: {Describe(trainMetrics)}."));
        if (testMetrics is not null)
            lines.Add($"Test: {Describe(testMetrics)}.");
        if (s.Save is not null)
            lines.Add(outcome.Diverged is not null ? $"Saved the model to {s.Save} (its last finite weights)." : $"Saved the model to {s.Save}.");
        if (plotted)
            lines.Add($"Wrote the loss curves to {s.Plot}.");
        return string.Join('\n', lines);
    }

    private static void SavePlot(string path, Model<float> model, string source) =>
        TrainingPlot.SaveLossCurve(path,
            model.History.Select(h => h.TrainingLoss).ToList(),
            model.History.All(h => h.ValidationLoss is not null) ? model.History.Select(h => h.ValidationLoss!.Value).ToList() : null,
            model.History.All(h => h.TrainingAccuracy is not null) ? model.History.Select(h => h.TrainingAccuracy!.Value).ToList() : null,
            model.History.All(h => h.ValidationAccuracy is not null) ? model.History.Select(h => h.ValidationAccuracy!.Value).ToList() : null,
            title: $"{Path.GetFileName(source)}: {string.Join("-", new[] { model.Network.Inputs }.Concat(model.Network.Layers.Select(l => l.Units)))}");

    /// <summary>Metrics in one line: loss and accuracy, or loss and the regression errors.</summary>
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

    /// <summary>The optimizer factory of --optimizer and --lr: <see cref="Optimizer.Create"/>, whose rates when none is given are <see cref="TrainingDefaults.LearningRate"/>'s.</summary>
    internal static Func<Optimizer> CreateOptimizer(string name, double? lr)
    {
        CommonOptions.RequirePositive("--lr", lr);
        string key = name.Trim().ToLowerInvariant();
        if (!TrainingDefaults.OptimizerNames.Contains(key))
            throw new BackpropException($"--optimizer: unknown optimizer '{name}'; expected sgd, momentum, nesterov, adam, adamw or rmsprop.");
        return () => Optimizer.Create(key, lr);
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static string Inv(double d) => d.ToString(CultureInfo.InvariantCulture);
}
