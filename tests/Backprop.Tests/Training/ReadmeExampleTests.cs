// The example is kept exactly as a reader would type it, without the test's cancellation token.
#pragma warning disable xUnit1051
using Backprop.Data;
using Backprop.IO;
using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Tests.Training;

/// <summary>The README's first example, line for line (only Console replaced by a writer and the path by a temporary one).</summary>
public sealed class ReadmeExampleTests
{
    [Fact]
    public void TenLineExampleTrainsEvaluatesPredictsSavesAndLoads()
    {
        var console = new StringWriter();
        string path = Path.Combine(Path.GetTempPath(), $"backprop-readme-{Guid.NewGuid():N}.json");
        try
        {
            // --- README example starts ---
            var data = SyntheticData.TwoMoons(samples: 200, noise: 0.1, seed: 1);
            var model = Model.Classifier(inputs: 2, classes: 2)
                .Dense(16, Activation.Tanh)
                .Dense(16, Activation.Tanh)
                .Build(seed: 42);
            var report = model.Fit(data, new TrainingOptions { Epochs = 100, Optimizer = new Adam(0.01), ValidationFraction = 0.2 });
            console.WriteLine(model.Evaluate(data));            // accuracy, per-class precision/recall/F1, confusion matrix
            console.WriteLine(model.PredictClass(0.5, -0.25));  // 1: the lower moon
            model.Save(path);
            var loaded = ModelFile.Load(path);
            // --- README example ends ---

            var metrics = Assert.IsType<ClassificationMetrics>(model.Evaluate(data));
            Assert.True(metrics.Accuracy >= 0.97, console.ToString());
            Assert.Equal(1, model.PredictClass(0.5, -0.25));
            Assert.Equal(100, report.History.Count);
            Assert.Contains("accuracy", console.ToString());
            Assert.Equal(model.Predict(0.3, 0.1), loaded.Predict(0.3, 0.1)); // bit-identical after the round trip
            Assert.Equal(42, loaded.Seed);
            Assert.Equal(100, loaded.EpochsTrained);
            Assert.Equal(TaskKind.Classification, loaded.Task);
            TestContext.Current.TestOutputHelper?.WriteLine(console.ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
