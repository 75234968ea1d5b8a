using Backprop.Nn;

namespace Backprop.Explain;

/// <summary>What to explain: one sample, the learning rate, the update order and how many updates to run.</summary>
/// <param name="Input">The sample's inputs (one per network input).</param>
/// <param name="Target">The sample's targets (one per network output).</param>
/// <param name="LearningRate">eta of the gradient-descent update.</param>
/// <param name="Order">Simultaneous (real backpropagation) or sequential (the seed's own order).</param>
/// <param name="Steps">Number of updates on the sample; the first is traced in full.</param>
public sealed record ExplainSettings(IReadOnlyList<double> Input, IReadOnlyList<double> Target, double LearningRate,
    UpdateOrder Order = UpdateOrder.Simultaneous, int Steps = 1)
{
    /// <summary>The seed's sample, eta = 0.5, one simultaneous update.</summary>
    public static ExplainSettings SeedDefault { get; } =
        new(SeedNetwork.DefaultInput, SeedNetwork.DefaultTarget, SeedNetwork.DefaultLearningRate);
}

/// <summary>Where the value of an equation comes from.</summary>
public enum ValueSource
{
    /// <summary>Read from the engine's buffers (z, a, delta, gradients, loss, updated parameters).</summary>
    Engine,
    /// <summary>The equation's own right-hand side evaluated at the engine's values (an intermediate factor such as -(Y1 - O1)).</summary>
    Substitution,
    /// <summary>The document's formula as written, evaluated: wrong where the equation is flagged.</summary>
    Document,
}

/// <summary>Whether an equation is the document's, the document's as written with a slip, or the correction.</summary>
public enum EquationStatus
{
    /// <summary>As in the document, and correct.</summary>
    Document,
    /// <summary>As the document writes it, with the slip named by <see cref="Equation.Erratum"/>.</summary>
    AsWritten,
    /// <summary>The corrected form of the equation before it.</summary>
    Corrected,
    /// <summary>Not in the document (numbered A1, A2, ...): what a program needs for the other parameters.</summary>
    Added,
}

/// <summary>
/// One equation of a derivation: a chain of equal forms <c>Forms[0] = Forms[1] = ...</c>, the form that is
/// shown again with numbers, and the value.
/// </summary>
/// <param name="Label">The number in the document's numbering ("4", "35") or "A1"... for added ones.</param>
/// <param name="Forms">The symbolic forms, the left-hand side first.</param>
/// <param name="Substitute">Index of the form that is printed again with numbers, or null for a definition only.</param>
/// <param name="Value">The value, or null for a definition.</param>
/// <param name="Source">Where <paramref name="Value"/> comes from.</param>
/// <param name="Status">Document, as written with a slip, corrected or added.</param>
/// <param name="Erratum">The id of the slip flagged here (see <see cref="Erratum"/>), if any.</param>
public sealed record Equation(string Label, IReadOnlyList<Expr> Forms, int? Substitute, double? Value, ValueSource Source,
    EquationStatus Status = EquationStatus.Document, string? Erratum = null);

/// <summary>The parts of the seed's derivation, in the document's order.</summary>
public enum SeedSection
{
    /// <summary>Eqs. (1)-(3): loss, sigmoid and its derivative.</summary>
    Definitions,
    /// <summary>Eqs. (4)-(5) for every hidden neuron.</summary>
    ForwardHidden,
    /// <summary>Eqs. (6)-(9).</summary>
    ForwardOutput,
    /// <summary>Eq. (10).</summary>
    Loss,
    /// <summary>Eqs. (11)-(15).</summary>
    ChainW11,
    /// <summary>Eqs. (16)-(35).</summary>
    ChainV11,
    /// <summary>A1...: the error terms, every gradient, the biases.</summary>
    AllParameters,
}

/// <summary>One equation of the seed derivation and the section it belongs to.</summary>
public sealed record SeedStep(SeedSection Section, Equation Equation);

/// <summary>
/// A slip of the seed document with its numeric proof: the document's value, the correct value (from the engine)
/// and a central finite difference. Values are null where the slip has no number (a typo).
/// </summary>
/// <param name="Id">Stable id: missing-half, eq28-denominator, eq35-product, update-order, bias-b2, bias-b1.</param>
/// <param name="Equations">The document's equation numbers concerned, e.g. "18, 19".</param>
/// <param name="Quantity">The quantity compared, e.g. <c>∂E_total/∂V11</c> (null for a typo).</param>
/// <param name="Written">The document's form, when it has one.</param>
/// <param name="Correct">The correct form.</param>
/// <param name="DocumentValue">The document's form evaluated at the engine's numbers.</param>
/// <param name="CorrectValue">The correct value, as the engine computed it.</param>
/// <param name="FiniteDifference">A central finite difference of the loss: the independent proof.</param>
public sealed record Erratum(string Id, string Equations, Expr? Quantity, Expr? Written, Expr? Correct,
    double? DocumentValue, double? CorrectValue, double? FiniteDifference);

/// <summary>Identifies one parameter: layer, weight (unit, input) or bias number.</summary>
public readonly record struct ParameterId(int Layer, bool IsBias, int Unit, int Input)
{
    /// <summary>The weight of <paramref name="unit"/> from <paramref name="input"/> in <paramref name="layer"/>.</summary>
    public static ParameterId Weight(int layer, int unit, int input) => new(layer, false, unit, input);

    /// <summary>Bias number <paramref name="index"/> of <paramref name="layer"/> (0 for a shared bias).</summary>
    public static ParameterId Bias(int layer, int index) => new(layer, true, index, 0);
}

/// <summary>One parameter through the traced update.</summary>
/// <param name="Id">Which parameter.</param>
/// <param name="Name">Plain name: the seed's (V11, b1) or generic (w1[1,2], b1[1]).</param>
/// <param name="Latex">LaTeX name.</param>
/// <param name="Value">Before the update.</param>
/// <param name="Gradient">dE/dp as the engine computed it in the traced update order.</param>
/// <param name="FiniteDifference">Central finite difference at the starting point, or null for large networks.</param>
/// <param name="Updated">After the first update.</param>
/// <param name="Trainable">False for a frozen bias, which keeps its value.</param>
public sealed record ParameterRow(ParameterId Id, string Name, string Latex, double Value, double Gradient,
    double? FiniteDifference, double Updated, bool Trainable);

/// <summary>One parameter's first update in both orders.</summary>
public sealed record OrderDifference(ParameterId Id, string Name, string Latex, double SimultaneousGradient,
    double SequentialGradient, double SimultaneousUpdated, double SequentialUpdated)
{
    /// <summary>Sequential minus simultaneous value after the update.</summary>
    public double Difference => SequentialUpdated - SimultaneousUpdated;
}

/// <summary>How the sequential (seed's) step differs from real backpropagation on the same start.</summary>
/// <param name="Parameters">Every parameter's first update in both orders.</param>
/// <param name="LossAfterSimultaneous">E after one simultaneous step.</param>
/// <param name="LossAfterSequential">E after one sequential step.</param>
public sealed record OrderComparison(IReadOnlyList<OrderDifference> Parameters, double LossAfterSimultaneous,
    double LossAfterSequential)
{
    /// <summary>max |sequential - simultaneous| over every parameter after one step.</summary>
    public double MaxDifference => Parameters.Count == 0 ? 0 : Parameters.Max(p => Math.Abs(p.Difference));
}

/// <summary>One layer in the first traced pass: every number the engine computed for it (batch of one sample).</summary>
/// <remarks>
/// Weights are <c>[unit * Inputs + input]</c>. <see cref="BackpropWeights"/> are the next layer's weights as the
/// error came back through them: before the update (simultaneous) or after it (sequential); empty for the last layer.
/// </remarks>
public sealed record LayerTrace(int Index, int Inputs, int Units, Activation Activation, BiasMode Bias, bool TrainableBias,
    double[] Input, double[] Weights, double[] Biases, double[] Z, double[] A, double[] Delta,
    double[] WeightGradients, double[] BiasGradients, double[] WeightsAfter, double[] BiasesAfter,
    double[] BackpropWeights)
{
    /// <summary>Weight of <paramref name="unit"/> from <paramref name="input"/> (row-major <c>[unit][input]</c>, as <see cref="Dense{T}"/>).</summary>
    public double Weight(int unit, int input) => Weights[unit * Inputs + input];

    /// <summary>dE/dw of <paramref name="unit"/> from <paramref name="input"/> (the layout of <see cref="Weights"/>).</summary>
    public double WeightGradient(int unit, int input) => WeightGradients[unit * Inputs + input];
}

/// <summary>The per-unit equations of one layer of a general network (small networks only).</summary>
public sealed record LayerDerivation(int Layer, IReadOnlyList<Equation> Forward, IReadOnlyList<Equation> Backward);

/// <summary>
/// Everything <c>backprop explain</c> shows, as data: the numbers the engine computed for one forward pass,
/// backward pass and update, the loss over every update, the seed's derivation and its slips. Renderers
/// (text, markdown, json; English or Chinese) only format it.
/// </summary>
public sealed class ExplainTrace
{
    /// <summary>The model's preprocessing of the raw sample, when a model with one was explained (what predict applies first).</summary>
    public PreprocessingTrace? Preprocessing { get; init; }

    /// <summary>The sample, learning rate, update order and number of updates that were traced.</summary>
    public required ExplainSettings Settings { get; init; }

    /// <summary>True when the network is the seed's shape (2 -> 3 -> 2 sigmoid, shared biases, half-sse): the seed's names apply.</summary>
    public required bool IsSeed { get; init; }

    /// <summary>True when the network is small enough to print per-unit equations.</summary>
    public required bool Detailed { get; init; }

    /// <summary>The network's inputs.</summary>
    public required int Inputs { get; init; }

    /// <summary>The network's loss.</summary>
    public required Loss Loss { get; init; }

    /// <summary>The network's parameters (weights and biases).</summary>
    public required int ParameterCount { get; init; }

    /// <summary>Layers in order, from the traced first update.</summary>
    public required IReadOnlyList<LayerTrace> Layers { get; init; }

    /// <summary>E before the first update.</summary>
    public required double LossBefore { get; init; }

    /// <summary>E before the first update and after each of the <see cref="ExplainSettings.Steps"/> updates.</summary>
    public required IReadOnlyList<double> LossHistory { get; init; }

    /// <summary>The network's output after the last update.</summary>
    public required IReadOnlyList<double> FinalOutput { get; init; }

    /// <summary>The model after all the updates.</summary>
    public required Network<double> Updated { get; init; }

    /// <summary>Every parameter through the first update.</summary>
    public required IReadOnlyList<ParameterRow> Parameters { get; init; }

    /// <summary>The seed's equations (1)-(35) and the added ones, when <see cref="IsSeed"/>.</summary>
    public IReadOnlyList<SeedStep>? SeedSteps { get; init; }

    /// <summary>The seed's slips with their proofs, when <see cref="IsSeed"/>.</summary>
    public IReadOnlyList<Erratum>? Errata { get; init; }

    /// <summary>The loss equation and per-unit equations of a general network, when <see cref="Detailed"/> and not <see cref="IsSeed"/>.</summary>
    public IReadOnlyList<LayerDerivation>? LayerDerivations { get; init; }

    /// <summary>The step of the sequential order against the simultaneous one, when the order is sequential.</summary>
    public OrderComparison? Comparison { get; init; }
}

/// <summary>
/// The first step of a model's pipeline for the explained sample: each raw value x, the fitted offset and scale, and
/// x' = (x - offset) / scale, which is the network's input (the numbers predict uses).
/// </summary>
/// <param name="Kind">The preprocessing's name (standardize, min-max, pixels).</param>
/// <param name="Columns">The name of each input column.</param>
/// <param name="Raw">The sample as given (raw units).</param>
/// <param name="Offset">Subtracted from each value.</param>
/// <param name="Scale">Each difference is divided by it.</param>
/// <param name="Prepared">x', the network's input.</param>
public sealed record PreprocessingTrace(string Kind, IReadOnlyList<string> Columns, IReadOnlyList<double> Raw,
    IReadOnlyList<double> Offset, IReadOnlyList<double> Scale, IReadOnlyList<double> Prepared);
