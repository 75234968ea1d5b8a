using System.Collections.Concurrent;

namespace Backprop.Cli.Playground;

/// <summary>
/// How much computation the playground runs at once: <paramref name="Slots"/> requests compute at a time (seed
/// updates, new training runs, training steps), at most <paramref name="Queue"/> more wait for a slot, and any
/// beyond that are refused with 503 and Retry-After.
/// </summary>
/// <param name="Slots">Heavy requests computing at once (default: one per core).</param>
/// <param name="Queue">Heavy requests waiting for a slot before new ones are refused (default: four per slot).</param>
public sealed record PlaygroundLimits(int Slots, int Queue)
{
    /// <summary>One slot per core and four waiting requests per slot.</summary>
    public static PlaygroundLimits Default => new(Math.Max(1, Environment.ProcessorCount), 4 * Math.Max(1, Environment.ProcessorCount));
}

/// <summary>The queue was full: answered with 503 and Retry-After.</summary>
internal sealed class PlaygroundBusyException(string message) : Exception(message);

/// <summary>
/// Runs the heavy requests on <see cref="PlaygroundLimits.Slots"/> threads of its own, fed by a bounded queue.
/// The computation never runs on the thread pool, so however many heavy requests arrive, the pool stays free
/// for Kestrel and the light requests (the page, its files, the options): they are answered at once.
/// </summary>
internal sealed class HeavyWork : IDisposable
{
    /// <summary>Seconds a refused client is told to wait (the Retry-After header).</summary>
    public const int RetryAfterSeconds = 1;

    private sealed record Item(Func<CancellationToken, byte[]> Work, CancellationToken Cancel, TaskCompletionSource<byte[]> Done);

    private readonly BlockingCollection<Item> _queue = new(new ConcurrentQueue<Item>());
    private int _admitted, _running, _peakRunning;
    private long _refused;

    public HeavyWork(PlaygroundLimits limits)
    {
        if (limits.Slots < 1 || limits.Queue < 0)
            throw new ArgumentOutOfRangeException(nameof(limits), limits, "at least one slot and a queue of zero or more are needed.");
        Limits = limits;
        for (int i = 0; i < limits.Slots; i++)
            new Thread(Work) { IsBackground = true, Name = $"playground heavy {i + 1}" }.Start();
    }

    public PlaygroundLimits Limits { get; }

    /// <summary>Requests computing now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Requests admitted and not yet started: waiting for a slot.</summary>
    public int Queued => Math.Max(0, Volatile.Read(ref _admitted) - Running);

    /// <summary>The most requests that computed at once.</summary>
    public int PeakRunning => Volatile.Read(ref _peakRunning);

    /// <summary>Requests refused because the queue was full.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>
    /// Runs <paramref name="work"/> on a worker when a slot is free; throws <see cref="PlaygroundBusyException"/>
    /// at once when <see cref="PlaygroundLimits.Slots"/> + <see cref="PlaygroundLimits.Queue"/> requests are
    /// already admitted (running or waiting). A request cancelled while it waits is dropped without running;
    /// one cancelled while it runs is told through the token it is given.
    /// </summary>
    public Task<byte[]> Run(Func<CancellationToken, byte[]> work, CancellationToken cancel)
    {
        if (Interlocked.Increment(ref _admitted) > Limits.Slots + Limits.Queue)
        {
            Interlocked.Decrement(ref _admitted);
            Interlocked.Increment(ref _refused);
            throw new PlaygroundBusyException(
                $"the playground is busy: {Limits.Slots} computations are running and {Limits.Queue} more are waiting; try again in {RetryAfterSeconds} s.");
        }
        var done = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _queue.Add(new Item(work, cancel, done));
        }
        catch (InvalidOperationException)
        {
            Interlocked.Decrement(ref _admitted);
            throw new ObjectDisposedException(nameof(HeavyWork), "the playground is stopping.");
        }
        return done.Task;
    }

    private void Work()
    {
        foreach (var item in _queue.GetConsumingEnumerable())
        {
            Max(ref _peakRunning, Interlocked.Increment(ref _running));
            try
            {
                item.Cancel.ThrowIfCancellationRequested();
                item.Done.TrySetResult(item.Work(item.Cancel));
            }
            catch (OperationCanceledException e)
            {
                item.Done.TrySetCanceled(e.CancellationToken);
            }
            catch (Exception e)
            {
                item.Done.TrySetException(e);
            }
            finally
            {
                Interlocked.Decrement(ref _running);
                Interlocked.Decrement(ref _admitted);
            }
        }
    }

    private static void Max(ref int location, int value)
    {
        int seen = Volatile.Read(ref location);
        while (value > seen)
        {
            int found = Interlocked.CompareExchange(ref location, value, seen);
            if (found == seen)
                return;
            seen = found;
        }
    }

    /// <summary>Stops taking work and drops what waits; the workers (background threads) end.</summary>
    public void Dispose()
    {
        _queue.CompleteAdding();
        while (_queue.TryTake(out var item))
        {
            item.Done.TrySetException(new ObjectDisposedException(nameof(HeavyWork), "the playground is stopping."));
            Interlocked.Decrement(ref _admitted);
        }
    }
}
