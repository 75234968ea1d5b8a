using System.Globalization;
using Backprop.Data;
using Backprop.IO;
using Backprop.Nn;
using Backprop.Tests.Cli;
using Backprop.Tests.IO;
using Backprop.Training;

namespace Backprop.Tests.Training;

/// <summary>
/// A model is its whole pipeline (issue 13): every entry point (the library, predict, evaluate, explain, gradcheck,
/// plot) applies the model's own schema and preprocessing to raw data, and gets the same answers.
/// </summary>
public sealed class PipelineTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly string _dir = TestData.TempFolder();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string TrainIris()
    {
        string model = Path.Combine(_dir, "iris.json");
        var r = CliTests.Run("train", "--data", TestData.Require("iris", "iris.data"), "--epochs", "30", "--seed", "1", "--save", model, "--quiet");
        Assert.True(r.Code == 0, r.Err);
        return model;
    }

    /// <summary>The predicted class and probabilities of every row of predict's CSV output.</summary>
    private static (string Class, double[] P)[] Rows(string csv) =>
        csv.Trim().Split('\n').Skip(1).Select(l =>
        {
            var f = l.Split(',');
            return (f[0], f.Skip(1).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray());
        }).ToArray();

    [Fact]
    public void TheLibraryPredictsWhatTheCommandPredictsOnRawValues()
    {
        // Before: the library took the raw row for preprocessed inputs and answered Iris-versicolor.
        string model = TrainIris();
        var m = ModelFile.Load(model);
        Assert.Equal("Iris-setosa", m.ClassNames[m.PredictClass(5.1, 3.5, 1.4, 0.2)]);
        var cli = Rows(CliTests.Run("predict", "--model", model, "--data", TestData.Require("iris", "iris.data")).Out);
        var iris = CsvDataset.Read(TestData.Require("iris", "iris.data"));
        var classes = m.PredictClasses(iris);
        for (int r = 0; r < iris.Rows; r++)
        {
            Assert.Equal(cli[r].Class, m.ClassNames[classes[r]]);
            var p = m.PredictProbabilities(iris.FeatureRow(r));
            for (int k = 0; k < 3; k++)
                Assert.Equal(cli[r].P[k], p[k], 5e-6); // predict prints 6 significant digits
        }
    }

    [Fact]
    public void ExplainShowsThePreprocessingAndThenTheNumbersPredictComputes()
    {
        string model = TrainIris();
        var r = CliTests.Run("explain", "--model", model, "--input", "5.1,3.5,1.4,0.2", "--target", "Iris-setosa", "--format", "json");
        Assert.True(r.Code == 0, r.Err);
        var json = System.Text.Json.JsonDocument.Parse(r.Out).RootElement;
        var pre = json.GetProperty("preprocessing");
        Assert.Equal("standardize", pre.GetProperty("kind").GetString());
        Assert.Equal([5.1, 3.5, 1.4, 0.2], pre.GetProperty("raw").EnumerateArray().Select(e => e.GetDouble()));
        // The network's output for the prepared input is predict's output (explain runs in double, predict in float).
        var m = ModelFile.Load(model);
        var predicted = m.Predict(5.1, 3.5, 1.4, 0.2);
        var layers = json.GetProperty("layers");
        var outputs = layers[layers.GetArrayLength() - 1].GetProperty("a").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (int k = 0; k < 3; k++)
            Assert.Equal(predicted[k], outputs[k], 1e-6);
        // The loss is the cross-entropy of that output against class setosa, not the 17 of unscaled inputs.
        Assert.Equal(-Math.Log(outputs[0]), json.GetProperty("loss").GetDouble(), 1e-9);
        var text = CliTests.Run("explain", "--model", model, "--input", "5.1,3.5,1.4,0.2");
        Assert.Contains("Step 0: preprocessing", text.Out);
    }

    [Fact]
    public void ExplainDefaultsComeFromTheModel()
    {
        string model = TrainIris();
        var m = ModelFile.Load<double>(model);
        var r = CliTests.Run("explain", "--model", model, "--format", "json");
        Assert.True(r.Code == 0, r.Err);
        var json = System.Text.Json.JsonDocument.Parse(r.Out).RootElement;
        // The input: the training mean (standardized: 0 everywhere); the learning rate: the model's own.
        Assert.Equal(m.Preprocessing!.Offset, json.GetProperty("preprocessing").GetProperty("raw").EnumerateArray().Select(e => e.GetDouble()));
        Assert.All(json.GetProperty("preprocessing").GetProperty("prepared").EnumerateArray(), e => Assert.Equal(0, e.GetDouble(), 1e-12));
        Assert.Equal(m.Training.LearningRate!.Value, json.GetProperty("settings").GetProperty("learning_rate").GetDouble());
    }

    [Fact]
    public void GradcheckChecksTheStatePredictUses()
    {
        string model = TrainIris();
        var m = ModelFile.Load<double>(model);
        var r = CliTests.Run("gradcheck", "--model", model, "--input", "5.1,3.5,1.4,0.2", "--target", "1,0,0");
        Assert.Equal("", r.Err); // exit 0 or 1 (a ReLU kink can be within the finite-difference step); never an error
        Assert.Contains("Gradient check:", r.Out);
        // The oracle: the library's gradient check on the preprocessed input.
        var expected = Backprop.Explain.GradientCheck.Run(m.Network, m.Prepare([5.1, 3.5, 1.4, 0.2]), [1.0, 0, 0], 1, 1e-6, relativeFloor: 1e-6);
        foreach (var layer in expected.Layers)
            Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"analytic {layer.Analytic:E6}"), r.Out);
    }

    [Fact]
    public void ColumnsAreMatchedByNameInAnyOrderAndAMissingOneIsNamed()
    {
        string penguins = TestData.Require("penguins", "penguins.csv");
        var cols = new[] { "Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)", "Species" };
        var rows = File.ReadLines(penguins).Select(l => l.Split(',')).ToArray();
        var header = rows[0];
        int[] at = cols.Select(c => Array.IndexOf(header, c)).ToArray();
        Assert.DoesNotContain(-1, at);
        var clean = rows.Skip(1).Where(f => f.Length == header.Length && at.All(i => f[i].Length > 0 && f[i] != "NA")).ToArray();
        string Write(string name, int[] order)
        {
            string path = Path.Combine(_dir, name);
            File.WriteAllLines(path, new[] { string.Join(',', order.Select(i => cols[i])) }.Concat(clean.Select(f => string.Join(',', order.Select(i => f[at[i]])))));
            return path;
        }
        string train = Write("p.csv", [0, 1, 2, 3, 4]);
        string swapped = Write("swapped.csv", [3, 4, 1, 0, 2]);
        string missing = Write("missing.csv", [0, 1, 3, 4]);
        string model = Path.Combine(_dir, "p.json");
        Assert.Equal(0, CliTests.Run("train", "--data", train, "--label-column", "Species", "--hidden", "8", "--epochs", "20", "--save", model, "--quiet").Code);
        var straight = CliTests.Run("evaluate", "--model", model, "--data", train, "--json");
        var reordered = CliTests.Run("evaluate", "--model", model, "--data", swapped, "--json");
        Assert.True(reordered.Code == 0, reordered.Err);
        Assert.Equal(straight.Out, reordered.Out); // before: 19.88% with no warning
        Assert.Equal(CliTests.Run("predict", "--model", model, "--data", train).Out, CliTests.Run("predict", "--model", model, "--data", swapped).Out);
        var e = CliTests.Run("evaluate", "--model", model, "--data", missing);
        Assert.Equal(2, e.Code);
        Assert.Contains("has no column \"Flipper Length (mm)\"", e.Err);
    }

    [Fact]
    public void TheModelRemembersItsLabelAndDroppedColumns()
    {
        // Before: predict on wdbc failed until --label-column 1 --drop-columns 0 were repeated.
        string wdbc = TestData.Require("wdbc", "wdbc.data");
        string model = Path.Combine(_dir, "wdbc.json");
        Assert.Equal(0, CliTests.Run("train", "--data", wdbc, "--label-column", "1", "--drop-columns", "0", "--hidden", "8", "--epochs", "5", "--save", model, "--quiet").Code);
        var predicted = CliTests.Run("predict", "--model", model, "--data", wdbc);
        Assert.True(predicted.Code == 0, predicted.Err);
        Assert.Equal(CliTests.Run("predict", "--model", model, "--data", wdbc, "--label-column", "1", "--drop-columns", "0").Out, predicted.Out);
        var evaluated = CliTests.Run("evaluate", "--model", model, "--data", wdbc);
        Assert.True(evaluated.Code == 0, evaluated.Err);
        // A file without the label column (and without the id) is read by position too.
        string unlabelled = Path.Combine(_dir, "features.csv");
        File.WriteAllLines(unlabelled, File.ReadLines(wdbc).Select(l => { var f = l.Split(','); return string.Join(',', f.Where((_, i) => i != 1)); }));
        var p2 = CliTests.Run("predict", "--model", model, "--data", unlabelled);
        Assert.True(p2.Code == 0, p2.Err);
        Assert.Equal(predicted.Out, p2.Out);
    }

    [Fact]
    public void ABuiltInDatasetTrainsOnEverythingWithTestFractionZero()
    {
        // Before: "The validation fraction must be between 0 and 1".
        var r = CliTests.Run("train", "--dataset", "moons", "--test-fraction", "0", "--epochs", "2");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("200 training rows, 0 test rows", r.Out);
    }

    [Fact]
    public void OneSigmoidOutputOfExactlyOneHalfIsClassZeroEverywhere()
    {
        // All weights and biases 0: the sigmoid outputs exactly 0.5 for every row. Before: class 1 in evaluate, 0 in predict and plot.
        var output = new Dense<float>(2, 1, Activation.Sigmoid);
        var net = new Network<float>(2, [output], Loss.BinaryCrossEntropy);
        var model = Model<float>.FromNetwork(net, TaskKind.Classification, classNames: ["no", "yes"]);
        var data = Dataset.Classification([0, 0, 1, 2, -3, 4], 2, [0, 1, 1], 2, ["no", "yes"]);
        Assert.Equal(0.5f, net.Forward(data.Features.ToArray().Select(v => (float)v).ToArray(), 3)[0]);
        Assert.Equal([0, 0, 0], model.PredictClasses(data));
        var metrics = Assert.IsType<ClassificationMetrics>(model.Evaluate(data));
        Assert.Equal(1, metrics.ConfusionMatrix[0, 0]);
        Assert.Equal(2, metrics.ConfusionMatrix[1, 0]);
        string path = Path.Combine(_dir, "half.json");
        model.Save(path);
        string csv = Path.Combine(_dir, "rows.csv");
        File.WriteAllText(csv, "0,0\n1,2\n-3,4\n");
        var predicted = CliTests.Run("predict", "--model", path, "--data", csv);
        Assert.Equal(["no", "no", "no"], Rows(predicted.Out).Select(r => r.Class));
        Assert.Equal(0, ClassRule.Predict<double>([0.5]));
        Assert.Equal(1, ClassRule.Predict<double>([0.5000001]));
        Assert.Equal(0, ClassRule.Predict<double>([0.3, 0.3]));
    }

    [Fact]
    public void LibraryModelsMatchColumnsByNameAndClassesByName()
    {
        var train = Dataset.Classification([1, 10, 2, 20, 3, 30, 4, 40], 2, [0, 1, 0, 1], 2, ["a", "b"], featureNames: ["x", "y"]);
        var model = Model.For(train).Preprocess(PreprocessingKind.Standardize).Dense(4, Activation.Tanh).Build<double>(seed: 3);
        model.Fit(train, new TrainingOptions { Epochs = 3, BatchSize = 2 }, Ct);
        // The same rows with the columns the other way round, one extra column, and the classes listed the other way.
        var other = Dataset.Classification([99, 10, 1, 99, 20, 2, 99, 30, 3, 99, 40, 4], 3, [1, 0, 1, 0], 2, ["b", "a"], featureNames: ["z", "y", "x"]);
        Assert.Equal(model.PredictAll(train), model.PredictAll(other));
        Assert.Equal(model.Evaluate(train).Loss, model.Evaluate(other).Loss);
        Assert.Equal(model.Predict(1, 10), model.Predict(new Dictionary<string, double> { ["y"] = 10, ["x"] = 1, ["unused"] = 5 }));
        var e = Assert.Throws<BackpropException>(() => model.Predict(new Dictionary<string, double> { ["x"] = 1 }));
        Assert.Contains("\"y\"", e.Message);
        var unknown = Dataset.Classification([1, 10, 2, 20], 2, [0, 1], 2, ["a", "c"], featureNames: ["x", "y"]);
        Assert.Contains("class \"c\"", Assert.Throws<BackpropException>(() => model.Evaluate(unknown)).Message);
    }
}
