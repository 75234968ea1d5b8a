using Backprop.Data;
using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Tests.Training;

/// <summary>
/// Every optimizer learns xor and two moons to 100% training accuracy from a fixed seed within a bounded
/// number of epochs. The test drives the loop itself (<see cref="Model{T}.TrainAsync"/>) and stops at the
/// first epoch after which the whole training set is classified correctly.
/// </summary>
public sealed class SolveTests
{
    public static TheoryData<string> OptimizerNames => ["sgd", "adam", "adamw", "rmsprop"];

    private static Optimizer Make(string name) => name switch
    {
        "sgd" => new Sgd(learningRate: 0.1, momentum: 0.9, nesterov: true),
        "adam" => new Adam(learningRate: 0.01),
        "adamw" => new AdamW(learningRate: 0.01),
        "rmsprop" => new RmsProp(learningRate: 0.01),
        _ => throw new ArgumentException(name),
    };

    private static async Task<int> EpochsToPerfect<T>(Model<T> model, Dataset data, int maxEpochs, int batchSize, Optimizer optimizer)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var options = new TrainingOptions { Epochs = maxEpochs, BatchSize = batchSize, Optimizer = optimizer };
        await foreach (var epoch in model.TrainAsync(data, options, TestContext.Current.CancellationToken))
            if (epoch.TrainingAccuracy == 1 && ((ClassificationMetrics)model.Evaluate(data)).Accuracy == 1)
                return epoch.Epoch;
        return int.MaxValue;
    }

    [Theory]
    [MemberData(nameof(OptimizerNames))]
    public async Task SolvesXor(string optimizer)
    {
        var data = SyntheticData.Xor();
        var model = Model.Classifier(2, 2).Dense(8, Activation.Tanh).Dense(8, Activation.Tanh).Build<double>(seed: 3);
        int epochs = await EpochsToPerfect(model, data, maxEpochs: 300, batchSize: 4, Make(optimizer));
        Assert.InRange(epochs, 1, 300);
        Assert.Equal(1.0, ((ClassificationMetrics)model.Evaluate(data)).Accuracy);
        TestContext.Current.TestOutputHelper?.WriteLine($"xor {optimizer}: {epochs} epochs");
    }

    [Theory]
    [MemberData(nameof(OptimizerNames))]
    public async Task SolvesTwoMoons(string optimizer)
    {
        var data = SyntheticData.TwoMoons(samples: 100, noise: 0.05, seed: 5);
        var model = Model.Classifier(2, 2).Dense(12, Activation.Tanh).Dense(12, Activation.Tanh).Build<float>(seed: 3);
        int epochs = await EpochsToPerfect(model, data, maxEpochs: 200, batchSize: 10, Make(optimizer));
        Assert.InRange(epochs, 1, 200);
        Assert.Equal(1.0, ((ClassificationMetrics)model.Evaluate(data)).Accuracy);
        TestContext.Current.TestOutputHelper?.WriteLine($"moons {optimizer}: {epochs} epochs");
    }
}
