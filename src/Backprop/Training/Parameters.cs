using System.Numerics;
using Backprop.Nn;

namespace Backprop.Training;

/// <summary>The training loop's flat copies and checks of a network's parameters (weights then biases, layer by layer), by <see cref="NetworkParameters{T}"/>.</summary>
internal static class Parameters
{
    public static void CopyTo<T>(Network<T> net, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T> =>
        net.Parameters.CopyTo(destination);

    public static void CopyFrom<T>(ReadOnlySpan<T> source, Network<T> net) where T : unmanaged, IFloatingPointIeee754<T> =>
        net.Parameters.CopyFrom(source);

    public static bool AllFinite<T>(Network<T> net) where T : unmanaged, IFloatingPointIeee754<T> => net.Parameters.AllFinite();

    /// <summary>True when every gradient of the last backward pass is finite.</summary>
    public static bool GradientsFinite<T>(Network<T> net) where T : unmanaged, IFloatingPointIeee754<T> => net.Parameters.GradientsFinite();
}
