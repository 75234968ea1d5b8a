using Backprop.IO;
using ScottPlot;

namespace Backprop.Plotting;

/// <summary>Permutation feature importance as a horizontal bar chart (the most important column on top), as a PNG.</summary>
public static class ImportancePlot
{
    /// <summary>
    /// Draws one bar per column (its mean importance, with the spread over the repeats as an error bar), sorted with the
    /// largest on top, and writes the PNG atomically to <paramref name="path"/>.
    /// </summary>
    /// <param name="path">The PNG file.</param>
    /// <param name="columns">The column names.</param>
    /// <param name="means">Each column's mean importance.</param>
    /// <param name="spreads">Each column's standard deviation over the repeats.</param>
    /// <param name="title">The title.</param>
    /// <param name="measure">What the importance measures, for the axis label (e.g. "accuracy drop").</param>
    /// <param name="width">Pixels.</param>
    /// <param name="height">Pixels (null: by the column count).</param>
    public static void SaveBarChart(string path, IReadOnlyList<string> columns, IReadOnlyList<double> means, IReadOnlyList<double> spreads,
        string title, string measure, int width = 900, int? height = null)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(means);
        ArgumentNullException.ThrowIfNull(spreads);
        if (columns.Count == 0 || columns.Count != means.Count || columns.Count != spreads.Count)
            throw new BackpropException($"An importance chart needs one mean and one spread per column, got {columns.Count} columns, {means.Count} means and {spreads.Count} spreads.");
        // The top 40 columns: more bars than that cannot be read.
        var order = Enumerable.Range(0, columns.Count).OrderBy(i => means[i]).ThenByDescending(i => i).ToList();
        if (order.Count > 40)
            order = order.Skip(order.Count - 40).ToList();
        var plot = new Plot();
        var color = new ScottPlot.Palettes.Category10().GetColor(0);
        var bars = order.Select((c, k) => new Bar { Position = k, Value = means[c], Error = spreads[c], FillColor = color }).ToList();
        var barPlot = plot.Add.Bars(bars);
        barPlot.Horizontal = true;
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int k = 0; k < order.Count; k++)
            ticks.AddMajor(k, columns[order[k]]);
        plot.Axes.Left.TickGenerator = ticks;
        plot.Title(title);
        plot.XLabel(measure);
        plot.Axes.Margins(0.05, 0.02);
        AtomicFile.Write(path, s => s.Write(plot.GetImageBytes(width, height ?? Math.Max(300, 90 + 24 * order.Count), ImageFormat.Png)));
    }
}
