using System.Numerics;
using Backprop.Numerics;

namespace Backprop.Nn;

/// <summary>The family of a <see cref="WeightInit"/>.</summary>
public enum WeightInitKind
{
    /// <summary>Glorot/Xavier uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)).</summary>
    GlorotUniform,
    /// <summary>Glorot/Xavier normal: N(0, s^2), s = sqrt(2 / (fan_in + fan_out)).</summary>
    GlorotNormal,
    /// <summary>He/Kaiming uniform (fan-in, ReLU gain sqrt 2): U(-a, a), a = sqrt(6 / fan_in).</summary>
    HeUniform,
    /// <summary>He/Kaiming normal (fan-in, ReLU gain sqrt 2): N(0, s^2), s = sqrt(2 / fan_in).</summary>
    HeNormal,
    /// <summary>LeCun uniform: U(-a, a), a = sqrt(3 / fan_in).</summary>
    LeCunUniform,
    /// <summary>LeCun normal: N(0, s^2), s = sqrt(1 / fan_in).</summary>
    LeCunNormal,
    /// <summary>U(-r, r) for a given range r.</summary>
    Uniform,
    /// <summary>Every weight 0 (every unit of the layer then learns the same thing; for tests and linear models).</summary>
    Zeros,
}

/// <summary>
/// How a layer's weights are drawn. Biases always start at zero. fan_in is the layer's number of inputs,
/// fan_out its number of units; the formulas are those of torch.nn.init with gain 1 (Glorot, LeCun) or
/// sqrt(2) (He). Normal draws are not truncated.
/// </summary>
/// <remarks>
/// The default per activation (<see cref="For"/>): He uniform for relu and leaky-relu (it keeps the variance
/// of activations constant through layers that zero half their inputs); Glorot uniform for sigmoid, tanh,
/// softmax and identity (it balances the variance of activations and of gradients for units that are
/// roughly linear near zero).
/// </remarks>
public sealed record WeightInit
{
    private WeightInit(WeightInitKind kind, double range = 0)
    {
        Kind = kind;
        Range = range;
    }

    /// <summary>Which rule draws the weights.</summary>
    public WeightInitKind Kind { get; }

    /// <summary>The range r of <see cref="WeightInitKind.Uniform"/> (0 otherwise).</summary>
    public double Range { get; }

    /// <summary>Glorot (Xavier) uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)).</summary>
    public static WeightInit GlorotUniform { get; } = new(WeightInitKind.GlorotUniform);

    /// <summary>Glorot (Xavier) normal: N(0, 2 / (fan_in + fan_out)).</summary>
    public static WeightInit GlorotNormal { get; } = new(WeightInitKind.GlorotNormal);

    /// <summary>He (Kaiming) uniform: U(-a, a), a = sqrt(6 / fan_in); the default for relu and leaky-relu.</summary>
    public static WeightInit HeUniform { get; } = new(WeightInitKind.HeUniform);

    /// <summary>He (Kaiming) normal: N(0, 2 / fan_in).</summary>
    public static WeightInit HeNormal { get; } = new(WeightInitKind.HeNormal);

    /// <summary>LeCun uniform: U(-a, a), a = sqrt(3 / fan_in).</summary>
    public static WeightInit LeCunUniform { get; } = new(WeightInitKind.LeCunUniform);

    /// <summary>LeCun normal: N(0, 1 / fan_in).</summary>
    public static WeightInit LeCunNormal { get; } = new(WeightInitKind.LeCunNormal);

    /// <summary>Every weight 0 (only useful for tests and hand-built examples).</summary>
    public static WeightInit Zeros { get; } = new(WeightInitKind.Zeros);

    /// <summary>Weights uniform in [-<paramref name="range"/>, <paramref name="range"/>).</summary>
    public static WeightInit Uniform(double range)
    {
        if (!(range > 0) || !double.IsFinite(range))
            throw new BackpropException($"Uniform initialisation needs a positive finite range, got {range}.");
        return new(WeightInitKind.Uniform, range);
    }

    /// <summary>The documented default for a layer with activation <paramref name="activation"/>.</summary>
    public static WeightInit For(Activation activation) =>
        activation is Activation.Relu or Activation.LeakyRelu ? HeUniform : GlorotUniform;

    /// <summary>The name used in model files and on the command line, e.g. <c>glorot-uniform</c> or <c>uniform:0.5</c>.</summary>
    public string Name => Kind switch
    {
        WeightInitKind.GlorotUniform => "glorot-uniform",
        WeightInitKind.GlorotNormal => "glorot-normal",
        WeightInitKind.HeUniform => "he-uniform",
        WeightInitKind.HeNormal => "he-normal",
        WeightInitKind.LeCunUniform => "lecun-uniform",
        WeightInitKind.LeCunNormal => "lecun-normal",
        WeightInitKind.Zeros => "zeros",
        _ => FormattableString.Invariant($"uniform:{Range:R}"),
    };

    /// <summary>Every name <see cref="Parse"/> accepts (the uniform one with an example range).</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["glorot-uniform", "glorot-normal", "he-uniform", "he-normal", "lecun-uniform", "lecun-normal", "uniform:R", "zeros"];

    /// <summary>Parses <see cref="Name"/>; also accepts xavier-* for glorot-* and kaiming-* for he-*.</summary>
    public static WeightInit Parse(string text)
    {
        string t = (text ?? "").Trim().ToLowerInvariant().Replace("xavier", "glorot").Replace("kaiming", "he");
        if (t.StartsWith("uniform:", StringComparison.Ordinal)
            && double.TryParse(t.AsSpan(8), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double r))
            return Uniform(r);
        return t switch
        {
            "glorot-uniform" => GlorotUniform,
            "glorot-normal" => GlorotNormal,
            "he-uniform" => HeUniform,
            "he-normal" => HeNormal,
            "lecun-uniform" => LeCunUniform,
            "lecun-normal" => LeCunNormal,
            "zeros" => Zeros,
            _ => throw new BackpropException($"Unknown initialisation '{text}'; expected one of: {string.Join(", ", Names)}."),
        };
    }

    /// <summary>The bound a of the uniform kinds, or the standard deviation s of the normal ones.</summary>
    public double Scale(int fanIn, int fanOut) => Kind switch
    {
        WeightInitKind.GlorotUniform => Math.Sqrt(6.0 / (fanIn + fanOut)),
        WeightInitKind.GlorotNormal => Math.Sqrt(2.0 / (fanIn + fanOut)),
        WeightInitKind.HeUniform => Math.Sqrt(6.0 / fanIn),
        WeightInitKind.HeNormal => Math.Sqrt(2.0 / fanIn),
        WeightInitKind.LeCunUniform => Math.Sqrt(3.0 / fanIn),
        WeightInitKind.LeCunNormal => Math.Sqrt(1.0 / fanIn),
        WeightInitKind.Uniform => Range,
        _ => 0,
    };

    private bool IsNormal => Kind is WeightInitKind.GlorotNormal or WeightInitKind.HeNormal or WeightInitKind.LeCunNormal;

    /// <summary>Draws <paramref name="layer"/>'s weights from <paramref name="rng"/> in storage order and zeroes its biases.</summary>
    public void Apply<T>(Dense<T> layer, SplitMix64 rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double scale = Scale(layer.Inputs, layer.Units);
        var w = layer.Weights;
        for (int i = 0; i < w.Length; i++)
        {
            double v = Kind == WeightInitKind.Zeros ? 0
                : IsNormal ? scale * rng.NextGaussian()
                : rng.NextDouble(-scale, scale);
            w[i] = T.CreateChecked(v);
        }
        layer.Biases.Clear();
    }

    /// <summary>
    /// Initialises every layer of <paramref name="network"/> in order from one generator seeded with
    /// <see cref="SplitMix64.Derive"/>(seed, 1): <paramref name="inits"/>[l] for layer l, or the default
    /// for its activation where that is null or missing.
    /// </summary>
    public static void Apply<T>(Network<T> network, long seed, IReadOnlyList<WeightInit?>? inits = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new SplitMix64(SplitMix64.Derive(seed, 1));
        for (int l = 0; l < network.Layers.Count; l++)
        {
            var layer = network.Layers[l];
            var init = (inits is not null && l < inits.Count ? inits[l] : null) ?? For(layer.Activation);
            init.Apply(layer, rng);
        }
    }
}
