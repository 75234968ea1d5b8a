using System.Text.Json;
using Backprop.Data;
using Backprop.IO;
using Backprop.IO.Json;
using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Tests.IO;

/// <summary>
/// The one JSON context's rules for numbers, the same on every surface it serves: a double is read only from a finite
/// JSON number and written only when finite (a surface that documents null for such a number says so per field).
/// </summary>
public sealed class BackpropJsonTests
{
    private static Model<double> TrainedModel()
    {
        var net = Network<double>.Create(2, [new LayerSpec(3, Activation.Tanh), new LayerSpec(2, Activation.Softmax)], Loss.CrossEntropy, seed: 2);
        return new Model<double>(net, DataSchema.For(TaskKind.Classification, 2), null, PreprocessingKind.None,
            new ModelTraining { Seed = 2, EpochsTrained = 5, LearningRate = 0.01, BatchSize = 8 })
        {
            Metrics = new ModelMetrics { TrainingRows = 10, TrainingLoss = 0.25, TrainingAccuracy = 0.9 },
        };
    }

    [Theory]
    [InlineData("\"learning_rate\": 0.01", "\"learning_rate\": 1e309", "training.learning_rate")]
    [InlineData("\"learning_rate\": 0.01", "\"learning_rate\": -1E+400", "training.learning_rate")]
    [InlineData("\"training_loss\": 0.25", "\"training_loss\": 1e309", "metrics.training_loss")]
    [InlineData("\"training_accuracy\": 0.9", "\"training_accuracy\": \"0.9\"", "metrics.training_accuracy")]
    public void ANumberBeyondTheRangeOfADoubleIsRefusedNotReadAsInfinity(string field, string replacement, string named)
    {
        // System.Text.Json's own reader takes 1e309 for +infinity: a model file whose learning rate read so would
        // explain and train with eta = infinity. Every double of the context is finite or refused, naming its field.
        string text = ModelFile.Serialize(TrainedModel());
        Assert.Contains(field, text);
        Assert.Equal(0.01, ModelFile.Deserialize<double>(text).Training.LearningRate);
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Deserialize<double>(text.Replace(field, replacement), "m.json"));
        Assert.Contains(named, e.Message);
        Assert.Contains("expected a", e.Message);
    }

    [Fact]
    public void ANumberThatIsNotFiniteIsNeverWrittenAndTheErrorSaysWhich()
    {
        var metrics = new ModelMetrics { TrainingRows = 3, TrainingLoss = double.NaN };
        var e = Assert.Throws<NonFiniteNumberException>(() => JsonSerializer.Serialize(metrics, BackpropJson.Default.ModelMetrics));
        Assert.Contains("NaN", e.Message);
        // Still the ArgumentException the writer itself throws, so code that caught that one catches this one.
        Assert.IsAssignableFrom<ArgumentException>(e);

        var pre = new PreprocessingSection { Kind = "standardize", Offset = [1, 2, double.PositiveInfinity], Scale = [1, 1, 1] };
        var a = Assert.Throws<NonFiniteNumberException>(() => JsonSerializer.Serialize(pre, BackpropJson.Default.PreprocessingSection));
        Assert.Contains("element 2", a.Message);
    }

    [Fact]
    public void FiniteNumbersRoundTripBitForBit()
    {
        double[] awkward = [double.Epsilon, double.MaxValue, double.MinValue, -0.0, 1e-310, 0.1, 1.0 / 3];
        foreach (double x in awkward)
        {
            var back = JsonSerializer.Deserialize(JsonSerializer.Serialize(new ModelMetrics { TrainingLoss = x }, BackpropJson.Default.ModelMetrics),
                BackpropJson.Default.ModelMetrics)!;
            Assert.Equal(BitConverter.DoubleToInt64Bits(x), BitConverter.DoubleToInt64Bits(back.TrainingLoss));
        }
    }
}
