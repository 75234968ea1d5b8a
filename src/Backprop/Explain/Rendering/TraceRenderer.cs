using System.Globalization;
using Backprop.Nn;

namespace Backprop.Explain.Rendering;

/// <summary>
/// Says what a trace shows, in which order, in one language; a <see cref="DocumentWriter"/> decides the look
/// (terminal text or markdown). The JSON form is Backprop.IO.ExplainJson.
/// </summary>
public static class TraceRenderer
{
    /// <summary>The trace as terminal text (plain; pass a colouring sink to <see cref="Render"/> for colour).</summary>
    public static string Text(ExplainTrace trace, ExplainLanguage language = ExplainLanguage.English)
    {
        var sink = new StringTraceSink();
        Render(trace, ExplainText.For(language), new TextDocumentWriter(sink));
        return sink.ToString();
    }

    /// <summary>The trace as markdown with <c>$$...$$</c> equations.</summary>
    public static string Markdown(ExplainTrace trace, ExplainLanguage language = ExplainLanguage.English)
    {
        var sink = new StringTraceSink();
        var text = ExplainText.For(language);
        Render(trace, text, new MarkdownDocumentWriter(sink, text));
        return sink.ToString();
    }

    private static string N(double v) => ExprFormatter.Number(v);

    /// <summary>Final outputs beyond this many are in the JSON only.</summary>
    private const int MaxOutputRows = 50;

    /// <summary>
    /// The trace as terminal text, written to <paramref name="sink"/> piece by piece with the style of each piece
    /// (titles, numbers, slips, ...), so a terminal can colour it; the text is the same as <see cref="Text"/>'s.
    /// </summary>
    public static void Write(ExplainTrace trace, ExplainLanguage language, ITraceSink sink) =>
        Render(trace, ExplainText.For(language), new TextDocumentWriter(sink));

    /// <summary>The mark that flags a slip of the document in the text, in <paramref name="language"/>.</summary>
    public static string SlipMarker(ExplainLanguage language) => ExplainText.For(language).Slip;

    internal static void Render(ExplainTrace trace, ExplainText t, DocumentWriter w)
    {
        w.Title(trace.IsSeed ? t.TitleSeed : t.TitleModel);
        if (w is MarkdownDocumentWriter && IsDefaultSeed(trace))
            w.Paragraph($"*{t.Regenerate}*");
        if (trace.Preprocessing is { } pre)
            Preprocessing(pre, t, w);
        Header(trace, t, w);
        if (trace.IsSeed)
            Seed(trace, t, w);
        else if (trace.LayerDerivations is { } derivations)
            Detailed(trace, derivations, t, w);
        else
            Summary(trace, t, w);
        if (trace.Comparison is { } c)
            Comparison(c, t, w);
        History(trace, t, w);
    }

    private static void Preprocessing(PreprocessingTrace p, ExplainText t, DocumentWriter w)
    {
        w.Heading(t.PreprocessingHeading);
        w.Paragraph(t.PreprocessingIntro(p.Kind));
        var columns = t.PreprocessingColumns.Select((h, i) => new Column(h, Numeric: i > 0)).ToArray();
        var rows = new List<string[]>();
        for (int i = 0; i < p.Raw.Count && i < MaxOutputRows; i++)
            rows.Add([p.Columns[i], N(p.Raw[i]), N(p.Offset[i]), N(p.Scale[i]), N(p.Prepared[i])]);
        w.Table(columns, rows);
    }

    /// <summary>True for the seed network with its documented defaults: the trace that docs/derivation*.md hold.</summary>
    private static bool IsDefaultSeed(ExplainTrace trace)
    {
        if (!trace.IsSeed)
            return false;
        var s = trace.Settings;
        var d = ExplainSettings.SeedDefault;
        if (!s.Input.SequenceEqual(d.Input) || !s.Target.SequenceEqual(d.Target) || s.LearningRate != d.LearningRate
            || s.Order != d.Order || s.Steps != d.Steps)
            return false;
        var seed = SeedNetwork.Create<double>();
        return trace.Layers.All(l => l.Weights.SequenceEqual(seed.Layers[l.Index].Weights.ToArray())
            && l.Biases.SequenceEqual(seed.Layers[l.Index].Biases.ToArray()));
    }

    private static void Header(ExplainTrace trace, ExplainText t, DocumentWriter w)
    {
        var s = trace.Settings;
        if (trace.IsSeed)
            w.Paragraph(t.NetworkSeed);
        else
        {
            var lines = new List<string> { t.NetworkInputs(trace.Inputs) };
            foreach (var l in trace.Layers)
                lines.Add(t.LayerLine(l.Index + 1, l.Units, Names.Of(l.Activation), Names.Of(l.Bias), l.TrainableBias || l.Bias == BiasMode.None).Trim());
            lines.Add(t.LossLine(Names.Of(trace.Loss)));
            w.Lines(lines);
        }
        string xs = Abbreviate(s.Input.Select((v, i) => $"{InputName(trace, i)} = {N(v)}").ToList());
        string ys = Abbreviate(s.Target.Select((v, i) => $"{TargetName(trace, i)} = {N(v)}").ToList());
        w.Paragraph(t.SampleLine(xs, ys, N(s.LearningRate)));
        w.Paragraph(s.Order == UpdateOrder.Simultaneous ? t.OrderSimultaneous : t.OrderSequential);
        w.Paragraph(trace.IsSeed ? t.EngineNote : t.EngineNoteModel);
    }

    /// <summary>A list, or its first few items and the count when it is too long to read.</summary>
    private static string Abbreviate(IReadOnlyList<string> items) =>
        items.Count <= Explainer.DetailLimit
            ? string.Join(", ", items)
            : $"{string.Join(", ", items.Take(4))}, ..., {items[^1]} ({items.Count})";

    private static string InputName(ExplainTrace trace, int i) => trace.IsSeed ? $"X{i + 1}" : $"x[{i + 1}]";
    private static string TargetName(ExplainTrace trace, int i) => trace.IsSeed ? $"Y{i + 1}" : $"y[{i + 1}]";
    private static string OutputName(ExplainTrace trace, int i) => trace.IsSeed ? $"O{i + 1}" : $"a{trace.Layers.Count}[{i + 1}]";

    private static void Seed(ExplainTrace trace, ExplainText t, DocumentWriter w)
    {
        var steps = trace.SeedSteps!;
        var errata = trace.Errata!.ToDictionary(e => e.Id);
        w.Heading(t.ParametersBefore);
        var rows = trace.Parameters;
        w.Lines(
        [
            Join(rows.Where(r => r.Name.StartsWith("V1", StringComparison.Ordinal))),
            Join(rows.Where(r => r.Name.StartsWith("V2", StringComparison.Ordinal))),
            Join(rows.Where(r => r.Name.StartsWith("W1", StringComparison.Ordinal))),
            Join(rows.Where(r => r.Name.StartsWith("W2", StringComparison.Ordinal))),
            Join(rows.Where(r => r.Name.StartsWith("W3", StringComparison.Ordinal))),
            Join(rows.Where(r => r.Name.StartsWith('b'))),
        ]);

        SeedSection? section = null;
        for (int i = 0; i < steps.Count; i++)
        {
            var (sec, eq) = steps[i];
            if (sec != section)
            {
                section = sec;
                w.Heading(t.SeedHeading(sec));
                w.Paragraph(t.SeedIntro(sec));
                if (sec == SeedSection.ChainV11 && trace.Settings.Order == UpdateOrder.Sequential)
                    w.Paragraph(t.SequentialNote, TraceStyle.Slip);
            }
            string? tag = eq.Status switch
            {
                EquationStatus.AsWritten => t.AsWritten,
                EquationStatus.Corrected => t.Corrected,
                _ => null,
            };
            w.Equation(eq, tag, eq.Status == EquationStatus.AsWritten ? TraceStyle.Slip : TraceStyle.Correct);
            // The slip is explained once, after the last equation of its group.
            if (eq.Erratum is { } id && (i + 1 == steps.Count || steps[i + 1].Equation.Erratum != id))
                SlipBlock(errata[id], t, w);
        }

        w.Heading(t.ErrataHeading);
        w.Paragraph(t.ErrataIntro);
        w.Table(
            [new(t.Equation), new(t.Slip), new(t.ProofDocument, true), new(t.ProofCorrect, true), new(t.ProofFiniteDifference, true)],
            [.. trace.Errata!.Select(e => new[]
            {
                $"({e.Equations})", t.ErratumTitle(e.Id), Opt(e.DocumentValue), Opt(e.CorrectValue), Opt(e.FiniteDifference),
            })]);

        ParameterTable(trace, t, w);
    }

    private static string Join(IEnumerable<ParameterRow> rows) =>
        string.Join("   ", rows.Select(r => $"{r.Name} = {N(r.Value)}".PadRight(12))).TrimEnd();

    private static string Opt(double? v) => v is { } x ? N(x) : "—";

    private static void SlipBlock(Erratum e, ExplainText t, DocumentWriter w)
    {
        var proof = new List<(string, string, TraceStyle)>();
        string quantity = e.Quantity is null ? "" : ExprFormatter.Plain(e.Quantity, values: false) + ": ";
        if (e.DocumentValue is { } d)
            proof.Add((quantity + t.ProofDocument, N(d), TraceStyle.Slip));
        if (e.CorrectValue is { } c && (e.DocumentValue is not null || e.FiniteDifference is not null))
            proof.Add((quantity + t.ProofCorrect, N(c), TraceStyle.Correct));
        if (e.FiniteDifference is { } f)
            proof.Add((quantity + t.ProofFiniteDifference, N(f), TraceStyle.Correct));
        w.Slip($"{t.ErratumTitle(e.Id)}", t.ErratumText(e.Id), proof);
    }

    private static void ParameterTable(ExplainTrace trace, ExplainText t, DocumentWriter w)
    {
        w.Heading(t.TableHeading);
        w.Paragraph(t.TableIntro);
        if (trace.Settings.Order == UpdateOrder.Sequential && trace.Layers.Count > 1)
            w.Paragraph(t.TableIntroSequential, TraceStyle.Slip);
        bool fd = trace.Parameters.Any(p => p.FiniteDifference is not null);
        var columns = new List<Column> { new(t.ColumnParameter), new(t.ColumnValue, true), new(t.ColumnGradient, true) };
        if (fd)
            columns.Add(new(t.ColumnFiniteDifference, true));
        columns.Add(new(t.ColumnUpdated, true));
        w.Table(columns, [.. trace.Parameters.Select(p =>
        {
            var cells = new List<string> { p.Name, N(p.Value), N(p.Gradient) };
            if (fd)
                cells.Add(Opt(p.FiniteDifference));
            cells.Add(p.Trainable ? N(p.Updated) : $"{N(p.Updated)} {t.Frozen}");
            return cells.ToArray();
        })]);
    }

    private static void Detailed(ExplainTrace trace, IReadOnlyList<LayerDerivation> derivations, ExplainText t, DocumentWriter w)
    {
        w.Paragraph(t.GenericIntro);
        w.Heading(t.ForwardHeading);
        foreach (var d in derivations)
        {
            w.Paragraph(t.LayerHeading(d.Layer + 1), TraceStyle.Heading);
            foreach (var e in d.Forward)
                w.Equation(e, null, TraceStyle.Plain);
        }
        w.Heading(t.BackwardHeading);
        for (int i = derivations.Count - 1; i >= 0; i--)
        {
            var d = derivations[i];
            w.Paragraph(t.LayerHeading(d.Layer + 1), TraceStyle.Heading);
            foreach (var e in d.Backward)
                w.Equation(e, null, TraceStyle.Plain);
        }
        ParameterTable(trace, t, w);
    }

    private static void Summary(ExplainTrace trace, ExplainText t, DocumentWriter w)
    {
        w.Paragraph(t.LargeNote(trace.ParameterCount, Explainer.DetailLimit), TraceStyle.Slip);
        w.Heading(t.SummaryHeading);
        static string Range(double[] v) => v.Length == 0 ? "—" : $"{N(v.Min())} .. {N(v.Max())}";
        static string Norm(double[] v) => v.Length == 0 ? "—" : N(Math.Sqrt(v.Sum(x => x * x)));
        w.Table(
        [
            new(t.ColumnLayer), new(t.ColumnShape), new(t.ColumnActivation), new("z " + t.ColumnRange), new("a " + t.ColumnRange),
            new("δ " + t.ColumnRange), new("dE/dW " + t.ColumnNorm, true), new("dE/db " + t.ColumnNorm, true),
        ],
        [.. trace.Layers.Select(l => new[]
        {
            (l.Index + 1).ToString(CultureInfo.InvariantCulture), $"{l.Inputs} -> {l.Units}", Names.Of(l.Activation),
            Range(l.Z), Range(l.A), Range(l.Delta), Norm(l.WeightGradients), Norm(l.BiasGradients),
        })]);
    }

    private static void Comparison(OrderComparison c, ExplainText t, DocumentWriter w)
    {
        w.Heading(t.ComparisonHeading);
        w.Paragraph(t.ComparisonIntro);
        w.Table(
        [
            new(t.ColumnParameter), new($"{t.ColumnGradientShort} ({t.ColumnSimultaneous})", true), new($"{t.ColumnGradientShort} ({t.ColumnSequential})", true),
            new($"{t.ColumnUpdated} ({t.ColumnSimultaneous})", true), new($"{t.ColumnUpdated} ({t.ColumnSequential})", true), new(t.ColumnDifference, true),
        ],
        [.. c.Parameters.Select(p => new[]
        {
            p.Name, N(p.SimultaneousGradient), N(p.SequentialGradient), N(p.SimultaneousUpdated), N(p.SequentialUpdated), N(p.Difference),
        })]);
        w.Paragraph(t.ComparisonLosses(N(c.LossAfterSimultaneous), N(c.LossAfterSequential)));
        w.Paragraph(t.ComparisonMax(N(c.MaxDifference)));
    }

    private static void History(ExplainTrace trace, ExplainText t, DocumentWriter w)
    {
        w.Heading(t.HistoryHeading);
        w.Paragraph(t.HistoryIntro(trace.Settings.Steps));
        w.Table([new(t.ColumnStep, true), new(t.ColumnLoss, true)],
            [.. trace.LossHistory.Select((v, i) => new[] { i.ToString(CultureInfo.InvariantCulture), N(v) })]);
        w.Heading(t.FinalHeading);
        w.Table([new(t.ColumnOutput), new(t.ColumnValue, true), new(t.ColumnTarget, true)],
            [.. trace.FinalOutput.Take(MaxOutputRows).Select((v, i) => new[] { OutputName(trace, i), N(v), N(trace.Settings.Target[i]) })]);
    }
}
