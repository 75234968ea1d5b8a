using System.Globalization;
using System.Numerics;
using Backprop.Data;
using Backprop.Nn;
using Backprop.Numerics;
using Backprop.Training;

namespace Backprop.Evaluation;

/// <summary>One configuration the search tries: the network and how to train it (the epochs come from the rungs).</summary>
/// <param name="Hidden">The hidden layer sizes.</param>
/// <param name="Activation">The hidden activation.</param>
/// <param name="Optimizer">The optimizer's name (<see cref="Optimizer.Create"/>).</param>
/// <param name="LearningRate">Its learning rate.</param>
/// <param name="L2">The L2 strength.</param>
/// <param name="BatchSize">Rows per batch.</param>
/// <param name="Dropout">The hidden layers' dropout rate (<see cref="TrainingOptions.Dropout"/>).</param>
/// <param name="InputDropout">The inputs' dropout rate (<see cref="TrainingOptions.InputDropout"/>).</param>
public sealed record TrialSettings(IReadOnlyList<int> Hidden, Activation Activation, string Optimizer, double LearningRate, double L2, int BatchSize,
    double Dropout = 0, double InputDropout = 0)
{
    /// <summary>The `backprop train` options that give this configuration (and <paramref name="epochs"/> epochs).</summary>
    public string ToCommandLine(int? epochs = null) => string.Create(CultureInfo.InvariantCulture,
        $"--hidden {(Hidden.Count == 0 ? "none" : string.Join(",", Hidden))} --activation {Names.Of(Activation)} --optimizer {Optimizer} --lr {LearningRate:G3} --l2 {L2:G3} --batch {BatchSize} --dropout {Dropout:G3} --input-dropout {InputDropout:G3}")
        + (epochs is { } e ? string.Create(CultureInfo.InvariantCulture, $" --epochs {e}") : "");

    /// <inheritdoc/>
    public override string ToString() => ToCommandLine();

    /// <summary>
    /// How a model of this configuration trains for <paramref name="epochs"/> epochs with <paramref name="optimizer"/>
    /// (null: a new one of <see cref="Optimizer"/> at <see cref="LearningRate"/>) and training seed
    /// <paramref name="seed"/> (<see cref="RandomSearch.TrainingSeed"/>): the search's rungs and the CLI's refit both
    /// train through this.
    /// </summary>
    public TrainingOptions Options(int epochs, long seed, Backprop.Training.Optimizer? optimizer = null) => new()
    {
        Epochs = epochs,
        BatchSize = BatchSize,
        Optimizer = optimizer ?? Backprop.Training.Optimizer.Create(Optimizer, LearningRate),
        L2 = L2,
        Dropout = Dropout,
        InputDropout = InputDropout,
        Seed = seed,
    };

    /// <summary>
    /// What <c>backprop train</c> uses for a data file of <paramref name="trainingRows"/> training rows given nothing
    /// but the file: <see cref="TrainingDefaults.HiddenLayers"/> with <see cref="TrainingDefaults.ActivationName"/>,
    /// <see cref="TrainingDefaults.OptimizerName"/> at its default rate, <see cref="TrainingDefaults.L2For"/> the rows,
    /// <see cref="TrainingDefaults.BatchSize"/>, <see cref="TrainingDefaults.Dropout"/> and
    /// <see cref="TrainingDefaults.InputDropout"/>: the CLI's search baseline.
    /// </summary>
    public static TrialSettings DefaultsFor(long trainingRows) => new(
        [.. TrainingDefaults.HiddenLayers.Split(',').Select(h => int.Parse(h, CultureInfo.InvariantCulture))],
        Names.Parse<Activation>(TrainingDefaults.ActivationName, "activation"), TrainingDefaults.OptimizerName,
        TrainingDefaults.LearningRate(TrainingDefaults.OptimizerName), TrainingDefaults.L2For(trainingRows), TrainingDefaults.BatchSize,
        TrainingDefaults.Dropout, TrainingDefaults.InputDropout);
}

/// <summary>What the search draws its configurations from; <see cref="Default"/> is the CLI's.</summary>
public sealed record SearchSpace
{
    /// <summary>The hidden layer shapes, drawn uniformly.</summary>
    public IReadOnlyList<int[]> Hidden { get; init; } = [[64], [128], [256], [512], [128, 64], [256, 128], [512, 256]];

    /// <summary>The hidden activations, drawn uniformly (relu listed twice: drawn half the time).</summary>
    public IReadOnlyList<Activation> Activations { get; init; } = [Activation.Relu, Activation.Relu, Activation.LeakyRelu, Activation.Tanh];

    /// <summary>The optimizers, drawn uniformly (adam listed more often).</summary>
    public IReadOnlyList<string> Optimizers { get; init; } = ["adam", "adam", "adam", "adam", "momentum", "rmsprop"];

    /// <summary>The learning rate is the optimizer's default (<see cref="TrainingDefaults.LearningRate"/>) times 10^u, u uniform in this range.</summary>
    public (double Low, double High) LearningRateDecades { get; init; } = (-1, 0.7);

    /// <summary>The chance of no L2 at all.</summary>
    public double NoL2 { get; init; } = 0.2;

    /// <summary>Otherwise L2 is 10^u, u uniform in this range.</summary>
    public (double Low, double High) L2Decades { get; init; } = (-6, -2);

    /// <summary>The batch sizes, drawn uniformly.</summary>
    public IReadOnlyList<int> BatchSizes { get; init; } = [16, 32, 64, 128];

    /// <summary>The hidden layers' dropout rates, drawn uniformly (drawn after everything else, so the rest of a
    /// configuration is what it was before dropout was searched).</summary>
    public IReadOnlyList<double> DropoutRates { get; init; } = [0, 0.2, 0.3, 0.5];

    /// <summary>The inputs' dropout rates, drawn uniformly (after the hidden layers' rate).</summary>
    public IReadOnlyList<double> InputDropoutRates { get; init; } = [0, 0.1, 0.2, 0.3];

    /// <summary>The space of the CLI's <c>tune</c>.</summary>
    public static SearchSpace Default { get; } = new();

    /// <summary>Draws one configuration.</summary>
    public TrialSettings Draw(SplitMix64 rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var hidden = Hidden[rng.NextInt(Hidden.Count)];
        var activation = Activations[rng.NextInt(Activations.Count)];
        string optimizer = Optimizers[rng.NextInt(Optimizers.Count)];
        double lr = TrainingDefaults.LearningRate(optimizer) * Math.Pow(10, rng.NextDouble(LearningRateDecades.Low, LearningRateDecades.High));
        double l2Draw = rng.NextDouble();
        double l2Exponent = rng.NextDouble(L2Decades.Low, L2Decades.High);
        double l2 = l2Draw < NoL2 ? 0 : Math.Pow(10, l2Exponent);
        int batch = BatchSizes[rng.NextInt(BatchSizes.Count)];
        double dropout = DropoutRates.Count == 0 ? 0 : DropoutRates[rng.NextInt(DropoutRates.Count)];
        double inputDropout = InputDropoutRates.Count == 0 ? 0 : InputDropoutRates[rng.NextInt(InputDropoutRates.Count)];
        return new TrialSettings(hidden, activation, optimizer, Round3(lr), Round3(l2), batch, dropout, inputDropout);
    }

    private static double Round3(double v) => v == 0 ? 0 : double.Parse(v.ToString("G3", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}

/// <summary>How the search runs.</summary>
public sealed record SearchOptions
{
    /// <summary>The seed of the configurations, the splits and every model: the same seed and trial count give the same leaderboard.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Configurations to try (rounded up to whole brackets); null: until <see cref="Time"/> runs out.</summary>
    public int? Trials { get; init; }

    /// <summary>The time budget: training stops (between two batches) when it is spent; null: no limit.</summary>
    public TimeSpan? Time { get; init; }

    /// <summary>Configurations per bracket of successive halving.</summary>
    public int BracketSize { get; init; } = TrainingDefaults.TuneBracketSize;

    /// <summary>Each rung keeps the best 1/<see cref="Eta"/> of the configurations and trains them <see cref="Eta"/> times as long.</summary>
    public int Eta { get; init; } = TrainingDefaults.TuneEta;

    /// <summary>
    /// Epochs of the first rung; null: enough for about <see cref="FirstRungUpdates"/> updates at batch
    /// <see cref="TrainingDefaults.BatchSize"/>, at least 2.
    /// </summary>
    public int? FirstRungEpochs { get; init; }

    /// <summary>Updates of the first rung when <see cref="FirstRungEpochs"/> is null.</summary>
    public int FirstRungUpdates { get; init; } = TrainingDefaults.TuneFirstRungUpdates;

    /// <summary>Score by K-fold cross-validation (K &gt;= 2); 0: by one validation split (<see cref="ValidationFraction"/>).</summary>
    public int Folds { get; init; }

    /// <summary>The fraction of the rows held out for validation when <see cref="Folds"/> is 0.</summary>
    public double ValidationFraction { get; init; } = TrainingDefaults.TuneValidationFraction;

    /// <summary>
    /// The fraction of each configuration's training rows held out for the last rung's early stopping (stratified,
    /// seeded): the epoch is chosen on these rows, never on the rows that score the configuration. A training part too
    /// small to split gets no early stopping (the last rung trains all its epochs).
    /// </summary>
    public double StopFraction { get; init; } = TrainingDefaults.ValidationFraction;

    /// <summary>The space configurations are drawn from.</summary>
    public SearchSpace Space { get; init; } = SearchSpace.Default;

    /// <summary>
    /// A configuration tried first, before any is drawn (null: none): trial 1, a bracket of its own, trained as a
    /// bracket's last rung is (up to <see cref="BaselineEpochs"/> epochs, early stopping on its own rows, the best
    /// epoch kept) and scored like every other. The CLI's <c>tune</c> passes <see cref="TrialSettings.DefaultsFor"/> the file's rows, so a
    /// search never ends with a configuration that scores worse on its validation rows than <c>train</c>'s defaults.
    /// The draws that follow are the same with or without it (it takes nothing from the generator).
    /// </summary>
    public TrialSettings? Baseline { get; init; }

    /// <summary>The baseline's epoch bound (early stopping ends it sooner): <see cref="TrainingDefaults.MaxEpochs"/>, as <c>train</c>'s.</summary>
    public int BaselineEpochs { get; init; } = TrainingDefaults.MaxEpochs;

    /// <summary>Checks the fields; throws <see cref="BackpropException"/>.</summary>
    public void Validate()
    {
        if (Trials is < 1)
            throw new BackpropException($"The number of trials must be at least 1, got {Trials}.");
        if (Trials is null && Time is null)
            throw new BackpropException("A search needs a trial count or a time budget (or both).");
        if (Time is { } t && t <= TimeSpan.Zero)
            throw new BackpropException($"The time budget must be positive, got {t}.");
        if (BracketSize < 1 || Eta < 2)
            throw new BackpropException($"Brackets need at least 1 configuration and eta at least 2, got {BracketSize} and {Eta}.");
        if (FirstRungEpochs is < 1 || FirstRungUpdates < 1)
            throw new BackpropException("The first rung needs at least one epoch.");
        if (Folds is 1 or < 0 || Folds > CrossValidation.MaxFolds)
            throw new BackpropException($"Folds must be 0 (a validation split) or 2 to {CrossValidation.MaxFolds}, got {Folds}.");
        if (Folds == 0 && !(ValidationFraction > 0 && ValidationFraction < 1))
            throw new BackpropException($"The validation fraction must be in (0, 1), got {ValidationFraction}.");
        if (!(StopFraction > 0 && StopFraction < 1))
            throw new BackpropException($"The early-stopping fraction must be in (0, 1), got {StopFraction}.");
        if (BaselineEpochs < 1)
            throw new BackpropException($"The baseline needs at least one epoch, got {BaselineEpochs}.");
    }
}

/// <summary>One configuration measured after one rung.</summary>
/// <param name="Trial">The configuration's number, from 1, in the order drawn.</param>
/// <param name="Bracket">Its bracket, from 1.</param>
/// <param name="Rung">The rung, from 1.</param>
/// <param name="Settings">The configuration.</param>
/// <param name="Epochs">Epochs trained so far (the epochs of its model's kept weights: with early stopping at the last rung, the best epoch).</param>
/// <param name="Score">The score: minus the validation loss (higher is better; mean over the folds with cross-validation). The
/// loss, not the accuracy, also for a classifier: on a few hundred validation rows accuracies tie or differ by a row, the
/// loss tells them apart.</param>
/// <param name="ValidationLoss">The validation loss (mean over the folds).</param>
/// <param name="ValidationAccuracy">The validation accuracy (classification).</param>
/// <param name="Seconds">Seconds since the search started.</param>
/// <param name="IsBest">True when this result became the search's best so far (see <c>RandomSearch.Run</c>).</param>
/// <param name="SecondsPerEpoch">The configuration's training time per epoch so far (all folds), for estimates.</param>
public sealed record TrialResult(int Trial, int Bracket, int Rung, TrialSettings Settings, int Epochs, double Score, double ValidationLoss,
    double? ValidationAccuracy, double Seconds, bool IsBest = false, double SecondsPerEpoch = 0);

/// <summary>The outcome of a search.</summary>
/// <param name="Results">Every rung of every configuration, in the order measured.</param>
/// <param name="Best">The best configuration of the complete brackets (the last rung's survivor with the highest score), or null.</param>
/// <param name="CompleteTrials">Configurations of the brackets that finished: <c>Trials</c> of a search that replays this one.</param>
/// <param name="StoppedBy">Why it ended: "trials", "time" or "cancelled".</param>
public sealed record SearchResult(IReadOnlyList<TrialResult> Results, TrialResult? Best, int CompleteTrials, string StoppedBy)
{
    /// <summary>The last rung of each configuration, best first (ties: the higher validation accuracy, then the earlier trial).</summary>
    public IReadOnlyList<TrialResult> Leaderboard =>
        Results.GroupBy(r => r.Trial).Select(g => g.Last()).OrderByDescending(r => r.Score).ThenByDescending(r => r.ValidationAccuracy ?? 0).ThenBy(r => r.Trial).ToList();
}

/// <summary>
/// The rows of one part of a search as its models see them: they train on <see cref="Train"/>, early-stop on
/// <see cref="Stop"/> in a bracket's last rung (empty: no early stopping), and are scored on <see cref="Validation"/>.
/// Whatever the caller derives from the data (a table's encoding, a target scale) is fitted on the training rows only.
/// </summary>
/// <param name="Train">The rows every rung trains on.</param>
/// <param name="Stop">The rows the last rung chooses its epoch on (disjoint from both others).</param>
/// <param name="Validation">The rows that score the configuration (never trained on, never used to stop).</param>
public sealed record SearchPart(Dataset Train, Dataset Stop, Dataset Validation);

/// <summary>
/// Random search with successive halving: configurations are drawn from a <see cref="SearchSpace"/> in brackets; in a
/// bracket every configuration trains for the first rung's epochs, the best 1/eta (by validation score) continue to
/// eta times as many epochs, and so on until one is left, whose last rung trains with early stopping (the best
/// epoch's weights kept) on rows of its own (<see cref="SearchPart.Stop"/>), so that its score, on the validation rows,
/// comes from rows the run used neither to train nor to choose its epoch. Continuing a configuration goes on from its weights and optimizer state, so a rung costs
/// only its new epochs. Seeded: the same seed and trial count give the same results (every model's weights,
/// shuffling and the split are seeded; training is deterministic).
/// </summary>
public static class RandomSearch
{
    /// <summary>
    /// Runs the search on <paramref name="data"/> (raw, labelled). <paramref name="build"/> makes an untrained model for a
    /// configuration and its training rows (seed given). <paramref name="progress"/> hears every rung as it ends;
    /// <paramref name="newBest"/> is called with each new best model (of a complete bracket, or, while none is complete,
    /// of any finished rung), so a caller can save it at once. Ends when the trials are done, the time is spent or
    /// <paramref name="cancellationToken"/> is cancelled; never throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public static SearchResult Run<T>(Dataset data, SearchOptions options, Func<TrialSettings, Dataset, long, Model<T>> build,
        IProgress<TrialResult>? progress = null, Action<TrialResult, Model<T>>? newBest = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(data);
        return Run(data, options, (train, stop, validation) => new SearchPart(data.Subset([.. train]), data.Subset([.. stop]), data.Subset([.. validation])),
            build, progress, newBest, cancellationToken);
    }

    /// <summary>
    /// Runs the search with a part function: for each part (the validation split, or each fold) <paramref name="prepare"/>
    /// gets the row indices (into <paramref name="data"/>) of its training, early-stopping and validation rows and makes
    /// their datasets, fitting whatever it derives from the data (a table's encoding) on the training rows alone;
    /// <paramref name="build"/> is then given that part's <see cref="SearchPart.Train"/>. Otherwise as the other overload.
    /// </summary>
    public static SearchResult Run<T>(Dataset data, SearchOptions options, Func<IReadOnlyList<int>, IReadOnlyList<int>, IReadOnlyList<int>, SearchPart> prepare,
        Func<TrialSettings, Dataset, long, Model<T>> build, IProgress<TrialResult>? progress = null, Action<TrialResult, Model<T>>? newBest = null,
        CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(prepare);
        ArgumentNullException.ThrowIfNull(build);
        options.Validate();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (options.Time is { } time)
            budget.CancelAfter(time);
        var token = budget.Token;

        // The rows each configuration trains and is scored on: one validation split, or K folds; and in each, the
        // rows its last rung early-stops on, split off the training rows (never the scoring rows).
        var splits = new List<(int[] Train, int[] Validation)>();
        if (options.Folds == 0)
            splits.Add(DataSplit.StratifiedIndices(data, options.ValidationFraction, SplitMix64.Derive(options.Seed, 41)));
        else
        {
            var folds = CrossValidation.Folds(data, options.Folds, SplitMix64.Derive(options.Seed, 41));
            for (int k = 0; k < options.Folds; k++)
                splits.Add(CrossValidation.Rows(folds, k));
        }
        var parts = splits.Select(p =>
        {
            var (train, stop) = StopRows(data, p.Train, options.StopFraction, SplitMix64.Derive(options.Seed, 47));
            return prepare(train, stop, p.Validation);
        }).ToList();
        int firstEpochs = options.FirstRungEpochs
            ?? Math.Max(2, (int)Math.Ceiling(options.FirstRungUpdates / Math.Ceiling(parts[0].Train.Rows / (double)TrainingDefaults.BatchSize)));
        var rng = new SplitMix64(SplitMix64.Derive(options.Seed, 43));
        var results = new List<TrialResult>();
        TrialResult? best = null, provisional = null;
        int trial = 0, complete = 0, bracket = 0;
        string stoppedBy = "trials";
        Member<T> NewMember(TrialSettings settings)
        {
            trial++;
            long seed = WeightSeed(options.Seed, trial);
            return new Member<T>(trial, settings, parts.Select(p => (build(settings, p.Train, seed), Optimizer.Create(settings.Optimizer, settings.LearningRate))).ToList());
        }
        // Trains a member one rung (epochs more) and records it; a bracket's last survivor competes for the best, and
        // before any bracket is complete every rung does (provisionally).
        void Rung(Member<T> m, int epochs, bool last, int rung)
        {
            // The timer cancels training between batches; a loaded machine may run its callback late, so the budget is
            // also checked here, before each piece of work starts.
            if (options.Time is { } limit && watch.Elapsed >= limit)
                budget.Cancel();
            token.ThrowIfCancellationRequested();
            var r = m.Train(parts, epochs, last, options.Seed, token);
            var result = r with { Bracket = bracket, Rung = rung, Seconds = Math.Round(watch.Elapsed.TotalSeconds, 3) };
            if (last ? best is null || Better(result, best) : best is null && (provisional is null || Better(result, provisional)))
            {
                result = result with { IsBest = true };
                if (last)
                    best = result;
                else
                    provisional = result;
                newBest?.Invoke(result, m.Models[0].Model);
            }
            results.Add(result);
            progress?.Report(result);
        }
        try
        {
            if (options.Baseline is { } baseline)
            {
                bracket++;
                Rung(NewMember(baseline), options.BaselineEpochs, last: true, rung: 1);
                complete = trial;
            }
            while (options.Trials is not { } n || trial < n)
            {
                bracket++;
                int size = options.Trials is { } total ? Math.Min(options.BracketSize, total - trial) : options.BracketSize;
                var members = new List<Member<T>>();
                for (int i = 0; i < size; i++)
                    members.Add(NewMember(options.Space.Draw(rng)));
                int epochs = firstEpochs, rung = 0, trained = 0;
                var alive = members;
                while (true)
                {
                    rung++;
                    bool last = alive.Count == 1;
                    foreach (var m in alive)
                        Rung(m, epochs - trained, last, rung);
                    trained = epochs;
                    if (last)
                        break;
                    int keep = Math.Max(1, alive.Count / options.Eta);
                    alive = alive.OrderByDescending(m => m.Last!.Score).ThenByDescending(m => m.Last!.ValidationAccuracy ?? 0).ThenBy(m => m.Trial).Take(keep).ToList();
                    epochs *= options.Eta;
                }
                complete = trial;
            }
        }
        catch (OperationCanceledException)
        {
            stoppedBy = cancellationToken.IsCancellationRequested ? "cancelled" : "time";
        }
        return new SearchResult(results, best ?? provisional, complete, stoppedBy);
    }

    /// <summary>
    /// Splits <paramref name="fraction"/> of the training rows <paramref name="rows"/> off for early stopping (stratified,
    /// seeded); rows too few to split keep them all and stop on none.
    /// </summary>
    private static (int[] Train, int[] Stop) StopRows(Dataset data, int[] rows, double fraction, ulong seed)
    {
        try
        {
            var (train, stop) = DataSplit.StratifiedIndices(data.Subset(rows), fraction, seed);
            return (train.Select(i => rows[i]).ToArray(), stop.Select(i => rows[i]).ToArray());
        }
        catch (BackpropException)
        {
            return (rows, []);
        }
    }

    /// <summary>The seed of trial <paramref name="trial"/>'s initial weights in a search seeded <paramref name="seed"/>.</summary>
    public static long WeightSeed(long seed, int trial) => unchecked((long)SplitMix64.Derive(seed, (ulong)(1000 + trial)));

    /// <summary>The training seed (shuffling, dropout) of trial <paramref name="trial"/> in a search seeded <paramref name="seed"/>.</summary>
    public static long TrainingSeed(long seed, int trial) => unchecked(seed + trial);

    /// <summary>True when <paramref name="a"/> ranks above <paramref name="b"/>: a higher score (lower validation loss), or the same and a higher validation accuracy.</summary>
    public static bool Better(TrialResult a, TrialResult b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.Score > b.Score || (a.Score == b.Score && (a.ValidationAccuracy ?? 0) > (b.ValidationAccuracy ?? 0));
    }

    private sealed class Member<T>(int trial, TrialSettings settings, List<(Model<T> Model, Optimizer Optimizer)> models)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public int Trial => trial;

        public List<(Model<T> Model, Optimizer Optimizer)> Models => models;

        public TrialResult? Last { get; private set; }

        private int _epochs;
        private double _seconds;

        /// <summary>Trains every model of the configuration <paramref name="epochs"/> more epochs and scores it on its validation rows.</summary>
        public TrialResult Train(List<SearchPart> parts, int epochs, bool last, long seed, CancellationToken token)
        {
            double score = 0, loss = 0, accuracy = 0;
            int kept = _epochs + epochs;
            var watch = System.Diagnostics.Stopwatch.StartNew();
            for (int k = 0; k < models.Count; k++)
            {
                var (model, optimizer) = models[k];
                var (train, stop, validation) = parts[k];
                // The last rung stops early on its own rows: the validation rows below only score it.
                bool stops = last && stop.Rows > 0;
                var report = model.Fit(train, settings.Options(epochs, TrainingSeed(seed, trial), optimizer) with
                {
                    ValidationData = stops ? stop : null,
                    EarlyStopping = stops ? new EarlyStopping(TrainingDefaults.Patience) : null,
                }, token);
                if (stops && report.BestEpoch is { } b)
                    kept = Math.Min(kept, _epochs + b);
                var m = model.Evaluate(validation);
                loss += m.Loss;
                if (m is ClassificationMetrics c)
                    accuracy += c.Accuracy;
                score -= m.Loss;
            }
            _epochs += epochs;
            _seconds += watch.Elapsed.TotalSeconds;
            int n = models.Count;
            bool classification = models[0].Model.Schema.Task == TaskKind.Classification;
            Last = new TrialResult(trial, 0, 0, settings, kept, score / n, loss / n, classification ? accuracy / n : null, 0,
                SecondsPerEpoch: _seconds / Math.Max(1, _epochs));
            return Last;
        }
    }
}
