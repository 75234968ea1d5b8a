using System.Text.Json.Nodes;
using Backprop.IO;
using Backprop.Nn;

namespace Backprop.Tests.IO;

public sealed class DataSchemaTests
{
    [Fact]
    public void RoundTripsThroughTheModelFile()
    {
        var data = CsvDataset.Parse("a,b,species\n1,2,x\n3,4,y\n", null, "t.csv");
        var schema = DataSchema.Of(data);
        var sections = new JsonObject();
        schema.WriteTo(sections);
        var net = Network<float>.Create(2, [new LayerSpec(2, Activation.Softmax)], Loss.CrossEntropy, seed: 1);
        var back = DataSchema.ReadFrom(ModelFile.Deserialize<float>(ModelFile.Serialize(net, sections), "m.json").Sections, "m.json")!;
        Assert.Equal(TaskKind.Classification, back.Task);
        Assert.Equal(["x", "y"], back.Classes);
        Assert.Equal(2, back.Features);
        Assert.Equal(["a", "b"], back.FeatureNames!);
        Assert.Equal("species", back.Target);
    }

    [Fact]
    public void RegressionWithoutNames()
    {
        var schema = DataSchema.Of(CsvDataset.Parse("1,0.5\n2,1.5\n"));
        var back = DataSchema.FromJson(JsonNode.Parse(schema.ToJson().ToJsonString()));
        Assert.Equal(TaskKind.Regression, back.Task);
        Assert.Empty(back.Classes);
        Assert.Null(back.FeatureNames);
        Assert.Null(back.Target);
    }

    [Theory]
    [InlineData("7", "expected an object")]
    [InlineData("{\"task\":\"clustering\",\"features\":2}", "task")]
    [InlineData("{\"task\":\"classification\",\"features\":2}", "classes': missing")]
    [InlineData("{\"task\":\"classification\",\"features\":2,\"classes\":[]}", "at least one class")]
    [InlineData("{\"task\":\"classification\",\"features\":2,\"classes\":[\"a\",\"a\"]}", "distinct")]
    [InlineData("{\"task\":\"classification\",\"features\":2,\"classes\":[\"a\",1]}", "classes[1]")]
    [InlineData("{\"task\":\"regression\",\"features\":-3}", "features")]
    [InlineData("{\"task\":\"regression\",\"features\":2,\"feature_names\":[\"x\"]}", "expected 2 names")]
    public void BadSectionsAreModelFormatErrors(string json, string expected)
    {
        var e = Assert.Throws<ModelFormatException>(() => DataSchema.FromJson(JsonNode.Parse(json), "m.json"));
        Assert.StartsWith("m.json: field 'data", e.Message);
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
        Assert.Equal(2, DataFiles.Read(csv).Columns);
        Assert.Equal(PreprocessingKind.Standardize, DataFiles.DefaultPreprocessing(csv));
        var both = DataFiles.Read(img, lbl);
        Assert.Equal(["3", "4"], both.Classes);
        Assert.Equal(PreprocessingKind.Pixels, DataFiles.DefaultPreprocessing(img, lbl));
        Assert.False(DataFiles.Read(img).HasTargets);
        Assert.True(DataFiles.LooksLikeIdx(lbl));
        Assert.StartsWith(Path.Combine(dir, "missing.csv") + ": cannot rea", Assert.Throws<BackpropException>(() => DataFiles.Read(Path.Combine(dir, "missing.csv"))).Message);
    }
}
