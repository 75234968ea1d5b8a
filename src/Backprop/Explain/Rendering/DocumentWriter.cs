namespace Backprop.Explain.Rendering;

/// <summary>A column of a rendered table.</summary>
internal sealed record Column(string Header, bool Numeric = false);

/// <summary>
/// The building blocks of a rendered trace (title, headings, paragraphs, equations, slips, tables).
/// <see cref="TraceRenderer"/> decides what to say and in which order; a writer decides how it looks.
/// </summary>
internal abstract class DocumentWriter
{
    public abstract void Title(string text);
    public abstract void Heading(string text);
    public abstract void Paragraph(string text, TraceStyle style = TraceStyle.Plain);

    /// <summary>Lines that belong together (a parameter list), kept on separate lines.</summary>
    public abstract void Lines(IReadOnlyList<string> lines);

    /// <summary>An equation: its symbolic chain, then the substituted form and the value.</summary>
    /// <param name="equation">The equation.</param>
    /// <param name="tag">"as the document writes it", "corrected", ... or null.</param>
    /// <param name="tagStyle">How the tag is styled (a slip, a correction).</param>
    public abstract void Equation(Equation equation, string? tag, TraceStyle tagStyle);

    /// <summary>A flagged slip: title, explanation, and the numeric proof (label, value) pairs.</summary>
    public abstract void Slip(string title, string text, IReadOnlyList<(string Label, string Value, TraceStyle Style)> proof);

    public abstract void Table(IReadOnlyList<Column> columns, IReadOnlyList<string[]> rows);
}

/// <summary>Plain text for a terminal: aligned equations and tables, styles passed to the sink for colour.</summary>
internal sealed class TextDocumentWriter(ITraceSink sink, int width = 100) : DocumentWriter
{
    private const string Indent = "  ";
    private bool _first = true;

    private void Gap()
    {
        if (!_first)
            sink.WriteLine();
        _first = false;
    }

    public override void Title(string text)
    {
        Gap();
        sink.Write(text, TraceStyle.Title);
        sink.WriteLine();
        sink.Write(new string('=', DisplayWidth.Of(text)), TraceStyle.Title);
        sink.WriteLine();
    }

    public override void Heading(string text)
    {
        Gap();
        sink.Write(text, TraceStyle.Heading);
        sink.WriteLine();
        sink.Write(new string('-', DisplayWidth.Of(text)), TraceStyle.Heading);
        sink.WriteLine();
    }

    public override void Paragraph(string text, TraceStyle style = TraceStyle.Plain)
    {
        Gap();
        foreach (var line in DisplayWidth.Wrap(text, width))
        {
            sink.Write(line, style);
            sink.WriteLine();
        }
    }

    public override void Lines(IReadOnlyList<string> lines)
    {
        Gap();
        foreach (var line in lines)
        {
            sink.Write(Indent + line);
            sink.WriteLine();
        }
    }

    public override void Equation(Equation e, string? tag, TraceStyle tagStyle)
    {
        Gap();
        string label = DisplayWidth.PadRight($"({e.Label})", Math.Max(6, e.Label.Length + 3));
        string lhs = ExprFormatter.Plain(e.Forms[0], values: false);
        string pad = new(' ', Indent.Length + label.Length + DisplayWidth.Of(lhs) + 1);
        sink.Write(Indent);
        sink.Write(label, TraceStyle.Label);
        sink.Write(lhs);
        for (int i = 1; i < e.Forms.Count; i++)
            sink.Write(" = " + ExprFormatter.Plain(e.Forms[i], values: false));
        if (tag is not null)
            sink.Write($"   [{tag}]", tagStyle);
        sink.WriteLine();
        string? substituted = e.Substitute is { } k ? ExprFormatter.Plain(e.Forms[k], values: true) : null;
        if (substituted is not null)
        {
            sink.Write(pad + "= ");
            sink.Write(substituted);
            sink.WriteLine();
        }
        if (e.Value is { } v && substituted != ExprFormatter.Number(v))
        {
            sink.Write(pad + "= ");
            sink.Write(ExprFormatter.Number(v), e.Source == ValueSource.Document ? TraceStyle.Slip : TraceStyle.Number);
            sink.WriteLine();
        }
    }

    public override void Slip(string title, string text, IReadOnlyList<(string Label, string Value, TraceStyle Style)> proof)
    {
        Gap();
        string prefix = Indent + "  ! ";
        sink.Write(prefix + title, TraceStyle.Slip);
        sink.WriteLine();
        string inner = new(' ', prefix.Length);
        foreach (var line in DisplayWidth.Wrap(text, width - inner.Length))
        {
            sink.Write(inner + line);
            sink.WriteLine();
        }
        if (proof.Count == 0)
            return;
        int labelWidth = proof.Max(p => DisplayWidth.Of(p.Label));
        foreach (var (label, value, style) in proof)
        {
            sink.Write(inner + DisplayWidth.PadRight(label, labelWidth) + "  ");
            sink.Write(value, style);
            sink.WriteLine();
        }
    }

    public override void Table(IReadOnlyList<Column> columns, IReadOnlyList<string[]> rows)
    {
        Gap();
        var widths = columns.Select((c, i) => Math.Max(DisplayWidth.Of(c.Header), rows.Count == 0 ? 0 : rows.Max(r => DisplayWidth.Of(r[i])))).ToArray();
        string Cell(string s, int i) => columns[i].Numeric ? DisplayWidth.PadLeft(s, widths[i]) : DisplayWidth.PadRight(s, widths[i]);
        sink.Write(Indent + string.Join("   ", columns.Select((c, i) => Cell(c.Header, i))).TrimEnd(), TraceStyle.TableHeader);
        sink.WriteLine();
        sink.Write(Indent + string.Join("   ", widths.Select(w => new string('-', w))), TraceStyle.Muted);
        sink.WriteLine();
        foreach (var row in rows)
        {
            sink.Write(Indent + string.Join("   ", row.Select((s, i) => Cell(s, i))).TrimEnd());
            sink.WriteLine();
        }
    }
}

/// <summary>Markdown with the equations as <c>$$...$$</c> LaTeX in the seed's own style.</summary>
internal sealed class MarkdownDocumentWriter(ITraceSink sink, ExplainText text) : DocumentWriter
{
    private bool _first = true;

    private void Block(string s)
    {
        if (!_first)
            sink.WriteLine();
        _first = false;
        sink.Write(s);
        sink.WriteLine();
    }

    public override void Title(string s) => Block("# " + s);
    public override void Heading(string s) => Block("## " + s);
    public override void Paragraph(string s, TraceStyle style = TraceStyle.Plain) =>
        Block(style switch
        {
            TraceStyle.Slip => $"**{s}**",
            TraceStyle.Heading => $"### {s}",
            _ => s,
        });

    public override void Lines(IReadOnlyList<string> lines) => Block(string.Join("  \n", lines));

    public override void Equation(Equation e, string? tag, TraceStyle tagStyle)
    {
        string number = e.Label.Replace("δ", "\\delta", StringComparison.Ordinal);
        string label = tag is null ? number : $"{number}, \\text{{{tag}}}";
        string lhs = ExprFormatter.Latex(e.Forms[0], values: false);
        string chain = string.Join(" = ", e.Forms.Select(f => ExprFormatter.Latex(f, values: false)));
        Block($"$${chain} \\quad ({label})$$");
        if (e.Substitute is not { } k)
            return;
        string substituted = ExprFormatter.Latex(e.Forms[k], values: true);
        string value = e.Value is { } v ? ExprFormatter.LatexNumber(v) : "";
        string line = value.Length == 0 || value == substituted ? $"{lhs} = {substituted}" : $"{lhs} = {substituted} = {value}";
        Block($"$${line} \\quad ({label})$$");
    }

    public override void Slip(string title, string body, IReadOnlyList<(string Label, string Value, TraceStyle Style)> proof)
    {
        var lines = new List<string> { $"> **{text.Slip}: {title}.** {body}" };
        if (proof.Count > 0)
        {
            lines.Add(">");
            lines.Add("> " + string.Join(" | ", proof.Select(p => $"{p.Label}: `{p.Value}`")));
        }
        Block(string.Join("\n", lines));
    }

    public override void Table(IReadOnlyList<Column> columns, IReadOnlyList<string[]> rows)
    {
        var lines = new List<string>
        {
            "| " + string.Join(" | ", columns.Select(c => c.Header)) + " |",
            "|" + string.Join("|", columns.Select(c => c.Numeric ? "---:" : "---")) + "|",
        };
        lines.AddRange(rows.Select(r => "| " + string.Join(" | ", r) + " |"));
        Block(string.Join("\n", lines));
    }
}
