using Backprop.Nn;
using Backprop.Numerics;
using Backprop.Training;

namespace Backprop.Tests.Nn;

/// <summary>
/// The SIMD element-wise passes and optimizer updates against the scalar formulas they replace, bit for bit:
/// every length from 0 to 40 (whole vectors plus every tail), float and double, with zeros, signed zeros,
/// infinities, NaN and ordinary values. Flips <see cref="DoubleLanes.ForceScalar"/>, a process-wide switch, so it runs
/// alone (<see cref="ProcessWideSwitches"/>).
/// </summary>
[Collection(ProcessWideSwitches.Name)]
public sealed class VectorPathTests
{
    private static T[] Values<T>(int n, int seed) where T : System.Numerics.IFloatingPointIeee754<T>
    {
        var rng = new Random(seed);
        double[] special = [0.0, -0.0, 1.0, -1.0, double.PositiveInfinity, double.NegativeInfinity, double.NaN, 1e-40, -3e38, 0.5];
        var v = new T[n];
        for (int i = 0; i < n; i++)
            v[i] = T.CreateChecked(rng.Next(4) == 0 ? special[rng.Next(special.Length)] : rng.NextDouble() * 4 - 2);
        return v;
    }

    private static void Same<T>(T[] expected, T[] actual, string what) where T : System.Numerics.IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            bool same = T.IsNaN(expected[i]) ? T.IsNaN(actual[i]) : expected[i].Equals(actual[i]) && T.IsNegative(expected[i]) == T.IsNegative(actual[i]);
            Assert.True(same, $"{what}[{i}] of {expected.Length}: expected {expected[i]}, got {actual[i]}");
        }
    }

    private static void CheckAll<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        T one = T.One, slope = T.CreateChecked(Activations.LeakySlope), scale = T.CreateChecked(0.37);
        for (int n = 0; n <= 40; n++)
        {
            var a = Values<T>(n, n);
            var g = Values<T>(n, 100 + n);
            var d = new T[n];

            Elementwise.SigmoidBackward<T>(a, g, d);
            Same(a.Select((x, i) => g[i] * (x * (one - x))).ToArray(), d, "sigmoid'");
            Elementwise.TanhBackward<T>(a, g, d);
            Same(a.Select((x, i) => g[i] * (one - x * x)).ToArray(), d, "tanh'");
            Elementwise.ReluBackward<T>(a, g, d, T.Zero);
            Same(a.Select((x, i) => x > T.Zero ? g[i] : T.Zero).ToArray(), d, "relu'");
            Elementwise.ReluBackward<T>(a, g, d, slope);
            Same(a.Select((x, i) => x > T.Zero ? g[i] : slope * g[i]).ToArray(), d, "leaky'");
            Elementwise.LeakyReluForward<T>(a, d, slope);
            Same(a.Select(x => x > T.Zero ? x : slope * x).ToArray(), d, "leaky");
            Elementwise.SquaredErrorDelta<T>(a, g, d, scale);
            Same(a.Select((x, i) => -(g[i] - x) * scale).ToArray(), d, "squared delta");
            Elementwise.SquaredErrorSigmoidDelta<T>(a, g, d, scale);
            Same(a.Select((x, i) => { T t = -(g[i] - x) * scale; return t * (x * (one - x)); }).ToArray(), d, "squared sigmoid delta");
            Elementwise.DifferenceDelta<T>(a, g, d, scale);
            Same(a.Select((x, i) => (x - g[i]) * scale).ToArray(), d, "difference delta");
        }
    }

    private static void CheckBiasActivation<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        foreach (var f in new[] { Activation.Identity, Activation.Relu, Activation.LeakyRelu })
            foreach (var (rows, units) in new[] { (1, 1), (1, 7), (3, 8), (2, 17), (5, 33), (4, 40) })
            {
                var z = Values<T>(rows * units, 7 * rows + units);
                var bias = Values<T>(units, 1000 + units);
                // The unfused passes this replaces: the bias added row by row, then the activation.
                var expectedZ = (T[])z.Clone();
                var expectedA = new T[rows * units];
                for (int r = 0; r < rows; r++)
                    System.Numerics.Tensors.TensorPrimitives.Add(expectedZ.AsSpan(r * units, units), bias, expectedZ.AsSpan(r * units, units));
                Activations.Forward<T>(f, expectedZ, expectedA, rows, units);
                var a = new T[rows * units];
                Elementwise.BiasLinearUnit<T>(z, bias, a, rows, f, T.CreateChecked(Activations.LeakySlope));
                Same(expectedZ, z, $"{f} z {rows}x{units}");
                Same(expectedA, a, $"{f} a {rows}x{units}");
            }
    }

    [Fact]
    public void FusedBiasAndActivationEqualTheTwoPassesFloat() => CheckBiasActivation<float>();

    [Fact]
    public void FusedBiasAndActivationEqualTheTwoPassesDouble() => CheckBiasActivation<double>();

    [Fact]
    public void ElementwisePassesEqualTheScalarFormulasFloat() => CheckAll<float>();

    [Fact]
    public void ElementwisePassesEqualTheScalarFormulasDouble() => CheckAll<double>();

    public static TheoryData<string> OptimizerNames => ["sgd", "sgd-momentum", "sgd-nesterov-decay", "sgd-dampening", "adam", "adam-decay", "adamw", "rmsprop", "rmsprop-centered-momentum-decay"];

    private static Optimizer Make(string name) => name switch
    {
        "sgd" => new Sgd(0.1),
        "sgd-momentum" => new Sgd(0.1, momentum: 0.9),
        "sgd-nesterov-decay" => new Sgd(0.1, momentum: 0.8, weightDecay: 0.01, nesterov: true),
        "sgd-dampening" => new Sgd(0.1, momentum: 0.7, dampening: 0.3),
        "adam" => new Adam(0.01),
        "adam-decay" => new Adam(0.01, weightDecay: 0.05),
        "adamw" => new AdamW(0.01, weightDecay: 0.05),
        "rmsprop" => new RmsProp(0.01),
        _ => new RmsProp(0.01, momentum: 0.6, centered: true, weightDecay: 0.02),
    };

    private static T[] Run<T>(string name, bool scalar) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        // Layer sizes with every tail length of a 4-lane vector: 3x5 = 15 weights, 5 biases, 2x3 = 6, 2 biases.
        var net = Network<T>.Create(5, [new LayerSpec(3, Activation.Tanh), new LayerSpec(2, Activation.Identity)], Loss.Mse, seed: 4);
        var optimizer = Make(name);
        bool saved = DoubleLanes.ForceScalar;
        try
        {
            DoubleLanes.ForceScalar = scalar;
            for (int t = 1; t <= 6; t++)
            {
                int k = 0;
                foreach (var layer in net.Layers)
                {
                    for (int i = 0; i < layer.WeightGradients.Length; i++)
                        layer.WeightGradients[i] = T.CreateChecked(Math.Sin(0.7 * ++k + t) * (k % 5 == 2 ? 0 : 1.5));
                    for (int i = 0; i < layer.BiasGradients.Length; i++)
                        layer.BiasGradients[i] = T.CreateChecked(Math.Cos(1.1 * ++k - t));
                }
                optimizer.Step(net);
            }
        }
        finally
        {
            DoubleLanes.ForceScalar = saved;
        }
        return net.Layers.SelectMany(l => l.Weights.ToArray().Concat(l.Biases.ToArray())).ToArray();
    }

    [Theory]
    [MemberData(nameof(OptimizerNames))]
    public void VectorOptimizerUpdatesEqualTheScalarOnes(string name)
    {
        Same(Run<float>(name, scalar: true), Run<float>(name, scalar: false), name + " float");
        Same(Run<double>(name, scalar: true), Run<double>(name, scalar: false), name + " double");
        // The updates did something.
        var start = Network<float>.Create(5, [new LayerSpec(3, Activation.Tanh), new LayerSpec(2, Activation.Identity)], Loss.Mse, seed: 4);
        Assert.NotEqual(start.Layers[0].Weights[0], Run<float>(name, scalar: false)[0]);
    }
}
