using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;

namespace Backprop.Cli.Playground;

/// <summary>Bad input to the playground API: answered with 400 and this message.</summary>
public sealed class PlaygroundInputException(string message) : Exception(message);

/// <summary>An answer would hold NaN or an infinity, which JSON cannot: answered with 422 and this message.</summary>
public sealed class PlaygroundNonFiniteException(string message) : Exception(message);

/// <summary>
/// Reads a request body into its record through the one JSON context (Backprop.IO.Json.BackpropJson), then checks
/// its values' ranges; every problem is a <see cref="PlaygroundInputException"/> that names its field and quotes what
/// was sent.
/// </summary>
internal static partial class Json
{
    /// <summary>
    /// The body as a <typeparamref name="T"/>: an object of only that record's fields (a misspelt field, "stpes", would
    /// otherwise be ignored and its default used without a word), each of its type. Repeated fields, too deep nesting
    /// and text that is not UTF-8 were refused when the body was parsed; here <paramref name="body"/> only serves to
    /// quote the value a message is about. <paramref name="choices"/> names the values a text field takes, for the
    /// message when it is sent something else than text.
    /// </summary>
    public static T Read<T>(JsonElement body, JsonTypeInfo<T> info, string what, IReadOnlyDictionary<string, string[]>? choices = null) where T : class
    {
        string fields = string.Join(", ", info.Properties.Select(p => p.Name));
        if (body.ValueKind != JsonValueKind.Object)
            throw new PlaygroundInputException($"expected a JSON object with {what} ({fields}), got {Show(body)}.");
        try
        {
            return JsonSerializer.Deserialize(body, info) ?? throw new PlaygroundInputException($"expected a JSON object with {what} ({fields}), got null.");
        }
        catch (JsonException e)
        {
            throw new PlaygroundInputException(Describe(e, body, info, fields, choices));
        }
    }

    /// <summary>A serializer error in the words of the other messages: the field, what it must be, what it is.</summary>
    private static string Describe<T>(JsonException e, JsonElement body, JsonTypeInfo<T> info, string fields, IReadOnlyDictionary<string, string[]>? choices)
    {
        string message = e.Message;
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut >= 0)
            message = message[..cut];
        if (UnknownField().Match(message) is { Success: true } unknown)
            return $"unknown field '{Cut(unknown.Groups[1].Value)}'; the fields are {fields}.";
        var (field, at) = Locate(e.Path, body);
        if (message.StartsWith("Duplicate property", StringComparison.Ordinal))
            return $"{field}: given more than once; give each field once.";
        if (Element().Match(message) is { Success: true } element)
        {
            field += "[" + element.Groups[1].Value + "]";
            at = at is { ValueKind: JsonValueKind.Array } a && int.Parse(element.Groups[1].Value, CultureInfo.InvariantCulture) is int k && k < a.GetArrayLength() ? a[k] : null;
        }
        var property = info.Properties.FirstOrDefault(p => field == p.Name || field.StartsWith(p.Name + "[", StringComparison.Ordinal));
        string expected = choices is not null && choices.TryGetValue(field, out var allowed) ? "one of " + string.Join(", ", allowed)
            : property is null ? "a value of another type" : Expected(property.PropertyType, field.Count(c => c == '['));
        return $"{field}: expected {expected}, got {(at is { } v ? Show(v) : "something else")}.";
    }

    /// <summary>The field a path such as <c>$.w[2][1]</c> names, and the value there.</summary>
    private static (string Field, JsonElement? At) Locate(string? path, JsonElement body)
    {
        if (path is null || !path.StartsWith("$.", StringComparison.Ordinal))
            return ("body", body);
        string field = path[2..];
        JsonElement? at = null;
        var parts = PathPart().Matches(field);
        if (parts.Count > 0 && body.TryGetProperty(parts[0].Groups[1].Value, out var e))
        {
            at = e;
            foreach (Capture index in parts[0].Groups[2].Captures)
            {
                int i = int.Parse(index.Value, CultureInfo.InvariantCulture);
                at = at is { ValueKind: JsonValueKind.Array } a && i < a.GetArrayLength() ? a[i] : null;
            }
        }
        return (field, at);
    }

    /// <summary>What a value of <paramref name="type"/> is, <paramref name="indexed"/> array levels down.</summary>
    private static string Expected(Type type, int indexed)
    {
        for (int k = 0; k < indexed && type.IsArray; k++)
            type = type.GetElementType()!;
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            _ when type == typeof(double) => "a finite number",
            _ when type == typeof(int) || type == typeof(long) => "a whole number in range",
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(string) => "a string",
            _ when type == typeof(double[]) => "an array of numbers",
            _ when type == typeof(int[]) => "an array of whole numbers",
            _ when type == typeof(double[][]) => "an array of rows of numbers",
            _ => "an object",
        };
    }

    public static double Number(double? value, string name, double fallback, double min, double max, bool exclusiveMin = false) =>
        value is { } d ? Check(name, d, min, max, exclusiveMin) : fallback;

    public static double Check(string name, double d, double min, double max, bool exclusiveMin = false)
    {
        if (d < min || d > max || (exclusiveMin && d == min))
            throw new PlaygroundInputException(string.Create(CultureInfo.InvariantCulture,
                $"{name}: {d} is out of range; expected a number {(exclusiveMin ? ">" : ">=")} {min} and <= {max}."));
        return d;
    }

    public static long Integer(long? value, string name, long fallback, long min, long max)
    {
        if (value is not { } i)
            return fallback;
        if (i < min || i > max)
            throw new PlaygroundInputException($"{name}: {i} is out of range; expected {min} to {max}.");
        return i;
    }

    public static int Integer(int? value, string name, int fallback, int min, int max) => (int)Integer((long?)value, name, fallback, min, max);

    public static string Choice(string? value, string name, string fallback, params string[] allowed)
    {
        if (value is null)
            return fallback;
        string s = value.Trim().ToLowerInvariant();
        if (!allowed.Contains(s))
            throw new PlaygroundInputException($"{name}: expected one of {string.Join(", ", allowed)}, got {Quote(value)}.");
        return s;
    }

    public static double[] Numbers(double[]? value, string name, double[] fallback, int count, double min, double max)
    {
        if (value is null)
            return fallback;
        if (value.Length != count)
            throw new PlaygroundInputException($"{name}: expected an array of {count} numbers, got {value.Length}.");
        for (int i = 0; i < count; i++)
            Check($"{name}[{i}]", value[i], min, max);
        return value;
    }

    public static double[,] Matrix(double[][]? value, string name, double[,] fallback, double min, double max)
    {
        if (value is null)
            return fallback;
        int rows = fallback.GetLength(0), cols = fallback.GetLength(1);
        if (value.Length != rows)
            throw new PlaygroundInputException($"{name}: expected {rows} rows of {cols} numbers, got {value.Length} row(s).");
        var m = new double[rows, cols];
        for (int r = 0; r < rows; r++)
        {
            if (value[r] is not { } row || row.Length != cols)
                throw new PlaygroundInputException($"{name}[{r}]: expected {cols} numbers, got {(value[r] is null ? "null" : value[r].Length.ToString(CultureInfo.InvariantCulture))}.");
            for (int c = 0; c < cols; c++)
                m[r, c] = Check($"{name}[{r}][{c}]", row[c], min, max);
        }
        return m;
    }

    public static double[][] Rows(double[,] m) =>
        Enumerable.Range(0, m.GetLength(0)).Select(r => Enumerable.Range(0, m.GetLength(1)).Select(c => m[r, c]).ToArray()).ToArray();

    private static string Show(JsonElement v) => Cut(v.GetRawText());

    private static string Quote(string s) => "\"" + Cut(s) + "\"";

    private static string Cut(string s) => s.Length > 40 ? s[..40] + "..." : s;

    [GeneratedRegex(@"The JSON property '(.*)' could not be mapped")]
    private static partial Regex UnknownField();

    [GeneratedRegex(@"at element (\d+)$")]
    private static partial Regex Element();

    [GeneratedRegex(@"^([^\[]+)(?:\[(\d+)\])*$")]
    private static partial Regex PathPart();
}
