using System.Text.Json;
using Backprop.IO;

namespace Backprop.Tests.Cli.Process;

/// <summary>explain --format json of a table model holds the encoding step, as the text form does: the numbers predict feeds the network.</summary>
public sealed partial class CommandProcessTests
{
    [Fact]
    public void Explain_ATableModelAsJson_HoldsTheEncodingThatPredictFeedsTheNetwork()
    {
        using var dir = fx.Scratch();
        Ok(ToolProcess.Run(dir.Dir, ["train", "--data", MessyTable(), .. MessyKinds, "--hidden", "8", "--epochs", "10", "--save", "m.json", "--quiet"]));
        // A red row with a missing size, a date, and an unseen code.
        string?[] values = ["red", "NA", "2004-05-06", "w"];
        var r = ToolProcess.Run(dir.Dir, "explain", "--model", "m.json", "--input", "red,NA,2004-05-06,w", "--format", "json");
        Ok(r);
        var doc = ExplainJson.Deserialize(r.Out);
        var encoding = doc.Encoding;
        Assert.NotNull(encoding);
        var model = ModelFile.Load<double>(dir.Path("m.json"));
        var fed = model.EncodeRow(values);
        Assert.Equal(fed, encoding.Encoded);
        // The encoded row is the preprocessing step's raw input, and the network's first layer takes it scaled.
        Assert.Equal(fed, doc.Preprocessing!.Raw);
        Assert.Equal(model.Prepare(fed), doc.Layers[0].Input);
        Assert.Equal(["color", "size", "when", "code"], encoding.Columns.Select(c => c.Column.Name));
        var color = encoding.Columns[0];
        Assert.Equal("categorical", color.Column.Kind);
        Assert.Equal("red", color.Value);
        Assert.Equal(1, color.Features.Single(f => f.Name == "color=red").Value);
        var size = encoding.Columns[1];
        Assert.Equal("NA", size.Value);
        Assert.Equal(size.Column.Median, size.Features[0].Value);
        Assert.True(size.Column.Indicator);
        Assert.Equal(1, size.Features.Single(f => f.Name == "size (missing)").Value);
        Assert.Equal(2004, encoding.Columns[2].Features[0].Value);
        Assert.Contains(encoding.Notes!, n => n.Contains("\"code\" not seen in training"));
        Assert.Equal(fed.Length, encoding.Columns.Sum(c => c.Features.Count));
    }
}
