using Backprop.Data;
using Backprop.IO;
using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Tests.IO;

public sealed class DataSchemaTests
{
    private static Model<float> TwoInputClassifier(DataSchema schema) =>
        new(Network<float>.Create(2, [new LayerSpec(2, Activation.Softmax)], Loss.CrossEntropy, seed: 1), schema);

    [Fact]
    public void RoundTripsThroughTheModelFile()
    {
        var file = CsvDataset.ParseFile("id,a,b,species\n9,1,2,x\n8,3,4,y\n", new CsvOptions { LabelColumn = "species", DropColumns = ["id"] }, "t.csv");
        var schema = file.Schema;
        Assert.Equal([1, 2], schema.FeatureColumns!);
        Assert.Equal(3, schema.TargetColumn);
        Assert.Equal(["id"], schema.DroppedColumns);
        Assert.Equal(4, schema.FileColumns);
        var back = ModelFile.Deserialize<float>(ModelFile.Serialize(TwoInputClassifier(schema)), "m.json").Schema;
        Assert.Equal(TaskKind.Classification, back.Task);
        Assert.Equal(["x", "y"], back.ClassNames);
        Assert.Equal(2, back.Features);
        Assert.Equal(["a", "b"], back.FeatureNames!);
        Assert.Equal([1, 2], back.FeatureColumns!);
        Assert.Equal("species", back.Target);
        Assert.Equal(3, back.TargetColumn);
        Assert.Equal(["id"], back.DroppedColumns);
        Assert.Equal(4, back.FileColumns);
        Assert.Equal("csv", back.SourceFormat);
    }

    [Fact]
    public void RegressionWithoutNames()
    {
        var schema = CsvDataset.ParseFile("1,0.5\n2,1.5\n").Schema;
        var model = new Model<double>(Network<double>.Create(1, [new LayerSpec(1, Activation.Identity)], Loss.Mse, seed: 1), schema);
        var back = ModelFile.Deserialize<double>(ModelFile.Serialize(model)).Schema;
        Assert.Equal(TaskKind.Regression, back.Task);
        Assert.Empty(back.ClassNames);
        Assert.Null(back.FeatureNames);
        Assert.Null(back.Target);
        Assert.Equal(1, back.TargetColumn);
    }

    /// <summary>A model file (version 2) of a 2-input, 2-class network with <paramref name="pipeline"/> as its pipeline section.</summary>
    private static string WithPipeline(string pipeline)
    {
        string text = ModelFile.Serialize(TwoInputClassifier(DataSchema.For(TaskKind.Classification, 2, ["x", "y"])));
        int start = text.IndexOf("\"pipeline\": ", StringComparison.Ordinal) + "\"pipeline\": ".Length;
        int end = text.IndexOf(",\n  \"training\"", StringComparison.Ordinal);
        return text[..start] + pipeline + text[end..];
    }

    [Theory]
    [InlineData("7", "expected an object")]
    [InlineData("{\"task\":\"clustering\",\"features\":2,\"preprocessing\":{\"kind\":\"none\"}}", "pipeline.task")]
    [InlineData("{\"task\":\"classification\",\"features\":2}", "missing")]
    [InlineData("{\"task\":\"classification\",\"features\":2,\"classes\":[\"a\",\"a\"],\"preprocessing\":{\"kind\":\"none\"}}", "distinct")]
    [InlineData("{\"task\":\"classification\",\"features\":2,\"classes\":[\"a\",1],\"preprocessing\":{\"kind\":\"none\"}}", "pipeline.classes")]
    [InlineData("{\"task\":\"classification\",\"features\":3,\"preprocessing\":{\"kind\":\"none\"}}", "3 features, but the network takes 2")]
    [InlineData("{\"task\":\"classification\",\"features\":2,\"feature_names\":[\"x\"],\"preprocessing\":{\"kind\":\"none\"}}", "1 feature names for 2 features")]
    [InlineData("{\"task\":\"classification\",\"features\":2,\"classes\":[\"a\",\"b\",\"c\"],\"preprocessing\":{\"kind\":\"none\"}}", "3 class names")]
    [InlineData("{\"task\":\"classification\",\"features\":2,\"feature_columns\":[0,7],\"file_columns\":3,\"preprocessing\":{\"kind\":\"none\"}}", "feature position 7")]
    [InlineData("{\"task\":\"classification\",\"features\":2,\"colour\":1,\"preprocessing\":{\"kind\":\"none\"}}", "pipeline.colour")]
    public void BadSectionsAreModelFormatErrors(string json, string expected)
    {
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Deserialize<float>(WithPipeline(json), "m.json"));
        Assert.StartsWith("m.json: ", e.Message);
        Assert.Contains("pipeline", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void DataFilesPicksTheReaderByContent()
    {
        using var temp = new TempDirectory();
        string dir = temp.Path;
        string csv = Path.Combine(dir, "d.csv");
        File.WriteAllText(csv, "1,2,a\n3,4,b\n");
        string img = Path.Combine(dir, "img.idx"), lbl = Path.Combine(dir, "lbl.idx.gz");
        File.WriteAllBytes(img, IdxDatasetTests.Idx([2, 1, 2], [0, 255, 1, 2]));
        File.WriteAllBytes(lbl, IdxDatasetTests.Gzip(IdxDatasetTests.Idx([2], [4, 3])));
        Assert.Equal(2, DataFiles.Read(csv).Data.Inputs);
        Assert.Equal(PreprocessingKind.Standardize, DataFiles.DefaultPreprocessing(csv));
        var both = DataFiles.Read(img, lbl);
        Assert.Equal(["3", "4"], both.Data.ClassNames);
        Assert.Equal("idx", both.Schema.SourceFormat);
        Assert.Equal(PreprocessingKind.Pixels, DataFiles.DefaultPreprocessing(img, lbl));
        Assert.False(DataFiles.Read(img).Data.HasTargets);
        Assert.True(DataFiles.LooksLikeIdx(lbl));
        Assert.StartsWith(Path.Combine(dir, "missing.csv") + ": cannot rea", Assert.Throws<BackpropException>(() => DataFiles.Read(Path.Combine(dir, "missing.csv"))).Message);
    }
}
