namespace Backprop.Nn;

/// <summary>The shape of one dense layer, before it has weights.</summary>
/// <param name="Units">Number of neurons.</param>
/// <param name="Activation">Activation after the affine map.</param>
/// <param name="Bias">Bias shape.</param>
/// <param name="TrainableBias">False freezes the bias at its initial value.</param>
public sealed record LayerSpec(int Units, Activation Activation, BiasMode Bias = BiasMode.PerUnit, bool TrainableBias = true);
