using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Backprop.IO;
using Backprop.Nn;
using Backprop.Numerics;

namespace Backprop.Training;

/// <summary>Saving and restoring everything a run needs to continue bit for bit (docs/checkpoint-format.md).</summary>
internal sealed partial class TrainingSession<T>
{
    /// <summary>The version of the <c>checkpoint</c> section this build writes and reads.</summary>
    public const int CheckpointVersion = 1;

    /// <summary>Epochs started so far (the one in progress included).</summary>
    public int Epoch => _epoch;

    /// <summary>Epochs completed so far in this run.</summary>
    public int CompletedEpochs => _inEpoch ? _epoch - 1 : _epoch;

    /// <summary>True between two batches of an epoch (a cancelled epoch).</summary>
    public bool InEpoch => _inEpoch;

    /// <summary>The next batch of the epoch in progress (0-based).</summary>
    public int NextBatch => _batch;

    /// <summary>
    /// The settings that must be the same for a resumed run to continue the saved one exactly; compared key by key
    /// on resume. (The epoch count may grow: a finished run can be continued for more epochs.)
    /// </summary>
    private List<KeyValuePair<string, string>> RunSettings()
    {
        var inv = CultureInfo.InvariantCulture;
        // In the order they are compared: the data fingerprint last, as a different seed or split changes it too.
        var d = new Dictionary<string, string>
        {
            ["precision"] = ModelFile.PrecisionName<T>(),
            ["seed"] = _seed.ToString(inv),
            ["batch_size"] = _batchSize.ToString(inv),
            ["training_rows"] = _rows.ToString(inv),
            ["validation_rows"] = _valRows.ToString(inv),
            ["shuffle"] = _options.Shuffle ? "true" : "false",
            ["schedule"] = _options.Schedule.ToString(),
            ["l2"] = _options.L2.ToString("R", inv),
            ["clip_norm"] = _options.ClipNorm is { } c ? c.ToString("R", inv) : "none",
            ["early_stopping"] = _options.EarlyStopping is { } es
                ? string.Create(inv, $"patience={es.Patience}, min_delta={es.MinDelta:R}, restore={es.RestoreBestWeights}") : "none",
            ["optimizer"] = _optimizer.Name + "(" + string.Join(", ",
                _optimizer.Settings.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value.ToString("R", inv))) + ")",
        };
        var list = d.ToList();
        list.Add(new("data", DataFingerprint()));
        return list;
    }

    /// <summary>FNV-1a (64-bit) of the converted training and validation data, so a resume on other data is refused.</summary>
    private string DataFingerprint()
    {
        ulong h = 14695981039346656037UL;
        void Add(ReadOnlySpan<byte> bytes)
        {
            foreach (byte b in bytes)
                h = unchecked((h ^ b) * 1099511628211UL);
        }
        Add(MemoryMarshal.AsBytes(_x.AsSpan()));
        Add(MemoryMarshal.AsBytes(_y.AsSpan()));
        Add(MemoryMarshal.AsBytes(_labels.AsSpan()));
        if (_valX is not null)
        {
            Add(MemoryMarshal.AsBytes(_valX.AsSpan()));
            Add(MemoryMarshal.AsBytes(_valY!.AsSpan()));
            Add(MemoryMarshal.AsBytes(_valLabels.AsSpan()));
        }
        return h.ToString("x16", CultureInfo.InvariantCulture);
    }

    /// <summary>The run's state as the <c>checkpoint</c> section (without the weights, which the model file holds).</summary>
    public JsonObject SaveState()
    {
        var run = new JsonObject();
        foreach (var (k, v) in RunSettings())
            run[k] = v;
        var optimizer = new JsonObject
        {
            ["name"] = _optimizer.Name,
            ["steps"] = _optimizer.Steps,
        };
        var tensors = new JsonArray();
        var shape = _optimizer.BoundShape;
        for (int t = 0; t < shape.Length; t++)
        {
            var slots = new JsonArray();
            for (int s = 0; s < _optimizer.SlotCount; s++)
                slots.Add(Numbers(_optimizer.StateArray(t, s), "optimizer state"));
            tensors.Add(slots);
        }
        optimizer["state"] = tensors;

        var o = new JsonObject
        {
            ["version"] = CheckpointVersion,
            ["run"] = run,
            ["epochs"] = _options.Epochs,
            ["epoch"] = _epoch,
            ["in_epoch"] = _inEpoch,
            ["batch"] = _batch,
            ["epoch_loss_sum"] = _epochLossSum,
            ["epoch_correct"] = _epochCorrect,
            ["shuffle_state"] = _shuffle.State.ToString(CultureInfo.InvariantCulture),
            ["order"] = new JsonArray(_order.Select(i => (JsonNode?)JsonValue.Create(i)).ToArray()),
            ["first_batch_loss"] = Nullable(_firstBatchLoss),
            ["last_batch_loss"] = Nullable(_lastBatchLoss),
            ["best_loss"] = Nullable(_bestLoss),
            ["best_epoch"] = _bestEpoch,
            ["wait"] = _wait,
            ["stopped_early"] = _stoppedEarly,
            ["optimizer"] = optimizer,
        };
        if (_best.Length != 0)
        {
            var best = new JsonArray();
            foreach (var v in _best)
                best.Add(JsonValue.Create(double.CreateChecked(v)));
            o["best_weights"] = best;
        }
        return o;
    }

    private static JsonNode? Nullable(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    private static JsonArray Numbers(double[] values, string what)
    {
        var a = new JsonArray();
        foreach (var v in values)
        {
            if (!double.IsFinite(v))
                throw new BackpropException($"Cannot write a checkpoint: the {what} holds a non-finite value ({v}).");
            a.Add(JsonValue.Create(v));
        }
        return a;
    }

    /// <summary>
    /// Validates a <c>checkpoint</c> section against this run completely, then (and only then) puts its state back.
    /// Every array is checked against a size this run already knows before anything is allocated.
    /// Returns the number of completed epochs the section describes.
    /// </summary>
    public int RestoreState(JsonObject section, string source, int historyCount)
    {
        var r = new CheckpointReader(source);
        int version = r.Int(section, "version", 1, int.MaxValue);
        if (version != CheckpointVersion)
            throw r.Error("version", $"checkpoint version {version} is not supported; this build reads version {CheckpointVersion}");
        var run = r.Object(section, "run");
        foreach (var (key, expected) in RunSettings())
        {
            string found = r.String(run, key, "run");
            if (found != expected)
                throw new BackpropException(
                    $"{source}: the checkpoint was written by a different run ({key}: checkpoint has '{found}', this run has '{expected}'); resume with the same data, model, optimizer and training settings.");
        }
        int epoch = r.Int(section, "epoch", 0, int.MaxValue);
        bool inEpoch = r.Bool(section, "in_epoch");
        int batches = (_rows + _batchSize - 1) / _batchSize;
        int batch = r.Int(section, "batch", 0, inEpoch ? batches - 1 : 0);
        if (inEpoch && epoch < 1)
            throw r.Error("in_epoch", "an epoch in progress needs epoch >= 1");
        int completed = inEpoch ? epoch - 1 : epoch;
        if (epoch > _options.Epochs)
            throw new BackpropException($"{source}: the checkpoint is at epoch {epoch} but this run trains only {_options.Epochs} epoch(s); ask for at least {epoch}.");
        if (completed > historyCount)
            throw r.Error("history", $"holds {historyCount} epochs but the run completed {completed}");
        double epochLoss = r.Double(section, "epoch_loss_sum", allowNull: false);
        int epochCorrect = r.Int(section, "epoch_correct", 0, _rows);
        string stateText = r.String(section, "shuffle_state");
        if (!ulong.TryParse(stateText, NumberStyles.None, CultureInfo.InvariantCulture, out ulong shuffleState))
            throw r.Error("shuffle_state", $"expected a whole number 0..{ulong.MaxValue} as a string, found \"{Trim(stateText)}\"");
        var orderArray = r.Array(section, "order", _rows);
        var order = new int[_rows];
        var seen = new bool[_rows];
        for (int i = 0; i < _rows; i++)
        {
            int v = r.Int(orderArray[i], $"order[{i}]", 0, _rows - 1);
            if (seen[v])
                throw r.Error($"order[{i}]", $"row {v} appears twice; expected a permutation of 0..{_rows - 1}");
            seen[v] = true;
            order[i] = v;
        }
        double first = r.Double(section, "first_batch_loss", allowNull: true);
        double last = r.Double(section, "last_batch_loss", allowNull: true);
        double bestLoss = r.Double(section, "best_loss", allowNull: true);
        if (double.IsNaN(bestLoss))
            bestLoss = double.PositiveInfinity;
        int bestEpoch = r.Int(section, "best_epoch", 0, Math.Max(completed, 0));
        int wait = r.Int(section, "wait", 0, Math.Max(completed, 0));
        bool stoppedEarly = r.Bool(section, "stopped_early");
        T[] best = [];
        if (_best.Length != 0)
        {
            var bestArray = r.Array(section, "best_weights", _best.Length);
            best = new T[_best.Length];
            for (int i = 0; i < best.Length; i++)
                best[i] = r.Number<T>(bestArray[i], $"best_weights[{i}]");
        }

        var opt = r.Object(section, "optimizer");
        string name = r.String(opt, "name", "optimizer");
        if (name != _optimizer.Name)
            throw r.Error("optimizer.name", $"expected \"{_optimizer.Name}\", found \"{Trim(name)}\"");
        int steps = r.Int(opt, "steps", 0, int.MaxValue / 2, "optimizer");
        int tensorCount = steps == 0 ? 0 : _net.Layers.Count * 2;
        var tensors = r.Array(opt, "state", tensorCount, "optimizer");
        var state = new double[tensorCount][][];
        for (int t = 0; t < tensorCount; t++)
        {
            var layer = _net.Layers[t / 2];
            int length = t % 2 == 0 ? layer.Weights.Length : layer.Biases.Length;
            var slots = r.Array(tensors[t], $"optimizer.state[{t}]", _optimizer.SlotCount);
            state[t] = new double[_optimizer.SlotCount][];
            for (int s = 0; s < _optimizer.SlotCount; s++)
            {
                string at = $"optimizer.state[{t}][{s}]";
                var values = r.Array(slots[s], at, length);
                var a = new double[length];
                for (int i = 0; i < length; i++)
                    a[i] = r.Double(values[i], $"{at}[{i}]", allowNull: false);
                state[t][s] = a;
            }
        }

        // Everything is valid: apply.
        _epoch = epoch;
        _inEpoch = inEpoch;
        _batch = batch;
        _epochLossSum = epochLoss;
        _epochCorrect = epochCorrect;
        _shuffle.State = shuffleState;
        order.CopyTo(_order, 0);
        _firstBatchLoss = first;
        _lastBatchLoss = last;
        _bestLoss = bestLoss;
        _bestEpoch = bestEpoch;
        _wait = wait;
        _stoppedEarly = stoppedEarly;
        best.CopyTo(_best, 0);
        _optimizer.RestoreState(_net, steps, (t, s, dest) => state[t][s].CopyTo(dest, 0));
        return completed;
    }

    /// <summary>Puts the session's history back (the epochs completed before the checkpoint, in this run).</summary>
    public void RestoreHistory(IEnumerable<EpochResult> history)
    {
        _history.Clear();
        _history.AddRange(history);
    }

    private static string Trim(string s) => s.Length <= 40 ? s : s[..40] + "...";
}

/// <summary>Strict reading of a checkpoint section: every value's kind and range is checked; errors name the field.</summary>
internal sealed class CheckpointReader(string source)
{
    public ModelFormatException Error(string field, string what) => new($"{source}: field 'checkpoint.{field}': {what}.");

    private static string Join(string at, string name) => at.Length == 0 ? name : $"{at}.{name}";

    public JsonNode Node(JsonObject obj, string name, string at = "")
    {
        if (!obj.TryGetPropertyValue(name, out var n) || n is null)
            throw Error(Join(at, name), "missing");
        return n;
    }

    public JsonObject Object(JsonObject obj, string name, string at = "") =>
        Node(obj, name, at) as JsonObject ?? throw Error(Join(at, name), "expected an object");

    public JsonArray Array(JsonObject obj, string name, int length, string at = "") => Array(Node(obj, name, at), Join(at, name), length);

    public JsonArray Array(JsonNode? node, string path, int length)
    {
        if (node is not JsonArray a)
            throw Error(path, "expected an array");
        if (a.Count != length)
            throw Error(path, $"expected {length} value(s), found {a.Count}");
        return a;
    }

    public string String(JsonObject obj, string name, string at = "")
    {
        if (Node(obj, name, at) is JsonValue v && v.TryGetValue(out string? s))
            return s;
        throw Error(Join(at, name), "expected a string");
    }

    public bool Bool(JsonObject obj, string name)
    {
        if (Node(obj, name) is JsonValue v && v.TryGetValue(out bool b))
            return b;
        throw Error(name, "expected true or false");
    }

    public int Int(JsonObject obj, string name, int min, int max, string at = "") =>
        obj.TryGetPropertyValue(name, out var n) ? Int(n, Join(at, name), min, max) : throw Error(Join(at, name), "missing");

    public int Int(JsonNode? node, string path, int min, int max)
    {
        if (node is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number && v.TryGetValue(out int i) && i >= min && i <= max)
            return i;
        throw Error(path, $"expected a whole number from {min} to {max}, found {Describe(node)}");
    }

    /// <summary>A finite number, or NaN for null when <paramref name="allowNull"/>.</summary>
    public double Double(JsonObject obj, string name, bool allowNull)
    {
        if (!obj.TryGetPropertyValue(name, out var n))
            throw Error(name, "missing");
        return Double(n, name, allowNull);
    }

    public double Double(JsonNode? node, string path, bool allowNull)
    {
        if (node is null && allowNull)
            return double.NaN;
        if (node is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number
            && double.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d))
            return d;
        throw Error(path, $"expected a finite number{(allowNull ? " or null" : "")}, found {Describe(node)}");
    }

    public TNum Number<TNum>(JsonNode? node, string path) where TNum : unmanaged, IFloatingPointIeee754<TNum>
    {
        if (node is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number
            && TNum.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && TNum.IsFinite(d))
            return d;
        throw Error(path, $"expected a finite {ModelFile.PrecisionName<TNum>()} number, found {Describe(node)}");
    }

    private static string Describe(JsonNode? node)
    {
        if (node is null)
            return "null";
        string s = node.ToJsonString();
        return s.Length <= 40 ? s : s[..40] + "...";
    }
}
