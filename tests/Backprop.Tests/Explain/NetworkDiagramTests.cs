using System.Xml.Linq;
using Backprop.Explain;
using Backprop.Nn;

namespace Backprop.Tests.Explain;

public sealed class NetworkDiagramTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static XDocument Draw<T>(Network<T> net, DiagramOptions? o = null) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        XDocument.Parse(NetworkDiagram.ToSvg(net, o));

    private static IEnumerable<XElement> WithClass(XDocument doc, string cls) =>
        doc.Descendants().Where(e => (string?)e.Attribute("class") == cls);

    [Fact]
    public void SeedDiagramHasOneNodePerNeuronAndOneLabelledEdgePerWeight()
    {
        var net = SeedNetwork.Create<double>();
        net.Forward([0.05, 0.10], 1);
        net.Backward([0.01, 0.99]);
        var doc = Draw(net);
        Assert.Equal(Svg + "svg", doc.Root!.Name);

        var neurons = WithClass(doc, "neuron").Select(e => (string)e.Attribute("data-name")!).ToArray();
        Assert.Equal(["X1", "X2", "H1 / P1", "H2 / P2", "H3 / P3", "Q1 / O1", "Q2 / O2"], neurons);

        var edges = WithClass(doc, "edge").ToDictionary(e => (string)e.Attribute("data-name")!);
        Assert.Equal(12, edges.Count);
        for (int i = 1; i <= 2; i++)
            for (int j = 1; j <= 3; j++)
            {
                var e = edges[$"V{i}{j}"];
                Assert.Equal(SeedNetwork.V(net, i, j), double.Parse((string)e.Attribute("data-weight")!, System.Globalization.CultureInfo.InvariantCulture));
                Assert.Equal(SeedNetwork.GradV(net, i, j), double.Parse((string)e.Attribute("data-gradient")!, System.Globalization.CultureInfo.InvariantCulture));
            }
        for (int i = 1; i <= 3; i++)
            for (int j = 1; j <= 2; j++)
                Assert.Equal(SeedNetwork.W(net, i, j), double.Parse((string)edges[$"W{i}{j}"].Attribute("data-weight")!, System.Globalization.CultureInfo.InvariantCulture));

        var labels = WithClass(doc, "edge-label").Select(e => e.Value).ToArray();
        Assert.Contains("V11 = 0.15", labels);
        Assert.Contains("W32 = 0.7", labels);
        Assert.Equal(["b1", "b2"], WithClass(doc, "bias").Select(e => (string)e.Attribute("data-name")!));
        Assert.Contains(doc.Descendants(Svg + "text"), t => t.Value == "H1 = 0.3775");
        // dE/dW11 > 0 and dE/dW12 < 0 at the default values: drawn red and blue.
        Assert.Equal("#c0392b", (string)edges["W11"].Attribute("stroke")!);
        Assert.Equal("#2167a6", (string)edges["W12"].Attribute("stroke")!);
    }

    [Fact]
    public void WideLayersCollapseWithANoteAndGenericNames()
    {
        var net = Network<double>.Create(4, [new LayerSpec(30, Activation.Relu), new LayerSpec(3, Activation.Softmax)], Loss.CrossEntropy, 1);
        var doc = Draw(net);
        Assert.Equal(4 + 9 + 3, WithClass(doc, "neuron").Count());
        Assert.Single(WithClass(doc, "more"));
        Assert.Equal(4 * 9 + 9 * 3, WithClass(doc, "edge").Count());
        Assert.Contains(doc.Descendants(Svg + "text"), t => t.Value.Contains("collapsed"));
        Assert.Contains(doc.Descendants(Svg + "text"), t => t.Value.Contains("no forward pass yet"));
        Assert.Empty(WithClass(doc, "edge-label"));
    }
}

public sealed class ExplainSvgOptionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("backprop-svg-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ExplainSvgDrawsTheStateBeforeOrAfterTheUpdate()
    {
        string before = Path.Combine(_dir, "before.svg"), after = Path.Combine(_dir, "after.svg");
        var (code, _, err) = Backprop.Tests.Cli.CliTests.Run("explain", "--svg", before);
        Assert.Equal(0, code);
        Assert.Equal("", err);
        (code, _, _) = Backprop.Tests.Cli.CliTests.Run("explain", "--svg", after, "--svg-after");
        Assert.Equal(0, code);

        static double V11(string path) => double.Parse(
            (string)System.Xml.Linq.XDocument.Load(path).Descendants()
                .Single(e => (string?)e.Attribute("data-name") == "V11" && (string?)e.Attribute("class") == "edge")
                .Attribute("data-weight")!, System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(0.15, V11(before));
        // After one simultaneous update: V11 - eta * dE/dV11, from the scalar oracle of the seed's equations.
        var s = SeedScalar.Default();
        s.StepSimultaneous(0.5);
        Assert.NotEqual(0.15, s.V11);
        Assert.Equal(s.V11, V11(after), 1e-15);
    }
}
