namespace Backprop.IO;

/// <summary>
/// The text of a CSV file on its way to the parser, checked as it is read. The parser holds a whole row at once, with
/// an index entry per field, so a line longer than <see cref="CsvDataset.MaxLineChars"/> or with more than
/// <see cref="CsvDataset.MaxColumns"/> fields (/dev/zero, a file of a billion commas: one endless line) is stopped
/// here, before the parser holds it; so is a NUL character (a binary file; .NET's number parsing even ignores trailing
/// NULs, reading "2\0" as 2). Each is a <see cref="BackpropException"/> naming the line. Delimiters inside quotes are
/// counted as fields too: a row that many of them is not a table either.
/// </summary>
internal sealed class LineLimitReader(TextReader inner, string source, char delimiter) : TextReader
{
    private long _chars;
    private long _fields = 1;
    private long _line = 1;

    public override int Peek() => inner.Peek();

    public override int Read()
    {
        Span<char> one = stackalloc char[1];
        return Read(one) == 0 ? -1 : one[0];
    }

    public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

    public override int Read(Span<char> buffer)
    {
        int n = inner.Read(buffer);
        Check(buffer[..n]);
        return n;
    }

    public override int ReadBlock(Span<char> buffer)
    {
        int n = inner.ReadBlock(buffer);
        Check(buffer[..n]);
        return n;
    }

    public override int ReadBlock(char[] buffer, int index, int count) => ReadBlock(buffer.AsSpan(index, count));

    public override Task<int> ReadAsync(char[] buffer, int index, int count) => Task.FromResult(Read(buffer, index, count));

    public override ValueTask<int> ReadAsync(Memory<char> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    private void Check(ReadOnlySpan<char> text)
    {
        while (!text.IsEmpty)
        {
            int end = text.IndexOfAny('\n', '\r');
            var segment = end < 0 ? text : text[..end];
            if (segment.Contains('\0'))
                throw new BackpropException($"{source}: line {_line} holds a NUL character (byte 0); a CSV file is text (is this a binary file?).");
            _chars += segment.Length;
            _fields += segment.Count(delimiter);
            if (_chars > CsvDataset.MaxLineChars)
                throw new BackpropException(
                    $"{source}: line {_line} is longer than {CsvDataset.MaxLineChars:N0} characters, the most a CSV line may be "
                    + "(200,000 features of 20 characters each); is this a CSV file?");
            if (_fields > CsvDataset.MaxColumns)
                throw new BackpropException(
                    $"{source}: line {_line} has more than {CsvDataset.MaxColumns:N0} fields, the most a CSV row may have.");
            if (end < 0)
                return;
            if (text[end] == '\n')
                _line++;
            _chars = 0;
            _fields = 1;
            text = text[(end + 1)..];
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            inner.Dispose();
        base.Dispose(disposing);
    }
}
