namespace Backprop.Numerics;

/// <summary>One unit of a parallel product (a tile of C, a strip to pack): <c>Run(i)</c> for i in [0, count).</summary>
internal interface IGemmWork
{
    void Run(int index);
}

/// <summary>
/// A small fork-join pool for the matrix products: persistent background workers, no allocation per call
/// (Parallel.For allocates its tasks and partitions on every call, which a training step would pay each time).
/// </summary>
/// <remarks>
/// Work items are claimed from one shared ticket counter, so whoever is running takes the next item; the caller
/// works too and waits only for items already claimed, never for a helper that has not woken up yet (on a busy
/// machine that wait would be a scheduler time slice). Which thread runs an item never changes its result.
/// One product runs on the pool at a time; a product that finds it busy runs on its caller's thread alone.
/// </remarks>
internal sealed class GemmPool
{
    private static readonly Lazy<GemmPool> s_shared = new(() => new GemmPool(Environment.ProcessorCount - 1));

    private readonly SemaphoreSlim _wake = new(0);
    private readonly ManualResetEventSlim _finished = new(false);
    private readonly object _busy = new();
    private readonly int _helpers;
    private IGemmWork? _work;
    private int _count;
    private int _done;
    private int _generation;
    private long _ticket;

    private GemmPool(int helpers)
    {
        _helpers = Math.Max(0, helpers);
        for (int i = 0; i < _helpers; i++)
            new Thread(WorkerLoop) { IsBackground = true, Name = $"Backprop GEMM {i + 1}" }.Start();
    }

    public static GemmPool Shared => s_shared.Value;

    /// <summary>Runs <c>work.Run(i)</c> for every i in [0, count) on up to <paramref name="threads"/> threads, caller included.</summary>
    public void Run(IGemmWork work, int count, int threads)
    {
        int helpers = Math.Min(Math.Min(threads - 1, _helpers), count - 1);
        if (helpers <= 0 || !Monitor.TryEnter(_busy))
        {
            for (int i = 0; i < count; i++)
                work.Run(i);
            return;
        }
        try
        {
            int generation = _generation + 1;
            Volatile.Write(ref _generation, generation);
            _work = work;
            _count = count;
            _done = 0;
            _finished.Reset();
            Volatile.Write(ref _ticket, (long)generation << 32);
            // Helpers still polling since the last job see the new ticket by themselves; only sleeping ones need
            // the semaphore. (A Dekker pair with WorkerLoop: we publish the ticket, then read the sleepers; a helper
            // counts itself a sleeper, then re-reads the ticket. One of the two sees the other's write.)
            Interlocked.MemoryBarrier();
            int sleeping = Volatile.Read(ref _sleepers);
            if (sleeping > 0)
                _wake.Release(Math.Min(sleeping, helpers));
            Drain();
            var spin = new SpinWait();
            while (Volatile.Read(ref _done) != count && !spin.NextSpinWillYield)
                spin.SpinOnce();
            // A Set left over from the previous job can wake us early: re-check the count, reset, wait again.
            while (Volatile.Read(ref _done) != count)
                if (_finished.Wait(1))
                    _finished.Reset();
            _work = null;
        }
        finally
        {
            Monitor.Exit(_busy);
        }
    }

    /// <summary>Claims and runs items until the current job has none left.</summary>
    /// <remarks>
    /// A claim always belongs to the generation in its ticket, whatever job the thread woke up for, so no claimed
    /// item is ever dropped. The job's fields are read after the claim and trusted only if the generation is still
    /// the ticket's: the caller bumps the generation before it rewrites them, and cannot start a new job while an
    /// item of this one is unfinished.
    /// </remarks>
    private void Drain()
    {
        while (true)
        {
            long ticket = Interlocked.Increment(ref _ticket);
            int generation = (int)(ticket >> 32);
            int index = (int)(ticket & 0xFFFFFFFF) - 1;
            int count = Volatile.Read(ref _count);
            var work = Volatile.Read(ref _work);
            if (Volatile.Read(ref _generation) != generation || index >= count || work is null)
                return;
            work.Run(index);
            if (Interlocked.Increment(ref _done) == count)
                _finished.Set();
        }
    }

    /// <summary>How long a helper keeps polling for the next job before it sleeps on the semaphore.</summary>
    /// <remarks>
    /// A training step issues its products tens of microseconds to a few milliseconds apart; waking a sleeping
    /// thread costs about as much as a small product (futex wake plus a scheduler slice), so helpers poll for a
    /// short while first. Bounded, so an idle process does not burn a core.
    /// </remarks>
    private static readonly long s_spinTicks = System.Diagnostics.Stopwatch.Frequency / 5000; // 200 us

    private int _sleepers;

    private void WorkerLoop()
    {
        int seen = 0;
        while (true)
        {
            // The ticket is the last thing Run publishes, so its generation says a job is ready to claim.
            if (PublishedGeneration() != seen)
            {
                seen = PublishedGeneration();
                Drain();
                continue;
            }
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            while (PublishedGeneration() == seen && System.Diagnostics.Stopwatch.GetTimestamp() - start < s_spinTicks)
                Thread.SpinWait(20);
            if (PublishedGeneration() != seen)
                continue;
            Interlocked.Increment(ref _sleepers);
            if (PublishedGeneration() == seen)
                _wake.Wait();
            Interlocked.Decrement(ref _sleepers);
        }
    }

    private int PublishedGeneration() => (int)(Volatile.Read(ref _ticket) >> 32);
}
