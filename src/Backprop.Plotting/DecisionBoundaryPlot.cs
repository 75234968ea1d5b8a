using System.Numerics;
using Backprop.Data;
using Backprop.IO;
using Backprop.Training;
using ScottPlot;

namespace Backprop.Plotting;

/// <summary>
/// The decision regions of a classifier with two inputs, with the data points on top, as TensorFlow
/// Playground shows them.
/// </summary>
public static class DecisionBoundaryPlot
{
    /// <summary>
    /// Colours every cell of a <paramref name="resolution"/> x <paramref name="resolution"/> grid over the data's
    /// range (plus a margin) by the class the network predicts there, draws the points coloured by their
    /// label, and writes the PNG atomically.
    /// </summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="model">A classifier with 2 inputs; its pipeline (preprocessing) maps the plot's raw coordinates to the network.</param>
    /// <param name="features">The points, n rows of 2 values, in the plot's (raw) coordinates.</param>
    /// <param name="labels">Class index of each point (into the model's classes).</param>
    /// <param name="title">The plot's title.</param>
    /// <param name="resolution">Grid cells per side.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    public static void Save<T>(string path, Model<T> model, ReadOnlySpan<double> features, IReadOnlyList<int> labels,
        string title = "Decision regions", int resolution = 200, int width = 800, int height = 700)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Task != TaskKind.Classification)
            throw new BackpropException("Decision regions need a classifier; this model is a regressor.");
        if (model.Schema.Features != 2)
            throw new BackpropException($"A decision-region plot needs a model with 2 inputs; this one has {model.Schema.Features}.");
        var classNames = model.ClassNames;
        int n = labels.Count;
        if (features.Length != 2 * n || n == 0)
            throw new BackpropException($"Expected {2 * n} feature values for {n} points, got {features.Length}.");
        int classes = Math.Max(classNames.Count, 2);
        double xMin = double.MaxValue, xMax = double.MinValue, yMin = double.MaxValue, yMax = double.MinValue;
        for (int i = 0; i < n; i++)
        {
            xMin = Math.Min(xMin, features[2 * i]);
            xMax = Math.Max(xMax, features[2 * i]);
            yMin = Math.Min(yMin, features[2 * i + 1]);
            yMax = Math.Max(yMax, features[2 * i + 1]);
        }
        double padX = Math.Max(0.1 * (xMax - xMin), 1e-3), padY = Math.Max(0.1 * (yMax - yMin), 1e-3);
        (xMin, xMax, yMin, yMax) = (xMin - padX, xMax + padX, yMin - padY, yMax + padY);

        // One batch for the whole grid; row 0 of the heatmap is the top (largest y).
        var grid = new double[resolution * resolution * 2];
        for (int r = 0; r < resolution; r++)
            for (int c = 0; c < resolution; c++)
            {
                int k = (r * resolution + c) * 2;
                grid[k] = xMin + (c + 0.5) * (xMax - xMin) / resolution;
                grid[k + 1] = yMax - (r + 0.5) * (yMax - yMin) / resolution;
            }
        var predicted = model.PredictClasses(Dataset.Unlabelled(grid, 2, "grid"));
        var cells = new double[resolution, resolution];
        for (int r = 0; r < resolution; r++)
            for (int c = 0; c < resolution; c++)
                cells[r, c] = predicted[r * resolution + c];

        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var heatmap = plot.Add.Heatmap(cells);
        heatmap.Extent = new CoordinateRect(xMin, xMax, yMin, yMax);
        heatmap.Colormap = new ClassColormap(palette, classes);
        heatmap.ManualRange = new ScottPlot.Range(0, classes - 1);
        heatmap.Opacity = 0.35;
        for (int k = 0; k < classes; k++)
        {
            var xs = new List<double>();
            var ys = new List<double>();
            for (int i = 0; i < n; i++)
                if (labels[i] == k)
                {
                    xs.Add(features[2 * i]);
                    ys.Add(features[2 * i + 1]);
                }
            if (xs.Count == 0)
                continue;
            var points = plot.Add.ScatterPoints(xs.ToArray(), ys.ToArray());
            points.Color = palette.GetColor(k);
            points.MarkerSize = 6;
            points.MarkerLineColor = Colors.White;
            points.MarkerLineWidth = 0.8f;
            points.LegendText = k < classNames.Count ? classNames[k] : $"class {k}";
        }
        plot.Title(title);
        plot.XLabel("x1");
        plot.YLabel("x2");
        plot.Axes.SetLimits(xMin, xMax, yMin, yMax);
        plot.ShowLegend(Alignment.UpperRight);
        AtomicFile.Write(path, s => s.Write(plot.GetImageBytes(width, height, ImageFormat.Png)));
    }

    private sealed class ClassColormap(IPalette palette, int classes) : IColormap
    {
        public string Name => "classes";

        public Color GetColor(double normalized) =>
            palette.GetColor((int)Math.Round(Math.Clamp(normalized, 0, 1) * (classes - 1)));
    }
}
