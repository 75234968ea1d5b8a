using System.Numerics;
using System.Runtime.Intrinsics;
using Backprop.Numerics;

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

/// <summary>
/// The losses as operator types, each one's value and output gradient side by side (the gradient rule is an
/// <see cref="ILossGradient"/>; the value is accumulated in double), and the passes that take a <see cref="Loss"/> by
/// name. The enum is the name users, model files and the command line use.
/// </summary>
public static class Losses
{
    /// <summary>1/2 sum over outputs of (y - a)^2 per sample, averaged over the batch; dLoss/da = -(y - a) / rows (the seed's eq. 12).</summary>
    public readonly struct HalfSse : ILossGradient
    {
        /// <summary>The loss of a batch: 1/2 sum (y - a)^2 / rows, in double.</summary>
        public static double Value<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> y, int rows, int units) where T : unmanaged, IFloatingPointIeee754<T> =>
            0.5 * SumOfSquares(a, y, rows * units) / rows;

        /// <summary>The gradient's scale: 1 / rows.</summary>
        public static T Scale<T>(int rows, int units) where T : unmanaged, IFloatingPointIeee754<T> => T.One / T.CreateChecked(rows);

        /// <summary>-(y - a) * scale (the squared losses share this rule; only their scale differs).</summary>
        public static T Gradient<T>(T a, T y, T scale) where T : unmanaged, IFloatingPointIeee754<T> => -(y - a) * scale;
        /// <inheritdoc/>
        public static Vector512<T> Gradient<T>(Vector512<T> a, Vector512<T> y, Vector512<T> scale) where T : unmanaged, IFloatingPointIeee754<T> => -(y - a) * scale;
        /// <inheritdoc/>
        public static Vector256<T> Gradient<T>(Vector256<T> a, Vector256<T> y, Vector256<T> scale) where T : unmanaged, IFloatingPointIeee754<T> => -(y - a) * scale;
    }

    /// <summary>The mean of (y - a)^2 over every element of the batch, as torch's MSELoss; dLoss/da = -(y - a) * 2 / count.</summary>
    public readonly struct Mse : ILossGradient
    {
        /// <summary>The loss of a batch: sum (y - a)^2 / count, in double.</summary>
        public static double Value<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> y, int rows, int units) where T : unmanaged, IFloatingPointIeee754<T> =>
            SumOfSquares(a, y, rows * units) / (rows * units);

        /// <summary>The gradient's scale: 2 / count.</summary>
        public static T Scale<T>(int rows, int units) where T : unmanaged, IFloatingPointIeee754<T> => T.CreateChecked(2) / T.CreateChecked(rows * units);

        /// <summary>-(y - a) * scale, <see cref="HalfSse"/>'s rule.</summary>
        public static T Gradient<T>(T a, T y, T scale) where T : unmanaged, IFloatingPointIeee754<T> => HalfSse.Gradient(a, y, scale);
        /// <inheritdoc/>
        public static Vector512<T> Gradient<T>(Vector512<T> a, Vector512<T> y, Vector512<T> scale) where T : unmanaged, IFloatingPointIeee754<T> => HalfSse.Gradient(a, y, scale);
        /// <inheritdoc/>
        public static Vector256<T> Gradient<T>(Vector256<T> a, Vector256<T> y, Vector256<T> scale) where T : unmanaged, IFloatingPointIeee754<T> => HalfSse.Gradient(a, y, scale);
    }

    /// <summary>
    /// -sum y log(softmax(z)) per sample, averaged over the batch, from the logits z (log-sum-exp, never log(0)).
    /// Needs a softmax last layer; the gradient is fused with it: dLoss/dz = (a - y) / rows.
    /// </summary>
    public readonly struct CrossEntropy : ILossGradient
    {
        /// <summary>The loss of a batch from the logits, in double.</summary>
        public static double Value<T>(ReadOnlySpan<T> z, ReadOnlySpan<T> y, int rows, int units) where T : unmanaged, IFloatingPointIeee754<T>
        {
            double sum = 0;
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
        }

        /// <summary>The gradient's scale: 1 / rows.</summary>
        public static T Scale<T>(int rows, int units) where T : unmanaged, IFloatingPointIeee754<T> => T.One / T.CreateChecked(rows);

        /// <summary>(a - y) * scale: dLoss/dz through the softmax.</summary>
        public static T Gradient<T>(T a, T y, T scale) where T : unmanaged, IFloatingPointIeee754<T> => (a - y) * scale;
        /// <inheritdoc/>
        public static Vector512<T> Gradient<T>(Vector512<T> a, Vector512<T> y, Vector512<T> scale) where T : unmanaged, IFloatingPointIeee754<T> => (a - y) * scale;
        /// <inheritdoc/>
        public static Vector256<T> Gradient<T>(Vector256<T> a, Vector256<T> y, Vector256<T> scale) where T : unmanaged, IFloatingPointIeee754<T> => (a - y) * scale;
    }

    /// <summary>
    /// -(y log a + (1 - y) log(1 - a)) averaged over every element, from the logits z. Needs a sigmoid last layer;
    /// the gradient is fused with it: dLoss/dz = (a - y) / count.
    /// </summary>
    public readonly struct BinaryCrossEntropy : ILossGradient
    {
        /// <summary>The loss of a batch from the logits, in double.</summary>
        public static double Value<T>(ReadOnlySpan<T> z, ReadOnlySpan<T> y, int rows, int units) where T : unmanaged, IFloatingPointIeee754<T>
        {
            int n = rows * units;
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                double zi = double.CreateChecked(z[i]);
                double yi = double.CreateChecked(y[i]);
                // -(y log s(z) + (1-y) log(1-s(z))) = max(z,0) - z y + log(1 + e^-|z|)
                sum += Math.Max(zi, 0) - zi * yi + Math.Log(1 + Math.Exp(-Math.Abs(zi)));
            }
            return sum / n;
        }

        /// <summary>The gradient's scale: 1 / count.</summary>
        public static T Scale<T>(int rows, int units) where T : unmanaged, IFloatingPointIeee754<T> => T.One / T.CreateChecked(rows * units);

        /// <summary>(a - y) * scale: dLoss/dz through the sigmoid, <see cref="CrossEntropy"/>'s rule.</summary>
        public static T Gradient<T>(T a, T y, T scale) where T : unmanaged, IFloatingPointIeee754<T> => CrossEntropy.Gradient(a, y, scale);
        /// <inheritdoc/>
        public static Vector512<T> Gradient<T>(Vector512<T> a, Vector512<T> y, Vector512<T> scale) where T : unmanaged, IFloatingPointIeee754<T> => CrossEntropy.Gradient(a, y, scale);
        /// <inheritdoc/>
        public static Vector256<T> Gradient<T>(Vector256<T> a, Vector256<T> y, Vector256<T> scale) where T : unmanaged, IFloatingPointIeee754<T> => CrossEntropy.Gradient(a, y, scale);
    }

    private static double SumOfSquares<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> y, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            double d = double.CreateChecked(y[i]) - double.CreateChecked(a[i]);
            sum += d * d;
        }
        return sum;
    }

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
        where T : unmanaged, IFloatingPointIeee754<T> => loss switch
    {
        Loss.HalfSse => HalfSse.Value(a, y, rows, units),
        Loss.Mse => Mse.Value(a, y, rows, units),
        Loss.CrossEntropy => CrossEntropy.Value(z, y, rows, units),
        Loss.BinaryCrossEntropy => BinaryCrossEntropy.Value(z, y, rows, units),
        _ => throw new ArgumentOutOfRangeException(nameof(loss), loss, "Unknown loss."),
    };

    /// <summary>
    /// delta = dLoss/dZ of the last layer. For the squared losses: dLoss/dA (o - y scaled) times f'(z);
    /// for cross-entropy with softmax and binary cross-entropy with sigmoid: the fused form (a - y) scaled.
    /// </summary>
    public static void OutputDelta<T>(Loss loss, Activation f, ReadOnlySpan<T> z, ReadOnlySpan<T> a, ReadOnlySpan<T> y,
        Span<T> delta, int rows, int units)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireActivation(loss, f);
        OutputDelta(loss, ActivationKernel<T>.For(f), z, a, y, delta, rows, units);
    }

    /// <summary><see cref="OutputDelta{T}(Loss, Activation, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, int, int)"/> with the last layer's kernel (its activation already checked).</summary>
    internal static void OutputDelta<T>(Loss loss, ActivationKernel<T> f, ReadOnlySpan<T> z, ReadOnlySpan<T> a, ReadOnlySpan<T> y,
        Span<T> delta, int rows, int units)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = rows * units;
        switch (loss)
        {
            case Loss.HalfSse:
                f.SquaredErrorDelta(z, a, y, delta, HalfSse.Scale<T>(rows, units), rows, units);
                break;
            case Loss.Mse:
                f.SquaredErrorDelta(z, a, y, delta, Mse.Scale<T>(rows, units), rows, units);
                break;
            case Loss.CrossEntropy:
                Numerics.Elementwise.OutputDelta<T, CrossEntropy, Activations.Identity>(default, a[..n], y[..n], delta[..n], CrossEntropy.Scale<T>(rows, units));
                break;
            case Loss.BinaryCrossEntropy:
                Numerics.Elementwise.OutputDelta<T, BinaryCrossEntropy, Activations.Identity>(default, a[..n], y[..n], delta[..n], BinaryCrossEntropy.Scale<T>(rows, units));
                break;
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
