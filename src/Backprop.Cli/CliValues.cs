using System.Globalization;

namespace Backprop.Cli;

/// <summary>Parses the number lists given on the command line (<c>--input 0.05,0.10</c>).</summary>
public static class CliValues
{
    /// <summary>Comma-separated numbers; exactly <paramref name="expected"/> of them when it is given.</summary>
    public static double[] List(string option, string text, int? expected = null)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
                throw new BackpropException($"{option}: '{parts[i]}' (value {i + 1}) is not a finite number; expected comma-separated numbers like 0.05,0.10.");
        }
        if (expected is { } n && values.Length != n)
            throw new BackpropException($"{option}: expected {n} comma-separated numbers, got {values.Length}.");
        return values;
    }

    /// <summary>Samples separated by ';', each a comma-separated list of <paramref name="width"/> numbers, row-major.</summary>
    public static (double[] Values, int Rows) Rows(string option, string text, int width)
    {
        var rows = text.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (rows.Length == 0)
            throw new BackpropException($"{option}: no values given.");
        var all = new List<double>();
        for (int r = 0; r < rows.Length; r++)
            all.AddRange(List(rows.Length == 1 ? option : $"{option} sample {r + 1}", rows[r], width));
        return (all.ToArray(), rows.Length);
    }
}
