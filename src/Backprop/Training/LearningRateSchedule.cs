namespace Backprop.Training;

/// <summary>
/// The learning rate of each epoch as a function of the optimizer's base rate, in the closed forms of
/// torch.optim.lr_scheduler (epochs counted from 0; the rate is held for a whole epoch).
/// </summary>
public abstract class LearningRateSchedule
{
    private protected LearningRateSchedule() { }

    /// <summary>The learning rate for epoch <paramref name="epoch"/> (0 = first) given the base rate.</summary>
    public abstract double RateAt(double baseRate, int epoch);

    /// <summary>A description such as <c>step(every=10, gamma=0.5)</c>.</summary>
    public abstract override string ToString();

    /// <summary>The base rate in every epoch.</summary>
    public static LearningRateSchedule Constant { get; } = new ConstantSchedule();

    /// <summary>StepLR: base * gamma^floor(epoch / stepSize).</summary>
    public static LearningRateSchedule Step(int stepSize, double gamma = 0.1)
    {
        if (stepSize < 1)
            throw new BackpropException($"A step schedule needs a step size of at least 1 epoch, got {stepSize}.");
        RequireGamma(gamma);
        return new StepSchedule(stepSize, gamma);
    }

    /// <summary>ExponentialLR: base * gamma^epoch.</summary>
    public static LearningRateSchedule Exponential(double gamma)
    {
        RequireGamma(gamma);
        return new ExponentialSchedule(gamma);
    }

    /// <summary>
    /// CosineAnnealingLR (closed form, one half cosine): min + (base - min) * (1 + cos(pi * epoch / period)) / 2
    /// for epoch &lt;= period, then min.
    /// </summary>
    public static LearningRateSchedule Cosine(int period, double minimumRate = 0)
    {
        if (period < 1)
            throw new BackpropException($"A cosine schedule needs a period of at least 1 epoch, got {period}.");
        if (!(minimumRate >= 0) || !double.IsFinite(minimumRate))
            throw new BackpropException($"A cosine schedule's minimum rate must be a finite number >= 0, got {minimumRate}.");
        return new CosineSchedule(period, minimumRate);
    }

    /// <summary>
    /// Parses a schedule as the command line writes it: <c>constant</c>, <c>step:EVERY[:GAMMA]</c> (gamma 0.1 by default),
    /// <c>exponential:GAMMA</c> or <c>cosine:PERIOD[:MINIMUM]</c>.
    /// </summary>
    public static LearningRateSchedule Parse(string text)
    {
        var parts = (text ?? "").Trim().ToLowerInvariant().Split(':');
        const string expected = "expected constant, step:EVERY[:GAMMA], exponential:GAMMA or cosine:PERIOD[:MINIMUM]";
        int Int(int i) => int.TryParse(parts[i], System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int v)
            ? v : throw new BackpropException($"Schedule '{text}': '{parts[i]}' is not a whole number; {expected}.");
        double Real(int i) => double.TryParse(parts[i], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v)
            ? v : throw new BackpropException($"Schedule '{text}': '{parts[i]}' is not a number; {expected}.");
        return (parts[0], parts.Length) switch
        {
            ("constant", 1) => Constant,
            ("step", 2) => Step(Int(1)),
            ("step", 3) => Step(Int(1), Real(2)),
            ("exponential", 2) => Exponential(Real(1)),
            ("cosine", 2) => Cosine(Int(1)),
            ("cosine", 3) => Cosine(Int(1), Real(2)),
            _ => throw new BackpropException($"Unknown schedule '{text}'; {expected}."),
        };
    }

    private static void RequireGamma(double gamma)
    {
        if (!(gamma > 0 && gamma <= 1))
            throw new BackpropException($"A decay factor gamma must be in (0, 1], got {gamma}.");
    }

    private sealed class ConstantSchedule : LearningRateSchedule
    {
        public override double RateAt(double baseRate, int epoch) => baseRate;
        public override string ToString() => "constant";
    }

    private sealed class StepSchedule(int stepSize, double gamma) : LearningRateSchedule
    {
        public override double RateAt(double baseRate, int epoch) => baseRate * Math.Pow(gamma, epoch / stepSize);
        public override string ToString() => FormattableString.Invariant($"step(every={stepSize}, gamma={gamma})");
    }

    private sealed class ExponentialSchedule(double gamma) : LearningRateSchedule
    {
        public override double RateAt(double baseRate, int epoch) => baseRate * Math.Pow(gamma, epoch);
        public override string ToString() => FormattableString.Invariant($"exponential(gamma={gamma})");
    }

    private sealed class CosineSchedule(int period, double minimumRate) : LearningRateSchedule
    {
        public override double RateAt(double baseRate, int epoch) => epoch >= period
            ? minimumRate
            : minimumRate + (baseRate - minimumRate) * (1 + Math.Cos(Math.PI * epoch / period)) / 2;
        public override string ToString() => FormattableString.Invariant($"cosine(period={period}, minimum={minimumRate})");
    }
}
