using Backprop.Numerics;
using System.Numerics;
using Backprop.Nn;

namespace Backprop.Training;

/// <summary>The state of one training run: converted data, buffers, optimizer, shuffling, early stopping.</summary>
internal sealed partial class TrainingSession<T> where T : unmanaged, IFloatingPointIeee754<T>
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
    // Position inside an epoch, so that a run cancelled between two batches can be checkpointed and resumed exactly.
    private bool _inEpoch;
    private int _batch, _epochCorrect;
    private double _epochLossSum;

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

    public bool Finished => _stoppedEarly || (_epoch >= _options.Epochs && !_inEpoch);

    /// <summary>
    /// Runs the rest of the current epoch (all of the next one when none is in progress). Cancellation is
    /// checked before each batch; a cancelled epoch keeps its position and continues on the next call.
    /// </summary>
    public EpochResult RunEpoch(CancellationToken ct)
    {
        if (Finished)
            throw new InvalidOperationException("The training run has finished.");
        if (!_inEpoch)
        {
            ++_epoch;
            if (_options.Shuffle)
                _shuffle.Shuffle(_order.AsSpan());
            _inEpoch = true;
            _batch = 0;
            _epochLossSum = 0;
            _epochCorrect = 0;
        }
        int epoch = _epoch;
        double lr = _options.Schedule.RateAt(_optimizer.LearningRate, epoch - 1);
        int inputs = _net.Inputs, outputs = _net.Outputs;
        int batches = (_rows + _batchSize - 1) / _batchSize;
        for (; _batch < batches; _batch++)
        {
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
            if (_labels.Length != 0)
                for (int r = 0; r < n; r++)
                    if (Trainer.PredictedClass(o.Slice(r * outputs, outputs)) == _labels[_order[start + r]])
                        _epochCorrect++;
            double loss = _net.ComputeLoss(by);
            if (!double.IsFinite(loss))
                throw Diverged(epoch, b + 1, lr, $"the loss became {Describe(loss)}", stepFailed: false);
            _net.Backward(by);
            // Checked only when the step fails (the gradients are still there then), so the normal path pays nothing.
            if (_options.L2 > 0)
                loss += Gradients.AddL2Penalty(_net, _options.L2);
            if (_options.ClipNorm is { } clip)
                Gradients.ClipByGlobalNorm(_net, clip);
            Parameters.CopyTo(_net, _backup);
            _optimizer.Step(_net, lr);
            if (!Parameters.AllFinite(_net))
            {
                Parameters.CopyFrom(_backup, _net);
                if (!Parameters.GradientsFinite(_net))
                    throw Diverged(epoch, b + 1, lr, $"the loss was finite ({loss:G6}) but back-propagation gave non-finite gradients", stepFailed: true, gradientsFailed: true);
                throw Diverged(epoch, b + 1, lr, "an update made weights non-finite", stepFailed: true);
            }
            if (double.IsNaN(_firstBatchLoss))
                _firstBatchLoss = loss;
            _lastBatchLoss = loss;
            _epochLossSum += loss * n;
            _options.BatchProgress?.Report(new BatchResult(epoch, b + 1, batches, n, loss, lr));
        }

        _inEpoch = false;
        _batch = 0;
        double lossSum = _epochLossSum;
        int correct = _epochCorrect;
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
}
