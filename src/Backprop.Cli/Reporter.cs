using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Backprop.Cli;

/// <summary>
/// The one way a command prints its results: a record, as one JSON line (through the library's one JSON context,
/// <see cref="Backprop.IO.Json.BackpropJson"/>) with --json, or as text for a person; notes and warnings go to
/// standard error, so standard output stays what a script reads.
/// </summary>
public sealed class Reporter(CliStreams streams, bool json)
{
    /// <summary>True when results are JSON lines.</summary>
    public bool Json => json;

    /// <summary>The streams written to.</summary>
    public CliStreams Streams => streams;

    /// <summary>Prints <paramref name="value"/>: one JSON line, or <paramref name="text"/>'s rendering of it.</summary>
    public void Report<T>(T value, JsonTypeInfo<T> type, Func<T, string> text) =>
        streams.Out.WriteLine(json ? JsonSerializer.Serialize(value, type) : text(value));

    /// <summary>A line for a person; nothing with --json.</summary>
    public void Line(string text)
    {
        if (!json)
            streams.Out.WriteLine(text);
    }

    /// <summary>A note or warning on standard error (also with --json).</summary>
    public void Note(string text) => streams.Error.WriteLine(text);
}
