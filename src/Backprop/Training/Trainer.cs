using System.Numerics;
using System.Runtime.CompilerServices;
using Backprop.Nn;

namespace Backprop.Training;

/// <summary>
/// Trains a <see cref="Network{T}"/> on a <see cref="Dataset"/> in mini-batches. <see cref="Model{T}"/> wraps
/// these for the usual case; use them directly to train a network built by hand.
/// </summary>
/// <remarks>
/// Everything is sequential and seeded (<see cref="SplitMix64"/>), so the same network, data, options and seed
/// give bit-identical weights on every run. Cancellation is checked before every batch: a cancelled run stops
/// after at most the batch in progress, with the weights of the last completed batch, and throws
/// <see cref="OperationCanceledException"/>. A non-finite loss or weights stop the run with
/// <see cref="TrainingDivergedException"/>, leaving the last finite weights.
/// </remarks>
public static class Trainer
{
    /// <summary>Trains for <see cref="TrainingOptions.Epochs"/> epochs (or until early stopping) on the calling thread.</summary>
    public static TrainingReport Fit<T>(Network<T> network, Dataset data, TrainingOptions? options = null, long seed = 0,
        CancellationToken cancellationToken = default) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var session = new TrainingSession<T>(network, data, options ?? new TrainingOptions(), seed);
        while (!session.Finished)
            session.RunEpoch(cancellationToken);
        return session.Complete();
    }

    /// <summary>As <see cref="Fit{T}"/>, on a thread-pool thread so a UI stays responsive.</summary>
    public static Task<TrainingReport> FitAsync<T>(Network<T> network, Dataset data, TrainingOptions? options = null, long seed = 0,
        CancellationToken cancellationToken = default) where T : unmanaged, IFloatingPointIeee754<T> =>
        Task.Run(() => Fit(network, data, options, seed, cancellationToken), cancellationToken);

    /// <summary>
    /// Trains epoch by epoch, each on a thread-pool thread, yielding each epoch's result; the caller may stop
    /// at any epoch by leaving the loop. Best weights are restored (with early stopping) when the sequence ends.
    /// </summary>
    public static async IAsyncEnumerable<EpochResult> TrainAsync<T>(Network<T> network, Dataset data, TrainingOptions? options = null,
        long seed = 0, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var session = new TrainingSession<T>(network, data, options ?? new TrainingOptions(), seed);
        while (!session.Finished)
            yield return await Task.Run(() => session.RunEpoch(cancellationToken), cancellationToken).ConfigureAwait(false);
        session.Complete();
    }

    /// <summary>The class a network predicts for one output row: argmax, or output &gt;= 0.5 for a single output.</summary>
    public static int PredictedClass<T>(ReadOnlySpan<T> output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (output.Length == 1)
            return output[0] >= T.CreateChecked(0.5) ? 1 : 0;
        int best = 0;
        for (int j = 1; j < output.Length; j++)
            if (output[j] > output[best])
                best = j;
        return best;
    }

    /// <summary>
    /// The targets a network is trained against for <paramref name="data"/>: the one-hot rows, or for a
    /// single-output network on two classes the label itself (0 or 1). Throws when the shapes do not fit.
    /// </summary>
    internal static T[] EncodeTargets<T>(Network<T> network, Dataset data) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (data.Inputs != network.Inputs)
            throw new BackpropException($"{data.Name}: rows have {data.Inputs} input(s) but the model takes {network.Inputs}.");
        if (data.IsClassification && network.Outputs == 1 && data.Classes == 2)
        {
            var labels = data.Labels;
            var t = new T[data.Rows];
            for (int r = 0; r < t.Length; r++)
                t[r] = T.CreateChecked(labels[r]);
            return t;
        }
        if (data.Outputs != network.Outputs)
            throw new BackpropException(data.IsClassification
                ? $"{data.Name}: {data.Classes} classes but the model has {network.Outputs} output(s); give the last layer {data.Classes} units (or 1 sigmoid unit for 2 classes)."
                : $"{data.Name}: {data.Outputs} target(s) per row but the model has {network.Outputs} output(s).");
        return Convert<T>(data.Targets);
    }

    internal static T[] Convert<T>(ReadOnlySpan<double> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = new T[values.Length];
        for (int i = 0; i < t.Length; i++)
            t[i] = T.CreateChecked(values[i]);
        return t;
    }

    /// <summary>Mean loss (and accuracy for classification) of <paramref name="network"/> on prepared data, in chunks.</summary>
    internal static (double Loss, double? Accuracy) Measure<T>(Network<T> network, T[] x, T[] y, ReadOnlySpan<int> labels, int rows, int chunk)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double loss = 0;
        int correct = 0;
        int inputs = network.Inputs, outputs = network.Outputs;
        for (int start = 0; start < rows; start += chunk)
        {
            int n = Math.Min(chunk, rows - start);
            var o = network.Forward(x.AsSpan(start * inputs, n * inputs), n);
            loss += network.ComputeLoss(y.AsSpan(start * outputs, n * outputs)) * n;
            if (!labels.IsEmpty)
                for (int r = 0; r < n; r++)
                    if (PredictedClass(o.Slice(r * outputs, outputs)) == labels[start + r])
                        correct++;
        }
        return (loss / rows, labels.IsEmpty ? null : (double)correct / rows);
    }
}

/// <summary>The state of one training run: converted data, buffers, optimizer, shuffling, early stopping.</summary>
internal sealed class TrainingSession<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Network<T> _net;
    private readonly TrainingOptions _options;
    private readonly Optimizer _optimizer;
    private readonly long _seed;
    private readonly SplitMix64 _shuffle;
    private readonly T[] _x, _y, _batchX, _batchY;
    private readonly int[] _labels, _order;
    private readonly T[]? _valX, _valY;
    private readonly int[] _valLabels = [];
    private readonly int _rows, _valRows, _batchSize;
    private readonly T[] _backup, _best;
    private readonly double[] _maxAbsInput;
    private readonly List<EpochResult> _history = [];
    private double _bestLoss = double.PositiveInfinity;
    private int _bestEpoch, _wait, _epoch;
    private bool _stoppedEarly;
    private double _firstBatchLoss = double.NaN, _lastBatchLoss = double.NaN;

    public TrainingSession(Network<T> network, Dataset data, TrainingOptions options, long seed)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Epochs < 1)
            throw new BackpropException($"Epochs must be at least 1, got {options.Epochs}.");
        if (options.BatchSize < 1)
            throw new BackpropException($"The batch size must be at least 1, got {options.BatchSize}.");
        if (!(options.L2 >= 0) || !double.IsFinite(options.L2))
            throw new BackpropException($"L2 must be a finite number >= 0, got {options.L2}.");
        if (options.ClipNorm is { } clip && !(clip > 0))
            throw new BackpropException($"The gradient clipping norm must be > 0, got {clip}.");
        if (options.ValidationData is not null && options.ValidationFraction != 0)
            throw new BackpropException("Give either a validation set or a validation fraction, not both.");

        _net = network;
        _options = options;
        _seed = options.Seed ?? seed;
        _optimizer = options.Optimizer ?? new Adam(0.01);

        Dataset train = data, validation = options.ValidationData!;
        if (options.ValidationFraction != 0)
            (train, validation) = data.Split(options.ValidationFraction, _seed);
        if (options.EarlyStopping is not null && validation is null)
            throw new BackpropException(
                "Early stopping watches the validation loss, and there is no validation data: set ValidationFraction (e.g. 0.2) or ValidationData.");

        _rows = train.Rows;
        _x = Trainer.Convert<T>(train.Features);
        _y = Trainer.EncodeTargets(network, train);
        _labels = train.IsClassification ? train.Labels.ToArray() : [];
        _maxAbsInput = train.MaxAbsPerInput();
        if (validation is not null)
        {
            _valRows = validation.Rows;
            _valX = Trainer.Convert<T>(validation.Features);
            _valY = Trainer.EncodeTargets(network, validation);
            _valLabels = validation.IsClassification ? validation.Labels.ToArray() : [];
        }

        _batchSize = Math.Min(options.BatchSize, _rows);
        _batchX = new T[_batchSize * network.Inputs];
        _batchY = new T[_batchSize * network.Outputs];
        _order = Enumerable.Range(0, _rows).ToArray();
        _shuffle = new SplitMix64(SplitMix64.Derive(_seed, 2));
        _backup = new T[network.ParameterCount];
        _best = options.EarlyStopping is not null ? new T[network.ParameterCount] : [];
    }

    public bool Finished => _stoppedEarly || _epoch >= _options.Epochs;

    public EpochResult RunEpoch(CancellationToken ct)
    {
        if (Finished)
            throw new InvalidOperationException("The training run has finished.");
        int epoch = ++_epoch;
        double lr = _options.Schedule.RateAt(_optimizer.LearningRate, epoch - 1);
        if (_options.Shuffle)
            _shuffle.Shuffle(_order.AsSpan());
        int inputs = _net.Inputs, outputs = _net.Outputs;
        int batches = (_rows + _batchSize - 1) / _batchSize;
        double lossSum = 0;
        int correct = 0;
        for (int b = 0; b < batches; b++)
        {
            ct.ThrowIfCancellationRequested();
            int start = b * _batchSize, n = Math.Min(_batchSize, _rows - start);
            for (int r = 0; r < n; r++)
            {
                int row = _order[start + r];
                _x.AsSpan(row * inputs, inputs).CopyTo(_batchX.AsSpan(r * inputs));
                _y.AsSpan(row * outputs, outputs).CopyTo(_batchY.AsSpan(r * outputs));
            }
            var bx = _batchX.AsSpan(0, n * inputs);
            var by = _batchY.AsSpan(0, n * outputs);
            var o = _net.Forward(bx, n);
            if (_labels.Length != 0)
                for (int r = 0; r < n; r++)
                    if (Trainer.PredictedClass(o.Slice(r * outputs, outputs)) == _labels[_order[start + r]])
                        correct++;
            double loss = _net.ComputeLoss(by);
            if (!double.IsFinite(loss))
                throw Diverged(epoch, b + 1, lr, $"the loss became {Describe(loss)}", stepFailed: false);
            _net.Backward(by);
            if (_options.L2 > 0)
                loss += Gradients.AddL2Penalty(_net, _options.L2);
            if (_options.ClipNorm is { } clip)
                Gradients.ClipByGlobalNorm(_net, clip);
            Parameters.CopyTo(_net, _backup);
            _optimizer.Step(_net, lr);
            if (!Parameters.AllFinite(_net))
            {
                Parameters.CopyFrom(_backup, _net);
                throw Diverged(epoch, b + 1, lr, "an update made weights non-finite", stepFailed: true);
            }
            if (double.IsNaN(_firstBatchLoss))
                _firstBatchLoss = loss;
            _lastBatchLoss = loss;
            lossSum += loss * n;
            _options.BatchProgress?.Report(new BatchResult(epoch, b + 1, batches, n, loss, lr));
        }

        double? valLoss = null, valAcc = null;
        bool isBest = false;
        if (_valX is not null)
        {
            (valLoss, valAcc) = Trainer.Measure(_net, _valX, _valY!, _valLabels, _valRows, _batchSize);
            if (_options.L2 > 0)
                valLoss += L2Penalty();
            if (valLoss < _bestLoss - (_options.EarlyStopping?.MinDelta ?? 0))
            {
                _bestLoss = valLoss.Value;
                _bestEpoch = epoch;
                _wait = 0;
                isBest = true;
                if (_best.Length != 0)
                    Parameters.CopyTo(_net, _best);
            }
            else if (_options.EarlyStopping is { } es && ++_wait >= es.Patience)
            {
                _stoppedEarly = epoch < _options.Epochs;
            }
        }
        var result = new EpochResult(epoch, lossSum / _rows, _labels.Length != 0 ? (double)correct / _rows : null,
            valLoss, valAcc, lr, batches, isBest);
        _history.Add(result);
        _options.Progress?.Report(result);
        return result;
    }

    /// <summary>Restores the best weights when early stopping asks for it and returns the report.</summary>
    public TrainingReport Complete()
    {
        bool restore = _options.EarlyStopping is { RestoreBestWeights: true } && _bestEpoch > 0 && _bestEpoch != _epoch;
        if (restore)
            Parameters.CopyFrom(_best, _net);
        return new TrainingReport(_history, _valX is null ? null : _bestEpoch, _stoppedEarly, restore, _seed);
    }

    private double L2Penalty()
    {
        double s = 0;
        for (int li = 0; li < _net.Layers.Count; li++)
        {
            foreach (var w in _net.Layers[li].Weights)
            {
                double d = double.CreateChecked(w);
                s += d * d;
            }
        }
        return 0.5 * _options.L2 * s;
    }

    private static string Describe(double loss) => double.IsNaN(loss) ? "NaN" : loss > 0 ? "+Infinity" : "-Infinity";

    /// <summary>Measures the (finite) model and builds the exception that names the likely causes.</summary>
    private TrainingDivergedException Diverged(int epoch, int batch, double lr, string what, bool stepFailed)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var causes = new List<DivergenceCause>();
        var findings = new List<string>();

        // 1. Step size against the loss: did the loss grow, and how large was the last step?
        double relStep = stepFailed ? double.PositiveInfinity : RelativeLastStep();
        bool lossGrew = double.IsFinite(_firstBatchLoss) && double.IsFinite(_lastBatchLoss)
            && _lastBatchLoss > 10 * Math.Max(_firstBatchLoss, 1e-12);
        if (stepFailed || relStep > 0.5 || lossGrew)
        {
            causes.Add(DivergenceCause.LearningRateTooLarge);
            string evidence = stepFailed
                ? "one step of the optimizer turned finite weights into non-finite ones"
                : double.IsFinite(relStep) && relStep > 0.5
                    ? relStep >= 2
                        ? string.Create(inv, $"the last step changed the weights by {relStep:G3} times their own size")
                        : string.Create(inv, $"the last step changed the weights by {relStep:P0} of their size")
                    : "";
            if (lossGrew)
                evidence += (evidence.Length > 0 ? ", and " : "")
                    + string.Create(inv, $"the loss rose from {_firstBatchLoss:G4} (first batch) to {_lastBatchLoss:G4} (last finite batch)");
            findings.Add(string.Create(inv,
                $"learning rate {lr:G4} is too large for this loss: {evidence}; try {lr / 10:G3} or smaller, or set ClipNorm"));
        }

        // 2. Input scale.
        int worst = 0;
        for (int i = 1; i < _maxAbsInput.Length; i++)
            if (_maxAbsInput[i] > _maxAbsInput[worst])
                worst = i;
        if (_maxAbsInput[worst] > 5)
        {
            causes.Add(DivergenceCause.UnscaledInputs);
            findings.Add(string.Create(inv,
                $"inputs are far from [-1, 1]: input {worst} reaches |x| = {_maxAbsInput[worst]:G4}; standardise each input (subtract its mean, divide by its standard deviation)"));
        }

        // 3-4. Saturated and dead units, measured on up to 256 training rows with the current (finite) weights.
        int rows = Math.Min(_rows, 256);
        _net.Forward(_x.AsSpan(0, rows * _net.Inputs), rows);
        bool saturated = false, dead = false;
        for (int l = 0; l < _net.Layers.Count; l++)
        {
            var layer = _net.Layers[l];
            var z = _net.PreActivations(l);
            if (layer.Activation is Activation.Sigmoid or Activation.Tanh)
            {
                double threshold = layer.Activation == Activation.Sigmoid ? 6 : 3;
                int count = 0;
                foreach (var v in z)
                {
                    double d = double.CreateChecked(v);
                    if (!(Math.Abs(d) <= threshold))
                        count++;
                }
                double frac = (double)count / z.Length;
                if (frac >= 0.5)
                {
                    saturated = true;
                    findings.Add(string.Create(inv,
                        $"layer {l} ({Names.Of(layer.Activation)}) is saturated: {frac:P0} of its pre-activations have |z| > {threshold}, where its slope is below {(layer.Activation == Activation.Sigmoid ? "0.0025" : "0.01")}; scale the inputs or lower the learning rate or the initial weights"));
                }
            }
            else if (layer.Activation == Activation.Relu)
            {
                int deadUnits = 0;
                for (int u = 0; u < layer.Units; u++)
                {
                    bool active = false;
                    for (int r = 0; r < rows && !active; r++)
                        active = z[r * layer.Units + u] > T.Zero;
                    if (!active)
                        deadUnits++;
                }
                if (deadUnits * 2 >= layer.Units)
                {
                    dead = true;
                    findings.Add(string.Create(inv,
                        $"layer {l} (relu): {deadUnits} of {layer.Units} units are dead (never active on {rows} training rows); lower the learning rate or use leaky-relu"));
                }
            }
        }
        if (saturated)
            causes.Add(DivergenceCause.SaturatedUnits);
        if (dead)
            causes.Add(DivergenceCause.DeadReluUnits);

        string message = $"Training stopped at epoch {epoch}, batch {batch}: {what}. The model keeps its last finite weights"
            + (stepFailed ? " (from before that step)" : "") + ". ";
        message += findings.Count == 0
            ? "No single cause stood out in the measurements; lower the learning rate or set ClipNorm."
            : "Likely cause" + (findings.Count > 1 ? "s" : "") + ", measured on the model: " + string.Join("; ", findings) + ".";
        return new TrainingDivergedException(message, epoch, batch, causes, findings);
    }

    /// <summary>|theta_now - theta_before_last_step| / |theta_before_last_step|, from the backup of the last step.</summary>
    private double RelativeLastStep()
    {
        if (double.IsNaN(_lastBatchLoss))
            return 0;
        double diff = 0, norm = 0;
        int k = 0;
        for (int li = 0; li < _net.Layers.Count; li++)
        {
            var layer = _net.Layers[li];
            foreach (var w in layer.Weights)
                Accumulate(w, _backup[k++]);
            foreach (var w in layer.Biases)
                Accumulate(w, _backup[k++]);
        }
        return Math.Sqrt(diff) / Math.Max(Math.Sqrt(norm), 1e-12);

        void Accumulate(T now, T before)
        {
            double a = double.CreateChecked(now), b = double.CreateChecked(before);
            diff += (a - b) * (a - b);
            norm += b * b;
        }
    }
}

/// <summary>Copies of all of a network's parameters into one flat array (weights then biases, layer by layer).</summary>
internal static class Parameters
{
    public static void CopyTo<T>(Network<T> net, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = 0;
        for (int li = 0; li < net.Layers.Count; li++)
        {
            var layer = net.Layers[li];
            layer.Weights.CopyTo(destination[k..]);
            k += layer.Weights.Length;
            layer.Biases.CopyTo(destination[k..]);
            k += layer.Biases.Length;
        }
    }

    public static void CopyFrom<T>(ReadOnlySpan<T> source, Network<T> net) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = 0;
        for (int li = 0; li < net.Layers.Count; li++)
        {
            var layer = net.Layers[li];
            source.Slice(k, layer.Weights.Length).CopyTo(layer.Weights);
            k += layer.Weights.Length;
            source.Slice(k, layer.Biases.Length).CopyTo(layer.Biases);
            k += layer.Biases.Length;
        }
    }

    public static bool AllFinite<T>(Network<T> net) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int li = 0; li < net.Layers.Count; li++)
        {
            var layer = net.Layers[li];
            foreach (var w in layer.Weights)
                if (!T.IsFinite(w))
                    return false;
            foreach (var b in layer.Biases)
                if (!T.IsFinite(b))
                    return false;
        }
        return true;
    }
}
