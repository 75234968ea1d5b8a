using System.Numerics;
using Backprop.Data;
using Backprop.Nn;
using Backprop.Numerics;

namespace Backprop.Training;

/// <summary>
/// The one training loop. Every way to train (<see cref="Model{T}.Fit"/>, <see cref="Model{T}.FitAsync"/>,
/// <see cref="Model{T}.TrainAsync"/>, the CLI, the playground) creates one of these and calls <see cref="RunEpoch"/>
/// or <see cref="RunBatches"/> until <see cref="Finished"/>, then <see cref="Complete"/>: the data (already through the
/// model's preprocessing), buffers, optimizer, shuffling, validation, early stopping, divergence diagnosis,
/// checkpoints and history live here and nowhere else.
/// </summary>
/// <remarks>
/// Everything is sequential and seeded (<see cref="SplitMix64"/>), so the same model, data, options and seed give
/// bit-identical weights on every run and for any thread count. Cancellation is checked before every batch: a
/// cancelled run stops after at most the batch in progress, writes a checkpoint when checkpoints are on, and throws
/// <see cref="OperationCanceledException"/>; it can then be continued (here, or from the checkpoint). A non-finite
/// loss or weights stop the run with <see cref="TrainingDivergedException"/>, leaving the last finite weights.
/// </remarks>
internal sealed partial class TrainingRun<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Model<T> _model;
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
    // Position inside an epoch, so that a run cancelled between two batches can be checkpointed and resumed exactly.
    private bool _inEpoch;
    private int _batch, _epochCorrect;
    private double _epochLossSum;

    /// <param name="model">The model whose network trains; its history and epoch count are updated as epochs end.</param>
    /// <param name="train">The training rows, already through the model's preprocessing.</param>
    /// <param name="validation">Validation rows (prepared likewise), or null.</param>
    /// <param name="options">Validated options; <see cref="TrainingOptions.Optimizer"/> must be set.</param>
    /// <param name="seed">The run's seed (shuffling; the validation split was drawn from it too).</param>
    public TrainingRun(Model<T> model, Dataset train, Dataset? validation, TrainingOptions options, long seed)
    {
        _model = model;
        _net = model.Network;
        _options = options;
        _seed = seed;
        _optimizer = options.Optimizer ?? throw new ArgumentException("The options need an optimizer.", nameof(options));

        _rows = train.Rows;
        _x = Convert(train.Features);
        _y = EncodeTargets(_net, train);
        _labels = train.IsClassification ? train.Labels.ToArray() : [];
        _maxAbsInput = train.MaxAbsPerInput();
        if (validation is not null)
        {
            _valRows = validation.Rows;
            _valX = Convert(validation.Features);
            _valY = EncodeTargets(_net, validation);
            _valLabels = validation.IsClassification ? validation.Labels.ToArray() : [];
        }

        _batchSize = Math.Min(options.BatchSize, _rows);
        _batchX = new T[_batchSize * _net.Inputs];
        _batchY = new T[_batchSize * _net.Outputs];
        _order = Enumerable.Range(0, _rows).ToArray();
        _shuffle = new SplitMix64(SplitMix64.Derive(_seed, 2));
        _backup = new T[_net.ParameterCount];
        _best = options.EarlyStopping is not null ? new T[_net.ParameterCount] : [];
        if (options.ResumeFrom is { } resume)
            Resume(resume);
    }

    /// <summary>True when every epoch asked for has run (or early stopping ended the run).</summary>
    public bool Finished => _stoppedEarly || (_epoch >= _options.Epochs && !_inEpoch);

    /// <summary>Batches in one epoch.</summary>
    public int BatchesPerEpoch => (_rows + _batchSize - 1) / _batchSize;

    /// <summary>
    /// Runs the rest of the current epoch (all of the next one when none is in progress), records it in the model's
    /// history, reports it, and writes the periodic checkpoint. Cancelled between two batches: writes the checkpoint
    /// (when checkpoints are on) and throws; the epoch keeps its position and continues on the next call.
    /// </summary>
    public EpochResult RunEpoch(CancellationToken ct)
    {
        if (Finished)
            throw new InvalidOperationException("The training run has finished.");
        try
        {
            while (true)
            {
                if (StepBatch(ct) is { } result)
                    return result;
            }
        }
        catch (OperationCanceledException) when (_options.Checkpoint is { } cp)
        {
            // Cancelled between two batches: the run is consistent, so the checkpoint continues exactly here.
            WriteCheckpoint(cp.Writer);
            throw;
        }
    }

    /// <summary>
    /// Runs up to <paramref name="batches"/> batches, crossing epoch boundaries (each finished epoch is recorded as by
    /// <see cref="RunEpoch"/>), and stops early when the run finishes. Returns the epochs that ended.
    /// </summary>
    public IReadOnlyList<EpochResult> RunBatches(int batches, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batches);
        var ended = new List<EpochResult>();
        for (int i = 0; i < batches && !Finished; i++)
            if (StepBatch(ct) is { } result)
                ended.Add(result);
        return ended;
    }

    /// <summary>One batch; the epoch's result when it was the epoch's last batch, else null.</summary>
    private EpochResult? StepBatch(CancellationToken ct)
    {
        if (!_inEpoch)
        {
            if (Finished)
                throw new InvalidOperationException("The training run has finished.");
            ++_epoch;
            if (_options.Shuffle)
                _shuffle.Shuffle(_order.AsSpan());
            _inEpoch = true;
            _batch = 0;
            _epochLossSum = 0;
            _epochCorrect = 0;
        }
        int epoch = _epoch;
        double lr = LearningRate(epoch);
        int inputs = _net.Inputs, outputs = _net.Outputs;
        int batches = BatchesPerEpoch;
        int b = _batch;
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
        int correct = 0;
        if (_labels.Length != 0)
            for (int r = 0; r < n; r++)
                if (ClassRule.Predict(o.Slice(r * outputs, outputs)) == _labels[_order[start + r]])
                    correct++;
        double loss = _net.ComputeLoss(by);
        if (!double.IsFinite(loss))
            throw Diverged(epoch, b + 1, lr, $"the loss became {Describe(loss)}", stepFailed: false);
        _net.Backward(by);
        if (_options.L2 > 0)
            loss += Gradients.AddL2Penalty(_net, _options.L2);
        if (_options.ClipNorm is { } clip)
            Gradients.ClipByGlobalNorm(_net, clip);
        using (_model.WritingWeights())
        {
            Parameters.CopyTo(_net, _backup);
            _optimizer.Step(_net, lr);
            if (!Parameters.AllFinite(_net))
            {
                // Checked only when the step fails (the gradients are still there then), so the normal path pays nothing.
                Parameters.CopyFrom(_backup, _net);
                if (!Parameters.GradientsFinite(_net))
                    throw Diverged(epoch, b + 1, lr, $"the loss was finite ({loss:G6}) but back-propagation gave non-finite gradients", stepFailed: true, gradientsFailed: true);
                throw Diverged(epoch, b + 1, lr, "an update made weights non-finite", stepFailed: true);
            }
        }
        if (double.IsNaN(_firstBatchLoss))
            _firstBatchLoss = loss;
        _lastBatchLoss = loss;
        _epochLossSum += loss * n;
        _epochCorrect += correct;
        _batch = b + 1;
        _options.BatchProgress?.Report(new BatchResult(epoch, b + 1, batches, n, loss, lr));
        return _batch < batches ? null : EndEpoch(epoch, lr, batches);
    }

    private double LearningRate(int epoch) => _options.Schedule.RateAt(_optimizer.LearningRate, epoch - 1);

    private EpochResult EndEpoch(int epoch, double lr, int batches)
    {
        _inEpoch = false;
        _batch = 0;
        double? valLoss = null, valAcc = null;
        bool isBest = false;
        if (_valX is not null)
        {
            (valLoss, valAcc) = Measure(_net, _valX, _valY!, _valLabels, _valRows, _batchSize);
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
        var result = new EpochResult(epoch, _epochLossSum / _rows, _labels.Length != 0 ? (double)_epochCorrect / _rows : null,
            valLoss, valAcc, lr, batches, isBest);
        _history.Add(result);
        _model.Record(result);
        _options.Progress?.Report(result);
        if (_options.Checkpoint is { EveryEpochs: > 0 } cp && (_epoch % cp.EveryEpochs == 0 || Finished))
            WriteCheckpoint(cp.Writer);
        return result;
    }

    /// <summary>Restores the best weights when early stopping asks for it and returns the report.</summary>
    public TrainingReport Complete()
    {
        bool restore = _options.EarlyStopping is { RestoreBestWeights: true } && _bestEpoch > 0 && _bestEpoch != _epoch;
        if (restore)
            using (_model.WritingWeights())
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

    /// <summary>Values in the network's element type.</summary>
    internal static T[] Convert(ReadOnlySpan<double> values)
    {
        var t = new T[values.Length];
        for (int i = 0; i < t.Length; i++)
            t[i] = T.CreateChecked(values[i]);
        return t;
    }

    /// <summary>
    /// The targets a network is trained against for <paramref name="data"/>: one-hot rows for classification, or for a
    /// single-output network on two classes the label itself (0 or 1); the values for regression. Throws when the
    /// shapes do not fit.
    /// </summary>
    internal static T[] EncodeTargets(Network<T> network, Dataset data)
    {
        if (data.Inputs != network.Inputs)
            throw new BackpropException($"{data.Name}: rows have {data.Inputs} input(s) but the model takes {network.Inputs}.");
        if (!data.HasTargets)
            throw new BackpropException($"{data.Name}: the data has no targets (no label column), so it cannot be trained or evaluated on.");
        if (data.Task == TaskKind.Regression)
        {
            if (data.Outputs != network.Outputs)
                throw new BackpropException($"{data.Name}: {data.Outputs} target(s) per row but the model has {network.Outputs} output(s).");
            return Convert(data.Targets);
        }
        var labels = data.Labels;
        if (network.Outputs == 1 && data.ClassCount == 2)
        {
            var t = new T[data.Rows];
            for (int r = 0; r < t.Length; r++)
                t[r] = T.CreateChecked(labels[r]);
            return t;
        }
        if (data.ClassCount != network.Outputs)
            throw new BackpropException(
                $"{data.Name}: {data.ClassCount} classes but the model has {network.Outputs} output(s); give the last layer {data.ClassCount} units (or 1 sigmoid unit for 2 classes).");
        int k = data.ClassCount;
        var oneHot = new T[(long)data.Rows * k];
        for (int r = 0; r < data.Rows; r++)
            oneHot[(long)r * k + labels[r]] = T.One;
        return oneHot;
    }

    /// <summary>Mean loss (and accuracy for classification) of <paramref name="network"/> on prepared data, in chunks.</summary>
    internal static (double Loss, double? Accuracy) Measure(Network<T> network, T[] x, T[] y, ReadOnlySpan<int> labels, int rows, int chunk)
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
                    if (ClassRule.Predict(o.Slice(r * outputs, outputs)) == labels[start + r])
                        correct++;
        }
        return (loss / rows, labels.IsEmpty ? null : (double)correct / rows);
    }
}
