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
}
