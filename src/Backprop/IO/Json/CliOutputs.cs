using System.Text.Json.Serialization;

namespace Backprop.IO.Json;

// The records the command-line tool prints with --json, one object a line, through the one context (BackpropJson,
// snake_case). One name per quantity, the same as the model file's and the checkpoint's: training_loss, not
// train_loss. A field without a value (a regression has no accuracy: C# null) is left out; a number that is not finite
// (a diverged loss, an infinite test loss) is written as null (NullIfNotFiniteConverter on every such field), since JSON
// has no NaN or Infinity: the field is there, so a reader tells "not finite" from "does not apply". docs/cli.md lists
// every field.

/// <summary>
/// Turns the numbers of a dictionary or list in a report into JSON-safe values: a non-finite number becomes null (a
/// null in a dictionary or a list is written). A report's own number fields take the value as it is: their converter
/// writes a non-finite one as null, and only a C# null (no value) leaves the field out.
/// </summary>
public static class JsonNumbers
{
    /// <summary><paramref name="value"/> when it is finite, else null.</summary>
    public static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;

    /// <summary>Each value made finite or null, as <see cref="Finite(double?)"/> does.</summary>
    public static double?[] Finite(IReadOnlyList<double> values) => values.Select(v => Finite(v)).ToArray();
}

/// <summary>One epoch of <c>backprop train --json</c>.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="TrainingLoss">Mean loss over the epoch's batches (null when not finite).</param>
/// <param name="TrainingAccuracy">Accuracy over the epoch's batches (classification).</param>
/// <param name="ValidationLoss">Loss on the validation rows after the epoch.</param>
/// <param name="ValidationAccuracy">Accuracy on the validation rows after the epoch.</param>
/// <param name="LearningRate">The learning rate of the epoch.</param>
/// <param name="Seconds">Seconds since training started.</param>
public sealed record EpochLine(
    int Epoch,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), JsonConverter(typeof(NullIfNotFiniteConverter))] double? TrainingLoss,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), JsonConverter(typeof(NullIfNotFiniteConverter))] double? TrainingAccuracy,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), JsonConverter(typeof(NullIfNotFiniteConverter))] double? ValidationLoss,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), JsonConverter(typeof(NullIfNotFiniteConverter))] double? ValidationAccuracy,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), JsonConverter(typeof(NullIfNotFiniteConverter))] double? LearningRate,
    double Seconds);

/// <summary>The last line of <c>backprop train --json</c>: how the run ended and what it wrote.</summary>
public sealed record TrainingSummary
{
    /// <summary>Always true: tells this line from the epoch lines.</summary>
    public bool Summary { get; init; } = true;

    /// <summary>Epochs completed.</summary>
    public int Epochs { get; init; }

    /// <summary>Rows trained on.</summary>
    public int TrainingRows { get; init; }

    /// <summary>Loss on the training rows after training (null when not finite).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public double? TrainingLoss { get; init; }

    /// <summary>Accuracy on the training rows (classification).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public double? TrainingAccuracy { get; init; }

    /// <summary>Held-out rows measured (0: none).</summary>
    public int TestRows { get; init; }

    /// <summary>Loss on the held-out rows.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public double? TestLoss { get; init; }

    /// <summary>Accuracy on the held-out rows (classification).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public double? TestAccuracy { get; init; }

    /// <summary>Root mean squared error on the held-out rows (regression).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public double? TestRmse { get; init; }

    /// <summary>R^2 on the held-out rows (regression).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public double? TestR2 { get; init; }

    /// <summary>Wall time of the training loop, in seconds.</summary>
    public double Seconds { get; init; }

    /// <summary>Training rows processed per second.</summary>
    public double SamplesPerS { get; init; }

    /// <summary>The L2 strength the run trained with (its default depends on the file's rows).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? L2 { get; init; }

    /// <summary>True when early stopping ended the run.</summary>
    public bool StoppedEarly { get; init; }

    /// <summary>True when a signal ended the run.</summary>
    public bool Interrupted { get; init; }

    /// <summary>SIGINT or SIGTERM, when <see cref="Interrupted"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Signal { get; init; }

    /// <summary>The checkpoint file written, if any.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Checkpoint { get; init; }

    /// <summary>The divergence report, when training stopped on a non-finite loss or weights.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Diverged { get; init; }

    /// <summary>The model file written (--save).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Saved { get; init; }

    /// <summary>The loss-curve picture written (--plot).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Plot { get; init; }

    /// <summary>Notes on choices the tool made for the user (e.g. no test split for a tiny dataset).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Notes { get; init; }
}

/// <summary><c>backprop evaluate --json</c>: a model measured on labelled data.</summary>
public sealed record EvaluationReport
{
    /// <summary>Rows measured.</summary>
    public int Rows { get; init; }

    /// <summary>Mean loss (null when not finite).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public double? Loss { get; init; }

    /// <summary>Fraction classified right (classification).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public double? Accuracy { get; init; }

    /// <summary>The class names, in the order of the per-class lists and the matrix.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Classes { get; init; }

    /// <summary>Precision per class.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<double?>? Precision { get; init; }

    /// <summary>Recall per class.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<double?>? Recall { get; init; }

    /// <summary>F1 per class.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<double?>? F1 { get; init; }

    /// <summary>Rows of each class.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<int>? Support { get; init; }

    /// <summary>Counts: rows are actual classes, columns predicted ones.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<IReadOnlyList<int>>? ConfusionMatrix { get; init; }

    /// <summary>Mean absolute error (regression).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public double? Mae { get; init; }

    /// <summary>Root mean squared error (regression).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public double? Rmse { get; init; }

    /// <summary>Coefficient of determination (regression).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public double? R2 { get; init; }
}

/// <summary><c>backprop info --json</c>: what a model file holds.</summary>
/// <param name="File">The model file as given.</param>
/// <param name="Inputs">Network inputs.</param>
/// <param name="Outputs">Network outputs.</param>
/// <param name="Loss">The loss function's name.</param>
/// <param name="Parameters">Weights and biases in all.</param>
/// <param name="Layers">Each layer, input side first.</param>
/// <param name="Sections">The file's sections.</param>
public sealed record ModelInfoReport(string File, int Inputs, int Outputs, string Loss, int Parameters,
    IReadOnlyList<LayerInfo> Layers, IReadOnlyList<string> Sections);

/// <summary>One layer in <see cref="ModelInfoReport"/>.</summary>
/// <param name="Units">Neurons.</param>
/// <param name="Activation">The activation's name.</param>
/// <param name="Bias">The bias mode's name.</param>
/// <param name="TrainableBias">Whether training changes the bias.</param>
/// <param name="Parameters">The layer's weights and biases.</param>
public sealed record LayerInfo(int Units, string Activation, string Bias, bool TrainableBias, int Parameters);
