using System.Numerics;
using Backprop.Nn;

namespace Backprop.Training;

/// <summary>Operations on a network's gradient buffers between the backward pass and the optimizer step.</summary>
public static class Gradients
{
    /// <summary>
    /// The global L2 norm of every gradient the optimizer will use: weights, and biases that train.
    /// Accumulated in double, layer by layer in order.
    /// </summary>
    public static double GlobalNorm<T>(Network<T> network) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double sum = 0;
        foreach (var p in network.Parameters)
            if (p.Trainable)
                foreach (var g in p.Gradients)
                {
                    double d = double.CreateChecked(g);
                    sum += d * d;
                }
        return Math.Sqrt(sum);
    }

    /// <summary>
    /// Clips by global norm as torch.nn.utils.clip_grad_norm_: when the norm N exceeds
    /// <paramref name="maxNorm"/>, every gradient is multiplied by maxNorm / (N + 1e-6). Returns N (before clipping).
    /// </summary>
    public static double ClipByGlobalNorm<T>(Network<T> network, double maxNorm) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!(maxNorm > 0))
            throw new BackpropException($"The gradient clipping norm must be > 0, got {maxNorm}.");
        double norm = GlobalNorm(network);
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1)
        {
            T c = T.CreateChecked(coef);
            foreach (var p in network.Parameters)
                if (p.Trainable)
                    Scale(p.Gradients, c);
        }
        return norm;
    }

    /// <summary>
    /// Adds the gradient of the L2 penalty (lambda / 2) * sum of squared weights, lambda * w, to every weight
    /// gradient (biases are not penalised). Returns the penalty's value.
    /// </summary>
    public static double AddL2Penalty<T>(Network<T> network, double lambda) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double sumSquares = 0;
        T l = T.CreateChecked(lambda);
        foreach (var p in network.Parameters)
        {
            if (p.IsBias)
                continue;
            var w = p.ReadValues;
            var g = p.Gradients;
            for (int i = 0; i < w.Length; i++)
            {
                double d = double.CreateChecked(w[i]);
                sumSquares += d * d;
                g[i] += l * w[i];
            }
        }
        return 0.5 * lambda * sumSquares;
    }

    private static void Scale<T>(Span<T> values, T factor) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < values.Length; i++)
            values[i] *= factor;
    }
}
