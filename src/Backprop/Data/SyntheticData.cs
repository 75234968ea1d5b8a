using Backprop.Numerics;
namespace Backprop.Data;

/// <summary>
/// Small seeded datasets for examples and tests. Every one has inputs within about [-1.5, 2] and is drawn
/// from <see cref="SplitMix64"/> (noise by <see cref="SplitMix64.NextGaussian"/>), so a seed gives the same
/// data on every machine. Rows come grouped by class; training shuffles them.
/// </summary>
public static class SyntheticData
{
    /// <summary>The names <see cref="Create"/> accepts (the CLI's <c>--dataset</c> values).</summary>
    public static IReadOnlyList<string> Names { get; } = ["xor", "moons", "circles", "spirals", "blobs", "sine"];

    /// <summary>
    /// A dataset by name with its defaults, or the given number of samples and noise.
    /// </summary>
    public static Dataset Create(string name, int? samples = null, double? noise = null, long seed = 0) =>
        (name ?? "").Trim().ToLowerInvariant() switch
        {
            "xor" => Xor(samples ?? 4, noise ?? 0, seed),
            "moons" => TwoMoons(samples ?? 200, noise ?? 0.1, seed),
            "circles" => Circles(samples ?? 200, noise ?? 0.05, seed: seed),
            "spirals" => Spirals(samples ?? 300, noise: noise ?? 0.2, seed: seed),
            "blobs" => Blobs(samples ?? 300, noise: noise ?? 0.25, seed: seed),
            "sine" => NoisySine(samples ?? 200, noise ?? 0.1, seed),
            _ => throw new BackpropException($"Unknown dataset '{name}'; expected one of: {string.Join(", ", Names)}."),
        };

    /// <summary>
    /// Exclusive or: sample r is the corner (r mod 4) of {(0,0)->0, (0,1)->1, (1,0)->1, (1,1)->0} plus
    /// N(0, noise^2) on each input. With 4 samples and no noise, the truth table itself.
    /// </summary>
    public static Dataset Xor(int samples = 4, double noise = 0, long seed = 0)
    {
        Require(samples, 4, noise, "xor");
        var rng = new SplitMix64(SplitMix64.Derive(seed, 10));
        var x = new double[samples * 2];
        var y = new int[samples];
        for (int r = 0; r < samples; r++)
        {
            int a = (r >> 1) & 1, b = r & 1;
            x[2 * r] = a + Noise(rng, noise);
            x[2 * r + 1] = b + Noise(rng, noise);
            y[r] = a ^ b;
        }
        return Dataset.Classification(x, 2, y, 2, name: "xor");
    }

    /// <summary>
    /// Two interleaving half circles (as scikit-learn's make_moons): class 0 at (cos t, sin t), class 1 at
    /// (1 - cos t, 0.5 - sin t), t evenly spaced over [0, pi], plus N(0, noise^2) on each coordinate.
    /// </summary>
    public static Dataset TwoMoons(int samples = 200, double noise = 0.1, long seed = 0)
    {
        Require(samples, 2, noise, "moons");
        var rng = new SplitMix64(SplitMix64.Derive(seed, 11));
        var x = new double[samples * 2];
        var y = new int[samples];
        int outer = samples - samples / 2, inner = samples / 2;
        int r = 0;
        for (int i = 0; i < outer; i++, r++)
        {
            double t = Math.PI * i / Math.Max(1, outer - 1);
            x[2 * r] = Math.Cos(t) + Noise(rng, noise);
            x[2 * r + 1] = Math.Sin(t) + Noise(rng, noise);
            y[r] = 0;
        }
        for (int i = 0; i < inner; i++, r++)
        {
            double t = Math.PI * i / Math.Max(1, inner - 1);
            x[2 * r] = 1 - Math.Cos(t) + Noise(rng, noise);
            x[2 * r + 1] = 0.5 - Math.Sin(t) + Noise(rng, noise);
            y[r] = 1;
        }
        return Dataset.Classification(x, 2, y, 2, name: "moons");
    }

    /// <summary>
    /// Two concentric circles (as make_circles): class 0 on radius 1, class 1 on radius <paramref name="factor"/>,
    /// angles evenly spaced over [0, 2 pi), plus N(0, noise^2) on each coordinate.
    /// </summary>
    public static Dataset Circles(int samples = 200, double noise = 0.05, double factor = 0.5, long seed = 0)
    {
        Require(samples, 2, noise, "circles");
        if (!(factor > 0 && factor < 1))
            throw new BackpropException($"circles: the inner radius factor must be in (0, 1), got {factor}.");
        var rng = new SplitMix64(SplitMix64.Derive(seed, 12));
        var x = new double[samples * 2];
        var y = new int[samples];
        int outer = samples - samples / 2, inner = samples / 2;
        int r = 0;
        for (int c = 0; c < 2; c++)
        {
            int n = c == 0 ? outer : inner;
            double radius = c == 0 ? 1 : factor;
            for (int i = 0; i < n; i++, r++)
            {
                double t = 2 * Math.PI * i / n;
                x[2 * r] = radius * Math.Cos(t) + Noise(rng, noise);
                x[2 * r + 1] = radius * Math.Sin(t) + Noise(rng, noise);
                y[r] = c;
            }
        }
        return Dataset.Classification(x, 2, y, 2, name: "circles");
    }

    /// <summary>
    /// Interleaved spirals (the CS231n example): for class k, sample i of n has radius i / (n - 1) and angle
    /// 4k + 4 i / (n - 1) plus N(0, noise^2); the point is (r sin t, r cos t).
    /// </summary>
    public static Dataset Spirals(int samples = 300, int classes = 3, double noise = 0.2, long seed = 0)
    {
        Require(samples, classes, noise, "spirals");
        if (classes < 2)
            throw new BackpropException($"spirals: need at least 2 classes, got {classes}.");
        var rng = new SplitMix64(SplitMix64.Derive(seed, 13));
        var x = new double[samples * 2];
        var y = new int[samples];
        int r = 0;
        for (int k = 0; k < classes; k++)
        {
            int n = samples / classes + (k < samples % classes ? 1 : 0);
            for (int i = 0; i < n; i++, r++)
            {
                double frac = n > 1 ? (double)i / (n - 1) : 0;
                double t = 4.0 * k + 4.0 * frac + Noise(rng, noise);
                x[2 * r] = frac * Math.Sin(t);
                x[2 * r + 1] = frac * Math.Cos(t);
                y[r] = k;
            }
        }
        return Dataset.Classification(x, 2, y, classes, name: "spirals");
    }

    /// <summary>
    /// Gaussian blobs: class k centred at (cos 2 pi k / K, sin 2 pi k / K) on the unit circle, each
    /// coordinate N(centre, noise^2).
    /// </summary>
    public static Dataset Blobs(int samples = 300, int centers = 3, double noise = 0.25, long seed = 0)
    {
        Require(samples, centers, noise, "blobs");
        if (centers < 2)
            throw new BackpropException($"blobs: need at least 2 centers, got {centers}.");
        var rng = new SplitMix64(SplitMix64.Derive(seed, 14));
        var x = new double[samples * 2];
        var y = new int[samples];
        int r = 0;
        for (int k = 0; k < centers; k++)
        {
            int n = samples / centers + (k < samples % centers ? 1 : 0);
            double cx = Math.Cos(2 * Math.PI * k / centers), cy = Math.Sin(2 * Math.PI * k / centers);
            for (int i = 0; i < n; i++, r++)
            {
                x[2 * r] = cx + Noise(rng, noise);
                x[2 * r + 1] = cy + Noise(rng, noise);
                y[r] = k;
            }
        }
        return Dataset.Classification(x, 2, y, centers, name: "blobs");
    }

    /// <summary>Regression: x uniform in [-1, 1), y = sin(pi x) + N(0, noise^2).</summary>
    public static Dataset NoisySine(int samples = 200, double noise = 0.1, long seed = 0)
    {
        Require(samples, 1, noise, "sine");
        var rng = new SplitMix64(SplitMix64.Derive(seed, 15));
        var x = new double[samples];
        var y = new double[samples];
        for (int r = 0; r < samples; r++)
        {
            x[r] = rng.NextDouble(-1, 1);
            y[r] = Math.Sin(Math.PI * x[r]) + Noise(rng, noise);
        }
        return Dataset.Regression(x, 1, y, 1, name: "sine");
    }

    private static double Noise(SplitMix64 rng, double noise) => noise == 0 ? 0 : noise * rng.NextGaussian();

    private static void Require(int samples, int min, double noise, string name)
    {
        if (samples < min)
            throw new BackpropException($"{name}: need at least {min} samples, got {samples}.");
        if (!(noise >= 0) || !double.IsFinite(noise))
            throw new BackpropException($"{name}: noise must be a finite number >= 0, got {noise}.");
    }
}
