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

    /// <summary>The vector pass of <typeparamref name="TOp"/>'s backward rule against its scalar rule, and the scalar rule against the literal formula.</summary>
    private static void CheckBackward<T, TOp>(int n, Func<T, T, T, T> literal)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        where TOp : struct, IActivation
    {
        var z = Values<T>(n, n);
        var a = Values<T>(n, 50 + n);
        var g = Values<T>(n, 100 + n);
        var d = new T[n];
        Elementwise.Backward<T, TOp>(z, a, g, d);
        string name = typeof(TOp).Name;
        Same(z.Select((x, i) => TOp.Backward(x, a[i], g[i])).ToArray(), d, name + "'");
        Same(z.Select((x, i) => literal(x, a[i], g[i])).ToArray(), z.Select((x, i) => TOp.Backward(x, a[i], g[i])).ToArray(), name + "' scalar rule");
    }

    /// <summary>A linear unit's vector forward pass against its scalar rule, and the scalar rule against the literal formula.</summary>
    private static void CheckForward<T, TOp>(int n, Func<T, T> literal)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        where TOp : struct, ILinearUnit
    {
        var z = Values<T>(n, 200 + n);
        var a = new T[n];
        Elementwise.Forward<T, TOp>(z, a);
        Same(z.Select(x => TOp.Forward(x)).ToArray(), a, typeof(TOp).Name);
        var spanForm = new T[n];
        TOp.Forward<T>(z, spanForm);
        Same(a, spanForm, typeof(TOp).Name + " (span form)");
        Same(z.Select(literal).ToArray(), z.Select(x => TOp.Forward(x)).ToArray(), typeof(TOp).Name + " scalar rule");
    }

    /// <summary>The fused output delta (loss gradient through the activation) against the two scalar rules.</summary>
    private static void CheckOutputDelta<T, TLoss, TAct>(int n, Func<T, T, T, T> literalGradient, T scale)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        where TLoss : struct, ILossGradient
        where TAct : struct, IActivation
    {
        var z = Values<T>(n, 300 + n);
        var a = Values<T>(n, 400 + n);
        var y = Values<T>(n, 500 + n);
        var d = new T[n];
        Elementwise.OutputDelta<T, TLoss, TAct>(z, a, y, d, scale);
        string name = $"{typeof(TLoss).Name} through {typeof(TAct).Name}";
        Same(z.Select((x, i) => TAct.Backward(x, a[i], TLoss.Gradient(a[i], y[i], scale))).ToArray(), d, name);
        Same(a.Select((x, i) => literalGradient(x, y[i], scale)).ToArray(), a.Select((x, i) => TLoss.Gradient(x, y[i], scale)).ToArray(), name + " scalar rule");
    }

    private static void CheckAll<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        T one = T.One, slope = T.CreateChecked(Activations.LeakySlope), scale = T.CreateChecked(0.37);
        for (int n = 0; n <= 40; n++)
        {
            CheckBackward<T, Activations.Identity>(n, (z, a, g) => g);
            CheckBackward<T, Activations.Sigmoid>(n, (z, a, g) => g * (a * (one - a)));
            CheckBackward<T, Activations.Tanh>(n, (z, a, g) => g * (one - a * a));
            CheckBackward<T, Activations.Relu>(n, (z, a, g) => z > T.Zero ? g : T.Zero);
            CheckBackward<T, Activations.LeakyRelu>(n, (z, a, g) => z > T.Zero ? g : slope * g);
            CheckForward<T, Activations.Identity>(n, z => z);
            CheckForward<T, Activations.Relu>(n, z => T.Max(z, T.Zero));
            CheckForward<T, Activations.LeakyRelu>(n, z => z > T.Zero ? z : slope * z);
            CheckOutputDelta<T, Losses.HalfSse, Activations.Identity>(n, (a, y, s) => -(y - a) * s, scale);
            CheckOutputDelta<T, Losses.Mse, Activations.Sigmoid>(n, (a, y, s) => -(y - a) * s, scale);
            CheckOutputDelta<T, Losses.HalfSse, Activations.Tanh>(n, (a, y, s) => -(y - a) * s, scale);
            CheckOutputDelta<T, Losses.Mse, Activations.Relu>(n, (a, y, s) => -(y - a) * s, scale);
            CheckOutputDelta<T, Losses.HalfSse, Activations.LeakyRelu>(n, (a, y, s) => -(y - a) * s, scale);
            CheckOutputDelta<T, Losses.CrossEntropy, Activations.Identity>(n, (a, y, s) => (a - y) * s, scale);
            CheckOutputDelta<T, Losses.BinaryCrossEntropy, Activations.Identity>(n, (a, y, s) => (a - y) * s, scale);
        }
    }

    private static void CheckBiasActivation<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        CheckBiasActivation<T, Activations.Identity>(Activation.Identity);
        CheckBiasActivation<T, Activations.Relu>(Activation.Relu);
        CheckBiasActivation<T, Activations.LeakyRelu>(Activation.LeakyRelu);
    }

    private static void CheckBiasActivation<T, TOp>(Activation f)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        where TOp : struct, ILinearUnit
    {
        // The last two are past the size at which the pass runs on several threads, rows cut among them.
        foreach (var (rows, units) in new[] { (1, 1), (1, 7), (3, 8), (2, 17), (5, 33), (4, 40), (600, 1000), (301, 901) })
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
            Elementwise.BiasForward<T, TOp>(z, bias, a, rows);
            Same(expectedZ, z, $"{f} z {rows}x{units}");
            Same(expectedA, a, $"{f} a {rows}x{units}");
            // And the scalar rule itself.
            Same(expectedZ.Select(x => TOp.Forward(x)).ToArray(), a, $"{f} a {rows}x{units} (scalar rule)");
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
