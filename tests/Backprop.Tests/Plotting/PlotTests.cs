using Backprop.IO;
using Backprop.Data;
using Backprop.Nn;
using Backprop.Training;
using Backprop.Plotting;

namespace Backprop.Tests.Plotting;

public sealed class PlotTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("backprop-plot-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Width, int Height) PngSize(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        int W(int o) => (bytes[o] << 24) | (bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3];
        return (W(16), W(20));
    }

    [Fact]
    public void LossCurveIsAPngOfTheRequestedSize()
    {
        string path = Path.Combine(_dir, "loss.png");
        TrainingPlot.SaveLossCurve(path, [1.0, 0.5, 0.3, 0.2], [1.1, 0.6, 0.4, 0.35], [0.5, 0.7, 0.9, 1.0], null, width: 640, height: 400);
        Assert.Equal((640, 400), PngSize(path));
        Assert.True(new FileInfo(path).Length > 5000);
    }

    [Fact]
    public void EmptyHistoryIsAClearError()
    {
        Assert.Throws<BackpropException>(() => TrainingPlot.SaveLossCurve(Path.Combine(_dir, "x.png"), []));
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void DecisionRegionsArePlottedForATwoInputClassifierOnly()
    {
        var net = Network<double>.Create(2, [new LayerSpec(4, Activation.Tanh), new LayerSpec(3, Activation.Softmax)], Loss.CrossEntropy, 2);
        double[] x = [0, 0, 1, 1, -1, 0.5, 0.3, -0.2];
        string path = Path.Combine(_dir, "b.png");
        var model = Model<double>.FromNetwork(net, TaskKind.Classification, classNames: ["a", "b", "c"]);
        DecisionBoundaryPlot.Save(path, model, x, [0, 1, 2, 1], resolution: 50, width: 500, height: 450);
        Assert.Equal((500, 450), PngSize(path));

        var three = Network<double>.Create(3, [new LayerSpec(2, Activation.Softmax)], Loss.CrossEntropy, 2);
        var e = Assert.Throws<BackpropException>(() => DecisionBoundaryPlot.Save(Path.Combine(_dir, "c.png"),
            Model<double>.FromNetwork(three, TaskKind.Classification, classNames: ["a", "b"]), x, [0, 1, 0, 1]));
        Assert.Contains("2 inputs", e.Message);
    }
}
