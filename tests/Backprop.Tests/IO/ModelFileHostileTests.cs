using Backprop.IO;
using Backprop.Nn;

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
}
