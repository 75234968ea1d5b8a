using System.Numerics;
using Backprop.Data;
using Backprop.Nn;
using Backprop.Numerics;
using Backprop.Training.Distributed;

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
    private readonly T[] _x, _batchX, _batchY;
    private readonly Targets _y;
    private readonly int[] _labels, _order;
    private readonly T[]? _valX;
    private readonly Targets? _valY;
    private readonly int[] _valLabels = [];
    private readonly int _rows, _valRows, _batchSize;
    private readonly T[] _backup, _best;
    private readonly double[] _maxAbsInput;
    private readonly Dropout? _dropout;
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
    /// <param name="train">The training rows, raw (as the model takes them, columns aligned).</param>
    /// <param name="validation">Validation rows (raw likewise), or null.</param>
    /// <param name="preprocessing">The model's fitted preprocessing, applied as the rows are converted to the network's type.</param>
    /// <param name="options">Validated options; <see cref="TrainingOptions.Optimizer"/> must be set.</param>
    /// <param name="seed">The run's seed (shuffling; the validation split was drawn from it too).</param>
    /// <remarks>
    /// The one copy of the data a run keeps is its inputs in the network's type (rows x inputs values of T), made row
    /// by row from the raw rows (a split's part is read through its row indices); class targets are written per batch
    /// from the labels, never held as one-hot rows (rows x classes).
    /// </remarks>
    /// <param name="stream">Rows read from disk a block at a time (a sharded run; <paramref name="train"/> then has no
    /// rows and gives only the shape), or null.</param>
    public TrainingRun(Model<T> model, Dataset train, Dataset? validation, Preprocessing preprocessing, TrainingOptions options, long seed,
        IShardedRows? stream = null)
    {
        _model = model;
        _net = model.Network;
        _options = options;
        _seed = seed;
        _optimizer = options.Optimizer ?? throw new ArgumentException("The options need an optimizer.", nameof(options));

        // Before anything is allocated: refuse a run that cannot fit, or whose checkpoints could not be written.
        var footprint = TrainingFootprint.Of(_net, _optimizer, options, train.Rows, validation?.Rows ?? 0);
        footprint.RequireMemory();
        options.Checkpoint?.Writer.Check(model, footprint);

        _stream = stream;
        _preprocessing = preprocessing;
        _classification = train.IsClassification;
        _rows = stream is null ? train.Rows : StreamRows(stream);
        _maxAbsInput = new double[_net.Inputs];
        _y = new Targets(_net, train);
        _x = Prepare(train, preprocessing, _maxAbsInput);
        _labels = train.IsClassification ? train.Labels.ToArray() : [];
        if (validation is not null)
        {
            _valRows = validation.Rows;
            _valY = new Targets(_net, validation);
            _valX = Prepare(validation, preprocessing, null);
            _valLabels = validation.IsClassification ? validation.Labels.ToArray() : [];
        }

        _batchSize = Math.Max(1, Math.Min(options.BatchSize, _rows));
        _batchX = new T[_batchSize * _net.Inputs];
        _batchY = new T[_batchSize * _net.Outputs];
        _order = stream is null ? Enumerable.Range(0, _rows).ToArray() : [];
        _shuffle = new SplitMix64(SplitMix64.Derive(_seed, 2));
        _backup = new T[_net.ParameterCount];
        _best = options.EarlyStopping is not null ? new T[_net.ParameterCount] : [];
        _dropout = options.Dropout > 0 || options.InputDropout > 0 ? new Dropout(options.InputDropout, options.Dropout) : null;
        InitShards();
        if (options.ResumeFrom is { } resume)
            Resume(resume);
    }

    /// <summary>True when every epoch asked for has run (or early stopping ended the run).</summary>
    public bool Finished => _stoppedEarly || (_epoch >= _options.Epochs && !_inEpoch);

    /// <summary>Batches in one epoch.</summary>
    public int BatchesPerEpoch => _plan?.BatchesPerEpoch ?? (_rows + _batchSize - 1) / _batchSize;

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
            if (_options.Shuffle && _plan is null)
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
        int n, correct;
        double loss;
        if (_plan is not null)
        {
            // The sharded definition (TrainingRun.Sharded.cs): the gradient buffers receive the sum of the shards'.
            (loss, correct, n) = ShardedGradients(epoch, b);
            if (!double.IsFinite(loss))
                throw Diverged(epoch, b + 1, lr, $"the loss became {Describe(loss)}", stepFailed: false);
        }
        else
        {
            int start = b * _batchSize;
            n = Math.Min(_batchSize, _rows - start);
            for (int r = 0; r < n; r++)
            {
                int row = _order[start + r];
                _x.AsSpan(row * inputs, inputs).CopyTo(_batchX.AsSpan(r * inputs));
                _y.Write(row, _batchY.AsSpan(r * outputs, outputs));
            }
            var bx = _batchX.AsSpan(0, n * inputs);
            var by = _batchY.AsSpan(0, n * outputs);
            if (_dropout is { } d)
            {
                d.Key = Dropout.EpochKey(_seed, epoch);
                var ids = d.RowIds(n);
                for (int r = 0; r < n; r++)
                    ids[r] = _order[start + r];
            }
            var o = _net.ForwardTraining(bx, n, _dropout);
            correct = 0;
            if (_labels.Length != 0)
                for (int r = 0; r < n; r++)
                    if (ClassRule.Predict(o.Slice(r * outputs, outputs)) == _labels[_order[start + r]])
                        correct++;
            loss = _net.ComputeLoss(by);
            if (!double.IsFinite(loss))
                throw Diverged(epoch, b + 1, lr, $"the loss became {Describe(loss)}", stepFailed: false);
            _net.Backward(by);
        }
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
        var result = new EpochResult(epoch, _epochLossSum / _rows, _classification ? (double)_epochCorrect / _rows : null,
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
        foreach (var p in _net.Parameters)
            if (!p.IsBias)
                foreach (var w in p.ReadValues)
                {
                    double d = double.CreateChecked(w);
                    s += d * d;
                }
        return 0.5 * _options.L2 * s;
    }

    /// <summary>
    /// The rows of <paramref name="data"/> through <paramref name="preprocessing"/>, in the network's element type
    /// (rows x inputs), row by row; <paramref name="maxAbs"/>, when given, receives each input's largest |x| after
    /// preprocessing. The values are those of <see cref="Preprocessing.Apply"/> followed by a conversion, bit for bit.
    /// </summary>
    internal static T[] Prepare(Dataset data, Preprocessing preprocessing, double[]? maxAbs)
    {
        int m = data.Inputs;
        if (m != preprocessing.Features)
            throw new BackpropException($"{data.Name}: {m} feature column(s), but the model was trained on {preprocessing.Features}.");
        var x = new T[(long)data.Rows * m];
        var row = new double[m];
        for (int r = 0; r < data.Rows; r++)
        {
            data.FeatureRow(r).CopyTo(row);
            preprocessing.Transform(row);
            var dest = x.AsSpan(r * m, m);
            for (int j = 0; j < m; j++)
            {
                dest[j] = T.CreateChecked(row[j]);
                if (maxAbs is not null)
                    maxAbs[j] = Math.Max(maxAbs[j], Math.Abs(row[j]));
            }
        }
        return x;
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
    /// The targets a network is trained against for a dataset, row by row: one-hot rows for classification (written
    /// from the labels when asked for, so rows x classes values are never held), or for a single-output network on two
    /// classes the label itself (0 or 1); the values for regression. The constructor throws when the shapes do not fit.
    /// </summary>
    internal sealed class Targets
    {
        private readonly T[] _values = [];
        private readonly int[] _labels = [];
        private readonly int _outputs;
        private readonly bool _labelValue;

        public Targets(Network<T> network, Dataset data)
        {
            if (data.Inputs != network.Inputs)
                throw new BackpropException($"{data.Name}: rows have {data.Inputs} input(s) but the model takes {network.Inputs}.");
            if (!data.HasTargets)
                throw new BackpropException($"{data.Name}: the data has no targets (no label column), so it cannot be trained or evaluated on.");
            _outputs = network.Outputs;
            Rows = data.Rows;
            if (data.Task == TaskKind.Regression)
            {
                if (data.Outputs != network.Outputs)
                    throw new BackpropException($"{data.Name}: {data.Outputs} target(s) per row but the model has {network.Outputs} output(s).");
                _values = Convert(data.Targets);
                return;
            }
            _labels = data.Labels.ToArray();
            if (network.Outputs == 1 && data.ClassCount == 2)
            {
                _labelValue = true;
                return;
            }
            if (data.ClassCount != network.Outputs)
                throw new BackpropException(
                    $"{data.Name}: {data.ClassCount} classes but the model has {network.Outputs} output(s); give the last layer {data.ClassCount} units (or 1 sigmoid unit for 2 classes).");
        }

        /// <summary>Rows.</summary>
        public int Rows { get; }

        /// <summary>Writes row <paramref name="row"/>'s targets (the network's outputs wide) into <paramref name="destination"/>.</summary>
        public void Write(int row, Span<T> destination)
        {
            if (_values.Length != 0)
            {
                _values.AsSpan(row * _outputs, _outputs).CopyTo(destination);
                return;
            }
            if (_labelValue)
            {
                destination[0] = T.CreateChecked(_labels[row]);
                return;
            }
            destination[.._outputs].Clear();
            destination[_labels[row]] = T.One;
        }

        /// <summary>Writes rows <paramref name="first"/> .. + <paramref name="rows"/> - 1 into <paramref name="destination"/>.</summary>
        public void Write(int first, int rows, Span<T> destination)
        {
            for (int r = 0; r < rows; r++)
                Write(first + r, destination.Slice(r * _outputs, _outputs));
        }

        /// <summary>Gives the bytes of every row's targets, in row order, to <paramref name="add"/> (the data fingerprint).</summary>
        public void Hash(HashSink add)
        {
            if (_values.Length != 0)
            {
                add(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_values.AsSpan()));
                return;
            }
            Span<T> one = _outputs <= 1024 ? stackalloc T[_outputs] : new T[_outputs];
            for (int r = 0; r < Rows; r++)
            {
                Write(r, one);
                add(System.Runtime.InteropServices.MemoryMarshal.AsBytes(one));
            }
        }
    }

    /// <summary>Takes bytes to hash.</summary>
    internal delegate void HashSink(ReadOnlySpan<byte> bytes);

    /// <summary>Mean loss (and accuracy for classification) of <paramref name="network"/> on prepared data, in chunks.</summary>
    internal static (double Loss, double? Accuracy) Measure(Network<T> network, T[] x, Targets y, ReadOnlySpan<int> labels, int rows, int chunk)
    {
        double loss = 0;
        int correct = 0;
        int inputs = network.Inputs, outputs = network.Outputs;
        var targets = new T[(long)Math.Min(chunk, rows) * outputs];
        for (int start = 0; start < rows; start += chunk)
        {
            int n = Math.Min(chunk, rows - start);
            var o = network.Forward(x.AsSpan(start * inputs, n * inputs), n);
            y.Write(start, n, targets);
            loss += network.ComputeLoss(targets.AsSpan(0, n * outputs)) * n;
            if (!labels.IsEmpty)
                for (int r = 0; r < n; r++)
                    if (ClassRule.Predict(o.Slice(r * outputs, outputs)) == labels[start + r])
                        correct++;
        }
        return (loss / rows, labels.IsEmpty ? null : (double)correct / rows);
    }
}
