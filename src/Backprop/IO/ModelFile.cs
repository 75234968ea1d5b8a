using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using Backprop.Data;
using Backprop.Nn;
using Backprop.Training;

namespace Backprop.IO;

/// <summary>
/// The model file (docs/model-format.md): JSON, human-readable, one weight row per line, every number written in its
/// shortest form that reads back bit for bit; then the model's pipeline and training record as sections, and in a
/// checkpoint the run's state. Version 2 writes the <c>pipeline</c> section (schema, preprocessing, classes); version 3
/// adds the optional <c>pipeline.table</c> (a table's fitted encoders: medians, categories, date parts), so a version 2
/// file reads as it did; version 1 files (the <c>data</c> and <c>preprocessing</c> sections) are read and converted.
/// </summary>
/// <remarks>
/// The network part is written by hand, not by the serializer: a weight matrix is written one unit's row per line
/// (the layout a reader of the file can follow, and that the seed's notation maps onto), which a JSON serializer's
/// indentation (one number per line) does not give, and it is streamed row by row so a model of any size is written
/// in bounded memory. The sections go through the one source-generated context (<see cref="Json.BackpropJson"/>).
/// </remarks>
public static class ModelFile
{
    /// <summary>The <c>format</c> field's value.</summary>
    public const string FormatName = "backprop-model";

    /// <summary>The version this build writes.</summary>
    public const int Version = 3;

    /// <summary>The oldest version this build reads.</summary>
    public const int OldestVersion = 1;

    /// <summary>
    /// The largest model (or checkpoint) file this build reads and writes: 2,147,483,591 bytes (2 GiB, the most one
    /// array holds), counted while reading and while writing, so no file is written that could not be read back.
    /// Reading one takes its bytes and the model it holds (docs/reliability.md).
    /// </summary>
    public static long MaxFileBytes => Array.MaxLength;

    /// <summary>The section that makes a model file a checkpoint.</summary>
    public const string CheckpointSection = "checkpoint";

    private static readonly HashSet<string> CoreKeys = ["format", "version", "precision", "inputs", "loss", "layers"];
    private static readonly HashSet<string> KnownSections = ["pipeline", "training", "metrics", CheckpointSection, "data", "preprocessing"];

    /// <summary>Writes <paramref name="model"/> (network, pipeline, training record, extra sections) to <paramref name="path"/> atomically.</summary>
    public static void Save<T>(this Model<T> model, string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        CheckSavable(model.Network);
        FileRoom.RequireForModel(model, path);
        WriteFile(path, "model file", stream => Write(model, stream, null));
    }

    /// <summary>Writes through <see cref="AtomicFile"/>, capped at <see cref="MaxFileBytes"/>: a file that would pass it is not written.</summary>
    internal static void WriteFile(string path, string what, Action<Stream> write)
    {
        long limit = WriteLimitForTests.Value ?? MaxFileBytes;
        try
        {
            AtomicFile.Write(path, stream => write(new CappedStream(stream, limit)));
        }
        catch (CappedStream.FullException)
        {
            throw new BackpropException(
                $"{path}: the {what} would be more than {limit:N0} bytes, the most a model or checkpoint file may be (it could not be read back); "
                + "nothing was written and any previous file is unchanged.");
        }
    }

    /// <summary>Tests only: a smaller cap for <see cref="WriteFile"/> than <see cref="MaxFileBytes"/>. Per async flow.</summary>
    internal static readonly AsyncLocal<long?> WriteLimitForTests = new();

    /// <summary>A stream that refuses to take more than its limit (the write then fails, and AtomicFile leaves the target as it was).</summary>
    private sealed class CappedStream(Stream inner, long limit) : Stream
    {
        private long _written;

        public sealed class FullException : Exception;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _written;
        public override long Position { get => _written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _written += buffer.Length;
            if (_written > limit)
                throw new FullException();
            inner.Write(buffer);
        }
    }

    /// <summary>Writes a bare network (no preprocessing; the task inferred from its output layer) to <paramref name="path"/> atomically.</summary>
    public static void Save<T>(Network<T> network, string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var model = Wrap(network);
        CheckSavable(network);
        FileRoom.RequireForModel(model, path);
        WriteFile(path, "model file", stream => Write(model, stream, null, sections: false));
    }

    /// <summary>Reads a model file in single precision.</summary>
    public static Model<float> Load(string path) => Load<float>(path);

    /// <summary>Reads a model file (or the model of a checkpoint) in element type <typeparamref name="T"/>.</summary>
    public static Model<T> Load<T>(string path) where T : unmanaged, IFloatingPointIeee754<T> => Read<T>(path).Model;

    /// <summary>Reads a model file with the checkpoint state it holds (null for a plain model file).</summary>
    public static (Model<T> Model, TrainingState? Checkpoint) Read<T>(string path) where T : unmanaged, IFloatingPointIeee754<T> =>
        Read<T>(path, "model");

    /// <summary>As <see cref="Read{T}(string)"/>, naming the file <paramref name="what"/> ("model", "checkpoint") in a read error.</summary>
    internal static (Model<T> Model, TrainingState? Checkpoint) Read<T>(string path, string what) where T : unmanaged, IFloatingPointIeee754<T> =>
        Parse<T>(BoundedFile.ReadAllBytes(path, MaxFileBytes, what, new JsonPrefixCheck(path).Inspect), path);

    /// <summary>The file's text for <paramref name="model"/>.</summary>
    public static string Serialize<T>(Model<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSavable(model.Network);
        using var stream = new MemoryStream();
        Write(model, stream, null);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>The file's text for a bare network.</summary>
    public static string Serialize<T>(Network<T> network) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSavable(network);
        using var stream = new MemoryStream();
        Write(Wrap(network), stream, null, sections: false);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Parses a model file's text; <paramref name="source"/> names it in error messages.</summary>
    public static Model<T> Deserialize<T>(string text, string source = "model") where T : unmanaged, IFloatingPointIeee754<T> =>
        Parse<T>(Encoding.UTF8.GetBytes(text), source).Model;

    /// <summary>A bare network as a model: no preprocessing, the task inferred from the output layer.</summary>
    public static Model<T> Wrap<T>(Network<T> network) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        return Model<T>.FromNetwork(network, InferTask(network));
    }

    /// <summary>A softmax output, or a single sigmoid output with binary cross-entropy, means classification.</summary>
    private static TaskKind InferTask<T>(Network<T> net) where T : unmanaged, IFloatingPointIeee754<T> =>
        net.Layers[^1].Activation == Activation.Softmax || (net.Outputs == 1 && net.Loss == Loss.BinaryCrossEntropy)
            ? TaskKind.Classification : TaskKind.Regression;

    private static void CheckSavable<T>(Network<T> network) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var p in network.Parameters)
        {
            int i = NetworkParameters<T>.FirstNonFinite(p.ReadValues);
            if (i >= 0)
                throw new BackpropException($"{p.ElementName(i)} is {p.ReadValues[i]}; a model with non-finite parameters cannot be saved.");
        }
    }

    /// <summary>
    /// Writes the model file to <paramref name="stream"/>: the network row by row, then the sections (none for a bare
    /// network, whose file then holds the network alone and reads back as one with no preprocessing); with
    /// <paramref name="checkpoint"/>, the <c>checkpoint</c> section too. Streams: memory stays bounded for any size.
    /// </summary>
    internal static void Write<T>(Model<T> model, Stream stream, TrainingState? checkpoint, bool sections = true)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var network = model.Network;
        var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16) { NewLine = "\n" };
        w.Write("{\n");
        w.Write($"  \"format\": \"{FormatName}\",\n");
        w.Write($"  \"version\": {Version},\n");
        w.Write($"  \"precision\": \"{PrecisionName<T>()}\",\n");
        w.Write(string.Create(CultureInfo.InvariantCulture, $"  \"inputs\": {network.Inputs},\n"));
        w.Write($"  \"loss\": \"{Names.Of(network.Loss)}\",\n");
        w.Write("  \"layers\": [\n");
        for (int l = 0; l < network.Layers.Count; l++)
        {
            var layer = network.Layers[l];
            w.Write("    {\n");
            w.Write(string.Create(CultureInfo.InvariantCulture, $"      \"units\": {layer.Units},\n"));
            w.Write($"      \"activation\": \"{Names.Of(layer.Activation)}\",\n");
            w.Write($"      \"bias\": \"{Names.Of(layer.Bias)}\",\n");
            w.Write($"      \"trainable_bias\": {(layer.TrainableBias ? "true" : "false")},\n");
            w.Write("      \"weights\": [\n");
            for (int u = 0; u < layer.Units; u++)
            {
                w.Write("        [");
                for (int i = 0; i < layer.Inputs; i++)
                {
                    if (i > 0)
                        w.Write(", ");
                    w.Write(FormatNumber(layer.Weight(u, i)));
                }
                w.Write(u < layer.Units - 1 ? "],\n" : "]\n");
            }
            w.Write("      ],\n");
            w.Write("      \"biases\": [");
            for (int b = 0; b < layer.Biases.Length; b++)
            {
                if (b > 0)
                    w.Write(", ");
                w.Write(FormatNumber(layer.Biases[b]));
            }
            w.Write("]\n");
            w.Write(l < network.Layers.Count - 1 ? "    },\n" : "    }\n");
        }
        w.Write("  ]");
        if (!sections)
        {
            w.Write("\n}\n");
            w.Flush();
            return;
        }
        WriteSection(w, "pipeline", ModelSections.Pipeline(model), Json.BackpropJson.Default.PipelineSection);
        WriteSection(w, "training", ModelSections.Training(model), Json.BackpropJson.Default.TrainingSection);
        if (model.Metrics is { } metrics)
            WriteSection(w, "metrics", metrics, Json.BackpropJson.Default.ModelMetrics);
        foreach (var (key, raw) in model.ExtraSections)
        {
            if (CoreKeys.Contains(key) || KnownSections.Contains(key))
                throw new ArgumentException($"Section '{key}' is part of the model itself and cannot be an extra section.", nameof(model));
            w.Write(",\n  ");
            w.Write(JsonSerializer.Serialize(key, Json.BackpropJson.Default.String));
            w.Write(": ");
            w.Write(raw.Trim().Replace("\n", "\n  "));
        }
        if (checkpoint is not null)
        {
            w.Write(",\n  \"checkpoint\": ");
            w.Flush();
            using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false }))
                JsonSerializer.Serialize(json, checkpoint, Json.BackpropJson.Compact.TrainingState);
        }
        w.Write("\n}\n");
        w.Flush();
    }

    private static void WriteSection<TSection>(StreamWriter w, string name, TSection value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<TSection> info)
    {
        w.Write($",\n  \"{name}\": ");
        w.Write(JsonSerializer.Serialize(value, info).Replace("\n", "\n  "));
    }

    /// <summary>
    /// Parses a model file; <paramref name="source"/> names it in error messages. The text is checked whole first
    /// (syntax, depth, duplicate keys), then read value by value straight into the network's arrays and the sections'
    /// records: no document object model, so reading takes the file's bytes and the model, whatever the file holds.
    /// </summary>
    internal static (Model<T> Model, TrainingState? Checkpoint) Parse<T>(byte[] bytes, string source)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        JsonValue root;
        try
        {
            // A UTF-8 byte order mark (some editors add one) is not part of the JSON.
            int start = bytes.AsSpan().StartsWith(Utf8Bom) ? Utf8Bom.Length : 0;
            root = JsonValue.ValidateAll(bytes.AsMemory(start));
        }
        catch (JsonException e)
        {
            throw NotJson(source, e);
        }
        var r = new Reader(source);
        if (root.Kind != JsonTokenType.StartObject)
            throw r.Error("", "expected a JSON object at the top level");
        var top = Reader.Index(root);
        string format = r.String(top, "format");
        if (format != FormatName)
            throw r.Error("format", $"expected \"{FormatName}\", found \"{CsvDataset.Shorten(format)}\"");
        int version = r.Int(top, "version", 1);
        if (version < OldestVersion || version > Version)
            throw r.Error("version", $"version {version} is not supported; this build reads versions {OldestVersion} to {Version}"
                + (version > Version ? " (the file was written by a newer version of backprop)" : ""));
        bool hasPrecision = top.TryGetValue("precision", out var prec);
        if (hasPrecision && (prec.Kind != JsonTokenType.String || prec.GetString() is not ("float32" or "float64")))
            throw r.Error("precision", "expected \"float32\" or \"float64\"");
        // A float32 file holds float32 numbers whatever type it is read into (a checkpoint is read in double).
        r.Float32 = hasPrecision && prec.GetString() == "float32";
        int inputs = r.Int(top, "inputs", 1);
        var loss = r.Enum<Loss>(top, "loss", "loss");
        var layersValue = r.Property(top, "layers", JsonTokenType.StartArray);
        int layerCount = layersValue.Count();
        if (layerCount == 0)
            throw r.Error("layers", "expected at least one layer");
        if (layerCount > MaxLayers)
            throw r.Error("layers", $"{layerCount:N0} layers, more than the {MaxLayers} a model may have");

        var layers = new List<Dense<T>>();
        int fanIn = inputs;
        int index = -1;
        foreach (var le in layersValue.EnumerateElements())
        {
            index++;
            string at = $"layers[{index}]";
            if (le.Kind != JsonTokenType.StartObject)
                throw r.Error(at, "expected an object");
            var props = Reader.Index(le);
            int units = r.Int(props, "units", 1, at);
            var activation = r.Enum<Activation>(props, "activation", "activation", at);
            var bias = props.ContainsKey("bias") ? r.Enum<BiasMode>(props, "bias", "bias mode", at) : BiasMode.PerUnit;
            bool trainable = true;
            if (props.TryGetValue("trainable_bias", out var tb))
            {
                if (tb.Kind is not (JsonTokenType.True or JsonTokenType.False))
                    throw r.Error($"{at}.trainable_bias", "expected true or false");
                trainable = tb.Kind == JsonTokenType.True;
            }
            if (activation == Activation.Softmax && index < layerCount - 1)
                throw r.Error($"{at}.activation", "softmax is only supported on the last layer");
            var rows = r.Property(props, "weights", JsonTokenType.StartArray, at);
            int rowCount = rows.Count();
            if (rowCount != units)
                throw r.Error($"{at}.weights", $"expected {units} rows (one per unit), found {rowCount}");
            // Check every row's length before allocating units x inputs weights: sizes the header claims are
            // then bounded by the numbers actually present in the text.
            int check = 0;
            foreach (var row in rows.EnumerateElements())
            {
                if (row.Kind != JsonTokenType.StartArray || row.Count() != fanIn)
                    throw r.Error($"{at}.weights[{check}]", $"expected an array of {fanIn} numbers (one per input of the layer)");
                check++;
            }
            Dense<T> layer;
            try
            {
                layer = new Dense<T>(fanIn, units, activation, bias, trainable);
            }
            catch (ArgumentException e)
            {
                throw r.Error(at, e.Message.TrimEnd('.'));
            }
            int unit = 0;
            foreach (var row in rows.EnumerateElements())
            {
                r.Numbers(row, layer.Weights.Slice(unit * fanIn, fanIn), $"{at}.weights[{unit}]");
                unit++;
            }
            int biasCount = Dense<T>.BiasCount(bias, units);
            bool hasBiases = props.TryGetValue("biases", out var biases);
            if (!hasBiases && biasCount > 0)
                throw r.Error($"{at}.biases", $"missing; bias mode '{Names.Of(bias)}' needs {biasCount} value(s)");
            if (hasBiases)
            {
                if (biases.Kind != JsonTokenType.StartArray || biases.Count() != biasCount)
                    throw r.Error($"{at}.biases", $"expected an array of {biasCount} number(s) for bias mode '{Names.Of(bias)}'");
                r.Numbers(biases, layer.Biases, $"{at}.biases");
            }
            layers.Add(layer);
            fanIn = units;
        }
        var required = Losses.RequiredActivation(loss);
        if (required is { } req && layers[^1].Activation != req)
            throw r.Error("loss", $"loss '{Names.Of(loss)}' needs a '{Names.Of(req)}' last layer, found '{Names.Of(layers[^1].Activation)}'");

        Network<T> network;
        try
        {
            network = new Network<T>(inputs, layers, loss);
        }
        catch (ArgumentException e)
        {
            throw r.Error("layers", e.Message.TrimEnd('.'));
        }
        var sections = new Dictionary<string, JsonValue>(StringComparer.Ordinal);
        foreach (var (name, value) in top)
            if (!CoreKeys.Contains(name))
                sections[name] = value;
        var model = version == 1
            ? ModelSections.FromVersion1(network, sections, source)
            : ModelSections.FromVersion2(network, sections, source);
        foreach (var (name, value) in sections)
            if (!KnownSections.Contains(name))
                model.ExtraSections[name] = value.RawText;
        // Version 1 wrote its metrics under other names; they describe the same training, so they are dropped, not converted.
        if (version >= 2 && sections.TryGetValue("metrics", out var me))
            model.Metrics = ModelSections.Read(me, "metrics", Json.BackpropJson.Default.ModelMetrics, source);
        TrainingState? checkpoint = null;
        if (sections.TryGetValue(CheckpointSection, out var cp))
        {
            CheckOptimizerShape(cp, network, source);
            checkpoint = ModelSections.Read(cp, CheckpointSection, Json.BackpropJson.Default.TrainingState, source);
        }
        return (model, checkpoint);
    }

    /// <summary>The most layers a model file may hold (a network of more is not one this library trains).</summary>
    public const int MaxLayers = 1024;

    /// <summary>
    /// Before the checkpoint section is read into arrays: its optimizer state holds at most two tensors a layer of at
    /// most 8 state arrays each (the later check compares every length exactly). Without it, a file of empty arrays
    /// ("[],[],...") would become an array object per 3 bytes of text.
    /// </summary>
    private static void CheckOptimizerShape<T>(JsonValue checkpoint, Network<T> network, string source) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (checkpoint.Kind != JsonTokenType.StartObject)
            return;
        var props = Reader.Index(checkpoint);
        if (!props.TryGetValue("optimizer", out var opt) || opt.Kind != JsonTokenType.StartObject
            || !Reader.Index(opt).TryGetValue("state", out var state) || state.Kind != JsonTokenType.StartArray)
            return;
        int tensors = state.Count();
        if (tensors > 2 * network.Layers.Count)
            throw new ModelFormatException($"{source}: field 'checkpoint.optimizer.state': expected at most {2 * network.Layers.Count} value(s) (two a layer), found {tensors:N0}.");
        int t = 0;
        foreach (var slots in state.EnumerateElements())
        {
            if (slots.Kind == JsonTokenType.StartArray && slots.Count() > 8)
                throw new ModelFormatException($"{source}: field 'checkpoint.optimizer.state[{t}]': expected at most 8 state arrays, found {slots.Count():N0}.");
            t++;
        }
    }

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    private const int MaxDepth = JsonValue.MaxDepth;

    private static ModelFormatException NotJson(string source, JsonException e) =>
        new($"{source}: not valid JSON at line {(e.LineNumber ?? 0) + 1}, byte {(e.BytePositionInLine ?? 0) + 1}: {FirstSentence(e.Message)}", e);

    /// <summary>
    /// Checks a model file's bytes as they are read: the first byte that cannot continue valid JSON (the zeros of
    /// /dev/zero, a binary file, nesting past 64 levels, text after the top-level object) stops the read at once,
    /// with the message the full parse would give, instead of after the whole file (up to <see cref="MaxFileBytes"/>)
    /// has been read into memory.
    /// </summary>
    private sealed class JsonPrefixCheck(string source)
    {
        private JsonReaderState _state = new(new JsonReaderOptions { MaxDepth = MaxDepth });
        private byte[] _pending = new byte[1 << 17];
        // Bytes of _pending not consumed yet: the start of a token cut by the end of the last piece.
        private int _kept;
        private bool _started;

        public void Inspect(ReadOnlySpan<byte> bytes)
        {
            // A token longer than 1 MiB (no model file has one) would be scanned again with every piece: leave it,
            // and the rest of the file, to the full parse.
            if (_kept > 1 << 20)
                return;
            if (!_started)
            {
                _started = true;
                if (bytes.StartsWith(Utf8Bom))
                    bytes = bytes[Utf8Bom.Length..];
            }
            // What the last piece left unread (a token cut in two) comes first.
            if (_kept + bytes.Length > _pending.Length)
                Array.Resize(ref _pending, Math.Max(_pending.Length * 2, _kept + bytes.Length));
            bytes.CopyTo(_pending.AsSpan(_kept));
            int length = _kept + bytes.Length;
            var reader = new Utf8JsonReader(_pending.AsSpan(0, length), isFinalBlock: false, _state);
            try
            {
                while (reader.Read())
                {
                }
            }
            catch (JsonException e)
            {
                throw NotJson(source, e);
            }
            _state = reader.CurrentState;
            int consumed = (int)reader.BytesConsumed;
            _kept = length - consumed;
            _pending.AsSpan(consumed, _kept).CopyTo(_pending);
        }
    }

    /// <summary>float32 or float64: the <c>precision</c> field for element type <typeparamref name="T"/>.</summary>
    public static string PrecisionName<T>() => typeof(T) == typeof(float) ? "float32" : typeof(T) == typeof(double) ? "float64" : typeof(T).Name;

    /// <summary>The shortest text that parses back to exactly <paramref name="value"/>.</summary>
    public static string FormatNumber<T>(T value) where T : unmanaged, IFloatingPointIeee754<T> =>
        value.ToString("R", CultureInfo.InvariantCulture);

    private static string FirstSentence(string message)
    {
        int i = message.IndexOf(". ", StringComparison.Ordinal);
        return i > 0 ? message[..(i + 1)] : message;
    }

    private sealed class Reader(string source)
    {
        public ModelFormatException Error(string field, string what) =>
            new(field.Length == 0 ? $"{source}: {what}." : $"{source}: field '{field}': {what}.");

        /// <summary>An object's properties by name (the file was checked: no name twice).</summary>
        public static Dictionary<string, JsonValue> Index(JsonValue obj)
        {
            var d = new Dictionary<string, JsonValue>(StringComparer.Ordinal);
            foreach (var (k, v) in obj.Properties())
                d[k] = v;
            return d;
        }

        public JsonValue Property(Dictionary<string, JsonValue> obj, string name, JsonTokenType kind, string at = "")
        {
            string path = Join(at, name);
            if (!obj.TryGetValue(name, out var e))
                throw Error(path, "missing");
            if (e.Kind != kind)
                throw Error(path, $"expected {JsonValue.Describe(kind)}, found {JsonValue.Describe(e.Kind)}");
            return e;
        }

        public string String(Dictionary<string, JsonValue> obj, string name, string at = "") => Property(obj, name, JsonTokenType.String, at).GetString();

        public int Int(Dictionary<string, JsonValue> obj, string name, int min, string at = "")
        {
            var e = Property(obj, name, JsonTokenType.Number, at);
            if (!e.TryGetInt32(out int v) || v < min)
                throw Error(Join(at, name), $"expected a whole number >= {min}, found {Shorten(e.RawText)}");
            return v;
        }

        public TEnum Enum<TEnum>(Dictionary<string, JsonValue> obj, string name, string what, string at = "") where TEnum : struct, System.Enum
        {
            string s = String(obj, name, at);
            if (!Names.TryParse<TEnum>(s, out var v))
                throw Error(Join(at, name), $"unknown {what} \"{Shorten(s)}\"; expected one of {string.Join(", ", Names.All<TEnum>())}");
            return v;
        }

        /// <summary>True when the file says its numbers are float32: each must then be finite as a float32.</summary>
        public bool Float32 { get; set; }

        /// <summary>Reads an array of numbers (its length already checked) into <paramref name="destination"/>; element i is field PATH[i].</summary>
        public void Numbers<T>(JsonValue array, Span<T> destination, string path) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var reader = new Utf8JsonReader(array.Bytes.Span, JsonValue.Options);
            reader.Read();
            int i = 0;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.Number)
                    throw Error($"{path}[{i}]", $"expected a number, found {JsonValue.Describe(reader.TokenType)}");
                destination[i] = Number<T>(reader.ValueSpan, $"{path}[{i}]");
                i++;
            }
        }

        private T Number<T>(ReadOnlySpan<byte> digits, string path) where T : unmanaged, IFloatingPointIeee754<T>
        {
            if (Float32 && typeof(T) != typeof(float)
                && (!float.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out float f) || !float.IsFinite(f)))
                throw Error(path, $"the number {Shorten(Encoding.UTF8.GetString(digits))} is out of range for float32, the file's precision");
            if (!T.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !T.IsFinite(v))
                throw Error(path, $"the number {Shorten(Encoding.UTF8.GetString(digits))} is out of range for {PrecisionName<T>()}");
            return v;
        }

        private static string Shorten(string s) => CsvDataset.Shorten(s);

        private static string Join(string at, string name) => at.Length == 0 ? name : $"{at}.{name}";
    }
}
