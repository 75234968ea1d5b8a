using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Backprop.IO.Json;

/// <summary>
/// A number JSON cannot hold (NaN or an infinity) was to be written. An <see cref="ArgumentException"/>, as the
/// writer's own refusal is, so code that caught that one still catches this; the message says which number.
/// </summary>
/// <param name="message">What was not finite, and where when known.</param>
public sealed class NonFiniteNumberException(string message) : ArgumentException(message);

/// <summary>
/// Every <c>double</c> of <see cref="BackpropJson"/> (a field, a list element; <c>double[]</c> has
/// <see cref="StreamingDoubleArrayConverter"/>): read only from a JSON number that is finite (<c>1e309</c>, which the
/// built-in reader takes for infinity, is refused), written only when finite (<see cref="NonFiniteNumberException"/>
/// otherwise, before anything of the number is written). A surface that writes null for a number that is not finite
/// says so on its property with <see cref="NullIfNotFiniteConverter"/>.
/// </summary>
public sealed class FiniteDoubleConverter : JsonConverter<double>
{
    /// <inheritdoc/>
    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.Number)
            throw new JsonException($"expected a number, found {JsonTokens.Describe(reader.TokenType)}");
        if (!reader.TryGetDouble(out double value) || !double.IsFinite(value))
            throw new JsonException("expected a finite number");
        return value;
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
    {
        if (!double.IsFinite(value))
            throw new NonFiniteNumberException(
                $"a number that is not finite ({value.ToString(CultureInfo.InvariantCulture)}) cannot be written as JSON.");
        writer.WriteNumberValue(value);
    }
}

/// <summary>
/// A number that is written as <c>null</c> when it is not finite (a diverged trace) and read back as NaN from
/// <c>null</c>: for a property (of type <c>double</c> or <c>double?</c>) whose document says so.
/// </summary>
public sealed class NullIfNotFiniteConverter : JsonConverter<double>
{
    /// <summary>Null is read too (as NaN).</summary>
    public override bool HandleNull => true;

    /// <inheritdoc/>
    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        JsonTokens.NumberOrNull(ref reader);

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
    {
        if (double.IsFinite(value))
            writer.WriteNumberValue(value);
        else
            writer.WriteNullValue();
    }
}

/// <summary>
/// A short vector on one line, <c>[a, b, c]</c>, as the model file writes a weight row, inside an indented
/// document (the plain serializer puts each number on a line of its own). Every number in its shortest round-trip
/// form; one that is not finite is <c>null</c> (and reads back as NaN).
/// </summary>
public sealed class NumberRowConverter : JsonConverter<double[]>
{
    /// <inheritdoc/>
    public override double[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        JsonTokens.Row(ref reader);

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, double[] value, JsonSerializerOptions options) =>
        writer.WriteRawValue(JsonTokens.Row(value), skipInputValidation: true);
}

/// <summary>
/// A matrix <c>[row][column]</c> one row per line, each row as <see cref="NumberRowConverter"/> writes it, indented
/// one level deeper than the property that holds it: the layout of the model file's weights.
/// </summary>
public sealed class NumberRowsConverter : JsonConverter<double[][]>
{
    /// <inheritdoc/>
    public override double[][] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new JsonException($"expected an array of rows, found {JsonTokens.Describe(reader.TokenType)}");
        var rows = new List<double[]>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            rows.Add(JsonTokens.Row(ref reader));
        return [.. rows];
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, double[][] value, JsonSerializerOptions options)
    {
        if (value.Length == 0)
        {
            writer.WriteRawValue("[]", skipInputValidation: true);
            return;
        }
        string close = JsonTokens.Indent(writer, writer.CurrentDepth), row = JsonTokens.Indent(writer, writer.CurrentDepth + 1);
        var sb = new StringBuilder("[");
        for (int r = 0; r < value.Length; r++)
            sb.Append(r == 0 ? "" : ",").Append(writer.Options.Indented ? "\n" + row : "").Append(JsonTokens.Row(value[r]));
        sb.Append(writer.Options.Indented ? "\n" + close : "").Append(']');
        writer.WriteRawValue(sb.ToString(), skipInputValidation: true);
    }
}

/// <summary>
/// A JSON value kept as text in the layout its writer gave it (the explain JSON's <c>updated</c>: the model file as
/// <see cref="ModelFile.Serialize{T}(Nn.Network{T})"/> writes it), re-indented to the depth it is written at;
/// read back as the same text.
/// </summary>
public sealed class EmbeddedJsonConverter : JsonConverter<string>
{
    /// <inheritdoc/>
    public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        string prefix = new(options.IndentCharacter, options.IndentSize * reader.CurrentDepth);
        using var value = JsonDocument.ParseValue(ref reader);
        var lines = value.RootElement.GetRawText().Split('\n');
        for (int i = 1; i < lines.Length; i++)
            if (lines[i].StartsWith(prefix, StringComparison.Ordinal))
                lines[i] = lines[i][prefix.Length..];
        return string.Join('\n', lines);
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options)
    {
        string text = value.Trim();
        if (writer.Options.Indented)
            text = text.Replace("\n", "\n" + JsonTokens.Indent(writer, writer.CurrentDepth), StringComparison.Ordinal);
        writer.WriteRawValue(text);
    }
}

/// <summary>What the converters share: token names for messages, rows of numbers, indentation.</summary>
internal static class JsonTokens
{
    public static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.Null => "null",
        JsonTokenType.String => "a string",
        JsonTokenType.True or JsonTokenType.False => "true/false",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.Number => "a number",
        _ => "nothing",
    };

    /// <summary>A number, or NaN for null.</summary>
    public static double NumberOrNull(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
            return double.NaN;
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out double value) || !double.IsFinite(value))
            throw new JsonException($"expected a finite number or null, found {Describe(reader.TokenType)}");
        return value;
    }

    public static double[] Row(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new JsonException($"expected an array of numbers, found {Describe(reader.TokenType)}");
        var values = new List<double>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            values.Add(NumberOrNull(ref reader));
        return [.. values];
    }

    /// <summary><c>[a, b, c]</c>: shortest round-trip numbers, null where not finite.</summary>
    public static string Row(double[] values)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < values.Length; i++)
            sb.Append(i == 0 ? "" : ", ").Append(double.IsFinite(values[i]) ? values[i].ToString("R", CultureInfo.InvariantCulture) : "null");
        return sb.Append(']').ToString();
    }

    /// <summary>The indentation of a line at <paramref name="depth"/> in what <paramref name="writer"/> writes.</summary>
    public static string Indent(Utf8JsonWriter writer, int depth) =>
        writer.Options.Indented ? new string(writer.Options.IndentCharacter, writer.Options.IndentSize * depth) : "";
}
