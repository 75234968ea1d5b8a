using System.Numerics;
using Backprop.IO;
using Backprop.Nn;
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
    /// <param name="features">The points, n rows of 2 values, in the plot's (raw) coordinates.</param>
    /// <param name="labels">Class index of each point.</param>
    /// <param name="classNames">Name of each class (its index is the network's output index; for one sigmoid output, class 1 is output &gt; 0.5).</param>
    /// <param name="toNetworkInputs">Maps raw points (rows x 2, row-major) to the network's inputs (e.g. the model's standardisation); null when they are the same.</param>
    public static void Save<T>(string path, Network<T> network, ReadOnlySpan<double> features, IReadOnlyList<int> labels,
        IReadOnlyList<string> classNames, Func<double[], double[]>? toNetworkInputs = null, string title = "Decision regions",
        int resolution = 200, int width = 800, int height = 700)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (network.Inputs != 2)
            throw new BackpropException($"A decision-region plot needs a model with 2 inputs; this one has {network.Inputs}.");
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
        var inputs = toNetworkInputs?.Invoke(grid) ?? grid;
        var batch = new T[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
            batch[i] = T.CreateChecked(inputs[i]);
        var output = network.Forward(batch, resolution * resolution);
        var cells = new double[resolution, resolution];
        int outs = network.Outputs;
        for (int r = 0; r < resolution; r++)
            for (int c = 0; c < resolution; c++)
                cells[r, c] = PredictedClass(output.Slice((r * resolution + c) * outs, outs));

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

    private static int PredictedClass<T>(ReadOnlySpan<T> output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (output.Length == 1)
            return output[0] > T.CreateChecked(0.5) ? 1 : 0;
        int best = 0;
        for (int j = 1; j < output.Length; j++)
            if (output[j] > output[best])
                best = j;
        return best;
    }

    private sealed class ClassColormap(IPalette palette, int classes) : IColormap
    {
        public string Name => "classes";

        public Color GetColor(double normalized) =>
            palette.GetColor((int)Math.Round(Math.Clamp(normalized, 0, 1) * (classes - 1)));
    }
}
