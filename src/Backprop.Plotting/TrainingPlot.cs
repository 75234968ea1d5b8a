using Backprop.IO;
using ScottPlot;

namespace Backprop.Plotting;

/// <summary>The loss (and, for classification, accuracy) of a training run per epoch, as a PNG.</summary>
public static class TrainingPlot
{
    /// <summary>
    /// Draws training (and validation) loss per epoch on the left axis and, when given, accuracy on the right
    /// axis, with labelled axes and a legend, and writes the PNG atomically to <paramref name="path"/>.
    /// </summary>
    public static void SaveLossCurve(string path, IReadOnlyList<double> trainLoss, IReadOnlyList<double>? validationLoss = null,
        IReadOnlyList<double>? trainAccuracy = null, IReadOnlyList<double>? validationAccuracy = null,
        string title = "Training", int width = 900, int height = 560)
    {
        if (trainLoss.Count == 0)
            throw new BackpropException("There is no epoch to plot: the training loss history is empty.");
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        AddLine(plot, trainLoss, "training loss", palette.GetColor(0), LinePattern.Solid, null);
        if (validationLoss is { Count: > 0 })
            AddLine(plot, validationLoss, "validation loss", palette.GetColor(1), LinePattern.Solid, null);
        bool accuracy = trainAccuracy is { Count: > 0 } || validationAccuracy is { Count: > 0 };
        if (trainAccuracy is { Count: > 0 })
            AddLine(plot, trainAccuracy, "training accuracy", palette.GetColor(0), LinePattern.Dashed, plot.Axes.Right);
        if (validationAccuracy is { Count: > 0 })
            AddLine(plot, validationAccuracy, "validation accuracy", palette.GetColor(1), LinePattern.Dashed, plot.Axes.Right);

        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel("loss");
        if (accuracy)
        {
            plot.Axes.Right.Label.Text = "accuracy";
            plot.Axes.SetLimitsY(0, 1.02, plot.Axes.Right);
        }
        plot.Axes.Margins(0.02, 0.08);
        if (accuracy)
            plot.Axes.SetLimitsY(0, 1.02, plot.Axes.Right);
        // Middle right: the loss falls to the bottom and the accuracy rises to the top, so the middle stays clear.
        plot.ShowLegend(Alignment.MiddleRight);
        AtomicFile.Write(path, s => s.Write(plot.GetImageBytes(width, height, ImageFormat.Png)));
    }

    private static void AddLine(Plot plot, IReadOnlyList<double> values, string label, Color color, LinePattern pattern,
        ScottPlot.IYAxis? yAxis)
    {
        var xs = Enumerable.Range(1, values.Count).Select(i => (double)i).ToArray();
        var line = plot.Add.ScatterLine(xs, values.ToArray());
        line.LegendText = label;
        line.Color = color;
        line.LineWidth = 2;
        line.LinePattern = pattern;
        if (yAxis is not null)
            line.Axes.YAxis = yAxis;
    }
}
