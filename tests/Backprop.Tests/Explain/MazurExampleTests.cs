using System.Text.Json;

namespace Backprop.Tests.Explain;

/// <summary>
/// Matt Mazur's published step-by-step backpropagation example: a 2-2-2 sigmoid network with one frozen bias per
/// layer (b1 = 0.35, b2 = 0.60), w1..w8 = .15 .20 .25 .30 .40 .45 .50 .55, inputs .05 .10, targets .01 .99,
/// eta = 0.5. `backprop explain --model` on it must reproduce a hand calculation in both update orders, and
/// the published figures.
/// </summary>
public sealed class MazurExampleTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("backprop-mazur-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Model = """
        {
          "format": "backprop-model",
          "version": 1,
          "inputs": 2,
          "loss": "half-sse",
          "layers": [
            { "units": 2, "activation": "sigmoid", "bias": "shared", "trainable_bias": false,
              "weights": [[0.15, 0.20], [0.25, 0.30]], "biases": [0.35] },
            { "units": 2, "activation": "sigmoid", "bias": "shared", "trainable_bias": false,
              "weights": [[0.40, 0.45], [0.50, 0.55]], "biases": [0.60] }
          ]
        }
        """;

    /// <summary>The hand calculation, in Mazur's names; returns w1..w8 after one step and the loss before it.</summary>
    private static (double[] W, double E) Hand(bool sequential)
    {
        double w1 = .15, w2 = .20, w3 = .25, w4 = .30, w5 = .40, w6 = .45, w7 = .50, w8 = .55, b1 = .35, b2 = .60;
        double i1 = .05, i2 = .10, t1 = .01, t2 = .99, eta = .5;
        static double S(double x) => 1 / (1 + Math.Exp(-x));
        double outH1 = S(w1 * i1 + w2 * i2 + b1);
        double outH2 = S(w3 * i1 + w4 * i2 + b1);
        double outO1 = S(w5 * outH1 + w6 * outH2 + b2);
        double outO2 = S(w7 * outH1 + w8 * outH2 + b2);
        double e = 0.5 * (t1 - outO1) * (t1 - outO1) + 0.5 * (t2 - outO2) * (t2 - outO2);
        // dE/dnet_o = -(target - out) * out * (1 - out)
        double dO1 = -(t1 - outO1) * outO1 * (1 - outO1);
        double dO2 = -(t2 - outO2) * outO2 * (1 - outO2);
        double n5 = w5 - eta * dO1 * outH1, n6 = w6 - eta * dO1 * outH2;
        double n7 = w7 - eta * dO2 * outH1, n8 = w8 - eta * dO2 * outH2;
        // The hidden error goes back through w5..w8: the old ones (backpropagation) or the new ones (sequential).
        double u5 = sequential ? n5 : w5, u6 = sequential ? n6 : w6, u7 = sequential ? n7 : w7, u8 = sequential ? n8 : w8;
        double dH1 = (dO1 * u5 + dO2 * u7) * outH1 * (1 - outH1);
        double dH2 = (dO1 * u6 + dO2 * u8) * outH2 * (1 - outH2);
        double n1 = w1 - eta * dH1 * i1, n2 = w2 - eta * dH1 * i2;
        double n3 = w3 - eta * dH2 * i1, n4 = w4 - eta * dH2 * i2;
        return ([n1, n2, n3, n4, n5, n6, n7, n8], e);
    }

    private (double[] W, double[] B, double Loss) Explain(string order)
    {
        string path = Path.Combine(_dir, "mazur.json");
        File.WriteAllText(path, Model);
        var (code, output, error) = CliRunner.Run("explain", "--model", path, "--input", "0.05,0.10", "--target", "0.01,0.99",
            "--lr", "0.5", "--update-order", order, "--format", "json");
        Assert.True(code == 0, error);
        using var doc = JsonDocument.Parse(output);
        var layers = doc.RootElement.GetProperty("updated").GetProperty("layers");
        var w = new List<double>();
        var b = new List<double>();
        foreach (var layer in layers.EnumerateArray())
        {
            foreach (var row in layer.GetProperty("weights").EnumerateArray())
                w.AddRange(row.EnumerateArray().Select(v => v.GetDouble()));
            b.AddRange(layer.GetProperty("biases").EnumerateArray().Select(v => v.GetDouble()));
        }
        return ([.. w], [.. b], doc.RootElement.GetProperty("loss").GetDouble());
    }

    [Theory]
    [InlineData("simultaneous", false)]
    [InlineData("sequential", true)]
    public void OneStepReproducesTheHandCalculation(string order, bool sequential)
    {
        var (w, b, loss) = Explain(order);
        var (hand, e) = Hand(sequential);
        Assert.Equal(e, loss, 1e-12);
        for (int k = 0; k < 8; k++)
            Assert.True(Math.Abs(hand[k] - w[k]) <= 1e-12, $"w{k + 1}: {w[k]:R} vs hand {hand[k]:R}");
        Assert.Equal([0.35, 0.60], b); // frozen biases keep their values exactly
    }

    [Fact]
    public void TheOrdersDifferOnlyInTheHiddenLayer()
    {
        var (sim, _, _) = Explain("simultaneous");
        var (seq, _, _) = Explain("sequential");
        for (int k = 4; k < 8; k++)
            Assert.Equal(sim[k], seq[k]);
        for (int k = 0; k < 4; k++)
            Assert.True(Math.Abs(sim[k] - seq[k]) > 1e-7, $"w{k + 1} should differ between the orders");
    }

    [Fact]
    public void MatchesMazursPublishedFigures()
    {
        var (w, _, loss) = Explain("simultaneous");
        Assert.Equal(0.298371109, loss, 5e-10);   // E_total before the update
        Assert.Equal(0.35891648, w[4], 5e-9);      // w5+
        Assert.Equal(0.149780716, w[0], 5e-10);    // w1+
    }

    [Fact]
    public void TextTraceOfASmallModelShowsEveryUnitWithGenericNames()
    {
        string path = Path.Combine(_dir, "mazur.json");
        File.WriteAllText(path, Model);
        var (code, output, _) = CliRunner.Run("explain", "--model", path);
        Assert.Equal(0, code);
        Assert.Contains("z1[1] = w1[1,1] * x[1] + w1[1,2] * x[2] + b1", output);
        Assert.Contains("= 0.2983711088", output);                           // E, Mazur's 0.298371109
        Assert.Contains("δ1[2] = (w2[1,2] * δ2[1] + w2[2,2] * δ2[2]) * a1[2] * (1 - a1[2])", output);
        Assert.Contains("0.35 (frozen)", output);
        Assert.DoesNotContain("V11", output);
    }
}
