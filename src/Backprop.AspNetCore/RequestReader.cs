using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using nietras.SeparatedValues;

namespace Backprop.AspNetCore;

/// <summary>
/// A <c>/predict</c> body turned into raw rows in the model's input order (the model's pipeline is applied later,
/// by its batched <c>Predict</c>). JSON: one record (an object by column name) or an array of records (objects, or
/// arrays of numbers in the model's input order). CSV: a header line naming the columns, then one record a line.
/// Every problem is a <see cref="ServingRequestException"/> naming the field.
/// </summary>
internal static class RequestReader
{
    /// <summary>Nesting a valid body needs: the array of records, a record, (for positional records) nothing deeper.</summary>
    private const int MaxDepth = 3;

    /// <summary>Parsed rows: <see cref="Rows"/> is rented from the shared pool (count x features used); give it back with <see cref="Return"/>.</summary>
    internal readonly record struct Parsed(double[] Rows, int Count)
    {
        public void Return() => ArrayPool<double>.Shared.Return(Rows);
    }

    // ---- JSON ------------------------------------------------------------------------------------------------

    public static Parsed Json(ReadOnlySpan<byte> body, ModelVersion model, BackpropModelOptions options)
    {
        if (body.IsEmpty)
            throw new ServingRequestException("the request body is empty; send one record (a JSON object by column name) or an array of records.", "body");
        if (!System.Text.Unicode.Utf8.IsValid(body))
            throw new ServingRequestException("the request body is not valid UTF-8; JSON must be sent as UTF-8.", "body");
        if (body.Length >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF)
            body = body[3..]; // a byte order mark: tolerated, as the model file reader does
        if (model.Model.Table is { } table)
            return TableJson(body, model, table, options);
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = MaxDepth, CommentHandling = JsonCommentHandling.Disallow, AllowMultipleValues = true });
        var rows = new Rows(model.Features, options.MaxRecordsPerRequest);
        var seen = ArrayPool<int>.Shared.Rent(model.Features);
        seen.AsSpan(0, model.Features).Clear();
        try
        {
            Read(ref reader, -1);
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    ReadRecord(ref reader, model, options, rows.Next(-1), seen, 1, -1);
                    break;
                case JsonTokenType.StartArray:
                    int index = 0;
                    while (true)
                    {
                        Read(ref reader, index);
                        if (reader.TokenType == JsonTokenType.EndArray)
                            break;
                        var row = rows.Next(index);
                        if (reader.TokenType == JsonTokenType.StartObject)
                            ReadRecord(ref reader, model, options, row, seen, index + 1, index);
                        else if (reader.TokenType == JsonTokenType.StartArray)
                            ReadPositional(ref reader, model, row, index);
                        else
                            throw new ServingRequestException(
                                $"{What(index)} is {Describe(reader.TokenType)}; a record is a JSON object by column name (or an array of {model.Features} numbers in the model's input order)"
                                + (index == 0 && reader.TokenType == JsonTokenType.Number ? ": to send one record by position, put it in an array of records, [[...]]." : "."), At(index));
                        index++;
                    }
                    if (index == 0)
                        throw new ServingRequestException("the array of records is empty; send at least one record.", "body");
                    break;
                default:
                    throw new ServingRequestException(
                        $"the request body is {Describe(reader.TokenType)}; send one record (a JSON object by column name) or an array of records.", "body");
            }
            if (reader.Read())
                throw new ServingRequestException($"the request body goes on after its JSON value (at byte {reader.TokenStartIndex}); send one JSON value.", "body");
        }
        catch (JsonException e)
        {
            rows.Dispose();
            throw new ServingRequestException($"the request body is not valid JSON: {Trim(e.Message)}", "body");
        }
        catch
        {
            rows.Dispose();
            throw;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(seen);
        }
        return rows.Done();
    }

    /// <summary>
    /// A table model's records: objects by raw column name with text, number, boolean or null values (an absent or null
    /// column is missing), or arrays of the raw values in the model's column order. The model's pipeline encodes them:
    /// an unseen category or a value that does not parse is treated as missing, never an error.
    /// </summary>
    private static Parsed TableJson(ReadOnlySpan<byte> body, ModelVersion model, Backprop.Data.TablePipeline table, BackpropModelOptions options)
    {
        var rows = new Rows(model.Features, options.MaxRecordsPerRequest);
        try
        {
            using var doc = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = MaxDepth, CommentHandling = JsonCommentHandling.Disallow });
            var root = doc.RootElement;
            void One(JsonElement record, int index)
            {
                var row = rows.Next(index);
                if (record.ValueKind == JsonValueKind.Object)
                {
                    var values = new Dictionary<string, string>(StringComparer.Ordinal);
                    foreach (var p in record.EnumerateObject())
                    {
                        if (!values.TryAdd(p.Name, Text(p.Value, index, p.Name) ?? "") )
                            throw new ServingRequestException($"{What(index)}: \"{Cut(p.Name)}\" is given twice.", At(index) + "/" + p.Name);
                        if (p.Value.ValueKind == JsonValueKind.Null)
                            values.Remove(p.Name);
                    }
                    model.Model.EncodeRow(values).CopyTo(row);
                }
                else if (record.ValueKind == JsonValueKind.Array)
                {
                    var list = record.EnumerateArray().Select((v, i) => Text(v, index, i.ToString(CultureInfo.InvariantCulture))).ToArray();
                    if (list.Length != table.Columns.Count)
                        throw new ServingRequestException($"{What(index)} has {list.Length} value(s); the model reads {table.Columns.Count} raw column(s) ({string.Join(", ", table.Columns.Select(c => c.Name))}).", At(index));
                    model.Model.EncodeRow(list).CopyTo(row);
                }
                else
                    throw new ServingRequestException($"{What(index)} is {Describe(record.ValueKind)}; a record is a JSON object by column name (or an array of the raw values in the model's column order).", index < 0 ? "body" : At(index));
            }
            if (root.ValueKind == JsonValueKind.Array)
            {
                int index = 0;
                foreach (var record in root.EnumerateArray())
                    One(record, index++);
                if (index == 0)
                    throw new ServingRequestException("the array of records is empty; send at least one record.", "body");
            }
            else
                One(root, -1);
        }
        catch (JsonException e)
        {
            rows.Dispose();
            throw new ServingRequestException($"the request body is not valid JSON: {Trim(e.Message)}", "body");
        }
        catch
        {
            rows.Dispose();
            throw;
        }
        return rows.Done();
    }

    private static string? Text(JsonElement v, int record, string at) => v.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.String => v.GetString(),
        JsonValueKind.Number => v.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => throw new ServingRequestException($"{What(record)}: \"{Cut(at)}\" is {Describe(v.ValueKind)}; a raw value is text, a number, true, false or null.", At(record) + "/" + at),
    };

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    // Record -1 is the body's one record; 0, 1, ... are the elements of an array of records. The texts for messages
    // are made only when there is an error.

    private static string At(int record) => record < 0 ? "" : "/" + record.ToString(CultureInfo.InvariantCulture);

    private static string What(int record) => record < 0 ? "the record" : "record " + record.ToString(CultureInfo.InvariantCulture);

    private static void Read(ref Utf8JsonReader reader, int record)
    {
        if (!reader.Read())
            throw new ServingRequestException("the request body ends before its JSON value does.", record < 0 ? "body" : At(record));
    }

    /// <summary>One record by column name; <paramref name="stamp"/> marks the inputs it gave (no clearing between records).</summary>
    private static void ReadRecord(ref Utf8JsonReader reader, ModelVersion model, BackpropModelOptions options, Span<double> row, int[] seen, int stamp,
        int record)
    {
        if (!model.HasNames)
            throw new ServingRequestException(
                $"{What(record)}: the model was trained on data without column names, so records are given by position: an array of {model.Features} numbers.",
                record < 0 ? "body" : At(record));
        Span<char> nameBuffer = stackalloc char[128];
        int given = 0;
        while (true)
        {
            Read(ref reader, record);
            if (reader.TokenType == JsonTokenType.EndObject)
                break;
            // A property name, then its value.
            int length = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
            char[]? rented = null;
            Span<char> name = length <= nameBuffer.Length ? nameBuffer : (rented = ArrayPool<char>.Shared.Rent(length));
            try
            {
                try
                {
                    name = name[..reader.CopyString(name)];
                }
                catch (InvalidOperationException)
                {
                    throw new ServingRequestException($"{What(record)}: a column name is not valid text (an escape names half of a UTF-16 surrogate pair).",
                        record < 0 ? "body" : At(record));
                }
                if (!model.Columns.TryGetValue(name, out int column))
                {
                    if (!options.IgnoreUnknownColumns)
                        throw new ServingRequestException(
                            $"{What(record)}: \"{Cut(name)}\" is not a column of the model; it takes {List(model)}.", Pointer(record, name));
                    column = ModelVersion.Ignored;
                }
                if (!reader.Read())
                    throw new ServingRequestException("the request body ends before its JSON value does.", Pointer(record, name));
                if (column == ModelVersion.Ignored)
                {
                    reader.Skip();
                    continue;
                }
                if (seen[column] == stamp)
                    throw new ServingRequestException($"{What(record)}: \"{Cut(name)}\" is given twice.", Pointer(record, name));
                seen[column] = stamp;
                given++;
                if (!TryNumber(ref reader, out row[column], out string? problem))
                    throw new ServingRequestException($"{What(record)}: \"{Cut(name)}\" {problem}", Pointer(record, name));
            }
            finally
            {
                if (rented is not null)
                    ArrayPool<char>.Shared.Return(rented);
            }
        }
        if (given < model.Features)
        {
            var names = model.Model.Schema.FeatureNames!;
            for (int i = 0; i < names.Count; i++)
                if (seen[i] != stamp)
                    throw new ServingRequestException(
                        $"{What(record)} has no value for \"{Cut(names[i])}\", which the model takes ({List(model)}).", Pointer(record, names[i]));
        }
    }

    private static void ReadPositional(ref Utf8JsonReader reader, ModelVersion model, Span<double> row, int record)
    {
        int i = 0;
        while (true)
        {
            Read(ref reader, record);
            if (reader.TokenType == JsonTokenType.EndArray)
                break;
            if (i >= model.Features)
                throw new ServingRequestException($"{What(record)} has more than {model.Features} values; the model takes {model.Features} inputs ({List(model)}).",
                    At(record) + "/" + i.ToString(CultureInfo.InvariantCulture));
            if (!TryNumber(ref reader, out row[i], out string? problem))
                throw new ServingRequestException($"{What(record)}, value {i} ({Cut(model.Model.Schema.FeatureName(i))}) {problem}",
                    At(record) + "/" + i.ToString(CultureInfo.InvariantCulture));
            i++;
        }
        if (i < model.Features)
            throw new ServingRequestException($"{What(record)} has {i} value(s); the model takes {model.Features} inputs ({List(model)}).", At(record));
    }

    /// <summary>The value as a finite number, or false and what is wrong with it ("is a string; expected a number").</summary>
    private static bool TryNumber(ref Utf8JsonReader reader, out double value, out string? problem)
    {
        if (reader.TokenType != JsonTokenType.Number)
        {
            value = 0;
            problem = $"is {Describe(reader.TokenType)}; expected a number.";
            return false;
        }
        if (!reader.TryGetDouble(out value) || !double.IsFinite(value))
        {
            problem = $"is {Encoding.UTF8.GetString(reader.ValueSpan)}, which is not a finite double; expected a finite number.";
            return false;
        }
        problem = null;
        return true;
    }

    // ---- CSV -------------------------------------------------------------------------------------------------

    public static Parsed Csv(ReadOnlySpan<byte> body, ModelVersion model, BackpropModelOptions options)
    {
        if (body.IsEmpty)
            throw new ServingRequestException("the request body is empty; send a header line naming the columns, then one record a line.", "body");
        if (!System.Text.Unicode.Utf8.IsValid(body))
            throw new ServingRequestException("the request body is not valid UTF-8; CSV must be sent as UTF-8.", "body");
        string text = Encoding.UTF8.GetString(body);
        if (model.Model.Table is { } table)
            return TableCsv(text, model, table, options);
        if (!model.HasNames)
            throw new ServingRequestException("the model was trained on data without column names, so CSV records (matched by the header) cannot be read; send JSON arrays of numbers.", "body");
        int[] columns = [];
        string[] header = [];
        return ReadCsv(text, model, options,
            (record, line) => (header, columns) = Header(record, model, options, line),
            (record, line, row) =>
            {
                for (int c = 0; c < columns.Length; c++)
                {
                    int input = columns[c];
                    if (input == ModelVersion.Ignored)
                        continue;
                    var cell = record[c].Span;
                    if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                        throw new ServingRequestException(
                            $"line {line}, column \"{Cut(header[c])}\": '{Cut(cell)}' is not a finite number.", $"line {line}, column \"{Cut(header[c])}\"");
                    row[input] = v;
                }
            });
    }

    /// <summary>What a CSV body's header line tells: read by <see cref="ReadCsv"/>'s caller (line from 1).</summary>
    private delegate void CsvHeader(SepReader.Row record, int line);

    /// <summary>One record line of a CSV body into its <paramref name="row"/> (of the header's width: checked before).</summary>
    private delegate void CsvRecord(SepReader.Row record, int line, Span<double> row);

    /// <summary>
    /// Reads a CSV body (comma-separated, quotes unescaped, fields trimmed, blank lines passed over): the first line to
    /// <paramref name="header"/>, every other to <paramref name="record"/> with a row of its own (the record limit
    /// checked, 413 past it). The errors every CSV body can have are here, each once: a line of another width than
    /// the header, no header, no records, text that is not CSV.
    /// </summary>
    private static Parsed ReadCsv(string text, ModelVersion model, BackpropModelOptions options, CsvHeader header, CsvRecord record)
    {
        var rows = new Rows(model.Features, options.MaxRecordsPerRequest);
        try
        {
            using var reader = Sep.New(',').Reader(o => o with
            {
                HasHeader = false,
                DisableColCountCheck = true,
                Unescape = true,
                Trim = SepTrim.All,
                CultureInfo = CultureInfo.InvariantCulture,
            }).FromText(text);
            int width = -1;
            foreach (var r in reader)
            {
                int line = r.RowIndex == 0 ? 1 : r.LineNumberFrom;
                if (r.ColCount == 1 && r[0].Span.IsWhiteSpace())
                    continue;
                if (width < 0)
                {
                    header(r, line);
                    width = r.ColCount;
                    continue;
                }
                string at = $"line {line}";
                if (r.ColCount != width)
                    throw new ServingRequestException($"line {line} has {r.ColCount} field(s); the header has {width}.", at);
                record(r, line, rows.Next(at));
            }
            if (width < 0)
                throw new ServingRequestException("the CSV body has no header line; the first line must name the columns.", "body");
            if (rows.Count == 0)
                throw new ServingRequestException("the CSV body has a header but no records.", "body");
        }
        catch (Exception e) when (e is InvalidDataException or FormatException)
        {
            rows.Dispose();
            throw new ServingRequestException($"the request body cannot be read as CSV: {Trim(e.Message)}", "body");
        }
        catch
        {
            rows.Dispose();
            throw;
        }
        return rows.Done();
    }

    /// <summary>
    /// A table model's CSV: a header naming raw columns (in any order; a column the model does not read, such as the
    /// label, is passed over, as in a JSON record), then one record a line of raw text values. An empty field or a
    /// missing spelling is missing; an unseen category or a value that does not parse is treated as missing by the
    /// model's pipeline, never an error. The errors are the JSON path's: a column named twice, a record of another
    /// width than the header, no records, too many records; and a header that names none of the model's columns.
    /// </summary>
    private static Parsed TableCsv(string text, ModelVersion model, Backprop.Data.TablePipeline table, BackpropModelOptions options)
    {
        string[] header = [];
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        return ReadCsv(text, model, options,
            (record, line) =>
            {
                header = new string[record.ColCount];
                var names = new HashSet<string>(StringComparer.Ordinal);
                for (int c = 0; c < header.Length; c++)
                {
                    header[c] = record[c].ToString();
                    if (!names.Add(header[c]))
                        throw new ServingRequestException($"the header names \"{Cut(header[c])}\" twice.", $"header, column {c + 1}");
                }
                if (!table.Columns.Any(col => names.Contains(col.Name)))
                    throw new ServingRequestException(
                        $"the header names none of the model's raw columns ({string.Join(", ", table.Columns.Take(12).Select(col => "\"" + Cut(col.Name) + "\""))}); the first line must name the columns.",
                        $"header (line {line})");
            },
            (record, _, row) =>
            {
                values.Clear();
                for (int c = 0; c < header.Length; c++)
                    values[header[c]] = record[c].ToString();
                model.Model.EncodeRow(values).CopyTo(row);
            });
    }

    private static (string[] Header, int[] Columns) Header(SepReader.Row record, ModelVersion model, BackpropModelOptions options, int line)
    {
        var header = new string[record.ColCount];
        var columns = new int[record.ColCount];
        var seen = new bool[model.Features];
        for (int c = 0; c < header.Length; c++)
        {
            header[c] = record[c].ToString();
            string field = $"header, column {c + 1}";
            if (!model.Columns.TryGetValue(header[c].AsSpan(), out columns[c]))
            {
                if (!options.IgnoreUnknownColumns)
                    throw new ServingRequestException($"the header names \"{Cut(header[c])}\", which is not a column of the model; it takes {List(model)}.", field);
                columns[c] = ModelVersion.Ignored;
            }
            if (columns[c] == ModelVersion.Ignored)
                continue;
            if (seen[columns[c]])
                throw new ServingRequestException($"the header names \"{Cut(header[c])}\" twice.", field);
            seen[columns[c]] = true;
        }
        var names = model.Model.Schema.FeatureNames!;
        for (int i = 0; i < seen.Length; i++)
            if (!seen[i])
                throw new ServingRequestException($"the header has no column \"{Cut(names[i])}\", which the model takes ({List(model)}).", $"header (line {line})");
        return (header, columns);
    }

    // ---- Helpers ---------------------------------------------------------------------------------------------

    /// <summary>The rows being filled, rented from the pool, growing by doubling up to the record limit.</summary>
    private sealed class Rows(int features, int maxRecords) : IDisposable
    {
        private double[] _values = ArrayPool<double>.Shared.Rent(Math.Max(features, 1));

        public int Count { get; private set; }

        public Span<double> Next(int record) => Next(record < 0 ? "body" : At(record), Count < maxRecords);

        public Span<double> Next(string at) => Next(at, Count < maxRecords);

        private Span<double> Next(string at, bool room)
        {
            if (!room)
                throw new ServingRequestException($"more than {maxRecords:N0} records in one request; send at most {maxRecords:N0} (split the rest into more requests).",
                    at, 413);
            long need = (long)(Count + 1) * features;
            if (need > _values.Length)
            {
                var grown = ArrayPool<double>.Shared.Rent((int)Math.Min(Math.Max(need, 2L * _values.Length), (long)maxRecords * features));
                _values.AsSpan(0, Count * features).CopyTo(grown);
                ArrayPool<double>.Shared.Return(_values);
                _values = grown;
            }
            return _values.AsSpan(Count++ * features, features);
        }

        public Parsed Done() => new(_values, Count);

        public void Dispose() => ArrayPool<double>.Shared.Return(_values);
    }

    /// <summary>A JSON Pointer (RFC 6901) to a record's column.</summary>
    private static string Pointer(int record, ReadOnlySpan<char> name) => At(record) + "/" + name.ToString().Replace("~", "~0").Replace("/", "~1");

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };

    /// <summary>The model's columns for a message, at most 12 named.</summary>
    private static string List(ModelVersion model)
    {
        var names = model.Model.Schema.FeatureNames;
        if (names is null)
            return $"{model.Features} inputs";
        var shown = names.Take(12).Select(n => "\"" + Cut(n) + "\"");
        return string.Join(", ", shown) + (names.Count > 12 ? $" and {names.Count - 12} more" : "");
    }

    /// <summary>A value from the request, cut at 60 characters for a message.</summary>
    private static string Cut(ReadOnlySpan<char> value) => value.Length > 60 ? value[..60].ToString() + "..." : value.ToString();

    private static string Trim(string message) => message.Length > 300 ? message[..300] + "..." : message;
}
