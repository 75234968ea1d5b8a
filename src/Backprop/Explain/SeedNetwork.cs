using System.Numerics;
using Backprop.Nn;

namespace Backprop.Explain;

/// <summary>
/// The values of the seed network's parameters in the seed's own names: Vij (input i -> hidden j),
/// Wij (hidden i -> output j), and the shared biases b1, b2.
/// </summary>
public sealed record SeedParameters(double[,] V, double[,] W, double B1, double B2)
{
    /// <summary>
    /// The documented teaching defaults (see docs/seed-network.md): Mazur's well-known 2-2-2 worked example
    /// widened to three hidden neurons, so V11, V21, V12, V22 = 0.15, 0.20, 0.25, 0.30 and b1 = 0.35 as
    /// there, then V13, V23 = 0.35, 0.40; W11, W21, W31 = 0.45, 0.50, 0.55, W12, W22, W32 = 0.60, 0.65, 0.70,
    /// b2 = 0.60. Every weight differs, so each number in a trace can be traced to one parameter.
    /// </summary>
    public static SeedParameters Default { get; } = new(
        new double[,] { { 0.15, 0.25, 0.35 }, { 0.20, 0.30, 0.40 } },
        new double[,] { { 0.45, 0.60 }, { 0.50, 0.65 }, { 0.55, 0.70 } },
        0.35, 0.60);
}

/// <summary>
/// The seed network: 2 inputs -> 3 sigmoid hidden neurons -> 2 sigmoid outputs, one shared bias per layer,
/// half-sse loss (eq. 10). It is an ordinary <see cref="Network{T}"/>; this class only names its parts.
/// </summary>
public static class SeedNetwork
{
    /// <summary>The default sample: inputs X1, X2.</summary>
    public static IReadOnlyList<double> DefaultInput { get; } = [0.05, 0.10];

    /// <summary>The default targets Y1, Y2 (inside (0, 1), which a sigmoid output can approach).</summary>
    public static IReadOnlyList<double> DefaultTarget { get; } = [0.01, 0.99];

    /// <summary>The default learning rate eta.</summary>
    public const double DefaultLearningRate = 0.5;

    /// <summary>The seed's inputs X1, X2.</summary>
    public const int InputCount = 2;

    /// <summary>The seed's hidden neurons (H1..H3 in, P1..P3 out).</summary>
    public const int HiddenCount = 3;

    /// <summary>The seed's outputs (Q1, Q2 in, O1, O2 out).</summary>
    public const int OutputCount = 2;

    /// <summary>Builds the seed network with <paramref name="parameters"/> (default: <see cref="SeedParameters.Default"/>).</summary>
    public static Network<T> Create<T>(SeedParameters? parameters = null, bool trainableBiases = true)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var p = parameters ?? SeedParameters.Default;
        if (p.V.GetLength(0) != InputCount || p.V.GetLength(1) != HiddenCount || p.W.GetLength(0) != HiddenCount || p.W.GetLength(1) != OutputCount)
            throw new ArgumentException("The seed network needs V as 2x3 (Vij: input i, hidden j) and W as 3x2 (Wij: hidden i, output j).", nameof(parameters));
        var hidden = new Dense<T>(InputCount, HiddenCount, Activation.Sigmoid, BiasMode.Shared, trainableBiases);
        var output = new Dense<T>(HiddenCount, OutputCount, Activation.Sigmoid, BiasMode.Shared, trainableBiases);
        var net = new Network<T>(InputCount, [hidden, output], Loss.HalfSse);
        for (int i = 1; i <= InputCount; i++)
            for (int j = 1; j <= HiddenCount; j++)
                V(net, i, j) = T.CreateChecked(p.V[i - 1, j - 1]);
        for (int i = 1; i <= HiddenCount; i++)
            for (int j = 1; j <= OutputCount; j++)
                W(net, i, j) = T.CreateChecked(p.W[i - 1, j - 1]);
        B1(net) = T.CreateChecked(p.B1);
        B2(net) = T.CreateChecked(p.B2);
        return net;
    }

    /// <summary>Reads a seed-shaped network's parameters back into the seed's names.</summary>
    public static SeedParameters Read<T>(Network<T> net) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireSeedShape(net);
        var v = new double[InputCount, HiddenCount];
        var w = new double[HiddenCount, OutputCount];
        for (int i = 1; i <= InputCount; i++)
            for (int j = 1; j <= HiddenCount; j++)
                v[i - 1, j - 1] = double.CreateChecked(V(net, i, j));
        for (int i = 1; i <= HiddenCount; i++)
            for (int j = 1; j <= OutputCount; j++)
                w[i - 1, j - 1] = double.CreateChecked(W(net, i, j));
        return new SeedParameters(v, w, double.CreateChecked(B1(net)), double.CreateChecked(B2(net)));
    }

    /// <summary>True when <paramref name="net"/> has the seed's shape: 2 -> 3 sigmoid (shared bias) -> 2 sigmoid (shared bias).</summary>
    public static bool IsSeedShaped<T>(Network<T> net) where T : unmanaged, IFloatingPointIeee754<T> =>
        net.Inputs == InputCount && net.Layers.Count == 2
        && net.Layers[0] is { Units: HiddenCount, Activation: Activation.Sigmoid, Bias: BiasMode.Shared }
        && net.Layers[1] is { Units: OutputCount, Activation: Activation.Sigmoid, Bias: BiasMode.Shared };

    /// <summary>Vij: the weight from input i to hidden neuron j (1-based, as in the seed).</summary>
    public static ref T V<T>(Network<T> net, int i, int j) where T : unmanaged, IFloatingPointIeee754<T> =>
        ref net.Layers[0].Weight(j - 1, i - 1);

    /// <summary>Wij: the weight from hidden neuron i to output j (1-based, as in the seed).</summary>
    public static ref T W<T>(Network<T> net, int i, int j) where T : unmanaged, IFloatingPointIeee754<T> =>
        ref net.Layers[1].Weight(j - 1, i - 1);

    /// <summary>b1: the bias shared by the hidden neurons.</summary>
    public static ref T B1<T>(Network<T> net) where T : unmanaged, IFloatingPointIeee754<T> => ref net.Layers[0].Biases[0];

    /// <summary>b2: the bias shared by the output neurons.</summary>
    public static ref T B2<T>(Network<T> net) where T : unmanaged, IFloatingPointIeee754<T> => ref net.Layers[1].Biases[0];

    /// <summary>dE/dVij of the last backward pass.</summary>
    public static T GradV<T>(Network<T> net, int i, int j) where T : unmanaged, IFloatingPointIeee754<T> =>
        net.Layers[0].WeightGradients[(j - 1) * InputCount + (i - 1)];

    /// <summary>dE/dWij of the last backward pass.</summary>
    public static T GradW<T>(Network<T> net, int i, int j) where T : unmanaged, IFloatingPointIeee754<T> =>
        net.Layers[1].WeightGradients[(j - 1) * HiddenCount + (i - 1)];

    /// <summary>dE/db1 of the last backward pass (the shared hidden bias).</summary>
    public static T GradB1<T>(Network<T> net) where T : unmanaged, IFloatingPointIeee754<T> => net.Layers[0].BiasGradients[0];

    /// <summary>dE/db2 of the last backward pass (the shared output bias).</summary>
    public static T GradB2<T>(Network<T> net) where T : unmanaged, IFloatingPointIeee754<T> => net.Layers[1].BiasGradients[0];

    /// <summary>Hj of the last forward pass (first sample).</summary>
    public static T H<T>(Network<T> net, int j) where T : unmanaged, IFloatingPointIeee754<T> => net.PreActivations(0)[j - 1];
    /// <summary>Pj = sigmoid(Hj).</summary>
    public static T P<T>(Network<T> net, int j) where T : unmanaged, IFloatingPointIeee754<T> => net.Activations(0)[j - 1];
    /// <summary>Qj of the last forward pass (first sample).</summary>
    public static T Q<T>(Network<T> net, int j) where T : unmanaged, IFloatingPointIeee754<T> => net.PreActivations(1)[j - 1];
    /// <summary>Oj = sigmoid(Qj).</summary>
    public static T O<T>(Network<T> net, int j) where T : unmanaged, IFloatingPointIeee754<T> => net.Activations(1)[j - 1];

    private static void RequireSeedShape<T>(Network<T> net) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!IsSeedShaped(net))
            throw new ArgumentException("The network does not have the seed's shape (2 -> 3 sigmoid, shared bias -> 2 sigmoid, shared bias).", nameof(net));
    }
}
