using System.Globalization;
using System.Numerics;
using Backprop.Data;
using Backprop.Nn;

namespace Backprop.Training;

/// <summary>Entry points: start a model with <see cref="Classifier(int, int)"/> or <see cref="Regressor"/>; the IO layer's <c>ModelFile.Load</c> reads one.</summary>
/// <example>
/// <code>
/// var data = SyntheticData.TwoMoons(samples: 200, noise: 0.1, seed: 1);
/// var model = Model.Classifier(inputs: 2, classes: 2).Dense(16, Activation.Tanh).Dense(16, Activation.Tanh).Build(seed: 1);
/// model.Fit(data, new TrainingOptions { Epochs = 200, Optimizer = new Adam(0.01) });
/// Console.WriteLine(model.Evaluate(data));
/// </code>
/// </example>
public static class Model
{
    /// <summary>A classifier: hidden layers you add, then a softmax layer of <paramref name="classes"/> units with cross-entropy.</summary>
    public static ModelBuilder Classifier(int inputs, int classes)
    {
        Dataset.CheckClassCount(classes, "A classifier");
        return new ModelBuilder(inputs, TaskKind.Classification, classes, Activation.Softmax, Loss.CrossEntropy);
    }

    /// <summary>A classifier whose classes have names (printed by Evaluate and predict, stored in the model file).</summary>
    public static ModelBuilder Classifier(int inputs, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        return Classifier(inputs, classNames.Count).WithClassNames(classNames);
    }

    /// <summary>A regressor: hidden layers you add, then an identity layer of <paramref name="outputs"/> units with mean squared error.</summary>
    public static ModelBuilder Regressor(int inputs, int outputs = 1)
    {
        if (outputs < 1)
            throw new BackpropException($"A regressor needs at least 1 output, got {outputs}.");
        return new ModelBuilder(inputs, TaskKind.Regression, outputs, Activation.Identity, Loss.Mse);
    }

    /// <summary>A model for data shaped like <paramref name="data"/>: a classifier of its classes or a regressor of its targets.</summary>
    public static ModelBuilder For(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.IsClassification && data.ClassCount < 2)
            throw new BackpropException(
                $"{data.Name}: every label is \"{data.ClassNames[0]}\" (one class); a classifier needs examples of at least two classes.");
        var builder = data.IsClassification ? Classifier(data.Inputs, data.ClassNames) : Regressor(data.Inputs, data.Outputs);
        return data.FeatureNames is { } names ? builder.WithFeatureNames(names) : builder;
    }
}

/// <summary>Adds preprocessing and hidden layers, then builds a <see cref="Model{T}"/> with seeded initial weights.</summary>
public sealed class ModelBuilder
{
    private readonly int _inputs;
    private readonly TaskKind _task;
    private readonly int _outputs;
    private readonly List<(LayerSpec Spec, WeightInit? Init)> _hidden = [];
    private Activation _outputActivation;
    private Loss _loss;
    private WeightInit? _outputInit;
    private IReadOnlyList<string>? _classNames;
    private IReadOnlyList<string>? _featureNames;
    private PreprocessingKind _preprocessing = PreprocessingKind.None;
    private DataSchema? _schema;
    private TablePipeline? _table;

    internal ModelBuilder(int inputs, TaskKind task, int outputs, Activation outputActivation, Loss loss)
    {
        if (inputs < 1)
            throw new BackpropException($"A model needs at least 1 input, got {inputs}.");
        if (inputs > DataSchema.MaxFeatures)
            throw new BackpropException($"A model takes at most {DataSchema.MaxFeatures} inputs, got {inputs}.");
        _inputs = inputs;
        _task = task;
        _outputs = outputs;
        _outputActivation = outputActivation;
        _loss = loss;
    }

    /// <summary>Names the classes (one per class, in output order).</summary>
    public ModelBuilder WithClassNames(IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        if (_task != TaskKind.Classification)
            throw new BackpropException("Only a classifier has class names.");
        if (classNames.Count != _outputs)
            throw new BackpropException($"{_outputs} classes need {_outputs} class names, got {classNames.Count}.");
        if (classNames.Distinct(StringComparer.Ordinal).Count() != classNames.Count)
            throw new BackpropException("The class names must be distinct.");
        _classNames = [.. classNames];
        return this;
    }

    /// <summary>
    /// The columns of the file the model is trained on (names, positions, the label and dropped columns), so that new
    /// files are read the same way; its feature count and classes must match the builder's.
    /// </summary>
    public ModelBuilder WithSchema(DataSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        if (schema.Features != _inputs)
            throw new BackpropException($"The schema describes {schema.Features} features but the model takes {_inputs} inputs.");
        if (schema.Task != _task)
            throw new BackpropException($"The schema is for {schema.Task} but the model is a {_task} model.");
        _schema = schema;
        _featureNames = schema.FeatureNames;
        return this;
    }

    /// <summary>
    /// The encoding of a table's raw columns into the model's inputs (fitted on the training rows,
    /// <see cref="TablePipeline.Fit"/>): the model then also predicts on raw values (<c>Predict(string?[])</c>, by name).
    /// </summary>
    public ModelBuilder WithTable(TablePipeline table)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (table.Width != _inputs)
            throw new BackpropException($"The table pipeline makes {table.Width} features but the model takes {_inputs} inputs.");
        _table = table;
        _featureNames ??= table.FeatureNames;
        return this;
    }

    /// <summary>Names the input columns (in input order): data is then matched to them by name.</summary>
    public ModelBuilder WithFeatureNames(IReadOnlyList<string> featureNames)
    {
        ArgumentNullException.ThrowIfNull(featureNames);
        if (featureNames.Count != _inputs)
            throw new BackpropException($"{_inputs} inputs need {_inputs} feature names, got {featureNames.Count}.");
        _featureNames = [.. featureNames];
        return this;
    }

    /// <summary>
    /// Scales the raw inputs before the network, fitted on the training rows at the model's first <c>Fit</c> and kept
    /// in the model (and its file): <see cref="PreprocessingKind.Standardize"/> and the others. Default none.
    /// </summary>
    public ModelBuilder Preprocess(PreprocessingKind kind)
    {
        if (!Enum.IsDefined(kind))
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown preprocessing.");
        _preprocessing = kind;
        return this;
    }

    /// <summary>Adds a hidden dense layer. <paramref name="init"/> defaults to <see cref="WeightInit.For"/> its activation.</summary>
    public ModelBuilder Dense(int units, Activation activation = Activation.Relu, WeightInit? init = null,
        BiasMode bias = BiasMode.PerUnit, bool trainableBias = true)
    {
        if (units < 1)
            throw new BackpropException($"Hidden layer {_hidden.Count} needs at least 1 unit, got {units}.");
        if (activation == Activation.Softmax)
            throw new BackpropException($"Hidden layer {_hidden.Count}: softmax is only supported on the output layer.");
        _hidden.Add((new LayerSpec(units, activation, bias, trainableBias), init));
        return this;
    }

    /// <summary>
    /// Replaces the output layer's activation and loss (e.g. sigmoid with mean squared error for a regressor in (0, 1)).
    /// For a two-class classifier, <c>Output(Activation.Sigmoid, Loss.BinaryCrossEntropy)</c> gives one sigmoid unit.
    /// </summary>
    public ModelBuilder Output(Activation activation, Loss loss, WeightInit? init = null)
    {
        _outputActivation = activation;
        _loss = loss;
        _outputInit = init;
        return this;
    }

    /// <summary>Builds the model in single precision, weights drawn from <paramref name="seed"/>.</summary>
    public Model<float> Build(long seed = 0) => Build<float>(seed);

    /// <summary>
    /// The most parameters (weights and biases) a model may have: 2^27 = 134,217,728. Training one takes about 28 bytes
    /// a parameter in float32 with Adam (weights, gradients, a backup, the optimizer's two moments in double), its
    /// model file up to 17 bytes a parameter (docs/reliability.md).
    /// </summary>
    public const long MaxParameters = 1L << 27;

    /// <summary>Builds the model in element type <typeparamref name="T"/>, weights drawn from <paramref name="seed"/>.</summary>
    public Model<T> Build<T>(long seed = 0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int outputs = _outputs;
        if (_task == TaskKind.Classification && _outputActivation == Activation.Sigmoid && _outputs == 2)
            outputs = 1;
        // The size first, in 64 bits, before anything is allocated.
        long parameters = 0;
        int width = _inputs;
        foreach (var (s, _) in _hidden)
        {
            parameters += (long)width * s.Units + Dense<T>.BiasCount(s.Bias, s.Units);
            width = s.Units;
        }
        parameters += (long)width * outputs + outputs;
        if (parameters > MaxParameters)
            throw new BackpropException(
                $"This network ({_inputs} -> {string.Join(" -> ", _hidden.Select(h => h.Spec.Units).Append(outputs))}) would have {parameters:N0} parameters, "
                + $"more than the {MaxParameters:N0} a model may have (training takes about 28 bytes a parameter with adam in float32: "
                + $"{DataLimits.Bytes(parameters * 28)} here); use smaller layers.");
        var layers = new List<Dense<T>>();
        int fanIn = _inputs;
        Network<T> network;
        try
        {
            foreach (var (s, _) in _hidden)
            {
                layers.Add(new Dense<T>(fanIn, s.Units, s.Activation, s.Bias, s.TrainableBias));
                fanIn = s.Units;
            }
            layers.Add(new Dense<T>(fanIn, outputs, _outputActivation));
            network = new Network<T>(_inputs, layers, _loss);
        }
        catch (ArgumentException e)
        {
            throw new BackpropException($"Cannot build this model: {e.Message}", e);
        }
        var inits = _hidden.Select(h => h.Init).Append(_outputInit).ToArray();
        WeightInit.Apply(network, seed, inits);
        var initNames = network.Layers.Select((l, i) => (inits[i] ?? WeightInit.For(l.Activation)).Name).ToArray();
        var schema = (_schema ?? new DataSchema { Task = _task, Features = _inputs }) with
        {
            FeatureNames = _featureNames,
            ClassNames = _task == TaskKind.Classification ? _classNames ?? Dataset.DefaultClassNames(_outputs) : [],
        };
        return new Model<T>(network, schema, null, _preprocessing, new ModelTraining { Seed = seed, Init = initNames }) { Table = _table };
    }
}

/// <summary>What a model records about its training (the model file's <c>training</c> section).</summary>
public sealed record ModelTraining
{
    /// <summary>The seed the weights were drawn from; training uses it too unless <see cref="TrainingOptions.Seed"/> is set.</summary>
    public long Seed { get; init; }

    /// <summary>Epochs trained in total, including those before the model was saved and loaded.</summary>
    public int EpochsTrained { get; init; }

    /// <summary>The weight initialiser of each layer (empty when unknown).</summary>
    public IReadOnlyList<string> Init { get; init; } = [];

    /// <summary>The last optimizer that trained the model, e.g. <c>adam(learning-rate=0.001, ...)</c>.</summary>
    public string? Optimizer { get; init; }

    /// <summary>The last optimizer's base learning rate.</summary>
    public double? LearningRate { get; init; }

    /// <summary>The last batch size trained with.</summary>
    public int? BatchSize { get; init; }

    /// <summary>The last run's hidden-layer dropout rate (<see cref="TrainingOptions.Dropout"/>; null: none).</summary>
    public double? Dropout { get; init; }

    /// <summary>The last run's input dropout rate (<see cref="TrainingOptions.InputDropout"/>; null: none).</summary>
    public double? InputDropout { get; init; }

    /// <summary>The rows of its data file the model was not trained on (null: not recorded; see <see cref="HeldOutSplit"/>).</summary>
    public HeldOutSplit? HeldOut { get; init; }
}

/// <summary>How well a model did on the data it was trained and tested on, as recorded by whoever trained it (the model file's <c>metrics</c> section).</summary>
public sealed record ModelMetrics
{
    /// <summary>Rows trained on.</summary>
    public int TrainingRows { get; init; }

    /// <summary>The loss on the training rows after training.</summary>
    public double TrainingLoss { get; init; }

    /// <summary>Accuracy on the training rows (classification).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? TrainingAccuracy { get; init; }

    /// <summary>Held-out rows measured (0: none).</summary>
    public int TestRows { get; init; }

    /// <summary>The loss on the held-out rows.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? TestLoss { get; init; }

    /// <summary>Accuracy on the held-out rows (classification).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? TestAccuracy { get; init; }

    /// <summary>Root mean squared error on the held-out rows (regression).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? TestRmse { get; init; }

    /// <summary>R^2 on the held-out rows (regression).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? TestR2 { get; init; }
}

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

    // ---- The pipeline ----------------------------------------------------------------------------------------

    /// <summary>
    /// <paramref name="data"/>'s columns in the model's input order: matched by name when both the data and the model
    /// know the column names (any order, extra columns ignored, a missing one is an error naming it), by position
    /// otherwise (then the count must match).
    /// </summary>
    public Dataset Align(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var want = Schema.FeatureNames;
        var have = data.FeatureNames;
        if (want is not null && have is not null)
        {
            if (have.Count == want.Count && have.SequenceEqual(want, StringComparer.Ordinal))
                return data;
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < have.Count; i++)
                index.TryAdd(have[i], i);
            var columns = new int[want.Count];
            for (int j = 0; j < want.Count; j++)
                if (!index.TryGetValue(want[j], out columns[j]))
                    throw new BackpropException(
                        $"{data.Name}: has no column \"{want[j]}\", which the model was trained on (it takes {string.Join(", ", want.Select(n => $"\"{n}\""))}).");
            return data.SelectColumns(columns, want);
        }
        if (data.Inputs != Schema.Features)
            throw new BackpropException($"{data.Name}: rows have {data.Inputs} feature(s), but the model takes {Schema.Features}"
                + (want is null ? "." : $" ({string.Join(", ", want.Select(n => $"\"{n}\""))})."));
        return data;
    }

    /// <summary>The data through the model's preprocessing (columns aligned first); the network's inputs.</summary>
    public Dataset Prepare(Dataset data) => RequirePreprocessing().Apply(Align(data));

    /// <summary>One raw row (in the model's input order) through the preprocessing: the network's inputs.</summary>
    public double[] Prepare(ReadOnlySpan<double> raw)
    {
        var pre = RequirePreprocessing();
        if (raw.Length != Schema.Features)
            throw new BackpropException($"The model takes {Schema.Features} input(s) per sample, got {raw.Length}.");
        for (int i = 0; i < raw.Length; i++)
            if (!double.IsFinite(raw[i]))
                throw new BackpropException($"Input {i} ({Schema.FeatureName(i)}) is {raw[i].ToString(CultureInfo.InvariantCulture)}; inputs must be finite numbers.");
        var x = raw.ToArray();
        pre.Transform(x);
        return x;
    }

    /// <summary>A raw row given by column name, in the model's input order (every column the model takes must be there; others are ignored).</summary>
    public double[] RowFrom(IReadOnlyDictionary<string, double> row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var names = Schema.FeatureNames
            ?? throw new BackpropException("The model was trained on data without column names; give the values by position.");
        var x = new double[names.Count];
        for (int j = 0; j < names.Count; j++)
            if (!row.TryGetValue(names[j], out x[j]))
                throw new BackpropException($"The row has no value for \"{names[j]}\", which the model takes.");
        return x;
    }

    private Preprocessing RequirePreprocessing() =>
        _preprocessing ?? (_preprocessingKind == PreprocessingKind.None
            ? _preprocessing = Preprocessing.Identity(Schema.Features)
            : throw new BackpropException($"The model's {Data.Preprocessing.NameOf(_preprocessingKind)} preprocessing is not fitted yet: train the model first."));

    // ---- Prediction ------------------------------------------------------------------------------------------

    /// <summary>The network's outputs for one raw sample (class probabilities for a softmax classifier, P(class 1) for one sigmoid output).</summary>
    public double[] Predict(params ReadOnlySpan<double> features)
    {
        var x = Prepare(features);
        var result = new double[Network.Outputs];
        Forward(x, 1, result);
        return result;
    }

    /// <summary>The network's outputs for one raw sample given by column name.</summary>
    public double[] Predict(IReadOnlyDictionary<string, double> row) => Predict(RowFrom(row));

    /// <summary>
    /// A table model's outputs for one row of raw values: the values of <see cref="Table"/>'s columns in its order, or
    /// a whole row of the training file's columns (the label's value, if there, is not used). A missing value (null or
    /// a missing spelling), an unseen category or a value that will not parse is treated as missing and counted in
    /// <paramref name="counts"/>; never an error.
    /// </summary>
    public double[] Predict(IReadOnlyList<string?> values, EncodeCounts? counts = null) => Predict(EncodeRow(values, counts));

    /// <summary>A table model's outputs for one row given by column name (text values; an absent column is missing).</summary>
    public double[] Predict(IReadOnlyDictionary<string, string> row, EncodeCounts? counts = null) => Predict(EncodeRow(row, counts));

    /// <summary>A table model's predicted class for one row of raw values (see <see cref="Predict(IReadOnlyList{string}, EncodeCounts)"/>).</summary>
    public int PredictClass(IReadOnlyList<string?> values, EncodeCounts? counts = null) => PredictClass(EncodeRow(values, counts));

    /// <summary>A table model's predicted class for one row given by column name.</summary>
    public int PredictClass(IReadOnlyDictionary<string, string> row, EncodeCounts? counts = null) => PredictClass(EncodeRow(row, counts));

    /// <summary>One row of raw values through <see cref="Table"/>: the model's numeric inputs (before scaling).</summary>
    public double[] EncodeRow(IReadOnlyList<string?> values, EncodeCounts? counts = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        var table = RequireTable();
        var x = new double[table.Width];
        if (values.Count == table.Columns.Count)
            table.Encode(j => values[j], x, counts);
        else if (Schema.FileColumns is { } width && values.Count == width && table.Columns.All(c => c.Position < width))
            table.Encode(j => values[table.Columns[j].Position], x, counts);
        else
            throw new BackpropException($"The model reads {table.Columns.Count} raw column(s) ({string.Join(", ", table.Columns.Select(c => $"\"{c.Name}\""))})"
                + (Schema.FileColumns is { } w ? $", or a whole row of the training file's {w}" : "") + $"; got {values.Count} value(s).");
        return x;
    }

    /// <summary>One row given by column name through <see cref="Table"/> (an absent column is a missing value).</summary>
    public double[] EncodeRow(IReadOnlyDictionary<string, string> row, EncodeCounts? counts = null)
    {
        ArgumentNullException.ThrowIfNull(row);
        var table = RequireTable();
        var x = new double[table.Width];
        table.Encode(j => row.TryGetValue(table.Columns[j].Name, out var v) ? v : null, x, counts);
        return x;
    }

    /// <summary>
    /// Maps a regressor trained on standardised targets back to the targets' own scale, exactly in the weights: the
    /// output layer's weights are multiplied by <paramref name="scale"/> and its biases become b x scale + mean, so every
    /// entry point (Predict, the model file, ONNX) gives targets in their units. Needs identity outputs with biases.
    /// </summary>
    public void UnscaleOutputs(IReadOnlyList<double> mean, IReadOnlyList<double> scale)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(scale);
        var output = Network.Layers[^1];
        if (!CanUnscaleOutputs || mean.Count != output.Units || scale.Count != output.Units)
            throw new BackpropException("Only a regressor with identity outputs, a bias per output and one mean and scale per output can have its outputs unscaled.");
        _weights.EnterWriteLock();
        try
        {
            for (int u = 0; u < output.Units; u++)
            {
                T s = T.CreateChecked(scale[u]);
                for (int i = 0; i < output.Inputs; i++)
                    output.Weight(u, i) *= s;
                output.Biases[u] = output.Biases[u] * s + T.CreateChecked(mean[u]);
            }
        }
        finally
        {
            _weights.ExitWriteLock();
        }
    }

    /// <summary>True when <see cref="UnscaleOutputs"/> applies: a regressor with identity outputs and a bias per output.</summary>
    public bool CanUnscaleOutputs => Task == TaskKind.Regression && Network.Layers[^1] is { Activation: Activation.Identity, Bias: BiasMode.PerUnit };

    private TablePipeline RequireTable() => _table
        ?? throw new BackpropException("The model takes numeric inputs only (it has no table pipeline); give the values as numbers.");

    /// <summary>
    /// Outputs for <paramref name="rows"/> raw samples (row-major, rows x <see cref="DataSchema.Features"/>) into
    /// <paramref name="outputs"/> (rows x <c>Network.Outputs</c>), in chunks.
    /// </summary>
    public void Predict(ReadOnlySpan<double> features, int rows, Span<double> outputs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        int inputs = Schema.Features, outs = Network.Outputs;
        if (features.Length != (long)rows * inputs)
            throw new BackpropException($"{features.Length} values are not {rows} rows of the model's {inputs} inputs.");
        if (outputs.Length < (long)rows * outs)
            throw new ArgumentException($"The output holds {outputs.Length} values; {rows} rows of {outs} outputs need {(long)rows * outs}.", nameof(outputs));
        var pre = RequirePreprocessing();
        var x = new double[Math.Min(rows, Chunk) * inputs];
        for (int start = 0; start < rows; start += Chunk)
        {
            int n = Math.Min(Chunk, rows - start);
            var chunk = x.AsSpan(0, n * inputs);
            features.Slice(start * inputs, n * inputs).CopyTo(chunk);
            for (int i = 0; i < chunk.Length; i++)
                if (!double.IsFinite(chunk[i]))
                    throw new BackpropException($"Row {start + i / inputs}, input {i % inputs} ({Schema.FeatureName(i % inputs)}) is not a finite number.");
            pre.Transform(chunk);
            Forward(chunk, n, outputs.Slice(start * outs, n * outs));
        }
    }

    /// <summary>The class probabilities for one raw sample (one per class: (1 - p, p) for a single sigmoid output).</summary>
    public double[] PredictProbabilities(params ReadOnlySpan<double> features)
    {
        RequireClassifier(nameof(PredictProbabilities));
        var o = Predict(features);
        var p = new double[ClassCount];
        ClassRule.Probabilities<double>(o, p);
        return p;
    }

    /// <summary>The most likely class for one raw sample (<see cref="ClassRule"/>).</summary>
    public int PredictClass(params ReadOnlySpan<double> features)
    {
        RequireClassifier(nameof(PredictClass));
        return ClassRule.Predict<double>(Predict(features));
    }

    /// <summary>The most likely class for one raw sample given by column name.</summary>
    public int PredictClass(IReadOnlyDictionary<string, double> row) => PredictClass(RowFrom(row));

    /// <summary>The outputs for every row of RAW <paramref name="data"/> (rows x outputs, row-major).</summary>
    public double[] PredictAll(Dataset data)
    {
        var aligned = Align(data);
        var result = new double[(long)aligned.Rows * Network.Outputs];
        int inputs = Schema.Features, outs = Network.Outputs, rows = aligned.Rows;
        var pre = RequirePreprocessing();
        // Chunk by chunk from the dataset's rows (a split's part is never gathered whole).
        var x = new double[Math.Min(rows, Chunk) * inputs];
        for (int start = 0; start < rows; start += Chunk)
        {
            int n = Math.Min(Chunk, rows - start);
            var chunk = x.AsSpan(0, n * inputs);
            aligned.CopyFeatures(start, n, chunk);
            pre.Transform(chunk);
            Forward(chunk, n, result.AsSpan(start * outs, n * outs));
        }
        return result;
    }

    /// <summary>The most likely class of every row of RAW <paramref name="data"/>.</summary>
    public int[] PredictClasses(Dataset data)
    {
        RequireClassifier(nameof(PredictClasses));
        var o = PredictAll(data);
        int outputs = Network.Outputs;
        var classes = new int[o.Length / outputs];
        for (int r = 0; r < classes.Length; r++)
            classes[r] = ClassRule.Predict<double>(o.AsSpan(r * outputs, outputs));
        return classes;
    }

    /// <summary>
    /// Loss and classification (accuracy, per-class precision/recall/F1, confusion matrix) or regression (MAE, RMSE,
    /// R^2) measures on RAW labelled data.
    /// </summary>
    public Metrics Evaluate(Dataset data)
    {
        CheckTask(data);
        var aligned = MatchClasses(Align(data));
        var pre = RequirePreprocessing();
        if (aligned.Inputs != pre.Features)
            throw new BackpropException($"{aligned.Name}: {aligned.Inputs} feature column(s), but the model was trained on {pre.Features}.");
        var y = new TrainingRun<T>.Targets(Network, aligned);
        int inputs = Network.Inputs, outs = Network.Outputs, rows = aligned.Rows;
        bool regression = Task == TaskKind.Regression;
        // Chunk by chunk: the rows are read, scaled and converted 256 at a time, never copied whole.
        var predictions = regression ? new double[(long)rows * outs] : [];
        var predicted = regression ? [] : new int[rows];
        var pool = System.Buffers.ArrayPool<T>.Shared;
        T[] x = pool.Rent(Chunk * inputs), o = pool.Rent(Chunk * outs), z = pool.Rent(Chunk * outs), t = pool.Rent(Chunk * outs);
        var raw = new double[Math.Min(rows, Chunk) * inputs];
        var output = new double[outs];
        double loss = 0;
        try
        {
            for (int start = 0; start < rows; start += Chunk)
            {
                int n = Math.Min(Chunk, rows - start);
                var chunk = raw.AsSpan(0, n * inputs);
                aligned.CopyFeatures(start, n, chunk);
                pre.Transform(chunk);
                for (int i = 0; i < chunk.Length; i++)
                    x[i] = T.CreateChecked(chunk[i]);
                y.Write(start, n, t);
                _weights.EnterReadLock();
                try
                {
                    Network.Predict(x.AsSpan(0, n * inputs), n, o, z);
                }
                finally
                {
                    _weights.ExitReadLock();
                }
                loss += Losses.Value<T>(Network.Loss, z.AsSpan(0, n * outs), o.AsSpan(0, n * outs), t.AsSpan(0, n * outs), n, outs) * n;
                for (int r = 0; r < n; r++)
                {
                    var target = regression ? predictions.AsSpan((start + r) * outs, outs) : output;
                    for (int k = 0; k < outs; k++)
                        target[k] = double.CreateChecked(o[r * outs + k]);
                    if (!regression)
                        predicted[start + r] = ClassRule.Predict<double>(output);
                }
            }
        }
        finally
        {
            pool.Return(x);
            pool.Return(o);
            pool.Return(z);
            pool.Return(t);
        }
        loss = rows == 0 ? 0 : loss / rows;
        if (regression)
            return RegressionMetrics.From(aligned.Targets, predictions, outs, loss);
        return ClassificationMetrics.From(aligned.Labels, predicted, ClassCount, loss, ClassNames);
    }

    /// <summary>The network on prepared inputs (double), under the read lock; outputs as double.</summary>
    private void Forward(ReadOnlySpan<double> x, int rows, Span<double> output)
    {
        int outs = Network.Outputs;
        var pool = System.Buffers.ArrayPool<T>.Shared;
        T[] xt = pool.Rent(x.Length), o = pool.Rent(rows * outs);
        try
        {
            for (int i = 0; i < x.Length; i++)
                xt[i] = T.CreateChecked(x[i]);
            _weights.EnterReadLock();
            try
            {
                Network.Predict(xt.AsSpan(0, x.Length), rows, o);
            }
            finally
            {
                _weights.ExitReadLock();
            }
            for (int i = 0; i < rows * outs; i++)
                output[i] = double.CreateChecked(o[i]);
        }
        finally
        {
            pool.Return(xt);
            pool.Return(o);
        }
    }

    private void RequireClassifier(string method)
    {
        if (Task != TaskKind.Classification)
            throw new BackpropException($"{method} needs a classifier; this model is a regressor (use Predict or PredictAll).");
    }

    private void CheckTask(Dataset data)
    {
        if (!data.HasTargets)
            throw new BackpropException($"{data.Name}: the data has no targets (no label column), so it cannot be trained or evaluated on.");
        if (Task == TaskKind.Classification && !data.IsClassification)
            throw new BackpropException($"{data.Name}: this model is a classifier but the data has real-valued targets; use Dataset.Classification (labels) or a regressor.");
        if (Task == TaskKind.Regression && data.IsClassification)
            throw new BackpropException($"{data.Name}: this model is a regressor but the data has class labels; use Model.Classifier.");
    }

    /// <summary>
    /// Classification data labelled with the model's classes: labels re-indexed by class name when the data names its
    /// classes otherwise ("0", "1", ... are indices and kept), an error naming a class the model does not know.
    /// </summary>
    private Dataset MatchClasses(Dataset data)
    {
        if (!data.IsClassification)
            return data;
        var mine = ClassNames;
        var theirs = data.ClassNames;
        if (theirs.SequenceEqual(mine, StringComparer.Ordinal))
            return data;
        if (IsDefault(theirs))
        {
            if (theirs.Count > mine.Count)
                throw new BackpropException($"{data.Name}: {theirs.Count} classes but the model was built for {mine.Count}.");
            return theirs.Count == mine.Count ? data.WithClassNames(mine) : Relabel(data, Enumerable.Range(0, theirs.Count).ToArray());
        }
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < mine.Count; i++)
            index[mine[i]] = i;
        var map = new int[theirs.Count];
        for (int c = 0; c < theirs.Count; c++)
            if (!index.TryGetValue(theirs[c], out map[c]))
                throw new BackpropException(
                    $"{data.Name}: class \"{theirs[c]}\" is not one of the model's classes ({string.Join(", ", mine)}).");
        return Relabel(data, map);
    }

    private Dataset Relabel(Dataset data, int[] map)
    {
        var labels = new int[data.Rows];
        var from = data.Labels;
        for (int r = 0; r < labels.Length; r++)
            labels[r] = map[from[r]];
        return data.WithLabels(labels, ClassNames);
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
