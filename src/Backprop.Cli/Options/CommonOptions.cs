using System.CommandLine;

namespace Backprop.Cli.Options;

/// <summary>The options several commands share, each declared once here with one type.</summary>
public static class CommonOptions
{
    /// <summary>--model FILE: a model file (JSON, docs/model-format.md) to read.</summary>
    public static Option<string?> Model(string description, bool required = false) =>
        new("--model") { Description = description, HelpName = "FILE", Required = required };

    /// <summary>--lr ETA: a learning rate, a positive finite number (checked by each command's settings).</summary>
    public static Option<double?> LearningRate(string description) =>
        new("--lr") { Description = description, HelpName = "ETA" };

    /// <summary>--json: results as JSON lines (docs/cli.md lists the fields).</summary>
    public static Option<bool> Json(string description) => new("--json") { Description = description };

    /// <summary>Checks a learning rate: positive and finite.</summary>
    public static void RequirePositive(string option, double? value)
    {
        if (value is { } v && !(v > 0 && double.IsFinite(v)))
            throw new BackpropException($"{option} must be a positive number, got {v.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
    }
}
