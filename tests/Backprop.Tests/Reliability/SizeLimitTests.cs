using Backprop.Explain;
using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Tests.Reliability;

/// <summary>Sizes are taken in 64 bits and bounded before anything is allocated (issue 14 item 11).</summary>
public sealed class SizeLimitTests
{
    [Fact]
    public void ALayerOrNetworkWhoseSizeWrapsIsRefusedNotWrapped()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Dense<float>(46341, 46341, Activation.Relu));
        Assert.Contains("A layer of 46,341 units on 46,341 inputs has 2,147,488,281 weights, more than the 2,147,483,591 one array holds.", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dense<float>(100_000, 100_000, Activation.Relu));
        // Over the builder's limit: refused with the count, before the 134 million weights are allocated.
        var b = Assert.Throws<BackpropException>(() => Model.Classifier(2, 2).Dense(11586).Dense(11586).Build());
        Assert.StartsWith("This network (2 -> 11586 -> 11586 -> 2) would have 134,304,914 parameters, more than the 134,217,728", b.Message);
        Assert.Equal(1L << 27, ModelBuilder.MaxParameters);
    }

    [Fact]
    public void ExplainRefusesMoreStepsThanItsCap()
    {
        var s = ExplainSettings.SeedDefault;
        Assert.Equal(Explainer.MaxSteps + 1, (s with { Steps = Explainer.MaxSteps + 1 }).Steps);
        var e = Assert.Throws<BackpropException>(() => Explainer.Seed(s with { Steps = Explainer.MaxSteps + 1 }));
        Assert.Equal("steps: expected 1 to 100,000 updates, got 100,001 (the loss after every update is kept and printed).", e.Message);
        Assert.Equal(3001, Explainer.Seed(s with { Steps = 3000 }).LossHistory.Count);
    }

    [Fact]
    public void TheFootprintCountsWhatARunAllocates()
    {
        var model = Model.Classifier(10, 3).Dense(100).Build();
        var f = TrainingFootprint.Of(model.Network, new Adam(0.01), new TrainingOptions { BatchSize = 32 }, 1000, 0);
        Assert.Equal(10 * 100 + 100 + 100 * 3 + 3, f.Parameters);
        Assert.Equal(4, f.ElementBytes);
        Assert.Equal(2, f.OptimizerSlots);
        Assert.False(f.KeepsBestWeights);
        // Rows as float32, labels and order, backup, Adam's two moments, one batch.
        long expected = 1000L * 10 * 4 + 1000 * 8 + f.Parameters * 4 + f.Parameters * 16 + 32L * 13 * 4 * 2 + 32L * (3 * 103 + 100) * 4;
        Assert.Equal(expected, f.RunBytes);
    }
}
