using System.Buffers;
using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Backprop.AspNetCore;

/// <summary>
/// Concurrent requests' rows computed together in one forward pass (the model's batched <c>Predict(features, rows,
/// outputs)</c>), each batch with one model version.
/// </summary>
/// <remarks>
/// There is no batching thread to hop to. A request that finds a compute lane free (fewer than
/// <see cref="BackpropModelOptions.ComputeLanes"/> forward passes running) computes at once on its own thread
/// (waiting first up to <see cref="BackpropModelOptions.MaxBatchDelay"/> for company, when that is set), taking
/// along the rows that queued meanwhile. Only when every lane is busy do requests queue; when a batch is done, the
/// queued rows are computed as the next batch on a thread-pool thread, which keeps draining until the queue is
/// empty. So a server whose forward passes keep up adds no latency and no thread hop, and once the forward passes
/// are the bottleneck the batches grow by themselves to what arrived during the previous ones, bounded by
/// <see cref="BackpropModelOptions.MaxBatchRows"/>. Rows of different model versions are never in one batch.
/// </remarks>
internal sealed class MicroBatcher
{
    private readonly object _gate = new();
    private readonly Queue<Item> _queue = new();
    private readonly int _maxRows, _maxQueued;
    private readonly long _delayTicks, _timeoutTicks;
    private readonly TimeSpan _timeout;
    private readonly Action<int>? _onBatch;
    private readonly int _lanes;
    private int _queuedRows;
    private int _active;

    public MicroBatcher(BackpropModelOptions options, Action<int>? onBatch = null)
    {
        _maxRows = options.MaxBatchRows;
        _maxQueued = options.MaxQueuedRows;
        _delayTicks = (long)(options.MaxBatchDelay.TotalSeconds * Stopwatch.Frequency);
        _timeout = options.QueueTimeout;
        _timeoutTicks = (long)(options.QueueTimeout.TotalSeconds * Stopwatch.Frequency);
        _onBatch = onBatch;
        _lanes = options.ComputeLanes;
    }

    /// <summary>Rows waiting for a forward pass now.</summary>
    public int QueuedRows => Volatile.Read(ref _queuedRows);

    /// <summary>
    /// The outputs (rows x outputs) for <paramref name="count"/> prepared-by-name raw rows (count x features) with
    /// <paramref name="version"/>'s model.
    /// </summary>
    /// <exception cref="ServingUnavailableException">The queue is full, or the rows waited past the queue timeout.</exception>
    public ValueTask<double[]> Run(ModelVersion version, double[] rows, int count)
    {
        if (_maxRows == 1 || count >= _maxRows)
        {
            // Batching is off, or the request fills a batch on its own: no reason to wait with it.
            var alone = Compute(version, rows, count);
            _onBatch?.Invoke(count);
            return new ValueTask<double[]>(alone);
        }
        var item = new Item(version, rows, count, Stopwatch.GetTimestamp());
        lock (_gate)
        {
            if (_active >= _lanes)
            {
                if (_queuedRows + count > _maxQueued)
                    throw new ServingUnavailableException($"the server is busy: {_queuedRows:N0} rows are waiting for a forward pass (at most {_maxQueued:N0}); retry shortly.");
                item.Done = new TaskCompletionSource<double[]>(TaskCreationOptions.RunContinuationsAsynchronously);
                _queue.Enqueue(item);
                _queuedRows += count;
                return new ValueTask<double[]>(item.Done.Task);
            }
            _active++;
        }
        // This request leads: its own rows first, then whoever queued meanwhile.
        List<Item> batch;
        try
        {
            batch = [item];
            int total = count;
            lock (_gate)
                TakeLocked(batch, ref total);
            if (_delayTicks > 0 && total < _maxRows)
                WaitForCompany(batch, ref total);
            ComputeBatch(batch);
        }
        finally
        {
            HandOff();
        }
        if (item.Error is { } error)
            ExceptionDispatchInfo.Throw(error);
        return new ValueTask<double[]>(item.Result!);
    }

    /// <summary>Spins (yielding the core) until more rows queue or the bounded wait is over.</summary>
    private void WaitForCompany(List<Item> batch, ref int total)
    {
        long deadline = Stopwatch.GetTimestamp() + _delayTicks;
        while (total < _maxRows)
        {
            long left = deadline - Stopwatch.GetTimestamp();
            if (left <= 0)
                return;
            if (left > Stopwatch.Frequency / 1000)
                Thread.Sleep(1);
            else
                Thread.Yield();
            lock (_gate)
                TakeLocked(batch, ref total);
        }
    }

    /// <summary>Moves queued items of the batch's version into it while they fit (caller holds the lock).</summary>
    private void TakeLocked(List<Item> batch, ref int total)
    {
        while (_queue.TryPeek(out var next))
        {
            if (batch.Count > 0 && (!ReferenceEquals(next.Version, batch[0].Version) || total + next.Count > _maxRows))
                return;
            _queue.Dequeue();
            _queuedRows -= next.Count;
            if (Stopwatch.GetTimestamp() - next.Enqueued > _timeoutTicks)
            {
                next.Fail(new ServingUnavailableException($"the request waited more than {_timeout.TotalSeconds:0.#} s for a forward pass; retry shortly."));
                continue;
            }
            batch.Add(next);
            total += next.Count;
        }
    }

    /// <summary>After a batch: idle again when nothing queued, otherwise the next batches run on a pool thread.</summary>
    private void HandOff()
    {
        lock (_gate)
        {
            if (_queue.Count == 0)
            {
                _active--;
                return;
            }
        }
        ThreadPool.UnsafeQueueUserWorkItem(static self => self.Drain(), this, preferLocal: false);
    }

    private void Drain()
    {
        var batch = new List<Item>();
        while (true)
        {
            batch.Clear();
            int total = 0;
            lock (_gate)
            {
                TakeLocked(batch, ref total);
                if (batch.Count == 0 && _queue.Count == 0)
                {
                    _active--;
                    return;
                }
            }
            if (batch.Count == 0)
                continue; // only timed-out items were taken
            if (_delayTicks > 0 && total < _maxRows)
                WaitForCompany(batch, ref total);
            ComputeBatch(batch);
        }
    }

    private void ComputeBatch(List<Item> batch)
    {
        var version = batch[0].Version;
        int rows = 0;
        foreach (var item in batch)
            rows += item.Count;
        // Counted before any of its requests is released, so whoever awaits a result sees its batch counted.
        _onBatch?.Invoke(rows);
        if (batch.Count == 1)
        {
            var only = batch[0];
            try
            {
                only.Complete(Compute(version, only.Rows, only.Count));
            }
            catch (Exception e)
            {
                only.Fail(e);
            }
            return;
        }
        int features = version.Features, outputs = version.Outputs;
        var pool = ArrayPool<double>.Shared;
        double[] x = pool.Rent(rows * features), y = pool.Rent(rows * outputs);
        try
        {
            int at = 0;
            foreach (var item in batch)
            {
                item.Rows.AsSpan(0, item.Count * features).CopyTo(x.AsSpan(at * features));
                at += item.Count;
            }
            version.Model.Predict(x.AsSpan(0, rows * features), rows, y.AsSpan(0, rows * outputs));
            at = 0;
            foreach (var item in batch)
            {
                item.Complete(y.AsSpan(at * outputs, item.Count * outputs).ToArray());
                at += item.Count;
            }
        }
        catch (Exception)
        {
            // One request's rows must not fail the others: compute each alone, so the error lands where it belongs.
            foreach (var item in batch)
            {
                if (item.Finished)
                    continue;
                try
                {
                    item.Complete(Compute(version, item.Rows, item.Count));
                }
                catch (Exception e)
                {
                    item.Fail(e);
                }
            }
        }
        finally
        {
            pool.Return(x);
            pool.Return(y);
        }
    }

    private static double[] Compute(ModelVersion version, double[] rows, int count)
    {
        var outputs = new double[count * version.Outputs];
        version.Model.Predict(rows.AsSpan(0, count * version.Features), count, outputs);
        return outputs;
    }

    private sealed class Item(ModelVersion version, double[] rows, int count, long enqueued)
    {
        public ModelVersion Version { get; } = version;
        public double[] Rows { get; } = rows;
        public int Count { get; } = count;
        public long Enqueued { get; } = enqueued;

        /// <summary>Set for a queued item (its request awaits it); null for the leader's own.</summary>
        public TaskCompletionSource<double[]>? Done { get; set; }
        public double[]? Result { get; private set; }
        public Exception? Error { get; private set; }
        public bool Finished => Result is not null || Error is not null;

        public void Complete(double[] result)
        {
            Result = result;
            Done?.TrySetResult(result);
        }

        public void Fail(Exception error)
        {
            Error = error;
            Done?.TrySetException(error);
        }
    }
}
