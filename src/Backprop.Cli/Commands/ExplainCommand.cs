using System.CommandLine;
using System.Globalization;
using Backprop.Explain;
using Backprop.Explain.Rendering;
using Backprop.Data;
using Backprop.IO;
using Backprop.IO.Json;
using Backprop.Nn;
using Backprop.Training;
using Backprop.Cli.Options;

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
        /// <summary>Terminal text (coloured on a terminal).</summary>
        Text,
        /// <summary>Markdown with $$...$$ equations.</summary>
        Markdown,
        /// <summary>JSON for programs (docs/explain-format.md).</summary>
        Json,
    }

    /// <summary>The command's options, parsed and checked.</summary>
    public sealed record Options(string? Model, ExplainSettings Settings, Format Format, ExplainLanguage Language, string? Out,
        string? Svg = null, bool SvgAfter = false)
    {
        /// <summary>--input as given (null: the default of the seed, or of the model).</summary>
        public double[]? Input { get; init; }

        /// <summary>--input as typed (with --model: numbers, or a table model's raw values, comma-separated).</summary>
        public string? InputText { get; init; }

        /// <summary>--target as given (numbers, or with --model a class name).</summary>
        public string? TargetText { get; init; }

        /// <summary>--lr as given (null: the default of the seed, or of the model).</summary>
        public double? LearningRate { get; init; }

        /// <summary>Checks the files: --out and --svg must not be the model or each other.</summary>
        public void Validate() => FileChecks.Check([new("--model", Model)], [new("--out", Out), new("--svg", Svg)]);
    }

    /// <summary>The command.</summary>
    public static Command Create(CliStreams streams)
    {
        var model = CommonOptions.Model("A model file to explain instead of the seed network.");
        var input = new Option<string?>("--input") { Description = "The sample's inputs, comma-separated (default 0.05,0.10).", HelpName = "X1,X2,..." };
        var target = new Option<string?>("--target") { Description = "The sample's targets, comma-separated (default 0.01,0.99).", HelpName = "Y1,Y2,..." };
        var lr = CommonOptions.LearningRate("Learning rate eta (default 0.5).");
        var order = new Option<string?>("--update-order")
        {
            Description = "simultaneous (real backpropagation, the default) or sequential (the seed document's order).",
            HelpName = "simultaneous|sequential",
        };
        var steps = new Option<int?>("--steps") { Description = "Number of updates; the first is shown in full, the loss after every one (default 1).", HelpName = "N" };
        var format = new Option<string?>("--format") { Description = "text (default), markdown or json.", HelpName = "text|markdown|json" };
        var lang = new Option<string?>("--lang") { Description = "en (default) or zh.", HelpName = "en|zh" };
        var outFile = new OutputFileOption("--out", "Write to this file (atomically) instead of the terminal.");
        var svg = new OutputFileOption("--svg",
            "Also draw the network as an SVG picture: neurons with their values, every connection labelled with its weight, coloured and sized by its gradient.");
        var svgAfter = new Option<bool>("--svg-after") { Description = "Draw the network after the update(s) instead of before." };
        var command = new Command("explain",
            "Show one forward pass, backward pass and update as a derivation: the seed document's equations (1)-(35) " +
            "with the engine's numbers, its slips proved by finite differences, every gradient; or any model file per layer.");
        foreach (var o in new Option[] { model, input, target, lr, order, steps, format, lang, outFile.Option, svg.Option, svgAfter })
            command.Options.Add(o);
        command.SetAction(parse => App.Guard(streams, () =>
        {
            var options = Parse(parse.GetValue(model), parse.GetValue(input), parse.GetValue(target), parse.GetValue(lr),
                parse.GetValue(order), parse.GetValue(steps), parse.GetValue(format), parse.GetValue(lang), parse.GetValue(outFile.Option));
            string? svgFile = parse.GetValue(svg.Option);
            if (svgFile is not null && string.IsNullOrWhiteSpace(svgFile))
                throw new BackpropException("--svg: expected a file name.");
            options = options with { Svg = svgFile, SvgAfter = parse.GetValue(svgAfter) };
            options.Validate();
            Run(options, streams.Out, streams.Colour);
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>Turns the option values into <see cref="Options"/>; every problem is one <see cref="BackpropException"/> line.</summary>
    public static Options Parse(string? model, string? input, string? target, double? lr, string? order, int? steps,
        string? format, string? lang, string? outFile)
    {
        // A model's input is read in Run: a table model takes raw values (text, categories, dates), not only numbers.
        double[]? givenInput = input is null || model is not null ? null : CliValues.List("--input", input);
        double[] x = givenInput ?? [.. SeedNetwork.DefaultInput];
        // With --model the target may be a class name; it is read against the model in Run.
        double[] y = target is null ? [.. SeedNetwork.DefaultTarget] : model is null ? CliValues.List("--target", target) : [];
        double eta = lr ?? SeedNetwork.DefaultLearningRate;
        if (!(eta > 0) || !double.IsFinite(eta))
            throw new BackpropException($"--lr: expected a positive number, got '{eta.ToString(CultureInfo.InvariantCulture)}'.");
        var updateOrder = UpdateOrder.Simultaneous;
        if (order is not null && !Names.TryParse(order, out updateOrder))
            throw new BackpropException($"--update-order: unknown order '{order}'; expected simultaneous or sequential.");
        int n = steps ?? 1;
        if (n < 1)
            throw new BackpropException($"--steps: expected a whole number of at least 1, got '{n}'.");
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
        return new Options(model, new ExplainSettings(x, y, eta, updateOrder, n), f, language, outFile)
        {
            Input = givenInput,
            InputText = input,
            TargetText = target,
            LearningRate = lr is null ? null : eta,
        };
    }

    /// <summary>Builds the trace and renders it to <paramref name="output"/> or to the --out file.</summary>
    public static void Run(Options options, TextWriter output, bool colour = false)
    {
        ExplainTrace trace;
        var s = options.Settings;
        string encoding = "";
        ExplainEncodingEntry? encodingEntry = null;
        if (options.Model is null)
        {
            var network = SeedNetwork.Create<double>();
            if (s.Input.Count != network.Inputs)
                throw new BackpropException($"--input: the seed network takes {network.Inputs} input(s), but {s.Input.Count} value(s) were given.");
            if (s.Target.Count != network.Outputs)
                throw new BackpropException($"--target: the seed network has {network.Outputs} output(s), but {s.Target.Count} value(s) were given.");
            if (options.Svg is not null)
                WriteDiagram(network.Clone(), options with { Settings = s });
            trace = Explainer.Run(network, s);
        }
        else
        {
            // The user's own model: its defaults, its pipeline, its numbers (those predict computes).
            var model = ModelFile.Load<double>(options.Model);
            var defaults = Explainer.Defaults(model);
            double[]? given = null;
            if (model.Table is { } table)
            {
                // The encoding is the first step: the raw values, then each column's features with their numbers.
                string?[] values = options.InputText is { } text ? text.Split(',', StringSplitOptions.TrimEntries) : DefaultRow(table);
                if (values.Length != table.Columns.Count)
                    throw new BackpropException($"--input: {options.Model} reads {table.Columns.Count} raw column(s) ({string.Join(", ", table.Columns.Select(c => c.Name))}), but {values.Length} value(s) were given.");
                var counts = new EncodeCounts();
                given = model.EncodeRow(values, counts);
                encoding = EncodingStep(table, values, given, counts, options.Format);
                encodingEntry = ExplainJson.TableEncoding(table, values, given, counts);
            }
            else if (options.InputText is { } text)
                given = CliValues.List("--input", text);
            var raw = given ?? defaults.Input
                ?? throw new BackpropException($"--input: {options.Model} has no preprocessing statistics to take a typical row from; give the {model.Schema.Features} raw value(s) to explain.");
            if (raw.Length != model.Schema.Features)
                throw new BackpropException($"--input: {options.Model} takes {model.Schema.Features} input(s), but {raw.Length} value(s) were given"
                    + (model.Schema.FeatureNames is null ? "." : $" ({string.Join(", ", model.Schema.FeatureNames)})."));
            var target = options.TargetText is null && defaults.Target is { } t ? t : Target(model, raw, options.TargetText, options.Model);
            double lr = options.LearningRate ?? defaults.LearningRate ?? TrainingDefaults.LearningRate(TrainingDefaults.OptimizerName);
            s = s with { Input = raw, Target = target, LearningRate = lr };
            if (options.Svg is not null)
                WriteDiagram(model.Network.Clone(), options with { Settings = s with { Input = model.Prepare(raw) } });
            trace = Explainer.Run(model, s);
        }

        if (options.Out is not null)
        {
            AtomicFile.WriteAllText(options.Out, encoding + Render(trace, options.Format, options.Language, encodingEntry));
            output.WriteLine($"Wrote {options.Out}.");
            return;
        }
        output.Write(encoding);
        if (options.Format == Format.Text && colour)
        {
            TraceRenderer.Write(trace, options.Language, new AnsiTraceSink(output));
            return;
        }
        output.Write(Render(trace, options.Format, options.Language, encodingEntry));
    }

    /// <summary>A typical raw row of a table model: each column's median, first category, or median year.</summary>
    private static string?[] DefaultRow(TablePipeline table) => table.Columns.Select(c => c.Kind switch
    {
        ColumnKind.Categorical => c.Categories.Count > 0 ? c.Categories[0] : null,
        ColumnKind.Date => $"{(int)Math.Round(c.Median):0000}-01-01",
        ColumnKind.Boolean => c.Median >= 0.5 ? "true" : "false",
        _ => c.Median.ToString("R", CultureInfo.InvariantCulture),
    }).ToArray();

    /// <summary>
    /// The encoding step in text or markdown (JSON has it as its <c>encoding</c> field: <see cref="ExplainJson.TableEncoding"/>): each raw
    /// value, what the column's fitted encoder does with it, and the features it becomes, with their numbers.
    /// </summary>
    private static string EncodingStep(TablePipeline table, string?[] values, double[] features, EncodeCounts counts, Format format)
    {
        if (format == Format.Json)
            return "";
        var inv = CultureInfo.InvariantCulture;
        var sb = new System.Text.StringBuilder();
        bool md = format == Format.Markdown;
        sb.AppendLine(md ? "## Before step 0: the table encoding (raw values to the model's inputs, which step 0 scales)" : "Before step 0: the table encoding (raw values to the model's inputs, which step 0 scales)");
        sb.AppendLine();
        var describe = table.Describe().ToArray();
        int at = 0;
        for (int j = 0; j < table.Columns.Count; j++)
        {
            var c = table.Columns[j];
            var names = c.FeatureNames().ToArray();
            string shown = values[j] is null ? "(missing)" : "\"" + values[j] + "\"";
            sb.AppendLine($"{(md ? "- " : "  ")}{c.Name} = {shown}: {describe[j]}");
            for (int k = 0; k < names.Length; k++)
                sb.AppendLine($"{(md ? "  - " : "      ")}{names[k]} = {features[at + k].ToString("G6", inv)}");
            at += names.Length;
        }
        foreach (string line in counts.Describe())
            sb.AppendLine($"{(md ? "- " : "  ")}note: {line}");
        sb.AppendLine();
        return sb.ToString();
    }

    /// <summary>
    /// The network's target for <paramref name="raw"/>: <paramref name="text"/> as a class name or as numbers (one per
    /// output); for a classifier without one, the class the model predicts for the row.
    /// </summary>
    private static double[] Target(Model<double> model, double[] raw, string? text, string path)
    {
        int outs = model.Network.Outputs;
        if (model.Task == TaskKind.Classification)
        {
            int cls = -1;
            if (text is null)
                cls = model.PredictClass(raw);
            else
            {
                for (int c = 0; c < model.ClassCount; c++)
                    if (string.Equals(model.ClassNames[c], text.Trim(), StringComparison.Ordinal))
                        cls = c;
            }
            if (cls >= 0)
            {
                if (outs == 1)
                    return [cls];
                var oneHot = new double[outs];
                oneHot[cls] = 1;
                return oneHot;
            }
        }
        if (text is null)
            throw new BackpropException($"--target: {path} is a regressor; give the {outs} target value(s) to explain the loss against.");
        try
        {
            return CliValues.List("--target", text, outs);
        }
        catch (BackpropException) when (model.Task == TaskKind.Classification)
        {
            throw new BackpropException(
                $"--target: '{text}' is neither a class of {path} ({string.Join(", ", model.ClassNames)}) nor {outs} comma-separated number(s).");
        }
    }

    /// <summary>
    /// Draws the network for the sample: before the update with this step's gradients, or (with --svg-after)
    /// after the update(s) with the gradients of the next step.
    /// </summary>
    private static void WriteDiagram(Network<double> network, Options options)
    {
        var s = options.Settings;
        double[] x = [.. s.Input], y = [.. s.Target];
        if (options.SvgAfter)
            for (int k = 0; k < s.Steps; k++)
                network.TrainStep(x, y, 1, s.LearningRate, s.Order);
        network.Forward(x, 1);
        network.Backward(y);
        string when = options.SvgAfter ? $"after {s.Steps} update(s) (colours: the next step's gradients)" : "before the update (colours: this step's gradients)";
        string name = options.Model is null ? "The seed network" : Path.GetFileName(options.Model);
        AtomicFile.WriteAllText(options.Svg!, NetworkDiagram.ToSvg(network, new DiagramOptions { Title = $"{name}, {when}" }));
    }

    /// <summary>The trace rendered in <paramref name="format"/> and <paramref name="language"/>.</summary>
    public static string Render(ExplainTrace trace, Format format, ExplainLanguage language) => Render(trace, format, language, null);

    /// <summary>The trace in <paramref name="format"/>; JSON with a table model's <paramref name="encoding"/> of the raw row.</summary>
    public static string Render(ExplainTrace trace, Format format, ExplainLanguage language, ExplainEncodingEntry? encoding) => format switch
    {
        Format.Markdown => TraceRenderer.Markdown(trace, language),
        Format.Json => ExplainJson.Serialize(trace, language, encoding),
        _ => TraceRenderer.Text(trace, language),
    };

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
