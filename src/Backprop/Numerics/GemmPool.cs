using System.Runtime.InteropServices;

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
/// <para>
/// Each thread of a job is a lane (the caller is lane 0, helper h is lane h) that owns a fixed part of the items:
/// a contiguous block of them, so the same thread gets the same tiles of C (and the same rows of A, the same chunk
/// of the weights) call after call and finds them in its own caches; a job's first <c>shared</c> items (packing
/// that every tile reads) are dealt round-robin instead. A lane runs its own items first, then claims whatever the
/// other lanes have not yet started, so nobody ever waits for a helper that has not woken up (on a busy machine that
/// wait would be a scheduler time slice), and every shared item is claimed before any thread starts an item of the
/// rest (tiles wait only for packing already claimed). Which thread runs an item never changes its result.
/// </para>
/// <para>One product runs on the pool at a time; a product that finds it busy runs on its caller's thread alone.</para>
/// </remarks>
internal sealed class GemmPool
{
    private static readonly Lazy<GemmPool> s_shared = new(() => new GemmPool(Environment.ProcessorCount - 1));

    private readonly ManualResetEventSlim _finished = new(false);
    private readonly object _busy = new();
    private readonly Helper[] _helper;
    private readonly Counters[] _lanes;
    private IGemmWork? _work;
    private int _count, _shared, _laneCount, _done, _generation;

    /// <summary>The generation of the job ready to claim; written last when a job is published.</summary>
    private int _published;

    /// <summary>A pool with <paramref name="helpers"/> helper threads (the shared one has one per CPU but the caller's; tests make their own).</summary>
    internal GemmPool(int helpers)
    {
        helpers = Math.Max(0, helpers);
        _helper = new Helper[helpers + 1];
        _lanes = new Counters[helpers + 1];
        for (int h = 1; h <= helpers; h++)
        {
            _helper[h] = new Helper();
            int lane = h;
            new Thread(() => WorkerLoop(lane)) { IsBackground = true, Name = $"Backprop GEMM {h}" }.Start();
        }
    }

    public static GemmPool Shared => s_shared.Value;

    /// <summary>
    /// Runs <c>work.Run(i)</c> for every i in [0, count) on up to <paramref name="threads"/> threads, caller included.
    /// The first <paramref name="shared"/> items are dealt round-robin and all claimed before any later one starts;
    /// the rest are cut into one contiguous block per thread.
    /// </summary>
    public void Run(IGemmWork work, int count, int threads, int shared = 0)
    {
        int lanes = Math.Min(Math.Min(threads, _lanes.Length), count);
        if (lanes <= 1 || !Monitor.TryEnter(_busy))
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
            _shared = Math.Clamp(shared, 0, count);
            _laneCount = lanes;
            _done = 0;
            _finished.Reset();
            long fresh = (long)generation << 32;
            for (int r = 0; r < lanes; r++)
            {
                Volatile.Write(ref _lanes[r].Shared, fresh);
                Volatile.Write(ref _lanes[r].Own, fresh);
            }
            Volatile.Write(ref _published, generation);
            // Helpers still polling since the last job see the new generation by themselves; only sleeping ones need
            // their semaphore. (A Dekker pair with WorkerLoop: we publish, then read a helper's flag; a helper raises
            // its flag, then re-reads the generation. One of the two sees the other's write.)
            Interlocked.MemoryBarrier();
            for (int h = 1; h < lanes; h++)
                if (Volatile.Read(ref _helper[h].Sleeping) != 0)
                    _helper[h].Wake.Release();
            Drain(0);
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

    /// <summary>
    /// Lane <paramref name="me"/>'s part of the current job: its own shared items, everyone's unclaimed shared items,
    /// its own block, then what is left of the other lanes' blocks.
    /// </summary>
    /// <remarks>
    /// A claim belongs to the generation in its counter, whatever job the thread came for, so no claimed item of the
    /// current job is ever dropped; a claim on a counter not yet reset for it (an older generation) claims nothing:
    /// that job had all its items done, and the reset overwrites the count. The job's fields are read after the
    /// claim (they are written before the counters) and trusted only if the generation is still the claim's: the
    /// caller bumps it before rewriting them and cannot start a new job while a claimed item is unfinished. A thread
    /// that came for an older job may so run an item of the next one; every shared item is still claimed by a thread
    /// in its first pass (the caller's at least), and packing waits for nothing, so no tile waits forever.
    /// </remarks>
    private void Drain(int me)
    {
        for (int pass = 0; pass < 2; pass++)
        {
            bool own = pass == 1;
            int lanes = Volatile.Read(ref _laneCount);
            for (int d = 0; d < lanes; d++)
            {
                int r = (me + d) % lanes;
                ref long counter = ref own ? ref _lanes[r].Own : ref _lanes[r].Shared;
                while (true)
                {
                    long ticket = Interlocked.Increment(ref counter);
                    int position = (int)(ticket & 0xFFFFFFFF) - 1;
                    int count = Volatile.Read(ref _count), shared = Volatile.Read(ref _shared);
                    lanes = Volatile.Read(ref _laneCount);
                    var work = Volatile.Read(ref _work);
                    if ((int)(ticket >> 32) != Volatile.Read(ref _generation) || work is null)
                        return;
                    int index;
                    if (own)
                    {
                        int rest = count - shared;
                        int first = shared + (int)((long)rest * r / lanes), end = shared + (int)((long)rest * (r + 1) / lanes);
                        index = first + position;
                        if (index >= end)
                            break;
                    }
                    else
                    {
                        index = r + position * lanes;
                        if (index >= shared)
                            break;
                    }
                    work.Run(index);
                    if (Interlocked.Increment(ref _done) == count)
                        _finished.Set();
                }
            }
        }
    }

    /// <summary>How long a helper keeps polling for the next job before it sleeps on its semaphore.</summary>
    /// <remarks>
    /// A training step issues its products tens of microseconds to a few milliseconds apart; waking a sleeping
    /// thread costs about as much as a small product (futex wake plus a scheduler slice), so helpers poll for a
    /// short while first. Bounded, so an idle process does not burn a core.
    /// </remarks>
    private static readonly long s_spinTicks = System.Diagnostics.Stopwatch.Frequency / 5000; // 200 us

    private void WorkerLoop(int lane)
    {
        var helper = _helper[lane];
        int seen = 0;
        while (true)
        {
            int published = Volatile.Read(ref _published);
            if (published != seen)
            {
                seen = published;
                // A job with fewer lanes than this one's number is not ours (MaxThreads below the pool's size).
                if (lane < Volatile.Read(ref _laneCount))
                    Drain(lane);
                continue;
            }
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            while (Volatile.Read(ref _published) == seen && System.Diagnostics.Stopwatch.GetTimestamp() - start < s_spinTicks)
                Thread.SpinWait(20);
            if (Volatile.Read(ref _published) != seen)
                continue;
            Interlocked.Exchange(ref helper.Sleeping, 1);
            if (Volatile.Read(ref _published) == seen)
                helper.Wake.Wait();
            Volatile.Write(ref helper.Sleeping, 0);
        }
    }

    /// <summary>A lane's two claim counters (generation in the high half, items claimed in the low), a cache line of their own.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct Counters
    {
        [FieldOffset(64)] public long Shared;
        [FieldOffset(72)] public long Own;
    }

    private sealed class Helper
    {
        public readonly SemaphoreSlim Wake = new(0);
        public int Sleeping;
    }
}
