using System.Numerics;
using System.Text.Json.Nodes;
using Backprop.IO;
using Backprop.Nn;

namespace Backprop.Training;

/// <summary>What a model predicts.</summary>
public enum ModelTask
{
    /// <summary>One of several classes (softmax + cross-entropy, or one sigmoid output for two classes).</summary>
    Classification,
    /// <summary>Real-valued outputs (identity + mean squared error unless chosen otherwise).</summary>
    Regression,
}

/// <summary>Entry points: start a model with <see cref="Classifier(int, int)"/> or <see cref="Regressor"/>, or load one.</summary>
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
        if (classes < 2)
            throw new BackpropException($"A classifier needs at least 2 classes, got {classes}.");
        return new ModelBuilder(inputs, ModelTask.Classification, classes, Activation.Softmax, Loss.CrossEntropy);
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
        return new ModelBuilder(inputs, ModelTask.Regression, outputs, Activation.Identity, Loss.Mse);
    }

    /// <summary>Loads a model file (<see cref="Model{T}.Save"/>, or any model file) in single precision.</summary>
    public static Model<float> Load(string path) => Model<float>.Load(path);

    /// <summary>Loads a model file in element type <typeparamref name="T"/>.</summary>
    public static Model<T> Load<T>(string path) where T : unmanaged, IFloatingPointIeee754<T> => Model<T>.Load(path);
}

/// <summary>Adds hidden layers, then builds a <see cref="Model{T}"/> with seeded initial weights.</summary>
public sealed class ModelBuilder
{
    private readonly int _inputs;
    private readonly ModelTask _task;
    private readonly int _outputs;
    private readonly List<(LayerSpec Spec, WeightInit? Init)> _hidden = [];
    private Activation _outputActivation;
    private Loss _loss;
    private WeightInit? _outputInit;
    private IReadOnlyList<string>? _classNames;

    internal ModelBuilder(int inputs, ModelTask task, int outputs, Activation outputActivation, Loss loss)
    {
        if (inputs < 1)
            throw new BackpropException($"A model needs at least 1 input, got {inputs}.");
        _inputs = inputs;
        _task = task;
        _outputs = outputs;
        _outputActivation = outputActivation;
        _loss = loss;
    }

    /// <summary>Names the classes (one per class, in output order).</summary>
    public ModelBuilder WithClassNames(IReadOnlyList<string> classNames)
    {
        if (_task != ModelTask.Classification)
            throw new BackpropException("Only a classifier has class names.");
        if (classNames.Count != _outputs)
            throw new BackpropException($"{_outputs} classes need {_outputs} class names, got {classNames.Count}.");
        _classNames = [.. classNames];
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

    /// <summary>Builds the model in element type <typeparamref name="T"/>, weights drawn from <paramref name="seed"/>.</summary>
    public Model<T> Build<T>(long seed = 0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int outputs = _outputs;
        if (_task == ModelTask.Classification && _outputActivation == Activation.Sigmoid && _outputs == 2)
            outputs = 1;
        var layers = new List<Dense<T>>();
        int fanIn = _inputs;
        foreach (var (s, _) in _hidden)
        {
            layers.Add(new Dense<T>(fanIn, s.Units, s.Activation, s.Bias, s.TrainableBias));
            fanIn = s.Units;
        }
        layers.Add(new Dense<T>(fanIn, outputs, _outputActivation));
        Network<T> network;
        try
        {
            network = new Network<T>(_inputs, layers, _loss);
        }
        catch (ArgumentException e)
        {
            throw new BackpropException($"Cannot build this model: {e.Message}", e);
        }
        var inits = _hidden.Select(h => h.Init).Append(_outputInit).ToArray();
        WeightInit.Apply(network, seed, inits);
        var initNames = network.Layers.Select((l, i) => (inits[i] ?? WeightInit.For(l.Activation)).Name).ToArray();
        return new Model<T>(network, _task, _task == ModelTask.Classification ? _outputs : 0, seed, _classNames, initNames, null);
    }
}

/// <summary>
/// A network with what it takes to use it: the task, the class names, the seed it was built and trained
/// with, and its training history. Train with <see cref="Fit"/>, <see cref="FitAsync"/> or
/// <see cref="TrainAsync"/>; measure with <see cref="Evaluate"/>; use with <see cref="Predict"/> and
/// <see cref="PredictClass"/>; keep with <see cref="Save"/> and <see cref="Model.Load"/>.
/// </summary>
/// <remarks>Not thread-safe: do not predict from another thread while the model trains.</remarks>
public sealed partial class Model<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The name of the model-file section this class writes.</summary>
    public const string SectionName = "training";

    private readonly List<EpochResult> _history = [];
    private readonly JsonObject _sections;
    private readonly string[] _initNames;
    private string? _lastOptimizer;
    private int? _lastBatchSize;

    internal Model(Network<T> network, ModelTask task, int classes, long seed, IReadOnlyList<string>? classNames,
        string[] initNames, JsonObject? sections)
    {
        Network = network;
        Task = task;
        Classes = classes;
        Seed = seed;
        ClassNames = classNames ?? Enumerable.Range(0, classes).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        _initNames = initNames;
        _sections = sections ?? [];
    }

    /// <summary>Wraps an existing network (e.g. one built by hand or read with <see cref="ModelFile"/>).</summary>
    public static Model<T> FromNetwork(Network<T> network, ModelTask task, long seed = 0, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        int classes = task == ModelTask.Classification ? Math.Max(2, network.Outputs) : 0;
        return new Model<T>(network, task, classes, seed, classNames, [], null);
    }

    /// <summary>
    /// Model-file sections written with the model besides its own <c>training</c> section (e.g. the data's
    /// <c>preprocessing</c> and <c>data</c> schema); those of a loaded file are kept here.
    /// </summary>
    public JsonObject Sections => _sections;

    /// <summary>The network itself (layers, weights, the engine's forward and backward passes).</summary>
    public Network<T> Network { get; }
    public ModelTask Task { get; }

    /// <summary>Number of classes (0 for regression).</summary>
    public int Classes { get; }
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The seed the weights were drawn from; training uses it too unless <see cref="TrainingOptions.Seed"/> is set.</summary>
    public long Seed { get; }

    /// <summary>Every epoch trained since the model was built (or loaded).</summary>
    public IReadOnlyList<EpochResult> History => _history;

    /// <summary>Epochs trained in total, including those before the model was saved and loaded.</summary>
    public int EpochsTrained { get; private set; }

    /// <summary>Trains on the calling thread. See <see cref="Trainer"/> for determinism, cancellation and divergence.</summary>
    public TrainingReport Fit(Dataset data, TrainingOptions? options = null, CancellationToken cancellationToken = default)
    {
        var opts = Prepare(data, options);
        var session = new TrainingSession<T>(Network, data, opts, Seed);
        if (opts.ResumeFrom is { } resume)
            Resume(resume, session);
        try
        {
            while (!session.Finished)
            {
                Record(session.RunEpoch(cancellationToken));
                if (opts.Checkpoint is { EveryEpochs: > 0 } cp && (session.Epoch % cp.EveryEpochs == 0 || session.Finished))
                    WriteCheckpoint(cp.Path, session);
            }
        }
        catch (OperationCanceledException) when (opts.Checkpoint is not null)
        {
            // Cancelled between two batches: the session is consistent, so the checkpoint continues exactly here.
            WriteCheckpoint(opts.Checkpoint.Path, session);
            throw;
        }
        finally
        {
            _lastBatchSize = opts.BatchSize;
        }
        return session.Complete();
    }

    /// <summary>Trains on a thread-pool thread.</summary>
    public Task<TrainingReport> FitAsync(Dataset data, TrainingOptions? options = null, CancellationToken cancellationToken = default) =>
        System.Threading.Tasks.Task.Run(() => Fit(data, options, cancellationToken), cancellationToken);

    /// <summary>Trains epoch by epoch (each on a thread-pool thread) and yields each epoch's result as it ends.</summary>
    public async IAsyncEnumerable<EpochResult> TrainAsync(Dataset data, TrainingOptions? options = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var opts = Prepare(data, options);
        var session = new TrainingSession<T>(Network, data, opts, Seed);
        if (opts.ResumeFrom is { } resume)
            Resume(resume, session);
        _lastBatchSize = opts.BatchSize;
        while (!session.Finished)
        {
            var result = await System.Threading.Tasks.Task.Run(() => session.RunEpoch(cancellationToken), cancellationToken).ConfigureAwait(false);
            Record(result);
            if (opts.Checkpoint is { EveryEpochs: > 0 } cp && (session.Epoch % cp.EveryEpochs == 0 || session.Finished))
                WriteCheckpoint(cp.Path, session);
            yield return result;
        }
        session.Complete();
    }

    private TrainingOptions Prepare(Dataset data, TrainingOptions? options)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckTask(data);
        options ??= new TrainingOptions();
        if (options.Optimizer is null)
        {
            options = new TrainingOptions
            {
                Epochs = options.Epochs, BatchSize = options.BatchSize, Optimizer = new Adam(0.01), Schedule = options.Schedule,
                L2 = options.L2, ClipNorm = options.ClipNorm, Shuffle = options.Shuffle, Seed = options.Seed,
                ValidationFraction = options.ValidationFraction, ValidationData = options.ValidationData,
                EarlyStopping = options.EarlyStopping, Progress = options.Progress, BatchProgress = options.BatchProgress,
                Checkpoint = options.Checkpoint, ResumeFrom = options.ResumeFrom,
            };
        }
        _lastOptimizer = options.Optimizer!.ToString();
        return options;
    }

    private void Record(EpochResult result)
    {
        _history.Add(result);
        EpochsTrained++;
    }

    private void CheckTask(Dataset data)
    {
        if (Task == ModelTask.Classification && !data.IsClassification)
            throw new BackpropException($"{data.Name}: this model is a classifier but the dataset has real-valued targets; use Dataset.Classification (labels) or a regressor.");
        if (Task == ModelTask.Regression && data.IsClassification)
            throw new BackpropException($"{data.Name}: this model is a regressor but the dataset has class labels; use Model.Classifier.");
        if (data.IsClassification && data.Classes != Classes)
            throw new BackpropException($"{data.Name}: {data.Classes} classes but the model was built for {Classes}.");
    }

    /// <summary>Loss and classification (accuracy, per-class precision/recall/F1, confusion matrix) or regression (MAE, RMSE, R^2) measures.</summary>
    public Metrics Evaluate(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckTask(data);
        var x = Trainer.Convert<T>(data.Features);
        var y = Trainer.EncodeTargets(Network, data);
        int outputs = Network.Outputs;
        double loss = Trainer.Measure(Network, x, y, [], data.Rows, Math.Min(data.Rows, 256)).Loss;
        var predictions = PredictAll(data);
        if (Task == ModelTask.Regression)
            return RegressionMetrics.From(data.Targets, predictions, outputs, loss);
        var predicted = new int[data.Rows];
        for (int r = 0; r < data.Rows; r++)
            predicted[r] = Trainer.PredictedClass<double>(predictions.AsSpan(r * outputs, outputs));
        return ClassificationMetrics.From(data.Labels, predicted, Classes, loss, ClassNames);
    }

    /// <summary>The network's outputs for one sample (class probabilities for a classifier).</summary>
    public double[] Predict(params ReadOnlySpan<double> features)
    {
        if (features.Length != Network.Inputs)
            throw new BackpropException($"The model takes {Network.Inputs} input(s) per sample, got {features.Length}.");
        var o = Network.Forward(Trainer.Convert<T>(features), 1);
        var result = new double[o.Length];
        for (int i = 0; i < o.Length; i++)
            result[i] = double.CreateChecked(o[i]);
        return result;
    }

    /// <summary>The outputs for every row of <paramref name="data"/> (rows x outputs, row-major), computed in chunks.</summary>
    public double[] PredictAll(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Inputs != Network.Inputs)
            throw new BackpropException($"{data.Name}: rows have {data.Inputs} input(s) but the model takes {Network.Inputs}.");
        var x = Trainer.Convert<T>(data.Features);
        int outputs = Network.Outputs, chunk = Math.Min(data.Rows, 256);
        var result = new double[data.Rows * outputs];
        for (int start = 0; start < data.Rows; start += chunk)
        {
            int n = Math.Min(chunk, data.Rows - start);
            var o = Network.Forward(x.AsSpan(start * data.Inputs, n * data.Inputs), n);
            for (int i = 0; i < o.Length; i++)
                result[start * outputs + i] = double.CreateChecked(o[i]);
        }
        return result;
    }

    /// <summary>The most likely class of every row of <paramref name="data"/>.</summary>
    public int[] PredictClasses(Dataset data)
    {
        if (Task != ModelTask.Classification)
            throw new BackpropException("PredictClasses needs a classifier; this model is a regressor (use PredictAll).");
        var o = PredictAll(data);
        int outputs = Network.Outputs;
        var classes = new int[data.Rows];
        for (int r = 0; r < classes.Length; r++)
            classes[r] = Trainer.PredictedClass<double>(o.AsSpan(r * outputs, outputs));
        return classes;
    }

    /// <summary>The most likely class for one sample.</summary>
    public int PredictClass(params ReadOnlySpan<double> features)
    {
        if (Task != ModelTask.Classification)
            throw new BackpropException("PredictClass needs a classifier; this model is a regressor (use Predict).");
        return Trainer.PredictedClass<double>(Predict(features));
    }

    /// <summary>
    /// Saves the model file (atomically) with a <c>training</c> section: task, classes, seed, epochs trained,
    /// initialisers, last optimizer and batch size. Other sections read from a loaded file are kept.
    /// </summary>
    public void Save(string path) => ModelFile.Save(Network, path, BuildSections());

    /// <summary>The sections <see cref="Save"/> writes besides the network: those kept from a loaded file and <c>training</c>.</summary>
    private JsonObject BuildSections()
    {
        var sections = (JsonObject)_sections.DeepClone();
        var training = new JsonObject
        {
            ["task"] = Task == ModelTask.Classification ? "classification" : "regression",
            ["seed"] = Seed,
            ["epochs_trained"] = EpochsTrained,
        };
        if (Task == ModelTask.Classification)
        {
            training["classes"] = Classes;
            training["class_names"] = new JsonArray(ClassNames.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray());
        }
        if (_initNames.Length > 0)
            training["init"] = new JsonArray(_initNames.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray());
        if (_lastOptimizer is not null)
            training["optimizer"] = _lastOptimizer;
        if (_lastBatchSize is { } bs)
            training["batch_size"] = bs;
        sections[SectionName] = training;
        return sections;
    }

    /// <summary>
    /// Loads a model file. Without a <c>training</c> section the task is inferred: a softmax output, or a
    /// single sigmoid output with binary cross-entropy, means classification.
    /// </summary>
    public static Model<T> Load(string path)
    {
        var saved = ModelFile.Read<T>(path);
        var net = saved.Network;
        var last = net.Layers[^1];
        ModelTask task = last.Activation == Activation.Softmax || (net.Outputs == 1 && net.Loss == Loss.BinaryCrossEntropy)
            ? ModelTask.Classification : ModelTask.Regression;
        long seed = 0;
        int epochs = 0;
        string[]? classNames = null;
        string[] inits = [];
        if (saved.Sections[SectionName] is JsonObject training)
        {
            try
            {
                if (training["task"] is JsonValue t)
                    task = t.GetValue<string>() switch
                    {
                        "classification" => ModelTask.Classification,
                        "regression" => ModelTask.Regression,
                        var other => throw new ModelFormatException($"{path}: field 'training.task': expected \"classification\" or \"regression\", found \"{other}\"."),
                    };
                if (training["seed"] is JsonValue s)
                    seed = s.GetValue<long>();
                if (training["epochs_trained"] is JsonValue e)
                    epochs = e.GetValue<int>();
                if (training["class_names"] is JsonArray names)
                    classNames = names.Select(n => n!.GetValue<string>()).ToArray();
                if (training["init"] is JsonArray initArray)
                    inits = initArray.Select(n => n!.GetValue<string>()).ToArray();
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException or NullReferenceException)
            {
                throw new ModelFormatException($"{path}: section 'training' is malformed ({ex.Message}).", ex);
            }
        }
        int classes = task == ModelTask.Classification ? Math.Max(2, net.Outputs) : 0;
        if (classNames is not null && classNames.Length != classes)
            throw new ModelFormatException($"{path}: field 'training.class_names': expected {classes} names, found {classNames.Length}.");
        var sections = saved.Sections;
        return new Model<T>(net, task, classes, seed, classNames, inits, sections) { EpochsTrained = epochs };
    }

    public override string ToString() =>
        $"{(Task == ModelTask.Classification ? $"classifier ({Classes} classes)" : "regressor")}: {Network.Inputs} -> "
        + string.Join(" -> ", Network.Layers.Select(l => $"{l.Units} {Names.Of(l.Activation)}"))
        + $", loss {Names.Of(Network.Loss)}, {Network.ParameterCount} parameters, seed {Seed}";
}
