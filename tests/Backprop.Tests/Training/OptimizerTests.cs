using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Tests.Training;

/// <summary>
/// Each optimizer against its update rule as torch.optim documents it, written here again as plain scalar
/// code, over several steps with changing gradients (so momentum and bias-correction state matter).
/// </summary>
public sealed class OptimizerTests
{
    private const int StepsToRun = 5;

    /// <summary>A 2 -> 3 tanh -> 1 identity network whose output bias is shared and frozen.</summary>
    private static Network<double> TinyNetwork()
    {
        var hidden = new Dense<double>(2, 3, Activation.Tanh);
        var output = new Dense<double>(3, 1, Activation.Identity, BiasMode.Shared, trainableBias: false);
        var net = new Network<double>(2, [hidden, output], Loss.Mse);
        int k = 0;
        foreach (var layer in net.Layers)
        {
            for (int i = 0; i < layer.Weights.Length; i++)
                layer.Weights[i] = 0.3 * Math.Sin(1.7 * ++k);
            for (int i = 0; i < layer.Biases.Length; i++)
                layer.Biases[i] = 0.2 * Math.Cos(2.3 * ++k);
        }
        return net;
    }

    /// <summary>Gradient of parameter number k at step t: varied in sign and size, sometimes zero.</summary>
    private static double Grad(int k, int t) => k % 7 == 3 ? 0 : Math.Sin(0.9 * k + 1.3 * t) * (1 + 0.5 * (k % 3));

    private static void SetGradients(Network<double> net, int t)
    {
        int k = 0;
        foreach (var layer in net.Layers)
        {
            for (int i = 0; i < layer.WeightGradients.Length; i++)
                layer.WeightGradients[i] = Grad(k++, t);
            for (int i = 0; i < layer.BiasGradients.Length; i++)
                layer.BiasGradients[i] = Grad(k++, t);
        }
    }

    private static (List<double> Values, List<bool> Trainable) Flatten(Network<double> net)
    {
        var values = new List<double>();
        var trainable = new List<bool>();
        foreach (var layer in net.Layers)
        {
            foreach (var w in layer.Weights)
            {
                values.Add(w);
                trainable.Add(true);
            }
            foreach (var b in layer.Biases)
            {
                values.Add(b);
                trainable.Add(layer.TrainableBias);
            }
        }
        return (values, trainable);
    }

    /// <summary>Runs <paramref name="optimizer"/> and the scalar <paramref name="reference"/> side by side.</summary>
    private static void AgreesWithReference(Optimizer optimizer, Func<int, double, double, double> reference)
    {
        var net = TinyNetwork();
        var (expected, trainable) = Flatten(net);
        var frozen = expected.ToArray();
        for (int t = 1; t <= StepsToRun; t++)
        {
            SetGradients(net, t);
            optimizer.Step(net);
            for (int k = 0; k < expected.Count; k++)
                if (trainable[k])
                    expected[k] = reference(k, expected[k], Grad(k, t));
            var actual = Flatten(net).Values;
            for (int k = 0; k < expected.Count; k++)
            {
                if (trainable[k])
                    Assert.Equal(expected[k], actual[k], 1e-14);
                else
                    Assert.Equal(frozen[k], actual[k]); // the frozen bias never moves, though its gradient is not zero
            }
        }
        Assert.Equal(StepsToRun, optimizer.Steps);
    }

    [Theory]
    [InlineData(0.0, 0.0, 0.0, false)]
    [InlineData(0.9, 0.0, 0.0, false)]
    [InlineData(0.9, 0.0, 0.01, true)]
    [InlineData(0.8, 0.3, 0.05, false)]
    public void SgdFollowsTorchRule(double mu, double tau, double lambda, bool nesterov)
    {
        const double gamma = 0.1;
        var b = new Dictionary<int, double>(); // absent before a parameter's first step (t = 1)
        AgreesWithReference(new Sgd(gamma, mu, lambda, tau, nesterov), (k, theta, grad) =>
        {
            double g = grad;
            if (lambda != 0)
                g += lambda * theta;
            if (mu != 0)
            {
                b[k] = b.ContainsKey(k) ? mu * b[k] + (1 - tau) * g : g;
                g = nesterov ? g + mu * b[k] : b[k];
            }
            return theta - gamma * g;
        });
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    public void AdamFollowsTorchRule(double lambda)
    {
        const double gamma = 0.01, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
        var m = new Dictionary<int, double>();
        var v = new Dictionary<int, double>();
        var t = new Dictionary<int, int>();
        AgreesWithReference(new Adam(gamma, beta1, beta2, eps, lambda), (k, theta, grad) =>
        {
            t[k] = t.GetValueOrDefault(k) + 1;
            double g = grad + lambda * theta;
            m[k] = beta1 * m.GetValueOrDefault(k) + (1 - beta1) * g;
            v[k] = beta2 * v.GetValueOrDefault(k) + (1 - beta2) * g * g;
            double mHat = m[k] / (1 - Math.Pow(beta1, t[k]));
            double vHat = v[k] / (1 - Math.Pow(beta2, t[k]));
            return theta - gamma * mHat / (Math.Sqrt(vHat) + eps);
        });
    }

    [Fact]
    public void AdamWFollowsTorchRule()
    {
        const double gamma = 0.01, beta1 = 0.8, beta2 = 0.99, eps = 1e-8, lambda = 0.05;
        var m = new Dictionary<int, double>();
        var v = new Dictionary<int, double>();
        var t = new Dictionary<int, int>();
        AgreesWithReference(new AdamW(gamma, beta1, beta2, eps, lambda), (k, theta, grad) =>
        {
            t[k] = t.GetValueOrDefault(k) + 1;
            theta -= gamma * lambda * theta;
            m[k] = beta1 * m.GetValueOrDefault(k) + (1 - beta1) * grad;
            v[k] = beta2 * v.GetValueOrDefault(k) + (1 - beta2) * grad * grad;
            double mHat = m[k] / (1 - Math.Pow(beta1, t[k]));
            double vHat = v[k] / (1 - Math.Pow(beta2, t[k]));
            return theta - gamma * mHat / (Math.Sqrt(vHat) + eps);
        });
    }

    [Theory]
    [InlineData(0.0, 0.0, false)]
    [InlineData(0.0, 0.9, false)]
    [InlineData(0.02, 0.5, true)]
    public void RmsPropFollowsTorchRule(double lambda, double mu, bool centered)
    {
        const double gamma = 0.01, alpha = 0.99, eps = 1e-8;
        var v = new Dictionary<int, double>();
        var a = new Dictionary<int, double>();
        var b = new Dictionary<int, double>();
        AgreesWithReference(new RmsProp(gamma, alpha, eps, lambda, mu, centered), (k, theta, grad) =>
        {
            double g = grad + lambda * theta;
            v[k] = alpha * v.GetValueOrDefault(k) + (1 - alpha) * g * g;
            double vt = v[k];
            if (centered)
            {
                a[k] = alpha * a.GetValueOrDefault(k) + (1 - alpha) * g;
                vt -= a[k] * a[k];
            }
            if (mu > 0)
            {
                b[k] = mu * b.GetValueOrDefault(k) + g / (Math.Sqrt(vt) + eps);
                return theta - gamma * b[k];
            }
            return theta - gamma * g / (Math.Sqrt(vt) + eps);
        });
    }

    /// <summary>Hand arithmetic: p = 1, g = 1 every step, lr 0.1, momentum 0.9: b = 1, 1.9, 2.71; p = 0.9, 0.71, 0.439.</summary>
    [Fact]
    public void SgdMomentumByHand()
    {
        var layer = new Dense<double>(1, 1, Activation.Identity, BiasMode.None);
        var net = new Network<double>(1, [layer], Loss.Mse);
        layer.Weights[0] = 1;
        var sgd = new Sgd(0.1, momentum: 0.9);
        double[] expected = [0.9, 0.71, 0.439];
        foreach (double e in expected)
        {
            layer.WeightGradients[0] = 1;
            sgd.Step(net);
            Assert.Equal(e, layer.Weights[0], 1e-12);
        }
    }

    /// <summary>Adam's first step moves each parameter by lr * g / (|g| + eps / sqrt(1 - beta2) ...) i.e. about lr against the gradient's sign.</summary>
    [Fact]
    public void AdamFirstStepIsLearningRateTimesSign()
    {
        var net = TinyNetwork();
        var before = Flatten(net).Values;
        SetGradients(net, 1);
        new Adam(0.01).Step(net);
        var after = Flatten(net).Values;
        var trainable = Flatten(net).Trainable;
        for (int k = 0; k < before.Count; k++)
        {
            double g = Grad(k, 1);
            double expectedMove = !trainable[k] || g == 0 ? 0 : -0.01 * Math.Sign(g);
            Assert.Equal(expectedMove, after[k] - before[k], 1e-7);
        }
    }

    [Fact]
    public void OptimizerRefusesANetworkOfAnotherShape()
    {
        var adam = new Adam();
        var a = TinyNetwork();
        adam.Step(a);
        var other = Network<double>.Create(2, [new LayerSpec(4, Activation.Tanh), new LayerSpec(1, Activation.Identity)], Loss.Mse);
        var e = Assert.Throws<BackpropException>(() => adam.Step(other));
        Assert.Contains("another shape", e.Message);
        adam.Reset();
        adam.Step(other);
        Assert.Equal(1, adam.Steps);
    }

    [Fact]
    public void BadSettingsSayWhatIsWrong()
    {
        Assert.Contains("Nesterov", Assert.Throws<BackpropException>(() => new Sgd(0.1, nesterov: true)).Message);
        Assert.Contains("learning rate", Assert.Throws<BackpropException>(() => new Adam(-1)).Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("beta1", Assert.Throws<BackpropException>(() => new Adam(0.1, beta1: 1)).Message);
        Assert.Contains("expected one of", Assert.Throws<BackpropException>(() => Optimizer.Create("adagrad")).Message);
        Assert.IsType<AdamW>(Optimizer.Create("AdamW", 0.1));
    }
}
