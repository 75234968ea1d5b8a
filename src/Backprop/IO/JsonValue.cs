using System.Text;
using System.Text.Json;

namespace Backprop.IO;

/// <summary>
/// One JSON value of a model file, as the bytes it spans in the file (no document object model: a model file is read
/// once, token by token, into the model's own arrays, so reading it takes the file's bytes and the model, not the
/// 12 bytes a token, or more, that a <see cref="JsonDocument"/> adds; a file of "0," repeated took 17 times its size).
/// The file has been checked whole before (<see cref="ValidateAll"/>): syntax, depth and no duplicate keys, so
/// reading a value here cannot fail on its syntax.
/// </summary>
internal readonly record struct JsonValue(ReadOnlyMemory<byte> Bytes, JsonTokenType Kind)
{
    /// <summary>The deepest nesting a model file may have (its own structure needs 6 levels).</summary>
    public const int MaxDepth = 64;

    /// <summary>
    /// The most keys one object of a model file may have (its own have a few dozen): the duplicate check keeps an
    /// object's keys, so without a bound a file of one object with a hundred million keys would be held as many strings.
    /// </summary>
    public const int MaxKeys = 10_000;

    public static JsonReaderOptions Options => new() { MaxDepth = MaxDepth };

    /// <summary>
    /// Checks the whole text (syntax, depth, a single top-level value, no key twice in one object) and returns the
    /// top-level value. Throws <see cref="JsonException"/> with the line and byte of the problem.
    /// </summary>
    public static JsonValue ValidateAll(ReadOnlyMemory<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8.Span, Options);
        // Per open container: the keys seen so far (null for an array).
        var keys = new Stack<HashSet<string>?>();
        if (!reader.Read())
            throw new JsonException("The input does not contain any JSON tokens. Expected the input to start with a valid JSON token, while isFinalBlock is true.", null, 0, 0);
        var first = reader.TokenType;
        do
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    keys.Push(new HashSet<string>(StringComparer.Ordinal));
                    break;
                case JsonTokenType.StartArray:
                    keys.Push(null);
                    break;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    keys.Pop();
                    break;
                case JsonTokenType.PropertyName:
                    string name = reader.GetString()!;
                    var set = keys.Peek()!;
                    if (!set.Add(name))
                    {
                        var (line, column) = Position(utf8.Span, (int)reader.TokenStartIndex);
                        throw new JsonException($"Duplicate property '{name}': a key may appear only once in an object.", null, line, column);
                    }
                    if (set.Count > MaxKeys)
                    {
                        var (line, column) = Position(utf8.Span, (int)reader.TokenStartIndex);
                        throw new JsonException($"An object has more than {MaxKeys:N0} keys; the objects of a model file have a few dozen.", null, line, column);
                    }
                    break;
            }
        }
        while (reader.Read());
        return new JsonValue(utf8, first);
    }

    /// <summary>0-based line and byte in the line of <paramref name="offset"/>, as <see cref="JsonException"/> gives them.</summary>
    public static (long Line, long Byte) Position(ReadOnlySpan<byte> text, int offset)
    {
        var before = text[..Math.Min(offset, text.Length)];
        int lines = before.Count((byte)'\n');
        int lastBreak = before.LastIndexOf((byte)'\n');
        return (lines, offset - lastBreak - 1);
    }

    private Utf8JsonReader Reader() => new(Bytes.Span, Options);

    /// <summary>The properties of an object, in file order (each value's bytes).</summary>
    public List<KeyValuePair<string, JsonValue>> Properties()
    {
        var list = new List<KeyValuePair<string, JsonValue>>();
        var r = Reader();
        r.Read();
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            string name = r.GetString()!;
            r.Read();
            list.Add(new(name, Take(ref r)));
        }
        return list;
    }

    /// <summary>The elements of an array, in order (each one's bytes).</summary>
    public List<JsonValue> Elements()
    {
        var list = new List<JsonValue>();
        var r = Reader();
        r.Read();
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
            list.Add(Take(ref r));
        return list;
    }

    /// <summary>The elements of an array one at a time, without a list of them (an array may have millions).</summary>
    public ElementEnumerator EnumerateElements() => new(this);

    /// <summary>Enumerates an array's elements (see <see cref="EnumerateElements"/>).</summary>
    public ref struct ElementEnumerator
    {
        private readonly JsonValue _array;
        private Utf8JsonReader _reader;

        internal ElementEnumerator(JsonValue array)
        {
            _array = array;
            _reader = new Utf8JsonReader(array.Bytes.Span, Options);
            _reader.Read();
        }

        public JsonValue Current { get; private set; }

        public readonly ElementEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            if (!_reader.Read() || _reader.TokenType == JsonTokenType.EndArray)
                return false;
            int start = (int)_reader.TokenStartIndex;
            var kind = _reader.TokenType;
            if (kind is JsonTokenType.StartObject or JsonTokenType.StartArray)
                _reader.Skip();
            Current = new JsonValue(_array.Bytes[start..(int)_reader.BytesConsumed], kind);
            return true;
        }
    }

    /// <summary>Number of elements of an array, without keeping them.</summary>
    public int Count()
    {
        int n = 0;
        var r = Reader();
        r.Read();
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
        {
            r.Skip();
            n++;
        }
        return n;
    }

    /// <summary>The value the reader is on (its first token read), advancing past it.</summary>
    private JsonValue Take(ref Utf8JsonReader r)
    {
        int start = (int)r.TokenStartIndex;
        var kind = r.TokenType;
        if (kind is JsonTokenType.StartObject or JsonTokenType.StartArray)
            r.Skip();
        int end = (int)r.BytesConsumed;
        return new JsonValue(Bytes[start..end], kind);
    }

    /// <summary>The string's value (unescaped).</summary>
    public string GetString()
    {
        var r = Reader();
        r.Read();
        return r.GetString()!;
    }

    /// <summary>The number as an int, when it is one.</summary>
    public bool TryGetInt32(out int value)
    {
        var r = Reader();
        r.Read();
        return r.TryGetInt32(out value);
    }

    /// <summary>The value's text as it is in the file.</summary>
    public string RawText => Encoding.UTF8.GetString(Bytes.Span);

    /// <summary>A number's digits as they are in the file (numbers have no escapes).</summary>
    public ReadOnlySpan<byte> NumberBytes => Bytes.Span;

    /// <summary>What a kind of value is called in messages.</summary>
    public static string Describe(JsonTokenType kind) => kind switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "true/false",
        JsonTokenType.Null => "null",
        _ => "nothing",
    };
}
