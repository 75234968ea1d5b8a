using System.Text.Json.Nodes;
using Backprop.Data;
using Backprop.IO;
using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Tests.Training;

public sealed class ModelTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void SavedModelCarriesTheSeedAndKeepsOtherSections()
    {
        string path = Path.Combine(Path.GetTempPath(), $"backprop-model-{Guid.NewGuid():N}.json");
        string copy = path + ".copy.json";
        try
        {
            var model = Model.Regressor(1).Dense(6, Activation.Tanh).Build<double>(seed: 77);
            model.Fit(SyntheticData.NoisySine(40, 0.1, seed: 3), new TrainingOptions { Epochs = 3, BatchSize = 8, Optimizer = new Sgd(0.1, momentum: 0.9) }, Ct);
            model.Save(path);

            // The file as text: the sections a reader of the file sees.
            var root = JsonNode.Parse(File.ReadAllText(path))!;
            var training = Assert.IsType<JsonObject>(root["training"]);
            Assert.Equal(77, training["seed"]!.GetValue<long>());
            Assert.Equal("regression", root["pipeline"]!["task"]!.GetValue<string>());
            Assert.Equal(3, training["epochs_trained"]!.GetValue<int>());
            Assert.StartsWith("sgd(", training["optimizer"]!.GetValue<string>());
            Assert.Equal(["glorot-uniform", "glorot-uniform"], training["init"]!.AsArray().Select(n => n!.GetValue<string>()));

            // A section written by someone else survives load and save.
            var raw = ModelFile.Load<double>(path);
            raw.ExtraSections["notes"] = "{\"mean\": 0.5}";
            raw.Save(path);
            var loaded = ModelFile.Load<double>(path);
            loaded.Save(copy);
            Assert.Equal(0.5, JsonNode.Parse(ModelFile.Load<double>(copy).ExtraSections["notes"])!["mean"]!.GetValue<double>());
            Assert.Equal(model.Predict(0.25), loaded.Predict(0.25));
            Assert.Equal(77, loaded.Seed);
            var m = Assert.IsType<RegressionMetrics>(loaded.Evaluate(SyntheticData.NoisySine(40, 0.1, seed: 3)));
            Assert.True(double.IsFinite(m.RootMeanSquaredError));
        }
        finally
        {
            File.Delete(path);
            File.Delete(copy);
        }
    }

    [Fact]
    public void SameSeedBuildsTheSameWeights()
    {
        var a = Model.Classifier(3, 4).Dense(5, Activation.Relu).Build<double>(seed: 9);
        var b = Model.Classifier(3, 4).Dense(5, Activation.Relu).Build<double>(seed: 9);
        var c = Model.Classifier(3, 4).Dense(5, Activation.Relu).Build<double>(seed: 10);
        Assert.Equal(a.Network.Layers[0].Weights.ToArray(), b.Network.Layers[0].Weights.ToArray());
        Assert.NotEqual(a.Network.Layers[0].Weights.ToArray(), c.Network.Layers[0].Weights.ToArray());
        Assert.Equal(4, a.Network.Outputs);
        Assert.Equal(Loss.CrossEntropy, a.Network.Loss);
    }

    [Fact]
    public void BinaryClassifierWithOneSigmoidOutputTrains()
    {
        var data = SyntheticData.Circles(120, 0.03, seed: 2);
        var model = Model.Classifier(2, 2).Dense(12, Activation.Tanh).Output(Activation.Sigmoid, Loss.BinaryCrossEntropy).Build<double>(seed: 1);
        Assert.Equal(1, model.Network.Outputs);
        model.Fit(data, new TrainingOptions { Epochs = 150, BatchSize = 16, Optimizer = new Adam(0.03) }, Ct);
        var m = Assert.IsType<ClassificationMetrics>(model.Evaluate(data));
        Assert.True(m.Accuracy >= 0.97, m.ToString());
    }

    [Fact]
    public void RegressorFitsTheNoisySine()
    {
        var data = SyntheticData.NoisySine(100, 0.05, seed: 1);
        var model = Model.Regressor(1).Dense(16, Activation.Tanh).Dense(16, Activation.Tanh).Build(seed: 1);
        model.Fit(data, new TrainingOptions { Epochs = 120, BatchSize = 10, Optimizer = new Adam(0.01) }, Ct);
        var m = Assert.IsType<RegressionMetrics>(model.Evaluate(data));
        Assert.True(m.RSquared > 0.95, m.ToString());
        Assert.True(m.RootMeanSquaredError < 0.15, m.ToString());
    }

    [Fact]
    public void PredictChecksTheInputWidth()
    {
        var model = Model.Classifier(2, 3).Dense(4).Build();
        Assert.Contains("takes 2 input(s)", Assert.Throws<BackpropException>(() => model.Predict(1, 2, 3)).Message);
        Assert.Contains("regressor", Assert.Throws<BackpropException>(() => Model.Regressor(2).Build().PredictClass(1, 2)).Message);
        var probabilities = model.Predict(0.1, 0.2);
        Assert.Equal(1.0, probabilities.Sum(), 1e-6);
    }

    [Fact]
    public void BatchPredictionsAgreeWithOneAtATime()
    {
        var data = SyntheticData.Blobs(300, centers: 3, noise: 0.2, seed: 4); // more rows than one 256-row chunk
        var model = Model.Classifier(2, 3).Dense(6, Activation.Tanh).Build<double>(seed: 2);
        var all = model.PredictAll(data);
        var classes = model.PredictClasses(data);
        for (int r = 0; r < data.Rows; r += 37)
        {
            // Equal up to rounding: a batch of one and a batch of 256 go through different matrix kernels
            // (a dot-product row path and the packed FMA kernel), which may sum in a different order.
            var one = model.Predict(data.FeatureRow(r));
            for (int k = 0; k < 3; k++)
                Assert.Equal(one[k], all[r * 3 + k], 1e-12);
            Assert.Equal(model.PredictClass(data.FeatureRow(r)), classes[r]);
        }
        var m = Assert.IsType<ClassificationMetrics>(model.Evaluate(data));
        Assert.Equal(classes.Zip(data.Labels.ToArray()).Count(p => p.First == p.Second), m.Correct);
    }

    [Fact]
    public void TrainingResumesFromASavedModel()
    {
        string path = Path.Combine(Path.GetTempPath(), $"backprop-resume-{Guid.NewGuid():N}.json");
        try
        {
            var data = SyntheticData.Spirals(90, classes: 3, noise: 0.1, seed: 1);
            var model = Model.Classifier(2, 3).Dense(16, Activation.Tanh).Build<double>(seed: 5);
            var first = model.Fit(data, new TrainingOptions { Epochs = 20, BatchSize = 9, Optimizer = new Adam(0.02) }, Ct);
            model.Save(path);
            var resumed = ModelFile.Load<double>(path);
            Assert.Equal(model.Evaluate(data).Loss, resumed.Evaluate(data).Loss); // same weights, same loss
            var second = resumed.Fit(data, new TrainingOptions { Epochs = 20, BatchSize = 9, Optimizer = new Adam(0.02) }, Ct);
            Assert.Equal(40, resumed.EpochsTrained);
            Assert.True(second.Last!.TrainingLoss < first.Last!.TrainingLoss, $"{first.Last} then {second.Last}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void MalformedTrainingSectionNamesTheField()
    {
        string path = Path.Combine(Path.GetTempPath(), $"backprop-bad-{Guid.NewGuid():N}.json");
        try
        {
            var net = Model.Regressor(1).Build<double>().Network;
            // A version 1 file (whose training section held the task).
            string bare = ModelFile.Serialize(net).Replace("\"version\": 3", "\"version\": 1");
            File.WriteAllText(path, bare[..bare.LastIndexOf('}')].TrimEnd() + ",\n  \"training\": {\"task\": \"ranking\"}\n}\n");
            var e = Assert.Throws<ModelFormatException>(() => ModelFile.Load<double>(path));
            Assert.Contains("training.task", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
