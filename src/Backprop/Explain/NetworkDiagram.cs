using System.Globalization;
using System.Numerics;
using System.Security;
using System.Text;
using Backprop.Nn;

namespace Backprop.Explain;

/// <summary>What <see cref="NetworkDiagram.ToSvg{T}"/> draws.</summary>
public sealed record DiagramOptions
{
    /// <summary>Use the seed document's names (X, H/P, Q/O, V, W, b1, b2); default: when the network has the seed's shape.</summary>
    public bool? SeedNames { get; init; }

    /// <summary>Show the values of the last forward pass (first sample) in the neurons. Default true.</summary>
    public bool ShowValues { get; init; } = true;

    /// <summary>Colour and size every connection by its gradient from the last backward pass. Default true.</summary>
    public bool ShowGradients { get; init; } = true;

    /// <summary>A title line drawn at the top.</summary>
    public string? Title { get; init; }

    /// <summary>Layers with more units than this are drawn collapsed (first units, then a "more" node). Default 10.</summary>
    public int MaxUnitsPerLayer { get; init; } = 10;
}

/// <summary>
/// Draws a network as the seed's figure does: inputs, hidden and output neurons in columns with their
/// names and values, every connection labelled with its weight and coloured and sized by its gradient,
/// and the biases as nodes of their own. Plain SVG, no dependencies; it reads the network's parameters
/// and the buffers of its last forward and backward pass.
/// </summary>
public static class NetworkDiagram
{
    private const double ColumnGap = 290, RowGap = 118, Radius = 47, Margin = 70, Top = 80;
    private const int MaxLabelledEdges = 12;
    private const string Positive = "#c0392b", Negative = "#2167a6", Neutral = "#7f8c8d";

    /// <summary>
    /// The network as an SVG picture in the document's layout: each neuron with its value from the last forward pass, each
    /// connection labelled with its weight (for small networks) and coloured and sized by its gradient from the last
    /// backward pass.
    /// </summary>
    public static string ToSvg<T>(Network<T> network, DiagramOptions? options = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var o = options ?? new DiagramOptions();
        bool seed = o.SeedNames ?? SeedNetwork.IsSeedShaped(network);
        bool values = o.ShowValues && network.Rows > 0;
        bool gradients = o.ShowGradients && network.Rows > 0 && network.Layers.Any(l => HasAny(l.WeightGradients));
        int max = Math.Max(o.MaxUnitsPerLayer, 3);

        int columns = network.Layers.Count + 1;
        int[] counts = [network.Inputs, .. network.Layers.Select(l => l.Units)];
        int[] shown = counts.Select(c => c > max ? max - 1 : c).ToArray();
        int tallest = shown.Max() + (counts.Any(c => c > max) ? 1 : 0);
        double height = Top + tallest * RowGap + RowGap * 1.2 + 90;
        double width = Margin * 2 + (columns - 1) * ColumnGap + 120;

        double X(int column) => Margin + 60 + column * ColumnGap;
        double Y(int column, int index)
        {
            int n = shown[column] + (counts[column] > shown[column] ? 1 : 0);
            return Top + (tallest - n) * RowGap / 2 + index * RowGap + RowGap / 2;
        }

        double maxGrad = 0;
        if (gradients)
            foreach (var l in network.Layers)
            {
                foreach (var g in l.WeightGradients)
                    maxGrad = Math.Max(maxGrad, Math.Abs(double.CreateChecked(g)));
                foreach (var g in l.BiasGradients)
                    maxGrad = Math.Max(maxGrad, Math.Abs(double.CreateChecked(g)));
            }

        var svg = new StringBuilder();
        svg.Append(Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:0}\" height=\"{height:0}\" viewBox=\"0 0 {width:0} {height:0}\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n"));
        svg.Append("<style>.edge-label{font-size:12px;fill:#222}.name{font-size:15px;font-weight:bold}.value{font-size:11.5px}.note{font-size:12px;fill:#444}</style>\n");
        svg.Append(Inv($"<rect width=\"{width:0}\" height=\"{height:0}\" fill=\"white\"/>\n"));
        if (o.Title is { } title)
            svg.Append(Inv($"<text x=\"{width / 2:0}\" y=\"34\" text-anchor=\"middle\" font-size=\"18\" font-weight=\"bold\">{Esc(title)}</text>\n"));

        // Column headings.
        for (int c = 0; c < columns; c++)
        {
            string heading = c == 0 ? "input layer" : c == columns - 1 ? "output layer" : columns == 3 ? "hidden layer" : $"hidden layer {c}";
            svg.Append(Inv($"<text class=\"note\" x=\"{X(c):0}\" y=\"{Top - 18:0}\" text-anchor=\"middle\">{heading}</text>\n"));
        }

        var labels = new StringBuilder();
        var unlabelled = new List<int>();
        // Connections, under the neurons.
        for (int l = 0; l < network.Layers.Count; l++)
        {
            var layer = network.Layers[l];
            bool labelEdges = shown[l] * shown[l + 1] <= MaxLabelledEdges;
            if (!labelEdges)
                unlabelled.Add(l);
            for (int u = 0; u < shown[l + 1]; u++)
                for (int i = 0; i < shown[l]; i++)
                {
                    double w = double.CreateChecked(layer.Weight(u, i));
                    double g = gradients ? double.CreateChecked(layer.WeightGradients[u * layer.Inputs + i]) : 0;
                    string name = WeightName(seed, l, i, u);
                    var (x1, y1, x2, y2) = (X(l) + Radius, Y(l, i), X(l + 1) - Radius, Y(l + 1, u));
                    svg.Append(Inv($"<line class=\"edge\" data-name=\"{name}\" data-weight=\"{R(w)}\"{(gradients ? Inv($" data-gradient=\"{R(g)}\"") : "")} x1=\"{x1:0.#}\" y1=\"{y1:0.#}\" x2=\"{x2:0.#}\" y2=\"{y2:0.#}\" stroke=\"{Colour(g, gradients)}\" stroke-width=\"{Width(g, maxGrad, gradients):0.##}\" stroke-opacity=\"0.8\"><title>{name} = {R(w)}{(gradients ? $", dE/d{name} = {R(g)}" : "")}</title></line>\n"));
                    if (!labelEdges)
                        continue;
                    // Label a quarter of the way along, where the edges leaving one neuron have fanned apart.
                    double t = 0.24 + 0.05 * (u % 2);
                    double lx = x1 + (x2 - x1) * t, ly = y1 + (y2 - y1) * t;
                    string text = $"{name} = {F(w)}";
                    double tw = text.Length * 6.7 + 8;
                    labels.Append(Inv($"<rect x=\"{lx - tw / 2:0.#}\" y=\"{ly - 9:0.#}\" width=\"{tw:0.#}\" height=\"17\" rx=\"3\" fill=\"white\" fill-opacity=\"0.88\"/>"));
                    labels.Append(Inv($"<text class=\"edge-label\" x=\"{lx:0.#}\" y=\"{ly + 4:0.#}\" text-anchor=\"middle\">{Esc(text)}</text>\n"));
                }
        }

        // Bias nodes: one per layer, below the column that feeds it.
        for (int l = 0; l < network.Layers.Count; l++)
        {
            var layer = network.Layers[l];
            if (layer.Bias == BiasMode.None)
                continue;
            double bx = X(l), by = Top + tallest * RowGap + RowGap * 0.55;
            string bname = seed ? $"b{l + 1}" : $"b[{l}]";
            if (layer.Bias == BiasMode.Shared)
            {
                double b = double.CreateChecked(layer.Biases[0]);
                double g = gradients ? double.CreateChecked(layer.BiasGradients[0]) : 0;
                for (int u = 0; u < shown[l + 1]; u++)
                    svg.Append(Inv($"<line class=\"bias-edge\" x1=\"{bx + 44:0.#}\" y1=\"{by:0.#}\" x2=\"{X(l + 1) - Radius:0.#}\" y2=\"{Y(l + 1, u):0.#}\" stroke=\"{Colour(g, gradients)}\" stroke-width=\"{Width(g, maxGrad, gradients) * 0.7:0.##}\" stroke-dasharray=\"5 4\" stroke-opacity=\"0.6\"/>\n"));
                labels.Append(Inv($"<g class=\"bias\" data-name=\"{bname}\" data-value=\"{R(b)}\"><rect x=\"{bx - 44:0.#}\" y=\"{by - 24:0.#}\" width=\"88\" height=\"48\" rx=\"6\" fill=\"#fdf6e3\" stroke=\"#b58900\"/>"));
                labels.Append(Inv($"<text class=\"name\" x=\"{bx:0.#}\" y=\"{by - 4:0.#}\" text-anchor=\"middle\">{bname}{(layer.TrainableBias ? "" : " (frozen)")}</text>"));
                labels.Append(Inv($"<text class=\"value\" x=\"{bx:0.#}\" y=\"{by + 13:0.#}\" text-anchor=\"middle\">{F(b)}</text>"));
                if (gradients)
                    labels.Append(Inv($"<title>dE/d{bname} = {R(g)}</title>"));
                labels.Append("</g>\n");
            }
            else
            {
                labels.Append(Inv($"<text class=\"note\" x=\"{X(l + 1):0.#}\" y=\"{by + 4:0.#}\" text-anchor=\"middle\">per-unit biases: shown in each neuron</text>\n"));
            }
        }
        svg.Append(labels);

        // Neurons.
        for (int c = 0; c < columns; c++)
        {
            for (int k = 0; k < shown[c]; k++)
            {
                double cx = X(c), cy = Y(c, k);
                string fill = c == 0 ? "#eaf2fb" : c == columns - 1 ? "#fdeeee" : "#eef7ee";
                var (name, lines) = NeuronText(network, seed, values, c, k);
                svg.Append(Inv($"<g class=\"neuron\" data-name=\"{Esc(name)}\"><circle cx=\"{cx:0.#}\" cy=\"{cy:0.#}\" r=\"{Radius}\" fill=\"{fill}\" stroke=\"#333\" stroke-width=\"1.5\"/>"));
                double ty = cy - 6 * lines.Count + (lines.Count == 0 ? 5 : 0);
                svg.Append(Inv($"<text class=\"name\" x=\"{cx:0.#}\" y=\"{ty:0.#}\" text-anchor=\"middle\">{Esc(name)}</text>"));
                foreach (var line in lines)
                {
                    ty += 15;
                    svg.Append(Inv($"<text class=\"value\" x=\"{cx:0.#}\" y=\"{ty:0.#}\" text-anchor=\"middle\">{Esc(line)}</text>"));
                }
                svg.Append("</g>\n");
            }
            if (counts[c] > shown[c])
            {
                double cy = Y(c, shown[c]);
                svg.Append(Inv($"<g class=\"more\"><circle cx=\"{X(c):0.#}\" cy=\"{cy:0.#}\" r=\"{Radius}\" fill=\"#f4f4f4\" stroke=\"#999\" stroke-dasharray=\"4 3\"/><text class=\"value\" x=\"{X(c):0.#}\" y=\"{cy + 4:0.#}\" text-anchor=\"middle\">+{counts[c] - shown[c]} more</text></g>\n"));
            }
        }

        // Legend and notes.
        double ly0 = height - 42;
        var notes = new List<string>();
        if (gradients)
            notes.Add("line colour: sign of dE/dw (red +, blue -); width: |dE/dw| relative to the largest; hover a line for its gradient");
        if (counts.Any(c => c > max))
            notes.Add($"layers wider than {max} units are collapsed: the first {max - 1} units are drawn, the rest counted");
        if (unlabelled.Count > 0)
            notes.Add($"too many connections to label in layer(s) {string.Join(", ", unlabelled.Select(l => l + 1))}: hover a line for its weight");
        if (!values)
            notes.Add("no forward pass yet: neuron values are not shown");
        foreach (var note in notes)
        {
            svg.Append(Inv($"<text class=\"note\" x=\"{Margin / 2:0}\" y=\"{ly0:0.#}\">{Esc(note)}</text>\n"));
            ly0 += 17;
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static (string Name, List<string> Lines) NeuronText<T>(Network<T> net, bool seed, bool values, int column, int k)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var lines = new List<string>();
        if (column == 0)
        {
            string xname = seed ? $"X{k + 1}" : $"x{k + 1}";
            if (values)
                lines.Add(F(double.CreateChecked(net.Input[k])));
            return (xname, lines);
        }
        int l = column - 1;
        var layer = net.Layers[l];
        bool output = l == net.Layers.Count - 1;
        string zname = seed ? (output ? $"Q{k + 1}" : $"H{k + 1}") : $"z{k + 1}";
        string aname = seed ? (output ? $"O{k + 1}" : $"P{k + 1}") : $"a{k + 1}";
        if (values)
        {
            lines.Add($"{zname} = {F(double.CreateChecked(net.PreActivations(l)[k]))}");
            lines.Add($"{aname} = {F(double.CreateChecked(net.Activations(l)[k]))}");
        }
        if (layer.Bias == BiasMode.PerUnit)
            lines.Add($"b = {F(double.CreateChecked(layer.Biases[k]))}");
        string title = seed ? $"{zname} / {aname}" : (output ? $"out {k + 1}" : $"h{l + 1}.{k + 1}");
        return (title, lines);
    }

    private static string WeightName(bool seed, int layer, int input, int unit) =>
        seed ? $"{(layer == 0 ? "V" : "W")}{input + 1}{unit + 1}" : $"w{layer + 1}[{unit + 1},{input + 1}]";

    private static bool HasAny<T>(Span<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var v in values)
            if (v != T.Zero)
                return true;
        return false;
    }

    private static string Colour(double g, bool gradients) => !gradients || g == 0 ? Neutral : g > 0 ? Positive : Negative;

    private static double Width(double g, double max, bool gradients) =>
        !gradients || max == 0 ? 1.6 : 1 + 6 * Math.Sqrt(Math.Abs(g) / max);

    private static string F(double v) => Math.Abs(v) is >= 1e-4 and < 1e5 or 0
        ? v.ToString("0.####", CultureInfo.InvariantCulture)
        : v.ToString("0.###E+0", CultureInfo.InvariantCulture);

    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string Esc(string s) => SecurityElement.Escape(s);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
