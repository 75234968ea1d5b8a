using System.Numerics;

namespace Backprop.Nn;

/// <summary>The loss between a network's outputs and the targets of a batch.</summary>
public enum Loss
{
    /// <summary>1/2 sum over outputs of (y - o)^2 (the seed's eq. 10), averaged over the samples of a batch.</summary>
    HalfSse,
    /// <summary>Mean of (y - o)^2 over every element of the batch, as torch's MSELoss.</summary>
    Mse,
    /// <summary>-sum y log(softmax(z)), averaged over the batch; needs a softmax last layer. Gradient fused: (a - y) / batch.</summary>
    CrossEntropy,
    /// <summary>-(y log o + (1-y) log(1-o)), averaged over every element; needs a sigmoid last layer. Gradient fused: (o - y) / count.</summary>
    BinaryCrossEntropy,
}

/// <summary>Value and output gradient of each <see cref="Loss"/>, side by side.</summary>
public static class Losses
{
    /// <summary>The activation a loss requires of the last layer, or null when any will do.</summary>
    public static Activation? RequiredActivation(Loss loss) => loss switch
    {
        Loss.CrossEntropy => Activation.Softmax,
        Loss.BinaryCrossEntropy => Activation.Sigmoid,
        _ => null,
    };

    /// <summary>
    /// The loss of a batch, accumulated in double. <paramref name="z"/> and <paramref name="a"/> are the
    /// last layer's pre-activations and outputs; the log-based losses use z so they never take log(0).
    /// </summary>
    public static double Value<T>(Loss loss, ReadOnlySpan<T> z, ReadOnlySpan<T> a, ReadOnlySpan<T> y, int rows, int units)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = rows * units;
        double sum = 0;
        switch (loss)
        {
            case Loss.HalfSse:
                for (int i = 0; i < n; i++)
                {
                    double d = double.CreateChecked(y[i]) - double.CreateChecked(a[i]);
                    sum += d * d;
                }
                return 0.5 * sum / rows;
            case Loss.Mse:
                for (int i = 0; i < n; i++)
                {
                    double d = double.CreateChecked(y[i]) - double.CreateChecked(a[i]);
                    sum += d * d;
                }
                return sum / n;
            case Loss.CrossEntropy:
                for (int r = 0; r < rows; r++)
                {
                    var zr = z.Slice(r * units, units);
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < units; j++)
                        max = Math.Max(max, double.CreateChecked(zr[j]));
                    double s = 0;
                    for (int j = 0; j < units; j++)
                        s += Math.Exp(double.CreateChecked(zr[j]) - max);
                    double logSum = max + Math.Log(s);
                    for (int j = 0; j < units; j++)
                    {
                        double yj = double.CreateChecked(y[r * units + j]);
                        if (yj != 0)
                            sum -= yj * (double.CreateChecked(zr[j]) - logSum);
                    }
                }
                return sum / rows;
            case Loss.BinaryCrossEntropy:
                for (int i = 0; i < n; i++)
                {
                    double zi = double.CreateChecked(z[i]);
                    double yi = double.CreateChecked(y[i]);
                    // -(y log s(z) + (1-y) log(1-s(z))) = max(z,0) - z y + log(1 + e^-|z|)
                    sum += Math.Max(zi, 0) - zi * yi + Math.Log(1 + Math.Exp(-Math.Abs(zi)));
                }
                return sum / n;
            default:
                throw new ArgumentOutOfRangeException(nameof(loss), loss, "Unknown loss.");
        }
    }

    /// <summary>
    /// delta = dLoss/dZ of the last layer. For the squared losses: dLoss/dA (o - y scaled) times f'(z);
    /// for cross-entropy with softmax and binary cross-entropy with sigmoid: the fused form (a - y) scaled.
    /// </summary>
    public static void OutputDelta<T>(Loss loss, Activation f, ReadOnlySpan<T> z, ReadOnlySpan<T> a, ReadOnlySpan<T> y,
        Span<T> delta, int rows, int units)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = rows * units;
        switch (loss)
        {
            case Loss.HalfSse:
            case Loss.Mse:
                {
                    // dE/dO = -(Y - O) (the seed's eq. 12), scaled by the batch mean (and by 2/units for mse).
                    T scale = loss == Loss.HalfSse
                        ? T.One / T.CreateChecked(rows)
                        : T.CreateChecked(2) / T.CreateChecked(n);
                    if (f == Activation.Sigmoid)
                    {
                        // The two steps below fused for the common case, rounded exactly as they round.
                        Numerics.Elementwise.SquaredErrorSigmoidDelta(a[..n], y[..n], delta[..n], scale);
                        break;
                    }
                    Numerics.Elementwise.SquaredErrorDelta(a[..n], y[..n], delta[..n], scale);
                    Activations.Backward(f, z, a, delta, delta, rows, units);
                    break;
                }
            case Loss.CrossEntropy:
            case Loss.BinaryCrossEntropy:
                {
                    RequireActivation(loss, f);
                    T scale = T.One / T.CreateChecked(loss == Loss.CrossEntropy ? rows : n);
                    Numerics.Elementwise.DifferenceDelta(a[..n], y[..n], delta[..n], scale);
                    break;
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(loss), loss, "Unknown loss.");
        }
    }

    internal static void RequireActivation(Loss loss, Activation last)
    {
        var required = RequiredActivation(loss);
        if (required is { } r && r != last)
            throw new ArgumentException(
                $"Loss '{Names.Of(loss)}' needs a '{Names.Of(r)}' last layer, but the last layer is '{Names.Of(last)}'.");
    }
}
