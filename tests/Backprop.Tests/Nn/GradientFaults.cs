using Backprop.Nn;

namespace Backprop.Tests.Nn;

/// <summary>The mistakes <see cref="GradientFaults.Gradients"/> can be told to make.</summary>
public enum GradientFault
{
    /// <summary>No mistake: the gradients of the equations.</summary>
    None,
    /// <summary>Every layer with the case's hidden activation (or, for softmax, the last layer) uses a wrong f'.</summary>
    WrongDerivative,
    /// <summary>dE/db left out (zero): the bias term dropped from the backward pass.</summary>
    BiasGradientDropped,
    /// <summary>z = W a without + b in the pass the gradients are computed from: the bias term dropped from the forward pass.</summary>
    BiasLeftOutOfZ,
    /// <summary>Layer 1's dE/dW written transposed (dW[i][u] for dW[u][i]; the layer is square, so the layout fits).</summary>
    WeightGradientTransposed,
    /// <summary>The delta sent back from layer 1 to layer 0 goes through W^T's transpose (W read as [input][unit]).</summary>
    BackwardThroughTransposedWeights,
    /// <summary>The loss gradient with the wrong scale (see <see cref="GradientFaults.WrongScale"/>).</summary>
    LossGradientScale,
}

/// <summary>
/// Back-propagation written out per sample from the equations (independently of the engine's batched code), able to
/// make one known mistake. With <see cref="GradientFault.None"/> it gives the engine's gradients to rounding; with a
/// fault, gradients that are wrong in a known way, for the gradient check to catch.
/// </summary>
internal static class GradientFaults
{
    /// <summary>
    /// The wrong loss-gradient scale of each loss, a realistic slip: half-sse not averaged over the batch, mse without
    /// its factor 2, cross-entropy averaged over every element instead of every sample, binary cross-entropy over the
    /// samples instead of every element.
    /// </summary>
    public static double WrongScale(Loss loss, int rows, int units) => loss switch
    {
        Loss.HalfSse => rows,
        Loss.Mse => 0.5,
        Loss.CrossEntropy => 1.0 / units,
        _ => units,
    };

    /// <summary>dE/dW and dE/db of every layer for the batch, with <paramref name="fault"/> made.</summary>
    public static (double[][] Weights, double[][] Biases) Gradients(Network<double> net, double[] x, double[] y, int rows,
        GradientFault fault, Activation faulty)
    {
        var layers = net.Layers;
        int count = layers.Count, outputs = net.Outputs;
        var gw = layers.Select(l => new double[l.Weights.Length]).ToArray();
        var gb = layers.Select(l => new double[l.Biases.Length]).ToArray();
        double scale = fault == GradientFault.LossGradientScale ? WrongScale(net.Loss, rows, outputs) : 1;
        for (int r = 0; r < rows; r++)
        {
            // Forward: a[0] is the input, a[l + 1] = f(z[l]), z[l][u] = sum_i W[u][i] a[l][i] + b.
            var a = new double[count + 1][];
            var z = new double[count][];
            a[0] = x.AsSpan(r * net.Inputs, net.Inputs).ToArray();
            for (int l = 0; l < count; l++)
            {
                var layer = layers[l];
                z[l] = new double[layer.Units];
                for (int u = 0; u < layer.Units; u++)
                {
                    double sum = 0;
                    for (int i = 0; i < layer.Inputs; i++)
                        sum += layer.Weight(u, i) * a[l][i];
                    if (fault != GradientFault.BiasLeftOutOfZ)
                        sum += layer.Bias switch { BiasMode.PerUnit => layer.Biases[u], BiasMode.Shared => layer.Biases[0], _ => 0 };
                    z[l][u] = sum;
                }
                a[l + 1] = Apply(layer.Activation, z[l]);
            }

            // The last layer's delta = dE/dz for this sample, with the batch's averaging.
            var o = a[count];
            var t = y.AsSpan(r * outputs, outputs).ToArray();
            var last = layers[count - 1];
            double[] delta;
            if (net.Loss is Loss.CrossEntropy or Loss.BinaryCrossEntropy)
            {
                // -sum y log softmax(z) and the summed logistic losses: dE/dz = (a - y) / (samples or elements).
                double n = net.Loss == Loss.CrossEntropy ? rows : rows * outputs;
                delta = o.Select((v, k) => (v - t[k]) / n).ToArray();
            }
            else
            {
                // 1/2 sum (y - a)^2 per sample, averaged over samples; or the mean over every element.
                double factor = net.Loss == Loss.HalfSse ? 1.0 / rows : 2.0 / (rows * outputs);
                var dA = o.Select((v, k) => (v - t[k]) * factor).ToArray();
                delta = Derivative(last.Activation, z[count - 1], o, dA, wrong: fault == GradientFault.WrongDerivative && last.Activation == faulty);
            }
            for (int k = 0; k < delta.Length; k++)
                delta[k] *= scale;

            for (int l = count - 1; l >= 0; l--)
            {
                var layer = layers[l];
                for (int u = 0; u < layer.Units; u++)
                {
                    for (int i = 0; i < layer.Inputs; i++)
                    {
                        int at = fault == GradientFault.WeightGradientTransposed && l == 1 ? i * layer.Inputs + u : u * layer.Inputs + i;
                        gw[l][at] += delta[u] * a[l][i];
                    }
                    if (fault == GradientFault.BiasGradientDropped)
                        continue;
                    if (layer.Bias == BiasMode.PerUnit)
                        gb[l][u] += delta[u];
                    else if (layer.Bias == BiasMode.Shared)
                        gb[l][0] += delta[u];
                }
                if (l == 0)
                    break;
                var dPrev = new double[layer.Inputs];
                for (int i = 0; i < layer.Inputs; i++)
                    for (int u = 0; u < layer.Units; u++)
                        dPrev[i] += delta[u] * (fault == GradientFault.BackwardThroughTransposedWeights && l == 1
                            ? layer.Weights[i * layer.Units + u]
                            : layer.Weight(u, i));
                var prev = layers[l - 1];
                delta = Derivative(prev.Activation, z[l - 1], a[l], dPrev, wrong: fault == GradientFault.WrongDerivative && prev.Activation == faulty);
            }
        }
        return (gw, gb);
    }

    private static double[] Apply(Activation f, double[] z)
    {
        if (f == Activation.Softmax)
        {
            double max = z.Max();
            var e = z.Select(v => Math.Exp(v - max)).ToArray();
            double sum = e.Sum();
            return e.Select(v => v / sum).ToArray();
        }
        return z.Select(v => f switch
        {
            Activation.Identity => v,
            Activation.Sigmoid => 1 / (1 + Math.Exp(-v)),
            Activation.Tanh => Math.Tanh(v),
            Activation.Relu => Math.Max(v, 0),
            _ => v > 0 ? v : Activations.LeakySlope * v,
        }).ToArray();
    }

    /// <summary>dE/dz = dE/da * f'(z), or with a wrong f' when <paramref name="wrong"/>.</summary>
    private static double[] Derivative(Activation f, double[] z, double[] a, double[] dA, bool wrong)
    {
        int n = z.Length;
        var d = new double[n];
        if (f == Activation.Softmax)
        {
            // Right: the Jacobian-vector product a_j (dA_j - sum_k dA_k a_k). Wrong: its diagonal a_j (1 - a_j) only.
            double dot = 0;
            for (int k = 0; k < n; k++)
                dot += dA[k] * a[k];
            for (int j = 0; j < n; j++)
                d[j] = wrong ? a[j] * (1 - a[j]) * dA[j] : a[j] * (dA[j] - dot);
            return d;
        }
        for (int j = 0; j < n; j++)
        {
            double slope = (f, wrong) switch
            {
                (Activation.Identity, false) => 1,
                (Activation.Identity, true) => z[j],                          // 1 taken as z
                (Activation.Sigmoid, false) => a[j] * (1 - a[j]),
                (Activation.Sigmoid, true) => z[j] * (1 - z[j]),              // a(1 - a) taken at z
                (Activation.Tanh, false) => 1 - a[j] * a[j],
                (Activation.Tanh, true) => 1 - z[j] * z[j],                   // 1 - a^2 taken at z
                (Activation.Relu, false) => z[j] > 0 ? 1 : 0,
                (Activation.Relu, true) => 1,                                 // the z > 0 mask forgotten
                (Activation.LeakyRelu, false) => z[j] > 0 ? 1 : Activations.LeakySlope,
                _ => z[j] > 0 ? 1 : 0,                                        // leaky slope below zero taken as relu's 0
            };
            d[j] = dA[j] * slope;
        }
        return d;
    }
}
