using System.Text.Json.Serialization;

namespace Backprop.IO.Json;

// The explain JSON (`backprop explain --format json`, docs/explain-format.md) as records, written and read through
// BackpropJson. Property order is field order. Numbers are written in their shortest round-trip form; one that is not
// finite (a diverged trace) is null. Vectors sit on one line and matrices one row per line, as in the model file.

/// <summary>The whole explain JSON document (format <c>backprop-explain</c>, version 1).</summary>
public sealed record ExplainDocument
{
    /// <summary>Always <c>backprop-explain</c>.</summary>
    public required string Format { get; init; }

    /// <summary>The format's version (1).</summary>
    public required int Version { get; init; }

    /// <summary><c>seed</c> when the seed's equations apply, <c>model</c> otherwise.</summary>
    public required string Network { get; init; }

    /// <summary>
    /// A table model's encoding of the raw values (absent for a model of numeric columns and for the seed): the step
    /// before <see cref="Preprocessing"/>, whose <c>raw</c> is its <see cref="ExplainEncodingEntry.Encoded"/>.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ExplainEncodingEntry? Encoding { get; init; }

    /// <summary>A model's preprocessing of the raw sample (absent when it has none).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ExplainPreprocessingEntry? Preprocessing { get; init; }

    /// <summary>The sample, learning rate, update order and steps.</summary>
    public required ExplainSettingsEntry Settings { get; init; }

    /// <summary>The loss before the first update.</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public required double Loss { get; init; }

    /// <summary>Every layer through the first update.</summary>
    public required IReadOnlyList<ExplainLayerEntry> Layers { get; init; }

    /// <summary>Every parameter through the first update.</summary>
    public required IReadOnlyList<ExplainParameterEntry> Parameters { get; init; }

    /// <summary>The derivation's equations (absent for a large model).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ExplainEquationEntry>? Equations { get; init; }

    /// <summary>The seed document's slips (seed only).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ExplainErratumEntry>? Errata { get; init; }

    /// <summary>The sequential step against the simultaneous one (sequential order only).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ExplainComparisonEntry? OrderComparison { get; init; }

    /// <summary>The loss before the first update, then after each update.</summary>
    [JsonConverter(typeof(NumberRowConverter))]
    public required double[] LossHistory { get; init; }

    /// <summary>The network's output after the last update.</summary>
    [JsonConverter(typeof(NumberRowConverter))]
    public required double[] Output { get; init; }

    /// <summary>The model after every update, as a model file's text (docs/model-format.md).</summary>
    [JsonConverter(typeof(EmbeddedJsonConverter))]
    public required string Updated { get; init; }
}

/// <summary>
/// A table model's encoding of one row of raw values into the network's inputs (before scaling), as
/// <c>predict</c> computes it: each raw column, what its fitted encoder holds, and the features it becomes.
/// </summary>
public sealed record ExplainEncodingEntry
{
    /// <summary>Each raw column the model reads, in its order.</summary>
    public required IReadOnlyList<ExplainEncodedColumnEntry> Columns { get; init; }

    /// <summary>The whole encoded row: every column's features in order (the preprocessing step's <c>raw</c>).</summary>
    [JsonConverter(typeof(NumberRowConverter))]
    public required double[] Encoded { get; init; }

    /// <summary>Values treated as missing because they were unseen or did not parse (absent when none).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Notes { get; init; }
}

/// <summary>One raw column of <see cref="ExplainEncodingEntry"/>: its fitted encoder, its value and its features.</summary>
public sealed record ExplainEncodedColumnEntry
{
    /// <summary>The column and what was fitted on the training rows, exactly as the model file's <c>pipeline.table.columns</c> entry.</summary>
    public required TableColumnSection Column { get; init; }

    /// <summary>The raw value explained (null: absent).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public required string? Value { get; init; }

    /// <summary>The encoder in words, as the text form shows it (e.g. <c>one-hot [a, b] + other -> 3 feature(s)</c>).</summary>
    public required string Encoder { get; init; }

    /// <summary>The features the value became, with their numbers, in feature order.</summary>
    public required IReadOnlyList<ExplainFeatureEntry> Features { get; init; }
}

/// <summary>One encoded feature: its name (<c>color=red</c>, <c>size (missing)</c>, <c>when:month sin</c>) and value.</summary>
public sealed record ExplainFeatureEntry
{
    /// <summary>The feature's name (the model file's <c>pipeline.feature_names</c>).</summary>
    public required string Name { get; init; }

    /// <summary>Its value for the explained row.</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public required double Value { get; init; }
}

/// <summary>x' = (x - offset) / scale for the explained sample: the first step of the model's pipeline.</summary>
public sealed record ExplainPreprocessingEntry
{
    /// <summary>standardize, min-max or pixels (the model file's <c>pipeline.preprocessing.kind</c>).</summary>
    public required string Kind { get; init; }

    /// <summary>Each input column's name (the model file's <c>pipeline.feature_names</c>; <c>input i</c> where it has none).</summary>
    public required IReadOnlyList<string> FeatureNames { get; init; }

    /// <summary>The sample as given.</summary>
    [JsonConverter(typeof(NumberRowConverter))]
    public required double[] Raw { get; init; }

    /// <summary>Subtracted from each value.</summary>
    [JsonConverter(typeof(NumberRowConverter))]
    public required double[] Offset { get; init; }

    /// <summary>Each difference is divided by it.</summary>
    [JsonConverter(typeof(NumberRowConverter))]
    public required double[] Scale { get; init; }

    /// <summary>x', the network's input.</summary>
    [JsonConverter(typeof(NumberRowConverter))]
    public required double[] Prepared { get; init; }
}

/// <summary>What was explained: the sample, eta, the update order and the number of updates.</summary>
public sealed record ExplainSettingsEntry
{
    /// <summary>The network's input (after the preprocessing, when there is one).</summary>
    [JsonConverter(typeof(NumberRowConverter))]
    public required double[] Input { get; init; }

    /// <summary>The targets.</summary>
    [JsonConverter(typeof(NumberRowConverter))]
    public required double[] Target { get; init; }

    /// <summary>eta.</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public required double LearningRate { get; init; }

    /// <summary><c>simultaneous</c> or <c>sequential</c>.</summary>
    public required string UpdateOrder { get; init; }

    /// <summary>Updates run.</summary>
    public required int Steps { get; init; }
}

/// <summary>One layer in the first update: its shape, its parameters and every number the engine computed.</summary>
public sealed record ExplainLayerEntry
{
    /// <summary>0-based position.</summary>
    public required int Index { get; init; }

    /// <summary>Inputs of each unit.</summary>
    public required int Inputs { get; init; }

    /// <summary>Units.</summary>
    public required int Units { get; init; }

    /// <summary>As in the model file.</summary>
    public required string Activation { get; init; }

    /// <summary><c>per-unit</c>, <c>shared</c> or <c>none</c>.</summary>
    public required string Bias { get; init; }

    /// <summary>False for a frozen bias.</summary>
    public required bool TrainableBias { get; init; }

    /// <summary>What the layer received.</summary>
    [JsonConverter(typeof(NumberRowConverter))]
    public required double[] Input { get; init; }

    /// <summary><c>[unit][input]</c> before the update.</summary>
    [JsonConverter(typeof(NumberRowsConverter))]
    public required double[][] Weights { get; init; }

    /// <summary>Before the update, in the model file's bias layout.</summary>
    [JsonConverter(typeof(NumberRowConverter))]
    public required double[] Biases { get; init; }

    /// <summary>Pre-activations.</summary>
    [JsonConverter(typeof(NumberRowConverter))]
    public required double[] Z { get; init; }

    /// <summary>Outputs f(z).</summary>
    [JsonConverter(typeof(NumberRowConverter))]
    public required double[] A { get; init; }

    /// <summary>dE/dz.</summary>
    [JsonConverter(typeof(NumberRowConverter))]
    public required double[] Delta { get; init; }

    /// <summary>dE/dW, <c>[unit][input]</c>.</summary>
    [JsonConverter(typeof(NumberRowsConverter))]
    public required double[][] WeightsGrad { get; init; }

    /// <summary>dE/db in the bias layout.</summary>
    [JsonConverter(typeof(NumberRowConverter))]
    public required double[] BiasesGrad { get; init; }

    /// <summary>The weights after the first update.</summary>
    [JsonConverter(typeof(NumberRowsConverter))]
    public required double[][] WeightsUpdated { get; init; }

    /// <summary>The biases after the first update.</summary>
    [JsonConverter(typeof(NumberRowConverter))]
    public required double[] BiasesUpdated { get; init; }
}

/// <summary>
/// Which parameter: its layer and kind, then <c>unit</c> and <c>input</c> for a weight or <c>index</c> for a bias
/// (the fields that do not apply are left out).
/// </summary>
public abstract record ExplainParameterId
{
    /// <summary>The parameter's name (V11, b1; w1[2,1], b1[2]).</summary>
    [JsonPropertyOrder(-6)]
    public required string Name { get; init; }

    /// <summary>0-based layer.</summary>
    [JsonPropertyOrder(-5)]
    public required int Layer { get; init; }

    /// <summary><c>weight</c> or <c>bias</c>.</summary>
    [JsonPropertyOrder(-4)]
    public required string Kind { get; init; }

    /// <summary>A bias's index in the layer's bias layout.</summary>
    [JsonPropertyOrder(-3)]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Index { get; init; }

    /// <summary>A weight's unit.</summary>
    [JsonPropertyOrder(-2)]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Unit { get; init; }

    /// <summary>A weight's input.</summary>
    [JsonPropertyOrder(-1)]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Input { get; init; }
}

/// <summary>One parameter through the first update.</summary>
public sealed record ExplainParameterEntry : ExplainParameterId
{
    /// <summary>Before the update.</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public required double Value { get; init; }

    /// <summary>dE/dp, the engine's, in the traced order.</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public required double Gradient { get; init; }

    /// <summary>The central difference at the starting point (null for a large model).</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public required double? FiniteDifference { get; init; }

    /// <summary>After the first update.</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public required double Updated { get; init; }

    /// <summary>False for a frozen bias.</summary>
    public required bool Trainable { get; init; }
}

/// <summary>One equation of the derivation.</summary>
public sealed record ExplainEquationEntry
{
    /// <summary>The document's number ("4", "35"), "A1".. for added ones, or z, a, E, δ for a model.</summary>
    public required string Label { get; init; }

    /// <summary>definitions, forward_hidden, ... for the seed; layer1.forward, ... for a model.</summary>
    public required string Section { get; init; }

    /// <summary>document, as_written, corrected or added.</summary>
    public required string Status { get; init; }

    /// <summary>The symbolic chain in LaTeX.</summary>
    public required string Latex { get; init; }

    /// <summary>The same with the numbers substituted (absent for a definition).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Substituted { get; init; }

    /// <summary>The value (null for a definition).</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public required double? Value { get; init; }

    /// <summary>engine, substitution or document.</summary>
    public required string Source { get; init; }

    /// <summary>The slip flagged here (absent where there is none).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Erratum { get; init; }
}

/// <summary>One slip of the seed document with its numbers.</summary>
public sealed record ExplainErratumEntry
{
    /// <summary>missing-half, eq28-denominator, eq35-product, update-order, bias-b2, bias-b1.</summary>
    public required string Id { get; init; }

    /// <summary>The document's equation numbers concerned.</summary>
    public required string Equations { get; init; }

    /// <summary>In the chosen language.</summary>
    public required string Title { get; init; }

    /// <summary>In the chosen language.</summary>
    public required string Explanation { get; init; }

    /// <summary>The quantity compared, in LaTeX (null for none).</summary>
    public required string? Quantity { get; init; }

    /// <summary>The document's form, in LaTeX (null where it has none).</summary>
    public required string? DocumentForm { get; init; }

    /// <summary>The correct form, in LaTeX (null where there is none).</summary>
    public required string? CorrectForm { get; init; }

    /// <summary>What the document's form gives (null where it has no formula or the slip is typographical).</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public required double? DocumentValue { get; init; }

    /// <summary>The engine's value.</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public required double? CorrectValue { get; init; }

    /// <summary>The central finite difference of the same quantity (null for the typographical slip).</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public required double? FiniteDifference { get; init; }
}

/// <summary>The first step in the sequential order against the simultaneous one.</summary>
public sealed record ExplainComparisonEntry
{
    /// <summary>E after one simultaneous step.</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public required double LossAfterSimultaneous { get; init; }

    /// <summary>E after one sequential step.</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public required double LossAfterSequential { get; init; }

    /// <summary>The largest |sequential - simultaneous| over the parameters after the step.</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public required double MaxDifference { get; init; }

    /// <summary>Every parameter in both orders.</summary>
    public required IReadOnlyList<ExplainComparedParameterEntry> Parameters { get; init; }
}

/// <summary>One parameter's first update in both orders.</summary>
public sealed record ExplainComparedParameterEntry : ExplainParameterId
{
    /// <summary>dE/dp in the simultaneous order.</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public required double SimultaneousGradient { get; init; }

    /// <summary>dE/dp in the sequential order.</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public required double SequentialGradient { get; init; }

    /// <summary>After the simultaneous step.</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public required double SimultaneousUpdated { get; init; }

    /// <summary>After the sequential step.</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public required double SequentialUpdated { get; init; }

    /// <summary>Sequential minus simultaneous, after the step.</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public required double Difference { get; init; }
}
