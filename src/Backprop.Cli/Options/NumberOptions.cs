using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Backprop.Cli.Options;

/// <summary>
/// One strict parser for every numeric option of the command tree: a number is written with a point, as in the docs
/// and every file the tool reads. The default parser took a comma for a thousands separator, so <c>--lr 0,001</c>
/// trained at a rate of 1 and <c>--l2 1,5</c> at 15 without a word, and a word gave .NET's type name
/// (<c>System.Nullable`1[System.Double]</c>) as the error.
/// </summary>
internal static class NumberOptions
{
    /// <summary>Gives every numeric option below <paramref name="command"/> that has no parser of its own the strict one.</summary>
    public static void Install(Command command)
    {
        foreach (var option in command.Options)
        {
            switch (option)
            {
                case Option<double> d when d.CustomParser is null:
                    d.CustomParser = r => TryReal(r, out double v) ? v : 0;
                    break;
                case Option<double?> d when d.CustomParser is null:
                    d.CustomParser = r => r.Tokens.Count == 0 ? null : TryReal(r, out double v) ? v : null;
                    break;
                case Option<int> n when n.CustomParser is null:
                    n.CustomParser = r => TryWhole(r, out long v) && v is >= int.MinValue and <= int.MaxValue ? (int)v : Fail(r, 0);
                    break;
                case Option<int?> n when n.CustomParser is null:
                    n.CustomParser = r => r.Tokens.Count == 0 ? null : TryWhole(r, out long v) && v is >= int.MinValue and <= int.MaxValue ? (int)v : Fail<int?>(r, null);
                    break;
                case Option<long> n when n.CustomParser is null:
                    n.CustomParser = r => TryWhole(r, out long v) ? v : 0;
                    break;
            }
        }
        foreach (var sub in command.Subcommands)
            Install(sub);
    }

    private static string Text(ArgumentResult r) => r.Tokens.Count == 0 ? "" : r.Tokens[^1].Value;

    private static string Name(ArgumentResult r) => (r.Parent as OptionResult)?.Option.Name ?? "the option";

    private static bool TryReal(ArgumentResult r, out double value)
    {
        string text = Text(r);
        if (double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out value))
            return true;
        string hint = text.Contains(',', StringComparison.Ordinal) ? $" (write it with a point: {text.Replace(',', '.')})" : "";
        r.AddError($"{Name(r)}: '{text}' is not a number{hint}");
        return false;
    }

    private static bool TryWhole(ArgumentResult r, out long value)
    {
        if (long.TryParse(Text(r).Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
            return true;
        r.AddError($"{Name(r)}: '{Text(r)}' is not a whole number");
        return false;
    }

    private static T Fail<T>(ArgumentResult r, T fallback)
    {
        // A whole number, but past int's range (TryWhole added nothing): say so.
        if (long.TryParse(Text(r).Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            r.AddError($"{Name(r)}: '{Text(r)}' is out of range (at most {int.MaxValue:N0})");
        return fallback;
    }
}
