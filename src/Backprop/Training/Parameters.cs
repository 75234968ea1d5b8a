using System.Numerics;
using Backprop.Nn;

namespace Backprop.Training;

/// <summary>Copies of all of a network's parameters into one flat array (weights then biases, layer by layer).</summary>
internal static class Parameters
{
    public static void CopyTo<T>(Network<T> net, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = 0;
        for (int li = 0; li < net.Layers.Count; li++)
        {
            var layer = net.Layers[li];
            layer.Weights.CopyTo(destination[k..]);
            k += layer.Weights.Length;
            layer.Biases.CopyTo(destination[k..]);
            k += layer.Biases.Length;
        }
    }

    public static void CopyFrom<T>(ReadOnlySpan<T> source, Network<T> net) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = 0;
        for (int li = 0; li < net.Layers.Count; li++)
        {
            var layer = net.Layers[li];
            source.Slice(k, layer.Weights.Length).CopyTo(layer.Weights);
            k += layer.Weights.Length;
            source.Slice(k, layer.Biases.Length).CopyTo(layer.Biases);
            k += layer.Biases.Length;
        }
    }

    public static bool AllFinite<T>(Network<T> net) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int li = 0; li < net.Layers.Count; li++)
        {
            var layer = net.Layers[li];
            foreach (var w in layer.Weights)
                if (!T.IsFinite(w))
                    return false;
            foreach (var b in layer.Biases)
                if (!T.IsFinite(b))
                    return false;
        }
        return true;
    }

    /// <summary>True when every gradient of the last backward pass is finite.</summary>
    public static bool GradientsFinite<T>(Network<T> net) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var layer in net.Layers)
        {
            foreach (var g in layer.WeightGradients)
                if (!T.IsFinite(g))
                    return false;
            foreach (var g in layer.BiasGradients)
                if (!T.IsFinite(g))
                    return false;
        }
        return true;
    }
}
