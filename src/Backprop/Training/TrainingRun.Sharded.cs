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

    /// <summary>Sets up the sharded definition when the options ask for it.</summary>
    private void InitShards()
    {
        if (_options.Shards is not { } shards)
            return;
        _plan = new ShardPlan(_rows, shards, _options.BatchSize, _seed, _options.Shuffle);
        _group = _options.Group;
        (_firstShard, _localShards) = _group is null ? (0, shards) : IShardGroup.ShardRange(shards, _group.Rank, _group.Size);
        _shardOrders = new int[_localShards][];
        for (int k = 0; k < _localShards; k++)
            _shardOrders[k] = new int[_plan.ShardRows(_firstShard + k)];
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
        if (_ordersEpoch != epoch)
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
            var (loss, right) = ShardGradient(_shardOrders[k].AsSpan((int)start, n));
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

    /// <summary>Forward and backward on the given training rows; their mean loss and correct predictions.</summary>
    private (double Loss, int Correct) ShardGradient(ReadOnlySpan<int> order)
    {
        int n = order.Length, inputs = _net.Inputs, outputs = _net.Outputs;
        for (int r = 0; r < n; r++)
        {
            int row = order[r];
            _x.AsSpan(row * inputs, inputs).CopyTo(_batchX.AsSpan(r * inputs));
            _y.Write(row, _batchY.AsSpan(r * outputs, outputs));
        }
        var by = _batchY.AsSpan(0, n * outputs);
        var o = _net.Forward(_batchX.AsSpan(0, n * inputs), n);
        int correct = 0;
        if (_labels.Length != 0)
            for (int r = 0; r < n; r++)
                if (ClassRule.Predict(o.Slice(r * outputs, outputs)) == _labels[order[r]])
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
