using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Tests.Training;

/// <summary>Every optimizer learns xor and two moons to 100% training accuracy from a fixed seed within a bounded number of epochs.</summary>
public sealed class SolveTests
{
    public static TheoryData<string> OptimizerNames => ["sgd", "adam", "adamw", "rmsprop"];

    private static Optimizer Make(string name) => name switch
    {
        "sgd" => new Sgd(learningRate: 0.1, momentum: 0.9, nesterov: true),
        "adam" => new Adam(learningRate: 0.02),
        "adamw" => new AdamW(learningRate: 0.02),
        "rmsprop" => new RmsProp(learningRate: 0.005),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(OptimizerNames))]
    public void SolvesXor(string optimizer)
    {
        var data = SyntheticData.Xor();
        var model = Model.Classifier(2, 2).Dense(8, Activation.Tanh).Dense(8, Activation.Tanh).Build<double>(seed: 3);
        var report = model.Fit(data, new TrainingOptions { Epochs = 300, BatchSize = 4, Optimizer = Make(optimizer) }, TestContext.Current.CancellationToken);
        var m = Assert.IsType<ClassificationMetrics>(model.Evaluate(data));
        Assert.Equal(1.0, m.Accuracy);
        Assert.True(report.History[^1].TrainingLoss < report.History[0].TrainingLoss);
    }

    [Theory]
    [MemberData(nameof(OptimizerNames))]
    public void SolvesTwoMoons(string optimizer)
    {
        var data = SyntheticData.TwoMoons(samples: 200, noise: 0.05, seed: 5);
        var model = Model.Classifier(2, 2).Dense(16, Activation.Tanh).Dense(16, Activation.Tanh).Build<float>(seed: 3);
        model.Fit(data, new TrainingOptions { Epochs = 150, BatchSize = 16, Optimizer = Make(optimizer) }, TestContext.Current.CancellationToken);
        var m = Assert.IsType<ClassificationMetrics>(model.Evaluate(data));
        Assert.Equal(1.0, m.Accuracy);
    }
}
