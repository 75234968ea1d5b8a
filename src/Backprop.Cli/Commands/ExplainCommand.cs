using System.CommandLine;
using System.Globalization;
using Backprop.Explain;
using Backprop.Explain.Rendering;
using Backprop.IO;
using Backprop.Nn;
using Spectre.Console;

namespace Backprop.Cli.Commands;

/// <summary>
/// `backprop explain`: one forward pass, backward pass and update of the seed network (or of a model file),
/// equation by equation with the engine's own numbers, as text, markdown or JSON, in English or Chinese.
/// </summary>
public static class ExplainCommand
{
    /// <summary>The output formats.</summary>
    public enum Format
    {
        Text,
        Markdown,
        Json,
    }

    /// <summary>The parsed options.</summary>
    public sealed record Options(string? Model, ExplainSettings Settings, Format Format, ExplainLanguage Language, string? Out);

    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string?>("--model") { Description = "A model file to explain instead of the seed network." };
        var input = new Option<string?>("--input") { Description = "The sample's inputs, comma-separated (default 0.05,0.10)." };
        var target = new Option<string?>("--target") { Description = "The sample's targets, comma-separated (default 0.01,0.99)." };
        var lr = new Option<string?>("--lr") { Description = "Learning rate eta (default 0.5)." };
        var order = new Option<string?>("--update-order")
        {
            Description = "simultaneous (real backpropagation, the default) or sequential (the seed document's order).",
        };
        var steps = new Option<string?>("--steps") { Description = "Number of updates; the first is shown in full, the loss after every one (default 1)." };
        var format = new Option<string?>("--format") { Description = "text (default), markdown or json." };
        var lang = new Option<string?>("--lang") { Description = "en (default) or zh." };
        var outFile = new Option<string?>("--out") { Description = "Write to this file (atomically) instead of the terminal." };
        var command = new Command("explain",
            "Show one forward pass, backward pass and update as a derivation: the seed document's equations (1)-(35) " +
            "with the engine's numbers, its slips proved by finite differences, every gradient; or any model file per layer.");
        (model.HelpName, input.HelpName, target.HelpName, lr.HelpName) = ("FILE", "X1,X2,...", "Y1,Y2,...", "ETA");
        (order.HelpName, steps.HelpName, format.HelpName, lang.HelpName, outFile.HelpName) =
            ("simultaneous|sequential", "N", "text|markdown|json", "en|zh", "FILE");
        foreach (var o in new Option[] { model, input, target, lr, order, steps, format, lang, outFile })
            command.Options.Add(o);
        command.SetAction(parse => App.Guard(error, () =>
        {
            var options = Parse(parse.GetValue(model), parse.GetValue(input), parse.GetValue(target), parse.GetValue(lr),
                parse.GetValue(order), parse.GetValue(steps), parse.GetValue(format), parse.GetValue(lang), parse.GetValue(outFile));
            Run(options, output);
            return 0;
        }));
        return command;
    }

    /// <summary>Turns the option strings into <see cref="Options"/>; every problem is one <see cref="BackpropException"/> line.</summary>
    public static Options Parse(string? model, string? input, string? target, string? lr, string? order, string? steps,
        string? format, string? lang, string? outFile)
    {
        double[] x = input is null ? [.. SeedNetwork.DefaultInput] : Numbers("--input", input);
        double[] y = target is null ? [.. SeedNetwork.DefaultTarget] : Numbers("--target", target);
        double eta = lr is null ? SeedNetwork.DefaultLearningRate : Number("--lr", lr);
        if (!(eta > 0) || !double.IsFinite(eta))
            throw new BackpropException($"--lr: expected a positive number, got '{lr}'.");
        var updateOrder = UpdateOrder.Simultaneous;
        if (order is not null && !Names.TryParse(order, out updateOrder))
            throw new BackpropException($"--update-order: unknown order '{order}'; expected simultaneous or sequential.");
        int n = 1;
        if (steps is not null && (!int.TryParse(steps, NumberStyles.Integer, CultureInfo.InvariantCulture, out n) || n < 1))
            throw new BackpropException($"--steps: expected a whole number of at least 1, got '{steps}'.");
        var f = (format?.Trim().ToLowerInvariant()) switch
        {
            null or "text" => Format.Text,
            "markdown" or "md" => Format.Markdown,
            "json" => Format.Json,
            _ => throw new BackpropException($"--format: unknown format '{format}'; expected text, markdown or json."),
        };
        var language = (lang?.Trim().ToLowerInvariant()) switch
        {
            null or "en" => ExplainLanguage.English,
            "zh" => ExplainLanguage.Chinese,
            _ => throw new BackpropException($"--lang: unknown language '{lang}'; expected en or zh."),
        };
        if (outFile is not null && string.IsNullOrWhiteSpace(outFile))
            throw new BackpropException("--out: expected a file name.");
        return new Options(model, new ExplainSettings(x, y, eta, updateOrder, n), f, language, outFile);
    }

    /// <summary>Builds the trace and renders it to <paramref name="output"/> or to the --out file.</summary>
    public static void Run(Options options, TextWriter output)
    {
        var network = options.Model is null ? SeedNetwork.Create<double>() : ModelFile.Load<double>(options.Model);
        var s = options.Settings;
        string what = options.Model is null ? "the seed network" : options.Model;
        if (s.Input.Count != network.Inputs)
            throw new BackpropException($"--input: {what} takes {network.Inputs} input(s), but {s.Input.Count} value(s) were given.");
        if (s.Target.Count != network.Outputs)
            throw new BackpropException($"--target: {what} has {network.Outputs} output(s), but {s.Target.Count} value(s) were given.");
        var trace = Explainer.Run(network, s);

        if (options.Out is not null)
        {
            AtomicFile.WriteAllText(options.Out, Render(trace, options.Format, options.Language));
            output.WriteLine($"Wrote {options.Out}.");
            return;
        }
        if (options.Format == Format.Text && ReferenceEquals(output, Console.Out) && ColourSupported())
        {
            TraceRenderer.Render(trace, ExplainText.For(options.Language), new TextDocumentWriter(new AnsiTraceSink(output)));
            return;
        }
        output.Write(Render(trace, options.Format, options.Language));
    }

    public static string Render(ExplainTrace trace, Format format, ExplainLanguage language) => format switch
    {
        Format.Markdown => TraceRenderer.Markdown(trace, language),
        Format.Json => ExplainJson.Serialize(trace, language),
        _ => TraceRenderer.Text(trace, language),
    };

    private static double[] Numbers(string option, string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length == 0 || parts.Any(p => p.Length == 0))
            throw new BackpropException($"{option}: expected comma-separated numbers such as 0.05,0.10, got '{text}'.");
        return [.. parts.Select(p => Number(option, p))];
    }

    private static double Number(string option, string text)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new BackpropException($"{option}: '{text}' is not a number.");
        return v;
    }

    /// <summary>Colour only on a terminal that Spectre.Console finds able to show it, never when redirected or NO_COLOR is set.</summary>
    private static bool ColourSupported() =>
        !Console.IsOutputRedirected
        && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"))
        && AnsiConsole.Profile.Capabilities.Ansi
        && AnsiConsole.Profile.Capabilities.ColorSystem != ColorSystem.NoColors;

    /// <summary>Writes each styled piece with ANSI colours (no re-wrapping: the text writer already aligned it).</summary>
    private sealed class AnsiTraceSink(TextWriter output) : ITraceSink
    {
        public void Write(string text, TraceStyle style = TraceStyle.Plain)
        {
            string? code = style switch
            {
                TraceStyle.Title => "1;36",
                TraceStyle.Heading => "1;34",
                TraceStyle.Label => "36",
                TraceStyle.Number => "1",
                TraceStyle.Slip => "1;31",
                TraceStyle.Correct => "32",
                TraceStyle.TableHeader => "1",
                TraceStyle.Muted => "2",
                _ => null,
            };
            if (code is null || text.Length == 0)
                output.Write(text);
            else
                output.Write($"\u001b[{code}m{text}\u001b[0m");
        }

        public void WriteLine() => output.WriteLine();
    }
}
