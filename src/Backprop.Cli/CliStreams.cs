using System.Text;

namespace Backprop.Cli;

/// <summary>
/// Where a command writes: standard output and error (or a test's writers), wrapped so a failed write (stdout closed,
/// a full disk under a redirected log) is remembered instead of ending the run, and what kind of terminal it is.
/// </summary>
public sealed class CliStreams
{
    /// <summary>Wraps <paramref name="output"/> and <paramref name="error"/>; the console when they are Console.Out and Console.Error.</summary>
    public CliStreams(TextWriter output, TextWriter error)
    {
        IsConsole = ReferenceEquals(output, Console.Out);
        Out = new SafeWriter(output, "standard output");
        Error = new SafeWriter(error, "standard error");
    }

    /// <summary>Standard output: results.</summary>
    public SafeWriter Out { get; }

    /// <summary>Standard error: errors, warnings and notes.</summary>
    public SafeWriter Error { get; }

    /// <summary>True when the output is the process's console (signals are handled, the terminal may be live).</summary>
    public bool IsConsole { get; }

    /// <summary>True when the output is a terminal a person watches: a live progress line may be redrawn.</summary>
    public bool IsTerminal => IsConsole && !Console.IsOutputRedirected;

    /// <summary>
    /// Colour only on a terminal, never in redirected output, under NO_COLOR (any value, https://no-color.org) or
    /// with TERM=dumb.
    /// </summary>
    public bool Colour => IsTerminal
        && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"))
        && Environment.GetEnvironmentVariable("TERM") is not "dumb";
}

/// <summary>
/// A text writer that forwards to another and never throws: the first failed write is kept in <see cref="Failure"/>,
/// and later writes are dropped. A command goes on (a training run saves its model) and the exit code says so at the end.
/// </summary>
public sealed class SafeWriter : TextWriter
{
    private readonly TextWriter _inner;
    private readonly string _name;

    /// <summary>Wraps <paramref name="inner"/>, called <paramref name="name"/> in messages.</summary>
    public SafeWriter(TextWriter inner, string name)
    {
        _inner = inner;
        _name = name;
        CoreNewLine = inner.NewLine.ToCharArray();
    }

    /// <summary>The first write that failed, or null.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>"cannot write to standard output (reason)", for the error line.</summary>
    public string FailureMessage => $"cannot write to {_name} ({Failure?.Message})";

    /// <inheritdoc/>
    public override Encoding Encoding => _inner.Encoding;

    private void Try(Action write)
    {
        if (Failure is not null)
            return;
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            Failure = e;
        }
    }

    /// <inheritdoc/>
    public override void Write(char value) => Try(() => _inner.Write(value));

    /// <inheritdoc/>
    public override void Write(string? value) => Try(() => _inner.Write(value));

    /// <inheritdoc/>
    public override void Write(char[] buffer, int index, int count) => Try(() => _inner.Write(buffer, index, count));

    /// <inheritdoc/>
    public override void Write(ReadOnlySpan<char> buffer)
    {
        string text = buffer.ToString();
        Try(() => _inner.Write(text));
    }

    /// <inheritdoc/>
    public override void WriteLine() => Try(_inner.WriteLine);

    /// <inheritdoc/>
    public override void WriteLine(string? value) => Try(() => _inner.WriteLine(value));

    /// <inheritdoc/>
    public override void Flush() => Try(_inner.Flush);
}
