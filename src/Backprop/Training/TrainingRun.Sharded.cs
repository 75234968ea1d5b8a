using System.Numerics;
using System.Runtime.InteropServices;
using Backprop.Data;
using Backprop.Training.Distributed;

namespace Backprop.Training;

/// <summary>
/// The sharded definition of a batch's gradient (<see cref="TrainingOptions.Shards"/>, <see cref="ShardPlan"/>): each
/// shard's part of the batch goes forward and backward on its own, its mean gradient is scaled by its share of the
/// batch's rows, and the scaled gradients are added, starting from zero, in shard order. Alone, the process computes
/// every shard in order and adds as it goes; in a group (<see cref="IShardGroup"/>) each process computes its own
/// shards, and the running sum passes from rank to rank (docs/distributed.md), so the additions are the same ones in
/// the same order: the same bits for any number of processes.
/// </summary>
internal sealed partial class TrainingRun<T>
{
    private ShardPlan? _plan;
    private IShardGroup? _group;
    private int _firstShard, _localShards;
    private int[][] _shardOrders = [];
    private int _ordersEpoch = -1;
    private T[] _sum = [];
    private T[][] _parts = [];
    private double[] _partLoss = [], _partCorrect = [];
    private byte[] _message = [];
    private readonly IShardedRows? _stream;
    private readonly Preprocessing _preprocessing;
    private readonly bool _classification;
    private int[] _batchLabels = [];
    private StreamBlock[] _blocks = [];

    /// <summary>The block of a shard that a streamed run holds: its rows prepared, and their order in this epoch.</summary>
    private sealed class StreamBlock(int rows, int inputs, int outputs)
    {
        public int Epoch = -1, Block = -1, Size;
        public long Start;
        public int[] BlockOrder = [];
        public readonly T[] X = new T[(long)rows * inputs];
        public readonly T[] Y = new T[(long)rows * outputs];
        public readonly int[] Labels = new int[rows];
        public readonly int[] Order = new int[rows];
    }

    private static int StreamRows(IShardedRows stream)
    {
        long n = 0;
        for (int s = 0; s < stream.Shards; s++)
            n += stream.ShardRows(s);
        if (n > int.MaxValue)
            throw new BackpropException($"{stream.Name}: {n} rows; a run trains on at most {int.MaxValue}.");
        if (n == 0)
            throw new BackpropException($"{stream.Name}: no rows to train on.");
        return (int)n;
    }

    /// <summary>Sets up the sharded definition when the options ask for it.</summary>
    private void InitShards()
    {
        if (_options.Shards is not { } shards)
        {
            if (_stream is not null)
                throw new BackpropException($"{_stream.Name}: streamed rows are trained on in shards: set Shards to {_stream.Shards}.");
            return;
        }
        if (_stream is not null && _stream.Shards != shards)
            throw new BackpropException($"{_stream.Name}: the rows were cut into {_stream.Shards} shards, but the run asks for {shards}.");
        _plan = _stream is null
            ? new ShardPlan(_rows, shards, _options.BatchSize, _seed, _options.Shuffle)
            : new ShardPlan(Enumerable.Range(0, shards).Select(_stream.ShardRows).ToArray(), _options.BatchSize, _seed, _options.Shuffle, _stream.BlockRows);
        _group = _options.Group;
        (_firstShard, _localShards) = _group is null ? (0, shards) : IShardGroup.ShardRange(shards, _group.Rank, _group.Size);
        _batchLabels = new int[_batchSize];
        if (_stream is null)
        {
            _shardOrders = new int[_localShards][];
            for (int k = 0; k < _localShards; k++)
                _shardOrders[k] = new int[_plan.ShardRows(_firstShard + k)];
        }
        else
        {
            // One block per shard of this process: the memory of a streamed run (docs/distributed.md, "Streaming").
            _blocks = new StreamBlock[_localShards];
            for (int k = 0; k < _localShards; k++)
                _blocks[k] = new StreamBlock(_plan.BlockRows, _net.Inputs, _net.Outputs);
        }
        _sum = new T[_net.ParameterCount];
        if (_group is not null)
        {
            // A process of a group keeps its shards' scaled gradients until the running sum reaches it.
            _parts = new T[_localShards][];
            for (int k = 0; k < _localShards; k++)
                _parts[k] = new T[_net.ParameterCount];
            _partLoss = new double[_localShards];
            _partCorrect = new double[_localShards];
            _message = new byte[_sum.Length * Marshal.SizeOf<T>() + 2 * sizeof(double)];
        }
    }

    /// <summary>
    /// Batch <paramref name="batch"/> (from 0) of <paramref name="epoch"/>: leaves the sum of the shards' scaled
    /// gradients in the network's gradient buffers and returns the batch's mean loss, correct predictions and rows.
    /// </summary>
    private (double Loss, int Correct, int Rows) ShardedGradients(int epoch, int batch)
    {
        var plan = _plan!;
        if (_ordersEpoch != epoch && _stream is null)
        {
            for (int k = 0; k < _localShards; k++)
                plan.ShardOrder(epoch, _firstShard + k, _shardOrders[k]);
            _ordersEpoch = epoch;
        }
        int rows = plan.BatchRows(batch);
        double lossSum = 0, correct = 0;
        var sum = _sum.AsSpan();
        int lastRank = _group is null ? 0 : _group.Size - 1;
        bool receives = _group is { Rank: > 0 };
        if (_group is null)
            sum.Clear();
        for (int k = 0; k < _localShards; k++)
        {
            int shard = _firstShard + k;
            var (start, n) = plan.Part(shard, batch);
            if (n == 0)
            {
                if (_group is not null)
                    _partLoss[k] = -1;
                continue;
            }
            if (_stream is null)
                FillBatch(_shardOrders[k].AsSpan((int)start, n));
            else
                FillBatch(k, shard, epoch, start, n);
            var (loss, right) = ShardGradient(n, epoch);
            T share = T.CreateChecked((double)n / rows);
            if (_group is null)
            {
                // Alone: add at once, in shard order.
                AddScaled(sum, share);
                lossSum += loss * n;
                correct += right;
            }
            else
            {
                Scaled(_parts[k], share);
                _partLoss[k] = loss * n;
                _partCorrect[k] = right;
            }
        }
        if (_group is { } group)
        {
            // The running sum comes from the rank before (rank 0 starts from zero), takes this rank's shards in
            // order, and goes on to the next rank; the last rank's total is broadcast to all.
            if (receives)
            {
                group.Receive(_message, group.Rank - 1);
                (lossSum, correct) = Unpack(sum);
            }
            else
            {
                sum.Clear();
            }
            for (int k = 0; k < _localShards; k++)
            {
                if (_partLoss[k] < 0)
                    continue;
                var part = _parts[k];
                for (int i = 0; i < sum.Length; i++)
                    sum[i] += part[i];
                lossSum += _partLoss[k];
                correct += _partCorrect[k];
            }
            if (group.Rank < lastRank)
            {
                Pack(sum, lossSum, correct);
                group.Send(_message, group.Rank + 1);
            }
            else
            {
                Pack(sum, lossSum, correct);
            }
            group.Broadcast(_message, lastRank);
            (lossSum, correct) = Unpack(sum);
        }
        int at = 0;
        foreach (var layer in _net.Layers)
        {
            sum.Slice(at, layer.WeightGradients.Length).CopyTo(layer.WeightGradients);
            at += layer.WeightGradients.Length;
            sum.Slice(at, layer.BiasGradients.Length).CopyTo(layer.BiasGradients);
            at += layer.BiasGradients.Length;
        }
        return (lossSum / rows, (int)correct, rows);
    }

    /// <summary>The batch buffers receive the given training rows (held in memory).</summary>
    private void FillBatch(ReadOnlySpan<int> order)
    {
        int inputs = _net.Inputs, outputs = _net.Outputs;
        for (int r = 0; r < order.Length; r++)
        {
            int row = order[r];
            if (_dropout is { } d)
                d.RowIds(order.Length)[r] = row;
            _x.AsSpan(row * inputs, inputs).CopyTo(_batchX.AsSpan(r * inputs));
            _y.Write(row, _batchY.AsSpan(r * outputs, outputs));
            _batchLabels[r] = _labels.Length != 0 ? _labels[row] : 0;
        }
    }

    /// <summary>
    /// The batch buffers receive positions <c>[start, start + n)</c> of shard <paramref name="shard"/>'s order in
    /// <paramref name="epoch"/>, streamed: the block holding each position is read (and prepared) when it is reached.
    /// </summary>
    private void FillBatch(int k, int shard, int epoch, long start, int n)
    {
        var plan = _plan!;
        var cache = _blocks[k];
        int inputs = _net.Inputs, outputs = _net.Outputs;
        if (cache.Epoch != epoch)
        {
            cache.BlockOrder = plan.BlockOrder(epoch, shard);
            cache.Epoch = epoch;
            cache.Block = -1;
        }
        for (int r = 0; r < n; r++)
        {
            long position = start + r;
            if (cache.Block < 0 || position < cache.Start || position >= cache.Start + cache.Size)
                LoadBlock(cache, shard, epoch, position);
            int row = cache.Order[(int)(position - cache.Start)];
            if (_dropout is { } d)
                d.RowIds(n)[r] = plan.ShardStart(shard) + (long)cache.Block * plan.BlockRows + row;
            cache.X.AsSpan(row * inputs, inputs).CopyTo(_batchX.AsSpan(r * inputs));
            cache.Y.AsSpan(row * outputs, outputs).CopyTo(_batchY.AsSpan(r * outputs));
            _batchLabels[r] = cache.Labels[row];
        }
    }

    private double[] _rawX = [], _rawTargets = [];

    private void LoadBlock(StreamBlock cache, int shard, int epoch, long position)
    {
        var plan = _plan!;
        var stream = _stream!;
        var (block, blockStart) = plan.Locate(cache.BlockOrder, shard, position);
        int size = plan.BlockSize(shard, block);
        int inputs = _net.Inputs, outputs = _net.Outputs, targets = stream.Targets;
        if (_rawX.Length < plan.BlockRows * inputs)
        {
            _rawX = new double[plan.BlockRows * inputs];
            _rawTargets = new double[plan.BlockRows * targets];
        }
        stream.Read(shard, (long)block * plan.BlockRows, size, _rawX.AsSpan(0, size * inputs), cache.Labels.AsSpan(0, size),
            stream.Task == TaskKind.Regression ? _rawTargets.AsSpan(0, size * targets) : []);
        for (int r = 0; r < size; r++)
        {
            var row = _rawX.AsSpan(r * inputs, inputs);
            _preprocessing.Transform(row);
            var dest = cache.X.AsSpan(r * inputs, inputs);
            for (int j = 0; j < inputs; j++)
                dest[j] = T.CreateChecked(row[j]);
            var y = cache.Y.AsSpan(r * outputs, outputs);
            if (stream.Task == TaskKind.Regression)
            {
                for (int j = 0; j < outputs; j++)
                    y[j] = T.CreateChecked(_rawTargets[r * targets + j]);
            }
            else if (outputs == 1)
            {
                y[0] = T.CreateChecked(cache.Labels[r]);
            }
            else
            {
                y.Clear();
                y[cache.Labels[r]] = T.One;
            }
        }
        plan.RowOrder(epoch, shard, block, cache.Order.AsSpan(0, size));
        cache.Block = block;
        cache.Start = blockStart;
        cache.Size = size;
    }

    /// <summary>Forward and backward on the <paramref name="n"/> rows of the batch buffers; their mean loss and correct predictions.</summary>
    private (double Loss, int Correct) ShardGradient(int n, int epoch)
    {
        int inputs = _net.Inputs, outputs = _net.Outputs;
        var by = _batchY.AsSpan(0, n * outputs);
        if (_dropout is { } d)
            d.Key = Nn.Dropout.EpochKey(_seed, epoch);
        var o = _net.ForwardTraining(_batchX.AsSpan(0, n * inputs), n, _dropout);
        int correct = 0;
        if (_classification)
            for (int r = 0; r < n; r++)
                if (ClassRule.Predict(o.Slice(r * outputs, outputs)) == _batchLabels[r])
                    correct++;
        double loss = _net.ComputeLoss(by);
        _net.Backward(by);
        return (loss, correct);
    }

    /// <summary>sum += share * gradient, element by element, over the network's gradients in layer order.</summary>
    private void AddScaled(Span<T> sum, T share)
    {
        int at = 0;
        foreach (var layer in _net.Layers)
        {
            foreach (var g in (ReadOnlySpan<T>)layer.WeightGradients)
                sum[at++] += share * g;
            foreach (var g in (ReadOnlySpan<T>)layer.BiasGradients)
                sum[at++] += share * g;
        }
    }

    /// <summary>destination = share * gradient (the terms <see cref="AddScaled"/> adds).</summary>
    private void Scaled(Span<T> destination, T share)
    {
        int at = 0;
        foreach (var layer in _net.Layers)
        {
            foreach (var g in (ReadOnlySpan<T>)layer.WeightGradients)
                destination[at++] = share * g;
            foreach (var g in (ReadOnlySpan<T>)layer.BiasGradients)
                destination[at++] = share * g;
        }
    }

    private void Pack(ReadOnlySpan<T> sum, double loss, double correct)
    {
        var bytes = MemoryMarshal.AsBytes(sum);
        bytes.CopyTo(_message);
        MemoryMarshal.Write(_message.AsSpan(bytes.Length), loss);
        MemoryMarshal.Write(_message.AsSpan(bytes.Length + sizeof(double)), correct);
    }

    private (double Loss, double Correct) Unpack(Span<T> sum)
    {
        var bytes = MemoryMarshal.AsBytes(sum);
        _message.AsSpan(0, bytes.Length).CopyTo(bytes);
        return (MemoryMarshal.Read<double>(_message.AsSpan(bytes.Length)), MemoryMarshal.Read<double>(_message.AsSpan(bytes.Length + sizeof(double))));
    }
}
