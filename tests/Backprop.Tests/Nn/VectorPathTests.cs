using Backprop.Nn;
using Backprop.Numerics;
using Backprop.Training;

namespace Backprop.Tests.Nn;

/// <summary>
/// The SIMD element-wise passes and optimizer updates against the scalar formulas they replace, bit for bit:
/// every length from 0 to 40 (whole vectors plus every tail), float and double, with zeros, signed zeros,
/// infinities, NaN and ordinary values. Every vector width runs, whether or not this CPU accelerates it (the runtime
/// emulates the others), so no case compares the scalar loops with themselves. The width switches it flips
/// (<see cref="DoubleLanes.ForceScalar"/>, the forced widths) are thread-local; it still runs alone
/// (<see cref="ProcessWideSwitches"/>) so that no parallel class shares its CPU while it sweeps every width.
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

    /// <summary>The element-wise widths: 512- and 256-bit vectors, and the scalar loops themselves.</summary>
    public static TheoryData<int> Widths => [512, 256, -1];

    private static void AtWidth(int width, Action check)
    {
        int saved = Elementwise.ForcedWidth;
        try
        {
            Elementwise.ForcedWidth = width;
            Assert.Equal(width < 0 ? 0 : width, Elementwise.Width<float>());
            check();
        }
        finally
        {
            Elementwise.ForcedWidth = saved;
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void FusedBiasAndActivationEqualTheTwoPassesFloat(int width) => AtWidth(width, CheckBiasActivation<float>);

    [Theory]
    [MemberData(nameof(Widths))]
    public void FusedBiasAndActivationEqualTheTwoPassesDouble(int width) => AtWidth(width, CheckBiasActivation<double>);

    [Theory]
    [MemberData(nameof(Widths))]
    public void ElementwisePassesEqualTheScalarFormulasFloat(int width) => AtWidth(width, CheckAll<float>);

    [Theory]
    [MemberData(nameof(Widths))]
    public void ElementwisePassesEqualTheScalarFormulasDouble(int width) => AtWidth(width, CheckAll<double>);

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

    /// <summary>
    /// Tensors with whole vectors and tails of both widths: 7x5 = 35 weights (4 x 8 + 3), 7 biases, 3x7 = 21
    /// (2 x 8 + 5; 5 x 4 + 1), 3 biases, 2x3 = 6, 2 biases.
    /// </summary>
    private static Network<T> Build<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        Network<T>.Create(5, [new LayerSpec(7, Activation.Tanh), new LayerSpec(3, Activation.Tanh), new LayerSpec(2, Activation.Identity)], Loss.Mse, seed: 4);

    /// <summary>Six steps of <paramref name="name"/> with <paramref name="lanes"/> double lanes (0: the scalar loops).</summary>
    private static T[] Run<T>(string name, int lanes) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var net = Build<T>();
        var optimizer = Make(name);
        bool saved = DoubleLanes.ForceScalar;
        int savedWidth = DoubleLanes.ForcedWidth;
        try
        {
            DoubleLanes.ForceScalar = lanes == 0;
            DoubleLanes.ForcedWidth = lanes;
            Assert.Equal(lanes, DoubleLanes.Width<T>());
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
            DoubleLanes.ForcedWidth = savedWidth;
        }
        return net.Layers.SelectMany(l => l.Weights.ToArray().Concat(l.Biases.ToArray())).ToArray();
    }

    [Theory]
    [MemberData(nameof(OptimizerNames))]
    public void VectorOptimizerUpdatesEqualTheScalarOnes(string name)
    {
        foreach (int lanes in new[] { 4, 8 })
        {
            Same(Run<float>(name, 0), Run<float>(name, lanes), $"{name} float, {lanes} lanes");
            Same(Run<double>(name, 0), Run<double>(name, lanes), $"{name} double, {lanes} lanes");
        }
        // The updates did something.
        var start = Build<float>();
        Assert.NotEqual(start.Layers[0].Weights[0], Run<float>(name, 8)[0]);
    }
}
