using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Backprop.Nn;

namespace Backprop.IO;

/// <summary>A model as stored in a file: the network and any optional sections (preprocessing, labels, ...).</summary>
public sealed class SavedModel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public SavedModel(Network<T> network, JsonObject? sections = null)
    {
        Network = network;
        Sections = sections ?? [];
    }

    public Network<T> Network { get; }

    /// <summary>Top-level sections other than the network itself, kept as they are and written back on save.</summary>
    public JsonObject Sections { get; }
}

/// <summary>
/// The model file, version 1 (docs/model-format.md): JSON, human-readable, one weight row per line,
/// every number written in its shortest form that reads back bit for bit.
/// </summary>
public static class ModelFile
{
    public const string FormatName = "backprop-model";
    public const int Version = 1;

    /// <summary>The largest model (or checkpoint) file <see cref="Read{T}"/> accepts: 1 GiB, checked before reading.</summary>
    public const long MaxFileBytes = 1L << 30;

    private static readonly HashSet<string> CoreKeys = ["format", "version", "precision", "inputs", "loss", "layers"];

    /// <summary>Writes <paramref name="network"/> to <paramref name="path"/> atomically.</summary>
    public static void Save<T>(Network<T> network, string path, JsonObject? sections = null)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        AtomicFile.WriteAllText(path, Serialize(network, sections));

    /// <summary>Reads the network of a model file into element type <typeparamref name="T"/>.</summary>
    public static Network<T> Load<T>(string path) where T : unmanaged, IFloatingPointIeee754<T> => Read<T>(path).Network;

    /// <summary>Reads a model file with its optional sections.</summary>
    public static SavedModel<T> Read<T>(string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        string text;
        try
        {
            // Bounded before reading: a model or checkpoint this large is not one this library wrote for a network it can hold.
            long length = new FileInfo(path).Length;
            if (length > MaxFileBytes)
                throw new ModelFormatException($"{path}: the file is {length:N0} bytes; model and checkpoint files are limited to {MaxFileBytes:N0} bytes.");
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException($"{path}: cannot read the model file ({e.Message}).", e);
        }
        return Deserialize<T>(text, path);
    }

    /// <summary>The file's text for <paramref name="network"/>.</summary>
    public static string Serialize<T>(Network<T> network, JsonObject? sections = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var sb = new StringBuilder();
        sb.Append("{\n");
        sb.Append($"  \"format\": \"{FormatName}\",\n");
        sb.Append($"  \"version\": {Version},\n");
        sb.Append($"  \"precision\": \"{PrecisionName<T>()}\",\n");
        sb.Append($"  \"inputs\": {network.Inputs},\n");
        sb.Append($"  \"loss\": \"{Names.Of(network.Loss)}\",\n");
        sb.Append("  \"layers\": [\n");
        for (int l = 0; l < network.Layers.Count; l++)
        {
            var layer = network.Layers[l];
            sb.Append("    {\n");
            sb.Append($"      \"units\": {layer.Units},\n");
            sb.Append($"      \"activation\": \"{Names.Of(layer.Activation)}\",\n");
            sb.Append($"      \"bias\": \"{Names.Of(layer.Bias)}\",\n");
            sb.Append($"      \"trainable_bias\": {(layer.TrainableBias ? "true" : "false")},\n");
            sb.Append("      \"weights\": [\n");
            for (int u = 0; u < layer.Units; u++)
            {
                sb.Append("        [");
                for (int i = 0; i < layer.Inputs; i++)
                {
                    if (i > 0)
                        sb.Append(", ");
                    sb.Append(FormatNumber(layer.Weight(u, i), l, $"weights[{u}][{i}]"));
                }
                sb.Append(u < layer.Units - 1 ? "],\n" : "]\n");
            }
            sb.Append("      ],\n");
            sb.Append("      \"biases\": [");
            for (int b = 0; b < layer.Biases.Length; b++)
            {
                if (b > 0)
                    sb.Append(", ");
                sb.Append(FormatNumber(layer.Biases[b], l, $"biases[{b}]"));
            }
            sb.Append("]\n");
            sb.Append(l < network.Layers.Count - 1 ? "    },\n" : "    }\n");
        }
        sb.Append("  ]");
        if (sections is not null)
        {
            var options = new JsonSerializerOptions { WriteIndented = true };
            foreach (var (key, value) in sections)
            {
                if (CoreKeys.Contains(key))
                    throw new ArgumentException($"Section '{key}' is part of the model itself and cannot be an extra section.", nameof(sections));
                string json = value?.ToJsonString(options) ?? "null";
                sb.Append(",\n  ").Append(JsonSerializer.Serialize(key)).Append(": ").Append(json.Replace("\n", "\n  "));
            }
        }
        sb.Append("\n}\n");
        return sb.ToString();
    }

    /// <summary>Parses a model file's text; <paramref name="source"/> names it in error messages.</summary>
    public static SavedModel<T> Deserialize<T>(string text, string source = "model")
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 64, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(
                $"{source}: not valid JSON at line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1}: {FirstSentence(e.Message)}", e);
        }
        using (doc)
        {
            var r = new Reader(source);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw r.Error("", "expected a JSON object at the top level");
            string format = r.String(root, "format");
            if (format != FormatName)
                throw r.Error("format", $"expected \"{FormatName}\", found \"{format}\"");
            int version = r.Int(root, "version", 1);
            if (version != Version)
                throw r.Error("version", $"version {version} is not supported; this build reads version {Version}");
            if (root.TryGetProperty("precision", out var prec)
                && (prec.ValueKind != JsonValueKind.String || prec.GetString() is not ("float32" or "float64")))
                throw r.Error("precision", "expected \"float32\" or \"float64\"");
            int inputs = r.Int(root, "inputs", 1);
            var loss = r.Enum<Loss>(root, "loss", "loss");
            var layersElement = r.Property(root, "layers", JsonValueKind.Array);
            if (layersElement.GetArrayLength() == 0)
                throw r.Error("layers", "expected at least one layer");

            var layers = new List<Dense<T>>();
            int fanIn = inputs;
            int index = 0;
            foreach (var le in layersElement.EnumerateArray())
            {
                string at = $"layers[{index}]";
                if (le.ValueKind != JsonValueKind.Object)
                    throw r.Error(at, "expected an object");
                int units = r.Int(le, "units", 1, at);
                var activation = r.Enum<Activation>(le, "activation", "activation", at);
                var bias = le.TryGetProperty("bias", out _) ? r.Enum<BiasMode>(le, "bias", "bias mode", at) : BiasMode.PerUnit;
                bool trainable = true;
                if (le.TryGetProperty("trainable_bias", out var tb))
                {
                    if (tb.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                        throw r.Error($"{at}.trainable_bias", "expected true or false");
                    trainable = tb.GetBoolean();
                }
                if (activation == Activation.Softmax && index < layersElement.GetArrayLength() - 1)
                    throw r.Error($"{at}.activation", "softmax is only supported on the last layer");
                var w = r.Property(le, "weights", JsonValueKind.Array, at);
                if (w.GetArrayLength() != units)
                    throw r.Error($"{at}.weights", $"expected {units} rows (one per unit), found {w.GetArrayLength()}");
                // Check every row's length before allocating units x inputs weights: sizes the header claims are
                // then bounded by the numbers actually present in the text.
                int check = 0;
                foreach (var row in w.EnumerateArray())
                {
                    if (row.ValueKind != JsonValueKind.Array || row.GetArrayLength() != fanIn)
                        throw r.Error($"{at}.weights[{check}]", $"expected an array of {fanIn} numbers (one per input of the layer)");
                    check++;
                }
                var layer = new Dense<T>(fanIn, units, activation, bias, trainable);
                int u = 0;
                foreach (var row in w.EnumerateArray())
                {
                    string rowAt = $"{at}.weights[{u}]";
                    int i = 0;
                    foreach (var v in row.EnumerateArray())
                    {
                        layer.Weight(u, i) = r.Number<T>(v, $"{rowAt}[{i}]");
                        i++;
                    }
                    u++;
                }
                int biasCount = Dense<T>.BiasCount(bias, units);
                JsonElement biases = default;
                bool hasBiases = le.TryGetProperty("biases", out biases);
                if (!hasBiases && biasCount > 0)
                    throw r.Error($"{at}.biases", $"missing; bias mode '{Names.Of(bias)}' needs {biasCount} value(s)");
                if (hasBiases)
                {
                    if (biases.ValueKind != JsonValueKind.Array || biases.GetArrayLength() != biasCount)
                        throw r.Error($"{at}.biases", $"expected an array of {biasCount} number(s) for bias mode '{Names.Of(bias)}'");
                    int b = 0;
                    foreach (var v in biases.EnumerateArray())
                    {
                        layer.Biases[b] = r.Number<T>(v, $"{at}.biases[{b}]");
                        b++;
                    }
                }
                layers.Add(layer);
                fanIn = units;
                index++;
            }
            var required = Losses.RequiredActivation(loss);
            if (required is { } req && layers[^1].Activation != req)
                throw r.Error("loss", $"loss '{Names.Of(loss)}' needs a '{Names.Of(req)}' last layer, found '{Names.Of(layers[^1].Activation)}'");

            var sections = new JsonObject();
            foreach (var p in root.EnumerateObject())
                if (!CoreKeys.Contains(p.Name))
                    sections[p.Name] = JsonNode.Parse(p.Value.GetRawText());
            return new SavedModel<T>(new Network<T>(inputs, layers, loss), sections);
        }
    }

    public static string PrecisionName<T>() => typeof(T) == typeof(float) ? "float32" : typeof(T) == typeof(double) ? "float64" : typeof(T).Name;

    /// <summary>The shortest text that parses back to exactly <paramref name="value"/>.</summary>
    public static string FormatNumber<T>(T value) where T : unmanaged, IFloatingPointIeee754<T> =>
        value.ToString("R", CultureInfo.InvariantCulture);

    private static string FormatNumber<T>(T value, int layer, string field) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!T.IsFinite(value))
            throw new BackpropException($"layers[{layer}].{field} is {value}; a model with non-finite parameters cannot be saved.");
        return FormatNumber(value);
    }

    private static string FirstSentence(string message)
    {
        int i = message.IndexOf(". ", StringComparison.Ordinal);
        return i > 0 ? message[..(i + 1)] : message;
    }

    private sealed class Reader(string source)
    {
        public ModelFormatException Error(string field, string what) =>
            new(field.Length == 0 ? $"{source}: {what}." : $"{source}: field '{field}': {what}.");

        public JsonElement Property(JsonElement obj, string name, JsonValueKind kind, string at = "")
        {
            string path = Join(at, name);
            if (!obj.TryGetProperty(name, out var e))
                throw Error(path, "missing");
            if (e.ValueKind != kind)
                throw Error(path, $"expected {Describe(kind)}, found {Describe(e.ValueKind)}");
            return e;
        }

        public string String(JsonElement obj, string name, string at = "") => Property(obj, name, JsonValueKind.String, at).GetString()!;

        public int Int(JsonElement obj, string name, int min, string at = "")
        {
            var e = Property(obj, name, JsonValueKind.Number, at);
            if (!e.TryGetInt32(out int v) || v < min)
                throw Error(Join(at, name), $"expected a whole number >= {min}, found {e.GetRawText()}");
            return v;
        }

        public TEnum Enum<TEnum>(JsonElement obj, string name, string what, string at = "") where TEnum : struct, System.Enum
        {
            string s = String(obj, name, at);
            if (!Names.TryParse<TEnum>(s, out var v))
                throw Error(Join(at, name), $"unknown {what} \"{s}\"; expected one of {string.Join(", ", Names.All<TEnum>())}");
            return v;
        }

        public T Number<T>(JsonElement e, string path) where T : unmanaged, IFloatingPointIeee754<T>
        {
            if (e.ValueKind != JsonValueKind.Number)
                throw Error(path, $"expected a number, found {Describe(e.ValueKind)}");
            if (!T.TryParse(e.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !T.IsFinite(v))
                throw Error(path, $"the number {e.GetRawText()} is out of range for {PrecisionName<T>()}");
            return v;
        }

        private static string Join(string at, string name) => at.Length == 0 ? name : $"{at}.{name}";

        private static string Describe(JsonValueKind k) => k switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "true/false",
            JsonValueKind.Null => "null",
            _ => "nothing",
        };
    }
}
