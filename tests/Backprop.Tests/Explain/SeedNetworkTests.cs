using Backprop.Explain;
using Backprop.Nn;

namespace Backprop.Tests.Explain;

public sealed class SeedNetworkTests
{
    private const double Tol = 1e-12;
    private static readonly double[] X = [0.05, 0.10];
    private static readonly double[] Y = [0.01, 0.99];

    [Fact]
    public void ForwardValuesMatchTheLiteralEquations4To10()
    {
        var lit = SeedScalar.Default();
        lit.Forward();
        lit.Backward();
        var net = SeedNetwork.Create<double>();
        net.Forward(X, 1);

        Assert.Equal(lit.H1, SeedNetwork.H(net, 1), Tol);
        Assert.Equal(lit.H2, SeedNetwork.H(net, 2), Tol);
        Assert.Equal(lit.H3, SeedNetwork.H(net, 3), Tol);
        Assert.Equal(lit.P1, SeedNetwork.P(net, 1), Tol);
        Assert.Equal(lit.P2, SeedNetwork.P(net, 2), Tol);
        Assert.Equal(lit.P3, SeedNetwork.P(net, 3), Tol);
        Assert.Equal(lit.Q1, SeedNetwork.Q(net, 1), Tol);
        Assert.Equal(lit.Q2, SeedNetwork.Q(net, 2), Tol);
        Assert.Equal(lit.O1, SeedNetwork.O(net, 1), Tol);
        Assert.Equal(lit.O2, SeedNetwork.O(net, 2), Tol);
        Assert.Equal(lit.E, net.ComputeLoss(Y), Tol);
    }

    [Fact]
    public void All14GradientsMatchTheLiteralCorrectedEquations()
    {
        var lit = SeedScalar.Default();
        lit.Forward();
        lit.Backward();
        var net = SeedNetwork.Create<double>();
        net.Forward(X, 1);
        net.Backward(Y);

        for (int i = 1; i <= 2; i++)
            for (int j = 1; j <= 3; j++)
                Assert.Equal(lit.GradV(i, j), SeedNetwork.GradV(net, i, j), Tol);
        for (int i = 1; i <= 3; i++)
            for (int j = 1; j <= 2; j++)
                Assert.Equal(lit.GradW(i, j), SeedNetwork.GradW(net, i, j), Tol);
        Assert.Equal(lit.GB1, SeedNetwork.GradB1(net), Tol);
        Assert.Equal(lit.GB2, SeedNetwork.GradB2(net), Tol);
    }

    [Fact]
    public void GradientsAgreeWithFiniteDifferences()
    {
        var net = SeedNetwork.Create<double>();
        var result = GradientCheck.Run(net, X, Y, 1);
        Assert.Equal(2, result.Layers.Count);
        Assert.True(result.MaxRelativeError < 1e-7, $"worst relative error {result.MaxRelativeError}");
    }

    [Fact]
    public void Eq35AsPrintedIsWrongAndTheCorrectedSumAgreesWithFiniteDifferences()
    {
        var lit = SeedScalar.Default();
        lit.Forward();
        lit.Backward();
        var numeric = GradientCheck.NumericGradient(SeedNetwork.Create<double>(), X, Y, 1, layer: 0, bias: false, index: 0);
        double printed = lit.DocumentEq35();
        double corrected = lit.GV11;

        Assert.True(Math.Abs(corrected - numeric) < 1e-10 * Math.Max(1, Math.Abs(numeric)),
            $"corrected {corrected} vs finite differences {numeric}");
        // The printed product is off by far more than any rounding: here by over 95% of the true value.
        Assert.True(Math.Abs(printed - numeric) > 0.95 * Math.Abs(numeric),
            $"printed {printed} vs finite differences {numeric}");
    }

    [Fact]
    public void Eq35AsPrintedIsWrongForRandomWeightsToo()
    {
        var rng = new Random(35);
        int wrong = 0;
        for (int trial = 0; trial < 20; trial++)
        {
            var lit = SeedScalar.Default();
            for (int i = 1; i <= 2; i++)
                for (int j = 1; j <= 3; j++)
                    lit.V(i, j) = rng.NextDouble() * 2 - 1;
            for (int i = 1; i <= 3; i++)
                for (int j = 1; j <= 2; j++)
                    lit.W(i, j) = rng.NextDouble() * 2 - 1;
            lit.Forward();
            lit.Backward();
            var net = SeedNetwork.Create<double>(lit.ToParameters());
            double numeric = GradientCheck.NumericGradient(net, X, Y, 1, 0, false, 0);
            Assert.Equal(numeric, lit.GV11, 1e-10);
            if (Math.Abs(lit.DocumentEq35() - numeric) > 1e-3 * Math.Abs(numeric))
                wrong++;
        }
        Assert.Equal(20, wrong);
    }

    [Theory]
    [InlineData(UpdateOrder.Simultaneous)]
    [InlineData(UpdateOrder.Sequential)]
    public void OneUpdateMatchesTheLiteralHandCalculationOfItsOrder(UpdateOrder order)
    {
        const double eta = 0.5;
        var lit = SeedScalar.Default();
        if (order == UpdateOrder.Simultaneous)
            lit.StepSimultaneous(eta);
        else
            lit.StepSequential(eta);

        var net = SeedNetwork.Create<double>();
        net.TrainStep(X, Y, 1, eta, order);
        AssertParametersEqual(lit, net, Tol);
    }

    [Fact]
    public void SimultaneousAndSequentialUpdatesDiffer()
    {
        var a = SeedNetwork.Create<double>();
        var b = SeedNetwork.Create<double>();
        a.TrainStep(X, Y, 1, 0.5, UpdateOrder.Simultaneous);
        b.TrainStep(X, Y, 1, 0.5, UpdateOrder.Sequential);
        // The output layer's step is the same in both orders; the hidden layer's is not.
        Assert.Equal(a.Layers[1].Weights.ToArray(), b.Layers[1].Weights.ToArray());
        double diff = Math.Abs(SeedNetwork.V(a, 1, 1) - SeedNetwork.V(b, 1, 1));
        Assert.True(diff > 1e-6, $"V11 differs by only {diff}");
    }

    [Fact]
    public void FrozenSharedBiasesStayPutAndMatchTheLiteralSteps()
    {
        foreach (var order in new[] { UpdateOrder.Simultaneous, UpdateOrder.Sequential })
        {
            var lit = SeedScalar.Default();
            if (order == UpdateOrder.Simultaneous)
                lit.StepSimultaneous(0.5, trainBiases: false);
            else
                lit.StepSequential(0.5, trainBiases: false);
            var net = SeedNetwork.Create<double>(trainableBiases: false);
            net.TrainStep(X, Y, 1, 0.5, order);
            Assert.Equal(0.35, SeedNetwork.B1(net));
            Assert.Equal(0.60, SeedNetwork.B2(net));
            AssertParametersEqual(lit, net, Tol);
        }
    }

    [Fact]
    public void ManyStepsReduceTheLossTowardsTheTargets()
    {
        var net = SeedNetwork.Create<double>();
        double first = net.TrainStep(X, Y, 1, 0.5);
        double last = first;
        for (int s = 0; s < 3000; s++)
        {
            double loss = net.TrainStep(X, Y, 1, 0.5);
            Assert.True(loss <= last, $"loss rose at step {s}: {last} -> {loss}");
            last = loss;
        }
        Assert.True(last < first / 1000, $"loss {first} -> {last}");
        var o = net.Forward(X, 1);
        Assert.Equal(0.01, o[0], 0.01);
        Assert.Equal(0.99, o[1], 0.01);
    }

    [Fact]
    public void ReadGivesBackTheParametersInTheSeedsNames()
    {
        var p = SeedNetwork.Read(SeedNetwork.Create<double>());
        Assert.Equal(0.15, p.V[0, 0]);
        Assert.Equal(0.20, p.V[1, 0]);
        Assert.Equal(0.40, p.V[1, 2]);
        Assert.Equal(0.45, p.W[0, 0]);
        Assert.Equal(0.60, p.W[0, 1]);
        Assert.Equal(0.70, p.W[2, 1]);
        Assert.Equal(0.35, p.B1);
        Assert.Equal(0.60, p.B2);
    }

    private static void AssertParametersEqual(SeedScalar lit, Network<double> net, double tol)
    {
        for (int i = 1; i <= 2; i++)
            for (int j = 1; j <= 3; j++)
                Assert.Equal(lit.V(i, j), SeedNetwork.V(net, i, j), tol);
        for (int i = 1; i <= 3; i++)
            for (int j = 1; j <= 2; j++)
                Assert.Equal(lit.W(i, j), SeedNetwork.W(net, i, j), tol);
        Assert.Equal(lit.B1, SeedNetwork.B1(net), tol);
        Assert.Equal(lit.B2, SeedNetwork.B2(net), tol);
    }
}
