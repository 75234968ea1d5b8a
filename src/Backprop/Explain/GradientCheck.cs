using System.Numerics;
using Backprop.Nn;

namespace Backprop.Explain;

/// <summary>The worst disagreement between analytic and finite-difference gradients in one layer.</summary>
/// <param name="Layer">Layer index.</param>
/// <param name="Parameters">How many parameters were checked (weights and biases).</param>
/// <param name="MaxAbsoluteError">max |analytic - numeric|.</param>
/// <param name="MaxRelativeError">max |analytic - numeric| / max(|analytic|, |numeric|, floor).</param>
/// <param name="Worst">The parameter with the largest relative error, e.g. <c>weights[2][0]</c> or <c>biases[0]</c>.</param>
/// <param name="Analytic">Its analytic gradient.</param>
/// <param name="Numeric">Its central finite-difference gradient.</param>
public sealed record LayerGradientError(int Layer, int Parameters, double MaxAbsoluteError, double MaxRelativeError,
    string Worst, double Analytic, double Numeric);

/// <summary>The result of <see cref="GradientCheck.Run{T}"/>.</summary>
public sealed record GradientCheckResult(IReadOnlyList<LayerGradientError> Layers, double Epsilon)
{
    /// <summary>The worst relative error over every layer.</summary>
    public double MaxRelativeError => Layers.Count == 0 ? 0 : Layers.Max(l => l.MaxRelativeError);

    /// <summary>The worst absolute error over every layer.</summary>
    public double MaxAbsoluteError => Layers.Count == 0 ? 0 : Layers.Max(l => l.MaxAbsoluteError);
}

/// <summary>
/// Checks a model's back-propagated gradients against central finite differences computed in double,
/// over every weight and bias, for a given batch.
/// </summary>
public static class GradientCheck
{
    /// <summary>
    /// Computes the analytic gradients with <paramref name="network"/>'s own backward pass (in its element
    /// type) and compares each with (E(p + eps) - E(p - eps)) / (2 eps) on a double copy of the network.
    /// The network's gradient buffers are overwritten; its parameters are not changed.
    /// </summary>
    /// <param name="network">The network whose gradients are checked.</param>
    /// <param name="inputs">The batch, rows x inputs.</param>
    /// <param name="targets">Its targets, rows x outputs.</param>
    /// <param name="rows">Samples in the batch.</param>
    /// <param name="epsilon">The finite-difference step.</param>
    /// <param name="relativeFloor">Smallest denominator of the relative error, so gradients that are zero
    /// up to rounding do not report huge relative errors.</param>
    public static GradientCheckResult Run<T>(Network<T> network, ReadOnlySpan<T> inputs, ReadOnlySpan<T> targets, int rows,
        double epsilon = 1e-6, double relativeFloor = 1e-8)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        RunWithHook(network, inputs, targets, rows, afterBackward: null, epsilon, relativeFloor);

    /// <summary>
    /// <see cref="Run{T}"/> with a hook for tests:
    /// <paramref name="afterBackward"/> (null outside tests) is called between the backward pass and the comparison. It may overwrite the
    /// network's gradient buffers, so a test can hand the comparison gradients it knows to be wrong and see them flagged.
    /// </summary>
    internal static GradientCheckResult RunWithHook<T>(Network<T> network, ReadOnlySpan<T> inputs, ReadOnlySpan<T> targets, int rows,
        Action<Network<T>>? afterBackward, double epsilon = 1e-6, double relativeFloor = 1e-8)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epsilon);
        network.Forward(inputs, rows);
        network.Backward(targets);
        afterBackward?.Invoke(network);

        var copy = network.Convert<double>();
        var x = ToDouble(inputs);
        var y = ToDouble(targets);
        var results = new List<LayerGradientError>();
        double maxAbs = 0, maxRel = -1, worstA = 0, worstN = 0;
        string worst = "";
        foreach (var p in network.Parameters)
        {
            // A layer's weights, then its biases; the layer's line when its biases are done.
            for (int index = 0; index < p.Length; index++)
            {
                double analytic = double.CreateChecked(p.Gradients[index]);
                double numeric = NumericGradient(copy, x, y, rows, p.LayerIndex, p.IsBias, index, epsilon);
                double abs = Math.Abs(analytic - numeric);
                double rel = abs / Math.Max(relativeFloor, Math.Max(Math.Abs(analytic), Math.Abs(numeric)));
                maxAbs = Math.Max(maxAbs, abs);
                if (rel > maxRel)
                {
                    maxRel = rel;
                    worstA = analytic;
                    worstN = numeric;
                    // The element's name within its layer: weights[unit][input] or biases[b].
                    worst = p.ElementName(index)[$"layers[{p.LayerIndex}].".Length..];
                }
            }
            if (!p.IsBias)
                continue;
            results.Add(new LayerGradientError(p.LayerIndex, p.Layer.ParameterCount, maxAbs, Math.Max(maxRel, 0), worst, worstA, worstN));
            (maxAbs, maxRel, worstA, worstN, worst) = (0, -1, 0, 0, "");
        }
        return new GradientCheckResult(results, epsilon);
    }

    /// <summary>
    /// The central finite difference (E(p + eps) - E(p - eps)) / (2 eps) of one parameter of a double network:
    /// layer <paramref name="layer"/>, weight or bias number <paramref name="index"/>. The parameter is restored.
    /// </summary>
    public static double NumericGradient(Network<double> network, ReadOnlySpan<double> inputs, ReadOnlySpan<double> targets,
        int rows, int layer, bool bias, int index, double epsilon = 1e-6)
    {
        var values = network.Parameters.Of(layer, bias).Values;
        double original = values[index];
        try
        {
            values[index] = original + epsilon;
            network.Forward(inputs, rows);
            double plus = network.ComputeLoss(targets);
            values[index] = original - epsilon;
            network.Forward(inputs, rows);
            double minus = network.ComputeLoss(targets);
            return (plus - minus) / (2 * epsilon);
        }
        finally
        {
            values[index] = original;
        }
    }

    private static double[] ToDouble<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
            result[i] = double.CreateChecked(values[i]);
        return result;
    }
}
