using Backprop.Data;
using Backprop.Numerics;
using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Tests.Training;

public sealed class SplitMix64Tests
{
    /// <summary>The published reference outputs for seed 1234567 (Rosetta Code, "Pseudo-random numbers/Splitmix64").</summary>
    [Fact]
    public void MatchesTheReferenceSequence()
    {
        var rng = new SplitMix64(1234567UL);
        ulong[] expected = [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821];
        foreach (ulong e in expected)
            Assert.Equal(e, rng.NextUInt64());
    }

    [Fact]
    public void DerivedNumbersFollowTheirDefinitions()
    {
        var a = new SplitMix64(1234567UL);
        Assert.Equal((6457827717110365317UL >> 11) * Math.Pow(2, -53), a.NextDouble());
        var rng = new SplitMix64(42L);
        var counts = new int[6];
        for (int i = 0; i < 60000; i++)
            counts[rng.NextInt(6)]++;
        Assert.All(counts, c => Assert.InRange(c, 9500, 10500)); // 10000 expected, sd about 91
        double sum = 0, sumSq = 0;
        const int n = 100000;
        for (int i = 0; i < n; i++)
        {
            double g = rng.NextGaussian();
            sum += g;
            sumSq += g * g;
        }
        Assert.InRange(sum / n, -0.02, 0.02);
        Assert.InRange(sumSq / n, 0.98, 1.02);
        Assert.NotEqual(SplitMix64.Derive(1, 1), SplitMix64.Derive(1, 2));
        Assert.NotEqual(SplitMix64.Derive(1, 1), SplitMix64.Derive(2, 1));
    }
}

public sealed class WeightInitTests
{
    private static double[] Draw(WeightInit init, int inputs, int units, out Dense<double> layer)
    {
        layer = new Dense<double>(inputs, units, Activation.Tanh);
        layer.Biases.Fill(3);
        init.Apply(layer, new SplitMix64(7UL));
        return layer.Weights.ToArray();
    }

    private static (double Mean, double Variance) Moments(double[] w)
    {
        double mean = w.Average();
        return (mean, w.Sum(v => (v - mean) * (v - mean)) / w.Length);
    }

    [Theory]
    [InlineData("glorot-uniform", 300, 200, 0.10954451150103323)] // sqrt(6 / 500)
    [InlineData("he-uniform", 300, 200, 0.14142135623730953)]     // sqrt(6 / 300)
    [InlineData("lecun-uniform", 300, 200, 0.1)]                  // sqrt(3 / 300)
    [InlineData("uniform:0.5", 300, 200, 0.5)]
    public void UniformKindsStayInTheirBoundWithVarianceBoundSquaredOverThree(string name, int inputs, int units, double bound)
    {
        var w = Draw(WeightInit.Parse(name), inputs, units, out var layer);
        Assert.All(w, v => Assert.InRange(v, -bound, bound));
        var (mean, variance) = Moments(w);
        Assert.InRange(mean, -0.02 * bound, 0.02 * bound);
        Assert.Equal(bound * bound / 3, variance, bound * bound / 3 * 0.03);
        Assert.All(layer.Biases.ToArray(), b => Assert.Equal(0.0, b));
    }

    [Theory]
    [InlineData("glorot-normal", 300, 200, 0.063245553203367583)] // sqrt(2 / 500)
    [InlineData("he-normal", 300, 200, 0.081649658092772603)]     // sqrt(2 / 300)
    [InlineData("lecun-normal", 300, 200, 0.057735026918962576)]  // sqrt(1 / 300)
    public void NormalKindsHaveTheirStandardDeviation(string name, int inputs, int units, double sd)
    {
        var w = Draw(WeightInit.Parse(name), inputs, units, out _);
        var (mean, variance) = Moments(w);
        Assert.InRange(mean, -0.02 * sd, 0.02 * sd);
        Assert.Equal(sd, Math.Sqrt(variance), sd * 0.02);
        Assert.Contains(w, v => Math.Abs(v) > 3 * sd); // not truncated
    }

    [Fact]
    public void ZerosAndDefaultsAndNames()
    {
        Assert.All(Draw(WeightInit.Zeros, 3, 4, out _), v => Assert.Equal(0.0, v));
        Assert.Equal(WeightInit.HeUniform, WeightInit.For(Activation.Relu));
        Assert.Equal(WeightInit.HeUniform, WeightInit.For(Activation.LeakyRelu));
        Assert.Equal(WeightInit.GlorotUniform, WeightInit.For(Activation.Tanh));
        Assert.Equal(WeightInit.GlorotUniform, WeightInit.For(Activation.Sigmoid));
        Assert.Equal(WeightInit.GlorotNormal, WeightInit.Parse("Xavier-Normal"));
        Assert.Equal(WeightInit.HeNormal, WeightInit.Parse("kaiming-normal"));
        Assert.Equal("uniform:0.25", WeightInit.Uniform(0.25).Name);
        Assert.Contains("expected one of", Assert.Throws<BackpropException>(() => WeightInit.Parse("orthogonal")).Message);
        Assert.Throws<BackpropException>(() => WeightInit.Uniform(-1));
    }

    [Fact]
    public void ModelBuilderUsesTheChosenInitPerLayer()
    {
        var model = Model.Regressor(4).Dense(3, Activation.Relu, WeightInit.Zeros).Dense(3, Activation.Tanh, WeightInit.Uniform(1e-3)).Build<double>(seed: 1);
        Assert.All(model.Network.Layers[0].Weights.ToArray(), v => Assert.Equal(0.0, v));
        Assert.All(model.Network.Layers[1].Weights.ToArray(), v => Assert.InRange(v, -1e-3, 1e-3));
    }
}

public sealed class ScheduleAndGradientTests
{
    [Fact]
    public void SchedulesFollowTheirClosedForms()
    {
        var step = LearningRateSchedule.Step(2, 0.5);
        Assert.Equal([0.8, 0.8, 0.4, 0.4, 0.2], Enumerable.Range(0, 5).Select(e => step.RateAt(0.8, e)));
        Assert.Equal(0.1 * 0.9 * 0.9 * 0.9, LearningRateSchedule.Exponential(0.9).RateAt(0.1, 3), 1e-15);
        var cosine = LearningRateSchedule.Cosine(10, 0.1);
        Assert.Equal(1.0, cosine.RateAt(1, 0), 1e-15);
        Assert.Equal(0.55, cosine.RateAt(1, 5), 1e-15);               // 0.1 + 0.9 (1 + cos(pi/2)) / 2
        Assert.Equal(0.1 + 0.9 * (1 + Math.Cos(Math.PI * 0.2)) / 2, cosine.RateAt(1, 2), 1e-15);
        Assert.Equal(0.1, cosine.RateAt(1, 10), 1e-15);
        Assert.Equal(0.1, cosine.RateAt(1, 15), 1e-15);
        Assert.Equal(0.3, LearningRateSchedule.Constant.RateAt(0.3, 99));
        Assert.Throws<BackpropException>(() => LearningRateSchedule.Step(0));
        Assert.Throws<BackpropException>(() => LearningRateSchedule.Exponential(1.5));
    }

    [Fact]
    public void SchedulesParseFromText()
    {
        Assert.Same(LearningRateSchedule.Constant, LearningRateSchedule.Parse("constant"));
        Assert.Equal(0.25, LearningRateSchedule.Parse("step:3:0.5").RateAt(1, 6));
        Assert.Equal(0.1, LearningRateSchedule.Parse("step:3").RateAt(1, 3), 1e-15);
        Assert.Equal(0.81, LearningRateSchedule.Parse("exponential:0.9").RateAt(1, 2), 1e-15);
        Assert.Equal(0.2, LearningRateSchedule.Parse("cosine:4:0.2").RateAt(1, 4));
        Assert.Contains("expected constant", Assert.Throws<BackpropException>(() => LearningRateSchedule.Parse("linear")).Message);
        Assert.Contains("'x' is not a whole number", Assert.Throws<BackpropException>(() => LearningRateSchedule.Parse("step:x")).Message);
    }

    private static Network<double> TwoLayer(bool frozenBias)
    {
        var a = new Dense<double>(1, 1, Activation.Identity);
        var b = new Dense<double>(1, 1, Activation.Identity, BiasMode.PerUnit, trainableBias: !frozenBias);
        return new Network<double>(1, [a, b], Loss.Mse);
    }

    [Fact]
    public void ClippingByGlobalNormScalesEveryGradientTheOptimizerUses()
    {
        var net = TwoLayer(frozenBias: true);
        net.Layers[0].WeightGradients[0] = 3;
        net.Layers[0].BiasGradients[0] = 0;
        net.Layers[1].WeightGradients[0] = 4;
        net.Layers[1].BiasGradients[0] = 100; // frozen: not part of the norm, not clipped
        double norm = Gradients.ClipByGlobalNorm(net, 1.0);
        Assert.Equal(5, norm, 1e-15);
        Assert.Equal(3 / (5 + 1e-6), net.Layers[0].WeightGradients[0], 1e-15);
        Assert.Equal(4 / (5 + 1e-6), net.Layers[1].WeightGradients[0], 1e-15);
        Assert.Equal(100, net.Layers[1].BiasGradients[0]);
        Assert.Equal(1.0, Gradients.GlobalNorm(net), 1e-6);
        Assert.Equal(1.0, Gradients.ClipByGlobalNorm(net, 10), 1e-6); // under the limit: unchanged
        Assert.Equal(3 / (5 + 1e-6), net.Layers[0].WeightGradients[0], 1e-15);
    }

    [Fact]
    public void L2PenaltyAddsLambdaTimesWeightToWeightGradientsOnly()
    {
        var net = TwoLayer(frozenBias: false);
        net.Layers[0].Weights[0] = 1;
        net.Layers[1].Weights[0] = -2;
        net.Layers[0].Biases[0] = 5;
        net.Layers[0].WeightGradients[0] = 0.5;
        double penalty = Gradients.AddL2Penalty(net, 0.1);
        Assert.Equal(0.25, penalty, 1e-15); // 0.1 / 2 * (1 + 4)
        Assert.Equal(0.6, net.Layers[0].WeightGradients[0], 1e-15);
        Assert.Equal(-0.2, net.Layers[1].WeightGradients[0], 1e-15);
        Assert.Equal(0.0, net.Layers[0].BiasGradients[0]);
    }
}

public sealed class MetricsTests
{
    [Fact]
    public void ClassificationMeasuresByHand()
    {
        int[] actual = [0, 0, 1, 1, 2, 2, 2];
        int[] predicted = [0, 1, 1, 1, 2, 0, 2];
        var m = ClassificationMetrics.From(actual, predicted, 3, loss: 0.5);
        Assert.Equal(5.0 / 7, m.Accuracy, 1e-15);
        Assert.Equal(new[,] { { 1, 1, 0 }, { 0, 2, 0 }, { 1, 0, 2 } }, m.ConfusionMatrix);
        Assert.Equal([0.5, 2.0 / 3, 1.0], m.Precision);
        Assert.Equal([0.5, 1.0, 2.0 / 3], m.Recall);
        Assert.Equal(0.5, m.F1[0], 1e-15);
        Assert.Equal(0.8, m.F1[1], 1e-15);
        Assert.Equal(0.8, m.F1[2], 1e-15);
        Assert.Equal([2, 2, 3], m.Support);
        Assert.Contains("71.43%", m.ToString());
    }

    [Fact]
    public void ClassNeverPredictedHasZeroPrecisionNotNaN()
    {
        var m = ClassificationMetrics.From([0, 1], [0, 0], 2, 0);
        Assert.Equal(0, m.Precision[1]);
        Assert.Equal(0, m.F1[1]);
    }

    [Fact]
    public void RegressionMeasuresByHand()
    {
        var m = RegressionMetrics.From([1, 2, 3, 4], [1.5, 2, 2, 5], 1, loss: 0.1);
        Assert.Equal(0.625, m.MeanAbsoluteError, 1e-15);
        Assert.Equal(0.75, m.RootMeanSquaredError, 1e-15);
        Assert.Equal(0.55, m.RSquared, 1e-15); // 1 - 2.25 / 5
    }
}

public sealed class SyntheticDataTests
{
    [Fact]
    public void XorIsTheTruthTable()
    {
        var d = SyntheticData.Xor();
        Assert.Equal([0.0, 0, 0, 1, 1, 0, 1, 1], d.Features.ToArray());
        Assert.Equal([0, 1, 1, 0], d.Labels.ToArray());
    }

    [Fact]
    public void NoiselessShapesLieOnTheirCurves()
    {
        var moons = SyntheticData.TwoMoons(50, 0);
        for (int r = 0; r < moons.Rows; r++)
        {
            double x = moons.Features[2 * r], y = moons.Features[2 * r + 1];
            double radius = moons.Labels[r] == 0 ? Math.Sqrt(x * x + y * y) : Math.Sqrt((x - 1) * (x - 1) + (y - 0.5) * (y - 0.5));
            Assert.Equal(1, radius, 1e-12);
        }
        var circles = SyntheticData.Circles(40, 0, factor: 0.3);
        for (int r = 0; r < circles.Rows; r++)
            Assert.Equal(circles.Labels[r] == 0 ? 1 : 0.3, Math.Sqrt(circles.Features[2 * r] * circles.Features[2 * r] + circles.Features[2 * r + 1] * circles.Features[2 * r + 1]), 1e-12);
        var sine = SyntheticData.NoisySine(30, 0);
        for (int r = 0; r < sine.Rows; r++)
            Assert.Equal(Math.Sin(Math.PI * sine.Features[r]), sine.Targets[r], 1e-15);
    }

    [Fact]
    public void SeedsAndShapes()
    {
        Assert.Equal(SyntheticData.Spirals(90, seed: 1).Features.ToArray(), SyntheticData.Spirals(90, seed: 1).Features.ToArray());
        Assert.NotEqual(SyntheticData.Spirals(90, seed: 1).Features.ToArray(), SyntheticData.Spirals(90, seed: 2).Features.ToArray());
        var blobs = SyntheticData.Blobs(31, centers: 3, noise: 0.1, seed: 3);
        Assert.Equal([11, 10, 10], Enumerable.Range(0, 3).Select(c => blobs.Labels.ToArray().Count(l => l == c)));
        foreach (var name in SyntheticData.Names)
        {
            var d = SyntheticData.Create(name, seed: 4);
            Assert.True(d.Rows >= 4);
            Assert.All(d.Features.ToArray(), v => Assert.InRange(v, -2.5, 2.5));
        }
        Assert.Contains("moons", Assert.Throws<BackpropException>(() => SyntheticData.Create("mnist")).Message);
    }

    [Fact]
    public void BadDataNamesRowAndField()
    {
        Assert.Contains("row 1, input 0", Assert.Throws<BackpropException>(() =>
            Dataset.Regression([0, 1, double.NaN, 2], 2, [1, 2])).Message);
        Assert.Contains("row 1 has label 3", Assert.Throws<BackpropException>(() =>
            Dataset.Classification([0, 1], 1, [0, 3], 2)).Message);
    }
}
