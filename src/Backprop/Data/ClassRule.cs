using System.Numerics;

namespace Backprop.Data;

/// <summary>
/// The one rule that turns a network's output row into a class, used by evaluation, prediction, plots, the
/// playground and explain: for several outputs the first largest one (argmax, ties to the lower class); for a single
/// sigmoid output p = P(class 1), class 1 when p &gt; 0.5 and class 0 otherwise, which is the same rule applied to
/// the probabilities (1 - p, p). NaN outputs never win a comparison, so an all-NaN row is class 0.
/// </summary>
public static class ClassRule
{
    /// <summary>The class of one output row.</summary>
    public static int Predict<T>(ReadOnlySpan<T> output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (output.IsEmpty)
            throw new ArgumentException("An output row has at least one value.", nameof(output));
        if (output.Length == 1)
            return output[0] > T.CreateChecked(0.5) ? 1 : 0;
        int best = 0;
        for (int j = 1; j < output.Length; j++)
            if (output[j] > output[best])
                best = j;
        return best;
    }

    /// <summary>
    /// Every class's probability from one output row: the row itself for a softmax, (1 - p, p) for a single sigmoid
    /// output. <paramref name="probabilities"/> holds one value per class.
    /// </summary>
    public static void Probabilities<T>(ReadOnlySpan<T> output, Span<double> probabilities) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (output.Length == 1)
        {
            double p = double.CreateChecked(output[0]);
            probabilities[0] = 1 - p;
            probabilities[1] = p;
            return;
        }
        for (int j = 0; j < output.Length; j++)
            probabilities[j] = double.CreateChecked(output[j]);
    }
}
