using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Backprop.Cli.Playground;

/// <summary>Bad input to the playground API: answered with 400 and this message.</summary>
public sealed class PlaygroundInputException(string message) : Exception(message);

/// <summary>An answer would hold NaN or an infinity, which JSON cannot: answered with 422 and this message.</summary>
public sealed class PlaygroundNonFiniteException(string message) : Exception(message);

/// <summary>Reads request fields with bounds, each problem named by its field.</summary>
internal static class Json
{
    /// <summary>How answers are written: the web defaults, and a double that refuses to be NaN or infinite.</summary>
    public static readonly JsonSerializerOptions ResponseOptions = new(JsonSerializerDefaults.Web) { Converters = { new FiniteDouble() } };

    private sealed class FiniteDouble : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (!double.IsFinite(value))
                throw new PlaygroundNonFiniteException(
                    "the computation produced a number that is not finite (NaN or infinity); lower the learning rate or the size of the values.");
            writer.WriteNumberValue(value);
        }
    }

    /// <summary>
    /// Requires <paramref name="body"/> to be an object of only the <paramref name="known"/> fields: a misspelt
    /// field ("stpes") would otherwise be ignored and its default used without a word. (Repeated fields are
    /// refused by the parser.)
    /// </summary>
    public static void Fields(JsonElement body, string what, params string[] known)
    {
        if (body.ValueKind != JsonValueKind.Object)
            throw new PlaygroundInputException($"expected a JSON object with {what} ({string.Join(", ", known)}), got {Show(body)}.");
        foreach (var field in body.EnumerateObject())
            if (!known.Contains(field.Name, StringComparer.Ordinal))
                throw new PlaygroundInputException($"unknown field '{Cut(field.Name)}'; the fields are {string.Join(", ", known)}.");
    }

    public static JsonElement? Optional(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public static double Number(JsonElement body, string name, double fallback, double min, double max, bool exclusiveMin = false)
    {
        if (Optional(body, name) is not { } v)
            return fallback;
        return Check(name, v, min, max, exclusiveMin);
    }

    public static double Check(string name, JsonElement v, double min, double max, bool exclusiveMin = false)
    {
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d) || !double.IsFinite(d))
            throw new PlaygroundInputException($"{name}: expected a finite number, got {Show(v)}.");
        if (d < min || d > max || (exclusiveMin && d == min))
            throw new PlaygroundInputException(string.Create(CultureInfo.InvariantCulture,
                $"{name}: {d} is out of range; expected a number {(exclusiveMin ? ">" : ">=")} {min} and <= {max}."));
        return d;
    }

    public static int Integer(JsonElement body, string name, int fallback, int min, int max)
    {
        if (Optional(body, name) is not { } v)
            return fallback;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i))
            throw new PlaygroundInputException($"{name}: expected a whole number, got {Show(v)}.");
        if (i < min || i > max)
            throw new PlaygroundInputException($"{name}: {i} is out of range; expected {min} to {max}.");
        return i;
    }

    public static string Choice(JsonElement body, string name, string fallback, params string[] allowed)
    {
        if (Optional(body, name) is not { } v)
            return fallback;
        string? s = v.ValueKind == JsonValueKind.String ? Text(v)?.Trim().ToLowerInvariant() : null;
        if (s is null || !allowed.Contains(s))
            throw new PlaygroundInputException($"{name}: expected one of {string.Join(", ", allowed)}, got {Show(v)}.");
        return s;
    }

    public static double[] Numbers(JsonElement body, string name, double[] fallback, int count, double min, double max)
    {
        if (Optional(body, name) is not { } v)
            return fallback;
        if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() != count)
            throw new PlaygroundInputException($"{name}: expected an array of {count} numbers, got {Show(v)}.");
        var result = new double[count];
        int i = 0;
        foreach (var item in v.EnumerateArray())
        {
            result[i] = Check($"{name}[{i}]", item, min, max);
            i++;
        }
        return result;
    }

    public static double[,] Matrix(JsonElement body, string name, double[,] fallback, double min, double max)
    {
        if (Optional(body, name) is not { } v)
            return fallback;
        int rows = fallback.GetLength(0), cols = fallback.GetLength(1);
        if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() != rows)
            throw new PlaygroundInputException($"{name}: expected {rows} rows of {cols} numbers, got {Show(v)}.");
        var m = new double[rows, cols];
        int r = 0;
        foreach (var row in v.EnumerateArray())
        {
            if (row.ValueKind != JsonValueKind.Array || row.GetArrayLength() != cols)
                throw new PlaygroundInputException($"{name}[{r}]: expected {cols} numbers, got {Show(row)}.");
            int c = 0;
            foreach (var item in row.EnumerateArray())
            {
                m[r, c] = Check($"{name}[{r}][{c}]", item, min, max);
                c++;
            }
            r++;
        }
        return m;
    }

    public static double[][] Rows(double[,] m) =>
        Enumerable.Range(0, m.GetLength(0)).Select(r => Enumerable.Range(0, m.GetLength(1)).Select(c => m[r, c]).ToArray()).ToArray();

    /// <summary>A string's text; null for one that holds a lone surrogate (an escape such as \ud800), which is no text.</summary>
    private static string? Text(JsonElement v)
    {
        try
        {
            return v.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static string Show(JsonElement v) => Cut(v.GetRawText());

    private static string Cut(string s) => s.Length > 40 ? s[..40] + "..." : s;
}
