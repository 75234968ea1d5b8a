using System.Numerics;

namespace Backprop.Nn;

/// <summary>Weight initialisation.</summary>
public static class Initializer
{
    /// <summary>
    /// The default: He-uniform (bound sqrt(6 / fan_in)) for relu and leaky-relu layers, Glorot-uniform
    /// (bound sqrt(6 / (fan_in + fan_out))) for the others; biases start at zero. Drawn in layer order,
    /// unit by unit, from <see cref="Random"/> seeded with <paramref name="seed"/>, so a seed gives the
    /// same weights on every run.
    /// </summary>
    public static void Default<T>(Network<T> network, int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(seed);
        foreach (var layer in network.Layers)
        {
            double bound = layer.Activation is Activation.Relu or Activation.LeakyRelu
                ? Math.Sqrt(6.0 / layer.Inputs)
                : Math.Sqrt(6.0 / (layer.Inputs + layer.Units));
            var w = layer.Weights;
            for (int i = 0; i < w.Length; i++)
                w[i] = T.CreateChecked((rng.NextDouble() * 2 - 1) * bound);
            layer.Biases.Clear();
        }
    }
}
