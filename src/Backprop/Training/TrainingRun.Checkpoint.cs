using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using Backprop.Nn;
using Backprop.Numerics;

namespace Backprop.Training;

/// <summary>Saving and restoring everything a run needs to continue bit for bit (docs/checkpoint-format.md).</summary>
internal sealed partial class TrainingRun<T>
{
    /// <summary>
    /// The settings that must be the same for a resumed run to continue the saved one exactly; compared key by key
    /// on resume. (The epoch count may grow: a finished run can be continued for more epochs.)
    /// </summary>
    private List<KeyValuePair<string, string>> RunSettings()
    {
        var inv = CultureInfo.InvariantCulture;
        // In the order they are compared: the data fingerprint last, as a different seed or split changes it too.
        var list = new List<KeyValuePair<string, string>>
        {
            new("precision", typeof(T) == typeof(float) ? "float32" : typeof(T) == typeof(double) ? "float64" : typeof(T).Name),
            new("seed", _seed.ToString(inv)),
            new("batch_size", _batchSize.ToString(inv)),
            new("training_rows", _rows.ToString(inv)),
            new("validation_rows", _valRows.ToString(inv)),
            new("shuffle", _options.Shuffle ? "true" : "false"),
            new("schedule", _options.Schedule.ToString()),
            new("l2", _options.L2.ToString("R", inv)),
            new("clip_norm", _options.ClipNorm is { } c ? c.ToString("R", inv) : "none"),
            new("early_stopping", _options.EarlyStopping is { } es
                ? string.Create(inv, $"patience={es.Patience}, min_delta={es.MinDelta:R}, restore={es.RestoreBestWeights}") : "none"),
            new("optimizer", _optimizer.Name + "(" + string.Join(", ",
                _optimizer.Settings.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value.ToString("R", inv))) + ")"),
            new("data", DataFingerprint()),
        };
        // Only a run with dropout has the keys, so the checkpoints of runs without it read as before.
        if (_options.Dropout > 0 || _options.InputDropout > 0)
        {
            list.Insert(list.Count - 1, new("dropout", _options.Dropout.ToString("R", inv)));
            list.Insert(list.Count - 1, new("input_dropout", _options.InputDropout.ToString("R", inv)));
        }
        // Only a sharded run has the key, so the checkpoints of unsharded runs read as before.
        if (_options.Shards is { } shards)
            list.Insert(list.Count - 1, new("shards", shards.ToString(inv)));
        return list;
    }

    /// <summary>FNV-1a (64-bit) of the converted training and validation data, so a resume on other data is refused.</summary>
    private string DataFingerprint()
    {
        if (_stream is not null)
            return _stream.Fingerprint;
        ulong h = 14695981039346656037UL;
        void Add(ReadOnlySpan<byte> bytes)
        {
            foreach (byte b in bytes)
                h = unchecked((h ^ b) * 1099511628211UL);
        }
        // The targets' bytes are those of the encoded rows (one-hot for classes), as when they were held whole.
        Add(MemoryMarshal.AsBytes(_x.AsSpan()));
        _y.Hash(Add);
        Add(MemoryMarshal.AsBytes(_labels.AsSpan()));
        if (_valX is not null)
        {
            Add(MemoryMarshal.AsBytes(_valX.AsSpan()));
            _valY!.Hash(Add);
            Add(MemoryMarshal.AsBytes(_valLabels.AsSpan()));
        }
        return h.ToString("x16", CultureInfo.InvariantCulture);
    }

    /// <summary>Writes a checkpoint of the model and this run's state (in a group of processes, rank 0 alone writes).</summary>
    private void WriteCheckpoint(ICheckpointWriter writer)
    {
        if (_group is null or { Rank: 0 })
            writer.Write(_model, SaveState());
    }

    /// <summary>The run's state (without the weights, which the model holds); the arrays are copies.</summary>
    public TrainingState SaveState()
    {
        var shape = _optimizer.BoundShape;
        var tensors = new double[shape.Length][][];
        for (int t = 0; t < shape.Length; t++)
        {
            tensors[t] = new double[_optimizer.SlotCount][];
            for (int s = 0; s < _optimizer.SlotCount; s++)
            {
                var values = _optimizer.StateArray(t, s);
                foreach (var v in values)
                    if (!double.IsFinite(v))
                        throw new BackpropException($"Cannot write a checkpoint: the optimizer state holds a non-finite value ({v}).");
                tensors[t][s] = values;
            }
        }
        double[]? best = null;
        if (_best.Length != 0)
        {
            best = new double[_best.Length];
            for (int i = 0; i < best.Length; i++)
                best[i] = double.CreateChecked(_best[i]);
        }
        var run = new Dictionary<string, string>();
        foreach (var (k, v) in RunSettings())
            run[k] = v;
        return new TrainingState
        {
            Run = run,
            Epochs = _options.Epochs,
            Epoch = _epoch,
            InEpoch = _inEpoch,
            Batch = _batch,
            EpochLossSum = _epochLossSum,
            EpochCorrect = _epochCorrect,
            ShuffleState = _shuffle.State.ToString(CultureInfo.InvariantCulture),
            Order = (int[])_order.Clone(),
            FirstBatchLoss = Finite(_firstBatchLoss),
            LastBatchLoss = Finite(_lastBatchLoss),
            BestLoss = Finite(_bestLoss),
            BestEpoch = _bestEpoch,
            Wait = _wait,
            StoppedEarly = _stoppedEarly,
            Optimizer = new OptimizerSnapshot(_optimizer.Name, _optimizer.Steps, tensors),
            BestWeights = best,
            EpochsTrained = _model.EpochsTrained,
            History = [.. _model.History],
        };
    }

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;

    /// <summary>
    /// Validates a checkpoint against this model and run completely, then (and only then) puts its weights, state and
    /// history back. Errors name the field as <c>checkpoint.FIELD</c>.
    /// </summary>
    private void Resume(TrainingCheckpoint checkpoint)
    {
        string source = checkpoint.Source;
        var s = checkpoint.State;
        string mine = Shape(_net), theirs = Shape(checkpoint.Network);
        if (mine != theirs)
            throw new BackpropException($"{source}: the checkpoint holds a network {theirs} but this model is {mine}.");
        if (s.Version != TrainingState.CurrentVersion)
            throw Error(source, "version", $"checkpoint version {s.Version} is not supported; this build reads version {TrainingState.CurrentVersion}");
        foreach (var (key, expected) in RunSettings())
        {
            if (s.Run is null || !s.Run.TryGetValue(key, out var found))
                throw Error(source, $"run.{key}", "missing");
            if (found != expected)
                throw new BackpropException(
                    $"{source}: the checkpoint was written by a different run ({key}: checkpoint has '{Trim(found)}', this run has '{expected}'); resume with the same data, model, optimizer and training settings"
                    + (key == "l2" && double.TryParse(found, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double l2)
                        // Defaults change (a small file's --l2 went from 0.001 to 0.01): the way to resume is the checkpoint's value.
                        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $" (on the command line: --l2 {l2:R}).") : "."));
        }
        // The dropout keys are written only by a run with dropout: a run without it must not continue one with it.
        if (_options.Dropout == 0 && _options.InputDropout == 0 && s.Run is { } run && run.TryGetValue("dropout", out var rate))
            throw new BackpropException(
                $"{source}: the checkpoint was written by a different run (dropout: checkpoint has '{Trim(rate)}', this run has none); resume with the same data, model, optimizer and training settings.");
        int batches = BatchesPerEpoch;
        if (s.Epoch < 0)
            throw Error(source, "epoch", $"expected a whole number >= 0, found {s.Epoch}");
        if (s.InEpoch && s.Epoch < 1)
            throw Error(source, "in_epoch", "an epoch in progress needs epoch >= 1");
        if (s.Batch < 0 || s.Batch > (s.InEpoch ? batches - 1 : 0))
            throw Error(source, "batch", $"expected a whole number from 0 to {(s.InEpoch ? batches - 1 : 0)}, found {s.Batch}");
        int completed = s.InEpoch ? s.Epoch - 1 : s.Epoch;
        if (s.Epoch > _options.Epochs)
            throw new BackpropException($"{source}: the checkpoint is at epoch {s.Epoch} but this run trains only {_options.Epochs} epoch(s); ask for at least {s.Epoch}.");
        var history = s.History ?? throw Error(source, "history", "missing");
        if (s.EpochsTrained < 0 || s.EpochsTrained > MaxEpochsTrained)
            throw Error(source, "epochs_trained", $"expected a whole number from 0 to {MaxEpochsTrained}, found {s.EpochsTrained}");
        if (history.Count > s.EpochsTrained)
            throw Error(source, "history", $"holds {history.Count} epochs but epochs_trained is {s.EpochsTrained}");
        if (completed > history.Count)
            throw Error(source, "history", $"holds {history.Count} epochs but the run completed {completed}");
        for (int i = 0; i < history.Count; i++)
        {
            var h = history[i] ?? throw Error(source, $"history[{i}]", "expected an object");
            if (h.Epoch < 1 || h.Batches < 1 || !double.IsFinite(h.TrainingLoss) || !double.IsFinite(h.LearningRate) || h.LearningRate < 0
                || !FiniteOrNull(h.TrainingAccuracy) || !FiniteOrNull(h.ValidationLoss) || !FiniteOrNull(h.ValidationAccuracy))
                throw Error(source, $"history[{i}]", "expected epoch and batches >= 1 and finite losses, accuracies and a learning rate >= 0");
        }
        if (!double.IsFinite(s.EpochLossSum))
            throw Error(source, "epoch_loss_sum", "expected a finite number");
        if (s.EpochCorrect < 0 || s.EpochCorrect > _rows)
            throw Error(source, "epoch_correct", $"expected a whole number from 0 to {_rows}, found {s.EpochCorrect}");
        if (!ulong.TryParse(s.ShuffleState, NumberStyles.None, CultureInfo.InvariantCulture, out ulong shuffleState))
            throw Error(source, "shuffle_state", $"expected a whole number 0..{ulong.MaxValue} as a string, found \"{Trim(s.ShuffleState ?? "")}\"");
        var order = s.Order ?? throw Error(source, "order", "missing");
        // A streamed run keeps no order (its shards' orders are drawn from the epoch): it has none to compare.
        if (order.Length != _order.Length)
            throw Error(source, "order", $"expected {_order.Length} value(s), found {order.Length}");
        var seen = new bool[_order.Length];
        for (int i = 0; i < _order.Length; i++)
        {
            int v = order[i];
            if (v < 0 || v >= _order.Length)
                throw Error(source, $"order[{i}]", $"expected a whole number from 0 to {_rows - 1}, found {v}");
            if (seen[v])
                throw Error(source, $"order[{i}]", $"row {v} appears twice; expected a permutation of 0..{_rows - 1}");
            seen[v] = true;
        }
        foreach (var (name, value) in new[] { ("first_batch_loss", s.FirstBatchLoss), ("last_batch_loss", s.LastBatchLoss), ("best_loss", s.BestLoss) })
            if (value is { } d && !double.IsFinite(d))
                throw Error(source, name, "expected a finite number or null");
        if (s.BestEpoch < 0 || s.BestEpoch > Math.Max(completed, 0))
            throw Error(source, "best_epoch", $"expected a whole number from 0 to {Math.Max(completed, 0)}, found {s.BestEpoch}");
        if (s.Wait < 0 || s.Wait > Math.Max(completed, 0))
            throw Error(source, "wait", $"expected a whole number from 0 to {Math.Max(completed, 0)}, found {s.Wait}");
        T[] best = [];
        if (_best.Length != 0)
        {
            var bestArray = s.BestWeights ?? throw Error(source, "best_weights", "missing");
            if (bestArray.Length != _best.Length)
                throw Error(source, "best_weights", $"expected {_best.Length} value(s), found {bestArray.Length}");
            best = new T[_best.Length];
            for (int i = 0; i < best.Length; i++)
            {
                var v = T.CreateChecked(bestArray[i]);
                if (!double.IsFinite(bestArray[i]) || !T.IsFinite(v))
                    throw Error(source, $"best_weights[{i}]", $"expected a finite {typeof(T).Name} number");
                best[i] = v;
            }
        }

        var opt = s.Optimizer ?? throw Error(source, "optimizer", "missing");
        if (opt.Name != _optimizer.Name)
            throw Error(source, "optimizer.name", $"expected \"{_optimizer.Name}\", found \"{Trim(opt.Name ?? "")}\"");
        if (opt.Steps < 0 || opt.Steps > int.MaxValue / 2)
            throw Error(source, "optimizer.steps", $"expected a whole number from 0 to {int.MaxValue / 2}, found {opt.Steps}");
        int tensorCount = opt.Steps == 0 ? 0 : _net.Parameters.Count;
        var tensors = opt.State ?? throw Error(source, "optimizer.state", "missing");
        if (tensors.Length != tensorCount)
            throw Error(source, "optimizer.state", $"expected {tensorCount} value(s), found {tensors.Length}");
        for (int t = 0; t < tensorCount; t++)
        {
            int length = _net.Parameters[t].Length;
            var slots = tensors[t];
            if (slots is null || slots.Length != _optimizer.SlotCount)
                throw Error(source, $"optimizer.state[{t}]", $"expected {_optimizer.SlotCount} value(s), found {slots?.Length ?? 0}");
            for (int sl = 0; sl < slots.Length; sl++)
            {
                string at = $"optimizer.state[{t}][{sl}]";
                var values = slots[sl];
                if (values is null || values.Length != length)
                    throw Error(source, at, $"expected {length} value(s), found {values?.Length ?? 0}");
                for (int i = 0; i < values.Length; i++)
                    if (!double.IsFinite(values[i]))
                        throw Error(source, $"{at}[{i}]", "expected a finite number");
                string? problem = _optimizer.CheckState(sl, values);
                if (problem is not null)
                    throw Error(source, at, problem);
            }
        }

        // Everything is valid: apply.
        _epoch = s.Epoch;
        _inEpoch = s.InEpoch;
        _batch = s.Batch;
        _epochLossSum = s.EpochLossSum;
        _epochCorrect = s.EpochCorrect;
        _shuffle.State = shuffleState;
        order.CopyTo(_order, 0);
        _firstBatchLoss = s.FirstBatchLoss ?? double.NaN;
        _lastBatchLoss = s.LastBatchLoss ?? double.NaN;
        _bestLoss = s.BestLoss ?? double.PositiveInfinity;
        _bestEpoch = s.BestEpoch;
        _wait = s.Wait;
        _stoppedEarly = s.StoppedEarly;
        best.CopyTo(_best, 0);
        _optimizer.RestoreState(_net, opt.Steps, (t, sl, dest) => tensors[t][sl].CopyTo(dest, 0));
        _history.Clear();
        _history.AddRange(history.Skip(history.Count - completed));
        var weights = new double[checkpoint.Network.ParameterCount];
        Parameters.CopyTo(checkpoint.Network, weights);
        var converted = new T[weights.Length];
        for (int i = 0; i < weights.Length; i++)
            converted[i] = T.CreateChecked(weights[i]);
        using (_model.WritingWeights())
            Parameters.CopyFrom(converted, _net);
        _model.RestoreHistory(history, s.EpochsTrained);
    }

    /// <summary>The most epochs a model may have trained in total (a checkpoint claiming more is refused).</summary>
    internal const int MaxEpochsTrained = 1 << 30;

    private static bool FiniteOrNull(double? v) => v is not { } d || double.IsFinite(d);

    private static BackpropException Error(string source, string field, string what) =>
        new($"{source}: field 'checkpoint.{field}': {what}.");

    private static string Trim(string s) => s.Length <= 40 ? s : s[..40] + "...";

    /// <summary>A network's shape, for messages and the resume check.</summary>
    internal static string Shape<TNet>(Network<TNet> n) where TNet : unmanaged, IFloatingPointIeee754<TNet> =>
        $"{n.Inputs} -> " + string.Join(" -> ", n.Layers.Select(l =>
            $"{l.Units} {Names.Of(l.Activation)} (bias {Names.Of(l.Bias)}{(l.TrainableBias ? "" : ", frozen")})")) + $", loss {Names.Of(n.Loss)}";
}
