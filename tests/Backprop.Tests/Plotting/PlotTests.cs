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

    // ScottPlot's Category10 palette, which TrainingPlot gives the training and the validation curves.
    private static readonly (byte R, byte G, byte B) TrainingBlue = (0x1F, 0x77, 0xB4), ValidationOrange = (0xFF, 0x7F, 0x0E);

    private Png LossCurve(string name, double[] train, double[]? validation = null, double[]? accuracy = null)
    {
        string path = Path.Combine(_dir, name);
        TrainingPlot.SaveLossCurve(path, train, validation, accuracy, null, width: 640, height: 400);
        return Png.Read(path);
    }

    [Fact]
    public void LossCurveIsAPngOfTheRequestedSize()
    {
        var png = LossCurve("loss.png", [1.0, 0.5, 0.3, 0.2], [1.1, 0.6, 0.4, 0.35], [0.5, 0.7, 0.9, 1.0]);
        Assert.Equal((640, 400), (png.Width, png.Height));
        // Both curves are drawn in their colours (lines two pixels wide, so some pixels are the colour exactly).
        Assert.True(png.Count(TrainingBlue.R, TrainingBlue.G, TrainingBlue.B) > 100, "no training-loss curve in the image");
        Assert.True(png.Count(ValidationOrange.R, ValidationOrange.G, ValidationOrange.B) > 100, "no validation-loss curve in the image");
        Assert.Equal(0, LossCurve("train-only.png", [1.0, 0.5, 0.3, 0.2]).Count(ValidationOrange.R, ValidationOrange.G, ValidationOrange.B));
    }

    [Fact]
    public void DifferentHistoriesDrawDifferentImages()
    {
        var a = LossCurve("a.png", [1.0, 0.5, 0.3, 0.2]);
        var again = LossCurve("again.png", [1.0, 0.5, 0.3, 0.2]);
        var b = LossCurve("b.png", [1.0, 0.9, 0.1, 0.05]);
        // Drawing is deterministic, so "different" below is the data's doing.
        Assert.Equal(a.Rgba, again.Rgba);
        int differing = Enumerable.Range(0, a.Width * a.Height).Count(p => a.Pixel(p % a.Width, p / a.Width) != b.Pixel(p % a.Width, p / a.Width));
        Assert.True(differing > 500, $"only {differing} pixels differ between two different loss curves");
    }

    [Fact]
    public void TheReaderRejectsACorruptedImage()
    {
        string path = Path.Combine(_dir, "c.png");
        TrainingPlot.SaveLossCurve(path, [1.0, 0.5], width: 200, height: 120);
        var bytes = File.ReadAllBytes(path);
        Png.Decode(bytes);
        bytes[bytes.Length / 2] ^= 0x10;
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Png.Decode(bytes));
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Png.Decode(bytes[..^12])); // no IEND
    }

    [Fact]
    public void EmptyHistoryIsAClearError()
    {
        Assert.StartsWith("There is no epoch to plot", Assert.Throws<BackpropException>(() => TrainingPlot.SaveLossCurve(Path.Combine(_dir, "x.png"), [])).Message);
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
        var png = Png.Read(path);
        Assert.Equal((500, 450), (png.Width, png.Height));
        // Another network draws other regions.
        var other = Network<double>.Create(2, [new LayerSpec(4, Activation.Tanh), new LayerSpec(3, Activation.Softmax)], Loss.CrossEntropy, 3);
        string otherPath = Path.Combine(_dir, "b3.png");
        DecisionBoundaryPlot.Save(otherPath, Model<double>.FromNetwork(other, TaskKind.Classification, classNames: ["a", "b", "c"]), x, [0, 1, 2, 1],
            resolution: 50, width: 500, height: 450);
        Assert.NotEqual(png.Rgba, Png.Read(otherPath).Rgba);

        var three = Network<double>.Create(3, [new LayerSpec(2, Activation.Softmax)], Loss.CrossEntropy, 2);
        var e = Assert.Throws<BackpropException>(() => DecisionBoundaryPlot.Save(Path.Combine(_dir, "c.png"),
            Model<double>.FromNetwork(three, TaskKind.Classification, classNames: ["a", "b"]), x, [0, 1, 0, 1]));
        Assert.Contains("2 inputs", e.Message);
    }
}
