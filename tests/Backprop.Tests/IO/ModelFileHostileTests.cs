using Backprop.IO;
using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Tests.IO;

/// <summary>Model files that claim absurd sizes are rejected with a clear error before memory is taken.</summary>
public sealed class ModelFileHostileTests
{
    private static string Text() => ModelFile.Serialize(
        Network<double>.Create(2, [new LayerSpec(3, Activation.Sigmoid, BiasMode.Shared), new LayerSpec(2, Activation.Sigmoid)], Loss.HalfSse, seed: 1));

    [Theory]
    [InlineData("\"units\": 3", "\"units\": 2000000000")]
    [InlineData("\"units\": 3", "\"units\": 1500000000")]
    [InlineData("\"units\": 3", "\"units\": 100000")]
    [InlineData("\"inputs\": 2", "\"inputs\": 2000000000")]
    [InlineData("\"inputs\": 2", "\"inputs\": 1073741824")]
    public void ClaimedSizesAreCheckedAgainstTheWeightsPresent(string from, string to)
    {
        string text = Text();
        Assert.Contains(from, text);
        var e = Assert.ThrowsAny<BackpropException>(() => ModelFile.Deserialize<double>(text.Replace(from, to), "big.json"));
        Assert.StartsWith("big.json: field 'layers[0].weights", e.Message);
    }

    [Theory]
    [InlineData("\"loss\": \"half-sse\",", "\"loss\": \"half-sse\",\n  \"loss\": \"mse\",")]
    [InlineData("\"format\"", "\"extra\": {\"a\": 1, \"a\": 2},\n  \"format\"")]
    public void DuplicateKeysAreRejected(string from, string to)
    {
        string text = Text();
        Assert.Contains(from, text);
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Deserialize<double>(text.Replace(from, to), "dup.json"));
        Assert.StartsWith("dup.json: not valid JSON", e.Message);
    }

    [Fact]
    public void AnEndlessFileIsCountedNotTrusted()
    {
        // /dev/zero reports a size of 0: the count while reading stops it at the limit (here 1 MiB, without the JSON check).
        Assert.SkipUnless(File.Exists("/dev/zero"), "needs /dev/zero");
        var e = Assert.Throws<ModelFormatException>(() => BoundedFile.ReadAllBytes("/dev/zero", 1 << 20, "model"));
        Assert.Equal("/dev/zero: more than 1,048,576 bytes; model files are limited to 1,048,576 bytes.", e.Message);
    }

    [Fact]
    public void NotJsonIsFoundAtTheFirstBadByteWhileReading()
    {
        using var dir = new TempDirectory();
        string good = dir.File("m.json");
        File.WriteAllText(good, Text());
        // Junk after the model: the read stops where the junk starts, with the message the parse gives.
        string junk = dir.File("junk.json");
        File.WriteAllBytes(junk, [.. File.ReadAllBytes(good), .. "x"u8.ToArray(), .. new byte[5_000_000]]);
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Load<double>(junk));
        Assert.Contains("junk.json: not valid JSON at line", e.Message);
        Assert.Contains("'x' is invalid after a single JSON value", e.Message);
        // Nesting past 64 levels, in a piece after the first.
        string deep = dir.File("deep.json");
        File.WriteAllText(deep, "{\"format\": \"backprop-model\", \"x\": " + new string(' ', 100_000) + new string('[', 100_000));
        Assert.Contains("depth", Assert.Throws<ModelFormatException>(() => ModelFile.Load<double>(deep)).Message);
        // A UTF-8 byte order mark, as some editors write, is not an error.
        string bom = dir.File("bom.json");
        File.WriteAllBytes(bom, [0xEF, 0xBB, 0xBF, .. File.ReadAllBytes(good)]);
        Assert.Equal(2, ModelFile.Load<double>(bom).Network.Inputs);
        Assert.Equal(2, ModelFile.Deserialize<double>("\uFEFF" + Text()).Network.Inputs);
        // A token split across the pieces the reader reads: a file of 200 KB of one long class name still loads.
        var model = Backprop.Training.Model.Classifier(2, [new string('a', 200_000), "b"]).Build(1);
        string longName = dir.File("long.json");
        model.Save(longName);
        Assert.Equal(new string('a', 200_000), ModelFile.Load(longName).ClassNames[0]);
    }

    [Fact]
    public void StructuresThatWouldCostFarMoreThanTheirTextAreBounded()
    {
        string text = Text();
        // An object of more keys than any model file has (the duplicate check keeps an object's keys).
        string keys = string.Join(", ", Enumerable.Range(0, JsonValue.MaxKeys + 1).Select(i => $"\"k{i}\": 0"));
        var k = Assert.Throws<ModelFormatException>(() => ModelFile.Deserialize<double>(text.Replace("\"format\"", "\"extra\": {" + keys + "},\n  \"format\""), "k.json"));
        Assert.StartsWith("k.json: not valid JSON at line", k.Message);
        Assert.Contains("more than 10,000 keys", k.Message);
        // More layers than a model may have.
        string layer = "{\"units\": 1, \"activation\": \"identity\", \"weights\": [[1]], \"biases\": [0]}";
        string many = "{\"format\": \"backprop-model\", \"version\": 2, \"inputs\": 1, \"loss\": \"mse\", \"layers\": ["
            + string.Join(", ", Enumerable.Repeat(layer, ModelFile.MaxLayers + 1)) + "]}";
        var l = Assert.Throws<ModelFormatException>(() => ModelFile.Deserialize<double>(many, "l.json"));
        Assert.Equal("l.json: field 'layers': 1,025 layers, more than the 1024 a model may have.", l.Message);
        Assert.Equal(ModelFile.MaxLayers, ModelFile.Deserialize<double>(many.Replace("[" + layer + ", ", "[")).Network.Layers.Count);
    }

    [Fact]
    public void ACheckpointsOptimizerStateIsShapedBeforeItIsRead()
    {
        var model = Model.For(Backprop.Data.SyntheticData.Create("moons", seed: 1)).Dense(4).Build(1);
        using var dir = new TempDirectory();
        string path = dir.File("ck.json");
        model.Fit(Backprop.Data.SyntheticData.Create("moons", seed: 1),
            new TrainingOptions { Epochs = 1, Checkpoint = CheckpointFile.Every(path, 1) }, TestContext.Current.CancellationToken);
        string text = File.ReadAllText(path);
        int at = text.IndexOf("\"state\":[", StringComparison.Ordinal);
        Assert.True(at > 0, text[^400..]);
        // 100,000 empty arrays where 4 tensors belong: refused from their count, before an array is made of each.
        string hostile = text[..(at + 9)] + string.Concat(Enumerable.Repeat("[],", 100_000)) + text[(at + 9)..];
        var e = Assert.Throws<ModelFormatException>(() => CheckpointFile.Parse(hostile, "ck.json"));
        Assert.Equal("ck.json: field 'checkpoint.optimizer.state': expected at most 4 value(s) (two a layer), found 100,004.", e.Message);
        string slots = text[..(at + 10)] + string.Concat(Enumerable.Repeat("[],", 9)) + text[(at + 10)..];
        Assert.Contains("'checkpoint.optimizer.state[0]': expected at most 8 state arrays, found 11", Assert.Throws<ModelFormatException>(() => CheckpointFile.Parse(slots, "ck.json")).Message);
        Assert.NotNull(CheckpointFile.Parse(text, "ck.json").State);
    }
}
