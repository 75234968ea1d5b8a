using System.Text;
using System.Text.Json;
using Backprop.Data;

namespace Backprop.IO;

/// <summary>
/// A JSON file as a raw table: an array of records (objects), or JSON lines (one object a line). Columns are the keys
/// in the order they first appear; a record without a key, or a null, is an absent value; numbers keep their text as
/// written (so "39.1" reads as in a CSV), true and false are the words, an array or object its JSON text. Bounded as
/// the CSV reader: the file at most 8 bytes per value of <see cref="DataLimits"/>, the cells at most the value limit,
/// nesting at most 64 deep.
/// </summary>
internal static class JsonTable
{
    public static RawTable Read(Stream input, string source, long maxCells)
    {
        long maxBytes = Math.Min(maxCells * 8, Array.MaxLength);
        byte[] bytes;
        try
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[1 << 16];
            int got;
            while ((got = input.Read(chunk)) > 0)
            {
                if (buffer.Length + got > maxBytes)
                    throw new BackpropException(DataLimits.TooMany(source, $"the JSON file is more than {maxBytes:N0} bytes", maxCells));
                buffer.Write(chunk, 0, got);
            }
            bytes = buffer.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new BackpropException($"{source}: cannot read the file ({e.Message}).", e);
        }
        var span = bytes.AsSpan();
        if (span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            span = span[3..];
        int start = 0;
        while (start < span.Length && span[start] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            start++;
        var names = new List<string>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var columns = new List<List<string?>>();
        var numbers = new List<int>();
        long cells = 0;
        var options = new JsonDocumentOptions { MaxDepth = 64, AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow };
        void AddRecord(JsonElement record, int number)
        {
            if (record.ValueKind != JsonValueKind.Object)
                throw new BackpropException($"{source}: record {number}: expected an object of column names to values, found {Describe(record.ValueKind)}.");
            int row = numbers.Count;
            foreach (var property in record.EnumerateObject())
            {
                if (!index.TryGetValue(property.Name, out int c))
                {
                    if (names.Count >= CsvDataset.MaxColumns)
                        throw new BackpropException($"{source}: record {number}: more than {CsvDataset.MaxColumns:N0} distinct keys; a table has at most that many columns.");
                    c = names.Count;
                    index[property.Name] = c;
                    names.Add(property.Name);
                    var column = new List<string?>(Math.Max(row + 1, 16));
                    for (int r = 0; r < row; r++)
                        column.Add(null);
                    columns.Add(column);
                    cells += row;
                }
                var col = columns[c];
                if (col.Count > row)
                    throw new BackpropException($"{source}: record {number}: the key \"{RawTable.Shorten(property.Name)}\" appears twice.");
                col.Add(Text(property.Value));
                cells++;
            }
            numbers.Add(number);
            foreach (var col in columns)
                if (col.Count == row)
                {
                    col.Add(null);
                    cells++;
                }
            if (cells > maxCells)
                throw new BackpropException(DataLimits.TooMany(source, $"record {number}: {numbers.Count:N0} records of {names.Count:N0} columns make {cells:N0} values", maxCells));
        }
        try
        {
            if (start < span.Length && span[start] == (byte)'[')
            {
                using var doc = JsonDocument.Parse(bytes.AsMemory(bytes.Length - span.Length + start), options);
                if (doc.RootElement.ValueKind != JsonValueKind.Array)
                    throw new BackpropException($"{source}: expected an array of records.");
                int n = 0;
                foreach (var record in doc.RootElement.EnumerateArray())
                    AddRecord(record, ++n);
            }
            else
            {
                // JSON lines: one record per non-blank line.
                int line = 0;
                int at = 0;
                while (at < span.Length)
                {
                    int end = span[at..].IndexOf((byte)'\n');
                    var text = end < 0 ? span[at..] : span.Slice(at, end);
                    line++;
                    at = end < 0 ? span.Length : at + end + 1;
                    if (text.Trim((ReadOnlySpan<byte>)[(byte)' ', (byte)'\t', (byte)'\r']).IsEmpty)
                        continue;
                    try
                    {
                        using var doc = JsonDocument.Parse(text.ToArray(), options);
                        AddRecord(doc.RootElement, line);
                    }
                    catch (JsonException e)
                    {
                        throw new BackpropException($"{source}: line {line}: not a JSON record ({e.Message}).", e);
                    }
                }
            }
        }
        catch (JsonException e)
        {
            throw new BackpropException($"{source}: not valid JSON ({e.Message}).", e);
        }
        if (numbers.Count == 0)
            throw new BackpropException($"{source}: the file has no records.");
        if (names.Count == 0)
            throw new BackpropException($"{source}: the records have no keys (no columns).");
        return new RawTable(source, names, columns.Select(c => c.ToArray()).ToArray(), [.. numbers], "json");
    }

    private static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.String => value.GetString(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => value.GetRawText(),
    };

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };
}
