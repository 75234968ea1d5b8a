using System.Globalization;
using System.Numerics;
using Backprop.Data;
using Backprop.Nn;

namespace Backprop.Training;

/// <summary>
/// A trained (or to be trained) model: the whole path from a raw row to an answer. Its <see cref="Schema"/> says which
/// columns it takes (by name and position) and what its outputs mean (the task and class names); its
/// <see cref="Preprocessing"/> scales the raw values exactly as the training rows were scaled; then the
/// <see cref="Network"/>. Every method takes RAW data and applies the pipeline: <see cref="Predict(ReadOnlySpan{double})"/>,
/// <see cref="Evaluate"/>, <see cref="Fit"/>. The IO layer saves and loads all of it (<c>ModelFile</c>).
/// </summary>
/// <remarks>
/// Every prediction method (<see cref="Predict(ReadOnlySpan{double})"/> and its overloads, <see cref="PredictClass(ReadOnlySpan{double})"/>,
/// <see cref="PredictAll"/>, <see cref="PredictClasses"/>, <see cref="Evaluate"/>) is safe to call from many threads at
/// once, also while one thread trains the model: each row is computed with the weights of one whole training step,
/// never a mix (a training step takes a write lock around its update; predictions take a read lock per row or per
/// chunk of 256 rows). Only one training run at a time: a second <see cref="Fit"/> while one runs is refused.
/// Writing <see cref="Network"/>'s weights directly while predicting is not safe.
/// </remarks>
public sealed partial class Model<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Rows per chunk of the batched prediction methods.</summary>
    private const int Chunk = 256;

    private readonly List<EpochResult> _history = [];
    private readonly ReaderWriterLockSlim _weights = new(LockRecursionPolicy.NoRecursion);
    private readonly PreprocessingKind _preprocessingKind;
    private Preprocessing? _preprocessing;
    private int _training;

    /// <summary>
    /// Assembles a model from its parts (what a model file holds). <paramref name="preprocessing"/> null means not fitted
    /// yet: the first <see cref="Fit"/> fits <paramref name="preprocessingKind"/> on its training rows.
    /// </summary>
    public Model(Network<T> network, DataSchema schema, Preprocessing? preprocessing = null,
        PreprocessingKind preprocessingKind = PreprocessingKind.None, ModelTraining? training = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(schema);
        schema.Validate("model");
        if (schema.Features != network.Inputs)
            throw new BackpropException($"The schema describes {schema.Features} features but the network takes {network.Inputs} inputs.");
        if (preprocessing is not null && preprocessing.Features != network.Inputs)
            throw new BackpropException($"The preprocessing scales {preprocessing.Features} features but the network takes {network.Inputs} inputs.");
        if (schema.Task == TaskKind.Classification)
        {
            int expected = network.Outputs == 1 ? 2 : network.Outputs;
            // Also when the names are not given (they would default to "0", "1", ...): per-class measures take
            // classes x classes, so a classifier of 50,000 outputs would need 10 GB to be evaluated.
            if (expected > Dataset.MaxClasses)
                throw new BackpropException(
                    $"model: a classifier of {network.Outputs} outputs has {expected} classes, more than the {Dataset.MaxClasses} a classifier may have.");
            if (schema.ClassNames.Count == 0)
                schema = schema with { ClassNames = Dataset.DefaultClassNames(Math.Max(2, expected)) };
            if (schema.ClassNames.Count != expected)
                throw new BackpropException($"{schema.ClassNames.Count} class names, but the network's {network.Outputs} output(s) give {expected} classes.");
        }
        Network = network;
        Schema = schema;
        _preprocessing = preprocessing;
        _preprocessingKind = preprocessing?.Kind ?? preprocessingKind;
        Training = training ?? new ModelTraining();
    }

    /// <summary>Wraps an existing network (e.g. one built by hand) with no preprocessing.</summary>
    public static Model<T> FromNetwork(Network<T> network, TaskKind task, long seed = 0, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        var schema = DataSchema.For(task, network.Inputs, classNames);
        return new Model<T>(network, schema, Preprocessing.Identity(network.Inputs), training: new ModelTraining { Seed = seed });
    }

    /// <summary>The columns the model takes and what its outputs mean.</summary>
    public DataSchema Schema { get; private set; }

    /// <summary>The scaling applied to raw inputs; null until the first <see cref="Fit"/> fits it.</summary>
    public Preprocessing? Preprocessing => _preprocessing;

    /// <summary>
    /// The encoding of a table's raw columns (text, categories, dates, missing values) into the inputs, or null for a
    /// model of numeric columns. Its width is the network's input count.
    /// </summary>
    public TablePipeline? Table
    {
        get => _table;
        init
        {
            if (value is not null && value.Width != Network.Inputs)
                throw new BackpropException($"The table pipeline makes {value.Width} features but the network takes {Network.Inputs} inputs.");
            _table = value;
        }
    }

    private readonly TablePipeline? _table;

    /// <summary>The kind of <see cref="Preprocessing"/> (also before it is fitted).</summary>
    public PreprocessingKind PreprocessingKind => _preprocessingKind;

    /// <summary>The network itself (layers, weights, the engine's forward and backward passes).</summary>
    public Network<T> Network { get; }

    /// <summary>Classification or regression.</summary>
    public TaskKind Task => Schema.Task;

    /// <summary>The class names in output order (empty for a regressor).</summary>
    public IReadOnlyList<string> ClassNames => Schema.ClassNames;

    /// <summary>Number of classes (0 for a regressor).</summary>
    public int ClassCount => Schema.ClassCount;

    /// <summary>What the model records about its training: seed, epochs, initialisers, last optimizer.</summary>
    public ModelTraining Training { get; private set; }

    /// <summary>The seed the weights were drawn from; training uses it too unless <see cref="TrainingOptions.Seed"/> is set.</summary>
    public long Seed => Training.Seed;

    /// <summary>Epochs trained in total, including those before the model was saved and loaded.</summary>
    public int EpochsTrained => Training.EpochsTrained;

    /// <summary>How the model did on its training and test rows, when whoever trained it recorded it.</summary>
    public ModelMetrics? Metrics { get; set; }

    /// <summary>Every epoch trained since the model was built (or loaded, or resumed).</summary>
    public IReadOnlyList<EpochResult> History => _history;

    /// <summary>
    /// Sections of the model file this model was read from that this version does not know (name to raw JSON);
    /// written back unchanged by a save.
    /// </summary>
    public IDictionary<string, string> ExtraSections { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    // ---- Training ------------------------------------------------------------------------------------------

    /// <summary>Trains on the calling thread on RAW data (the model's preprocessing is fitted on it at the first training).</summary>
    /// <exception cref="TrainingDivergedException">The loss or the weights stopped being finite.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (between two batches; a checkpoint is written when asked for).</exception>
    public TrainingReport Fit(Dataset data, TrainingOptions? options = null, CancellationToken cancellationToken = default)
    {
        var run = Start(data, options);
        try
        {
            while (!run.Finished)
                run.RunEpoch(cancellationToken);
            return run.Complete();
        }
        finally
        {
            Volatile.Write(ref _training, 0);
        }
    }

    /// <summary>Trains on a thread-pool thread.</summary>
    public Task<TrainingReport> FitAsync(Dataset data, TrainingOptions? options = null, CancellationToken cancellationToken = default) =>
        System.Threading.Tasks.Task.Run(() => Fit(data, options, cancellationToken));

    /// <summary>
    /// Trains epoch by epoch (each on a thread-pool thread) and yields each epoch's result as it ends; the caller may stop
    /// at any epoch by leaving the loop. The same run as <see cref="Fit"/>: checkpoints, cancellation and early stopping
    /// behave alike. Best weights are restored (with early stopping) when the sequence ends.
    /// </summary>
    public async IAsyncEnumerable<EpochResult> TrainAsync(Dataset data, TrainingOptions? options = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var run = Start(data, options);
        try
        {
            while (!run.Finished)
                yield return await System.Threading.Tasks.Task.Run(() => run.RunEpoch(cancellationToken)).ConfigureAwait(false);
            run.Complete();
        }
        finally
        {
            Volatile.Write(ref _training, 0);
        }
    }

    /// <summary>
    /// Starts a training run that the caller drives batch by batch (<see cref="ModelTrainer{T}.Step"/>): the playground's
    /// live training. The same run as <see cref="Fit"/>'s. Dispose it to allow another run.
    /// </summary>
    public ModelTrainer<T> StartTraining(Dataset data, TrainingOptions? options = null) => new(this, Start(data, options));

    internal void EndTraining() => Volatile.Write(ref _training, 0);

    private TrainingRun<T> Start(Dataset data, TrainingOptions? options)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new TrainingOptions();
        options.Validate();
        if (options.Optimizer is null)
            options = options with { Optimizer = TrainingDefaults.CreateOptimizer() };
        if (Interlocked.Exchange(ref _training, 1) != 0)
            throw new InvalidOperationException("This model is already training; one training run at a time.");
        try
        {
            CheckTask(data);
            data = Align(data);
            if (EpochsTrained == 0 && _history.Count == 0)
                Adopt(data);
            data = MatchClasses(data);
            _preprocessing ??= Preprocessing.Fit(data, _preprocessingKind);
            long seed = options.Seed ?? Seed;
            // The rows stay raw here (a split shares them): the run applies the preprocessing as it converts them.
            var train = data;
            Dataset? validation = null;
            if (options.ValidationData is { } v)
            {
                CheckTask(v);
                validation = MatchClasses(Align(v));
            }
            else if (options.ValidationFraction > 0)
            {
                (train, validation) = data.Split(options.ValidationFraction, DataSplit.ValidationSeed(seed));
            }
            if (train.Rows == 0)
                throw new BackpropException($"{data.Name}: no rows to train on.");
            var run = new TrainingRun<T>(this, train, validation, _preprocessing, options, seed);
            Training = Training with
            {
                Optimizer = options.Optimizer!.ToString(),
                LearningRate = options.Optimizer.LearningRate,
                BatchSize = options.BatchSize,
                Dropout = options.Dropout > 0 ? options.Dropout : null,
                InputDropout = options.InputDropout > 0 ? options.InputDropout : null,
            };
            return run;
        }
        catch
        {
            Volatile.Write(ref _training, 0);
            throw;
        }
    }

    /// <summary>At the first training: the data's feature and class names become the model's when it has none of its own.</summary>
    private void Adopt(Dataset data)
    {
        var schema = Schema;
        if (schema.FeatureNames is null && data.FeatureNames is { } names && names.Count == schema.Features)
            schema = schema with { FeatureNames = [.. names] };
        if (schema.Target is null && data.TargetName is { } target)
            schema = schema with { Target = target };
        if (data.IsClassification && IsDefault(schema.ClassNames) && !IsDefault(data.ClassNames) && data.ClassCount == schema.ClassCount)
            schema = schema with { ClassNames = [.. data.ClassNames] };
        Schema = schema;
    }

    private static bool IsDefault(IReadOnlyList<string> names) =>
        names.Select((n, i) => n == i.ToString(CultureInfo.InvariantCulture)).All(b => b);

    /// <summary>Records which rows of its data file the model was not trained on (null: none recorded), for the model file.</summary>
    public void RecordHeldOut(HeldOutSplit? split) => Training = Training with { HeldOut = split };

    internal void Record(EpochResult result)
    {
        _history.Add(result);
        Training = Training with { EpochsTrained = Training.EpochsTrained + 1 };
    }

    internal void RestoreHistory(IEnumerable<EpochResult> history, int epochsTrained)
    {
        _history.Clear();
        _history.AddRange(history);
        Training = Training with { EpochsTrained = epochsTrained };
    }

    /// <summary>The write lock a training step holds while it changes the weights (predictions take the read lock).</summary>
    internal WriteScope WritingWeights()
    {
        _weights.EnterWriteLock();
        return new WriteScope(_weights);
    }

    internal readonly struct WriteScope(ReaderWriterLockSlim gate) : IDisposable
    {
        public void Dispose() => gate.ExitWriteLock();
    }

    /// <summary>A one-line description: task, layers, loss, parameters, seed.</summary>
    public override string ToString() =>
        $"{(Task == TaskKind.Classification ? $"classifier ({ClassCount} classes)" : "regressor")}: {Network.Inputs} -> "
        + string.Join(" -> ", Network.Layers.Select(l => $"{l.Units} {Names.Of(l.Activation)}"))
        + $", loss {Names.Of(Network.Loss)}, {Network.ParameterCount} parameters, seed {Seed}";
}

/// <summary>
/// A training run driven batch by batch (<see cref="Model{T}.StartTraining"/>): the same run as <see cref="Model{T}.Fit"/>,
/// for callers that interleave training with other work (the playground). Not thread-safe; dispose it when done.
/// </summary>
public sealed class ModelTrainer<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Model<T> _model;
    private readonly TrainingRun<T> _run;
    private bool _disposed;

    internal ModelTrainer(Model<T> model, TrainingRun<T> run)
    {
        _model = model;
        _run = run;
    }

    /// <summary>True when every epoch asked for has run (or early stopping ended the run).</summary>
    public bool Finished => _run.Finished;

    /// <summary>Runs up to <paramref name="batches"/> batches, across epochs; returns the epochs that ended.</summary>
    public IReadOnlyList<EpochResult> Step(int batches, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _run.RunBatches(batches, cancellationToken);
    }

    /// <summary>Ends the run (restoring the best weights when early stopping asks for it) and allows another.</summary>
    public TrainingReport Complete()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var report = _run.Complete();
        Dispose();
        return report;
    }

    /// <summary>Allows another training run of the model.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _model.EndTraining();
    }
}
