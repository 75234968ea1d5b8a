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
