using Backprop.Data;
using Backprop.IO;
using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Tests.IO;

public sealed class PreprocessingTests
{
    // Two features: [1, 2, 3, 4] and a constant 5.
    private static Dataset Train() =>
        Dataset.Regression([1, 5, 2, 5, 3, 5, 4, 5], 2, [0, 1, 2, 3]);

    [Fact]
    public void StandardizeUsesTrainingMeanAndPopulationSd()
    {
        var p = Preprocessing.Fit(Train(), PreprocessingKind.Standardize);
        // By hand: mean 2.5; deviations -1.5,-0.5,0.5,1.5; mean square 5/4; sd sqrt(1.25).
        Assert.Equal(2.5, p.Offset[0]);
        Assert.Equal(Math.Sqrt(1.25), p.Scale[0]);
        // Constant feature: offset 5, scale 1 (so it maps to 0, not NaN).
        Assert.Equal(5.0, p.Offset[1]);
        Assert.Equal(1.0, p.Scale[1]);
        var t = p.Apply(Train());
        Assert.Equal(-1.5 / Math.Sqrt(1.25), t.Features[0], 15);
        Assert.Equal(0.0, t.Features[1]);
        Assert.Equal(0.0, t.Features.ToArray().Where((_, i) => i % 2 == 0).Sum(), 12);
    }

    [Fact]
    public void MinMaxAndPixels()
    {
        var mm = Preprocessing.Fit(Train(), PreprocessingKind.MinMax);
        var t = mm.Apply(Train());
        Assert.Equal([0.0, 0, 1 / 3.0, 0, 2 / 3.0, 0, 1, 0], t.Features);
        var px = Preprocessing.Fit(Train(), PreprocessingKind.Pixels);
        var img = Dataset.Unlabelled([0, 255, 51, 102], 2);
        Assert.Equal([0.0, 1, 0.2, 0.4], px.Apply(img).Features);
        var none = Preprocessing.Fit(Train(), PreprocessingKind.None);
        Assert.Equal(Train().Features, none.Apply(Train()).Features);
    }

    [Fact]
    public void FittedOnTrainingDataOnlyAppliesThoseStatisticsToNewData()
    {
        var p = Preprocessing.Fit(Train(), PreprocessingKind.MinMax);
        var test = Dataset.Regression([7, 5], 2, [0]);
        // (7 - 1) / (4 - 1) = 2: outside [0, 1] because the test row was not seen when fitting.
        Assert.Equal([2.0, 0], p.Apply(test).Features);
        var wrong = Dataset.Regression([1, 2, 3], 3, [0], name: "new.csv");
        var e = Assert.Throws<BackpropException>(() => p.Apply(wrong));
        Assert.Contains("new.csv: 3 feature column(s), but the model was trained on 2", e.Message);
    }

    [Theory]
    [InlineData(PreprocessingKind.Standardize)]
    [InlineData(PreprocessingKind.MinMax)]
    [InlineData(PreprocessingKind.Pixels)]
    [InlineData(PreprocessingKind.None)]
    public void RoundTripsThroughTheModelFileExactly(PreprocessingKind kind)
    {
        var rng = new Random(5);
        int n = 37, m = 6;
        var x = Enumerable.Range(0, n * m).Select(_ => rng.NextDouble() * 1000 - 300 + 1e-7 * rng.NextDouble()).ToArray();
        var data = Dataset.Regression(x, m, new double[n]);
        var p = Preprocessing.Fit(data, kind);
        var net = Network<double>.Create(m, [new LayerSpec(3, Activation.Tanh), new LayerSpec(1, Activation.Identity)], Loss.Mse, seed: 1);
        var model = new Model<double>(net, DataSchema.For(TaskKind.Regression, m), p);
        string text = ModelFile.Serialize(model);
        var back = ModelFile.Deserialize<double>(text, "m.json").Preprocessing!;
        Assert.Equal(kind, back.Kind);
        for (int j = 0; j < m; j++)
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(p.Offset[j]), BitConverter.DoubleToInt64Bits(back.Offset[j]));
            Assert.Equal(BitConverter.DoubleToInt64Bits(p.Scale[j]), BitConverter.DoubleToInt64Bits(back.Scale[j]));
        }
        Assert.Equal(p.Apply(data).Features, back.Apply(data).Features);
    }

    /// <summary>A version 1 model file of 2 inputs with the given <c>preprocessing</c> section.</summary>
    private static string Version1With(string preprocessing) =>
        ModelFile.Serialize(Network<double>.Create(2, [new LayerSpec(1, Activation.Identity)], Loss.Mse, seed: 1))
            .Replace("\"version\": 3", "\"version\": 1")
            .Replace("\n  ]\n}", $"\n  ],\n  \"preprocessing\": {preprocessing}\n}}");

    [Theory]
    [InlineData("[]", "expected an object")]
    [InlineData("{\"kind\":\"zscore\",\"features\":2}", "kind")]
    [InlineData("{\"kind\":\"none\",\"features\":0}", "features")]
    [InlineData("{\"kind\":\"none\",\"features\":99999999}", "features")]
    [InlineData("{\"kind\":\"standardize\",\"features\":2,\"offset\":[0,0]}", "scale")]
    [InlineData("{\"kind\":\"standardize\",\"features\":2,\"offset\":[0],\"scale\":[1,1]}", "expected 2 numbers")]
    [InlineData("{\"kind\":\"standardize\",\"features\":2,\"offset\":[0,0],\"scale\":[1,0]}", "scale[1]")]
    [InlineData("{\"kind\":\"standardize\",\"features\":2,\"offset\":[0,\"x\"],\"scale\":[1,1]}", "offset[1]")]
    [InlineData("{\"kind\":\"standardize\",\"features\":2,\"offset\":[0,0],\"scale\":[1,1],\"mean\":0}", "preprocessing.mean")]
    public void BadSectionsAreModelFormatErrors(string json, string expected)
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Deserialize<double>(Version1With(json), "m.json"));
        Assert.StartsWith("m.json: field 'preprocessing", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void IrisStandardisationMatchesPublishedSummaryStatistics()
    {
        // UCI iris.names, "Summary Statistics": means 5.84, 3.05, 3.76, 1.20; SDs 0.83, 0.43, 1.76, 0.76.
        var p = Preprocessing.Fit(CsvDataset.Read(TestData.Require("iris", "iris.data")), PreprocessingKind.Standardize);
        double[] mean = [5.84, 3.05, 3.76, 1.20], sd = [0.83, 0.43, 1.76, 0.76];
        for (int j = 0; j < 4; j++)
        {
            Assert.Equal(mean[j], p.Offset[j], 0.0051);
            Assert.Equal(sd[j], p.Scale[j], 0.0051);
        }
    }

    [Fact]
    public void ModelWithoutSectionHasNoPreprocessing() =>
        Assert.True(ModelFile.Deserialize<double>(ModelFile.Serialize(Network<double>.Create(2, [new LayerSpec(1, Activation.Identity)], Loss.Mse, seed: 1))).Preprocessing!.IsIdentity);
}
