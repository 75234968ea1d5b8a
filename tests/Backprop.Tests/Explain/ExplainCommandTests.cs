using System.Text.Json;
using Backprop.Explain;
using Backprop.Explain.Rendering;
using Backprop.IO;
using Backprop.Nn;

namespace Backprop.Tests.Explain;

public sealed class ExplainCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("backprop-explain-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("--input", "0.05")]
    [InlineData("--input", "0.05,0.10,0.2")]
    [InlineData("--target", "0.5")]
    [InlineData("--input", "0.05,abc")]
    [InlineData("--format", "pdf")]
    [InlineData("--lang", "fr")]
    [InlineData("--update-order", "random")]
    [InlineData("--steps", "0")]
    [InlineData("--lr", "-1")]
    [InlineData("--model", "/no/such/dir/model.json")]
    public void BadOptionsGiveOneLineAndExitCode2(string option, string value)
    {
        var (code, output, error) = CliRunner.Run("explain", option, value);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        // The message names what was wrong.
        Assert.Contains(option == "--model" ? "model.json" : option, lines[0]);
    }

    [Fact]
    public void WrongInputLengthForAModelFileNamesTheExpectedCount()
    {
        string path = Path.Combine(_dir, "m.json");
        ModelFile.Save(Network<double>.Create(3, [new LayerSpec(2, Activation.Sigmoid)], Loss.HalfSse, seed: 1), path);
        var (code, _, error) = CliRunner.Run("explain", "--model", path, "--input", "1,2", "--target", "0,1");
        Assert.Equal(2, code);
        Assert.Contains("takes 3 input(s), but 2 value(s) were given", error);
    }

    [Fact]
    public void OutWritesTheSameTextAsTheTerminalWouldGet()
    {
        string path = Path.Combine(_dir, "trace.md");
        var (code, output, _) = CliRunner.Run("explain", "--format", "markdown", "--out", path);
        Assert.Equal(0, code);
        Assert.Contains("trace.md", output);
        Assert.Equal(CliRunner.Run("explain", "--format", "markdown").Out, File.ReadAllText(path));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public void ALargeModelGetsASummaryPerLayerAndEveryNumberInJson()
    {
        var net = Network<double>.Create(20, [new LayerSpec(16, Activation.Tanh), new LayerSpec(3, Activation.Sigmoid)], Loss.Mse, seed: 3);
        string path = Path.Combine(_dir, "large.json");
        ModelFile.Save(net, path);
        string input = string.Join(",", Enumerable.Range(0, 20).Select(i => (i / 20.0).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var (code, text, error) = CliRunner.Run("explain", "--model", path, "--input", input, "--target", "0,1,0");
        Assert.True(code == 0, error);
        Assert.Contains("too many to print every unit", text);
        Assert.Contains("Summary per layer", text);
        Assert.DoesNotContain("z1[1] =", text);

        var (_, json, _) = CliRunner.Run("explain", "--model", path, "--input", input, "--target", "0,1,0", "--format", "json");
        using var doc = JsonDocument.Parse(json);
        var layer0 = doc.RootElement.GetProperty("layers")[0];
        Assert.Equal(16, layer0.GetProperty("weights_grad").GetArrayLength());
        Assert.Equal(20, layer0.GetProperty("weights_grad")[0].GetArrayLength());
        // The gradients are the engine's.
        double[] x = [.. Enumerable.Range(0, 20).Select(i => i / 20.0)];
        net.Forward(x, 1);
        net.Backward([0, 1, 0]);
        Assert.Equal(net.Layers[0].WeightGradients[5 * 20 + 7], layer0.GetProperty("weights_grad")[5][7].GetDouble());
        Assert.Equal(net.Layers[1].BiasGradients[2], doc.RootElement.GetProperty("layers")[1].GetProperty("biases_grad")[2].GetDouble());
    }

    [Fact]
    public void SmallModelTraceShowsEveryLossAndActivationKind()
    {
        // Per-unit equations for the other activations and losses: the printed value is the engine's.
        foreach (var (act, loss) in new[] { (Activation.Softmax, Loss.CrossEntropy), (Activation.Sigmoid, Loss.BinaryCrossEntropy), (Activation.Identity, Loss.Mse) })
        {
            var net = Network<double>.Create(2, [new LayerSpec(3, Activation.Relu), new LayerSpec(2, act)], loss, seed: 5);
            var trace = Explainer.Run(net, new ExplainSettings([0.3, -0.7], [0, 1], 0.1));
            Assert.NotNull(trace.LayerDerivations);
            var outputDeltas = trace.LayerDerivations![1].Backward.Where(e => e.Label == "δ").ToList();
            Assert.Equal(2, outputDeltas.Count);
            for (int u = 0; u < 2; u++)
            {
                Assert.Equal(trace.Layers[1].Delta[u], outputDeltas[u].Value);
                // The equation's numeric form evaluates to the engine's delta.
                Assert.NotNull(outputDeltas[u].Substitute);
                Assert.Equal(trace.Layers[1].Delta[u], outputDeltas[u].Forms[^1].Evaluate(), 1e-15);
            }
            string text = TraceRenderer.Text(trace);
            Assert.Contains("(E)", text);
        }
    }

    [Fact]
    public void ASeedShapedModelFileGetsTheSeedsDerivationWithItsOwnNumbers()
    {
        // The model file written by a first explain (the "updated" model) explained again: a second step.
        var (_, json, _) = CliRunner.Run("explain", "--format", "json");
        using var doc = JsonDocument.Parse(json);
        string path = Path.Combine(_dir, "after-one-step.json");
        File.WriteAllText(path, doc.RootElement.GetProperty("updated").GetRawText());
        var (code, text, error) = CliRunner.Run("explain", "--model", path);
        Assert.True(code == 0, error);
        Assert.Contains("(35)  ∂E_total/∂V11", text);
        var s = SeedScalar.Default();
        s.StepSimultaneous(0.5);
        s.Forward();
        Assert.Contains($"W11 = {s.W11:G10}", text);       // the parameters the file holds
        Assert.Contains($"= {s.E:G10}", text);             // eq. (10) at the new point
    }
}
