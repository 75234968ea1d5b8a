using System.Text;

namespace Backprop.Explain.Rendering;

/// <summary>What a piece of rendered text is, so a terminal can colour it; plain output ignores it.</summary>
public enum TraceStyle
{
    /// <summary>Ordinary text.</summary>
    Plain,
    /// <summary>The document's title.</summary>
    Title,
    /// <summary>A section heading.</summary>
    Heading,
    /// <summary>The name of a value (E_total, V11).</summary>
    Label,
    /// <summary>A number the engine computed.</summary>
    Number,
    /// <summary>Something the document gets wrong.</summary>
    Slip,
    /// <summary>The corrected form or the engine's value.</summary>
    Correct,
    /// <summary>A side note.</summary>
    Muted,
    /// <summary>A table's header row.</summary>
    TableHeader,
}

/// <summary>Receives rendered text piece by piece with its <see cref="TraceStyle"/>.</summary>
public interface ITraceSink
{
    /// <summary>Writes one piece of text with its style.</summary>
    void Write(string text, TraceStyle style = TraceStyle.Plain);

    /// <summary>Ends the line.</summary>
    void WriteLine();
}

/// <summary>Collects the rendered text without styles.</summary>
internal sealed class StringTraceSink : ITraceSink
{
    private readonly StringBuilder _sb = new();

    public void Write(string text, TraceStyle style = TraceStyle.Plain) => _sb.Append(text);
    public void WriteLine() => _sb.Append('\n');
    public override string ToString() => _sb.ToString();
}

/// <summary>Terminal column widths: CJK characters take two columns, so Chinese tables stay aligned.</summary>
internal static class DisplayWidth
{
    public static int Of(string s)
    {
        int w = 0;
        foreach (char c in s)
            w += IsWide(c) ? 2 : 1;
        return w;
    }

    public static bool IsWide(char c) =>
        c is >= '\u1100' and <= '\u115F' or >= '\u2E80' and <= '\uA4CF' or >= '\uAC00' and <= '\uD7A3'
            or >= '\uF900' and <= '\uFAFF' or >= '\uFE30' and <= '\uFE4F' or >= '\uFF00' and <= '\uFF60'
            or >= '\uFFE0' and <= '\uFFE6';

    public static string PadRight(string s, int width) => s + new string(' ', Math.Max(0, width - Of(s)));
    public static string PadLeft(string s, int width) => new string(' ', Math.Max(0, width - Of(s))) + s;

    /// <summary>Breaks <paramref name="text"/> into lines of at most <paramref name="width"/> columns, at spaces where it can.</summary>
    public static IEnumerable<string> Wrap(string text, int width)
    {
        var line = new StringBuilder();
        int lineWidth = 0;
        int lastSpace = -1;
        foreach (char c in text)
        {
            int cw = IsWide(c) ? 2 : 1;
            // Never start a line with closing CJK punctuation: let it hang past the margin instead.
            if (lineWidth + cw > width && line.Length > 0 && !"，。；：）、！？」".Contains(c))
            {
                if (lastSpace > 0 && !IsWide(c))
                {
                    string head = line.ToString(0, lastSpace);
                    string tail = line.ToString(lastSpace + 1, line.Length - lastSpace - 1);
                    yield return head.TrimEnd();
                    line.Clear().Append(tail);
                }
                else
                {
                    yield return line.ToString().TrimEnd();
                    line.Clear();
                }
                lineWidth = Of(line.ToString());
                lastSpace = line.ToString().LastIndexOf(' ');
                if (c == ' ' && line.Length == 0)
                    continue;
            }
            if (c == ' ')
                lastSpace = line.Length;
            line.Append(c);
            lineWidth += cw;
        }
        if (line.Length > 0)
            yield return line.ToString().TrimEnd();
    }
}
