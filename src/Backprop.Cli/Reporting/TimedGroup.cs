using System.Diagnostics;
using Backprop.Training.Distributed;

namespace Backprop.Cli.Reporting;

/// <summary>
/// An <see cref="IShardGroup"/> that counts the time spent in its calls: the communication of a sharded run,
/// waiting for the other ranks included. With <c>BACKPROP_SHARD_TIMES=1</c> every rank of <c>train</c> under mpirun
/// prints it to standard error at the end (docs/distributed.md, "Scaling").
/// </summary>
internal sealed class TimedGroup(IShardGroup inner) : IShardGroup
{
    private long _ticks;

    /// <summary>Seconds spent in Send, Receive and Broadcast.</summary>
    public double Seconds => _ticks / (double)Stopwatch.Frequency;

    /// <summary>Calls to Broadcast (one per step).</summary>
    public int Steps { get; private set; }

    public int Rank => inner.Rank;

    public int Size => inner.Size;

    public void Send(ReadOnlySpan<byte> data, int destination)
    {
        long t = Stopwatch.GetTimestamp();
        inner.Send(data, destination);
        _ticks += Stopwatch.GetTimestamp() - t;
    }

    public void Receive(Span<byte> data, int source)
    {
        long t = Stopwatch.GetTimestamp();
        inner.Receive(data, source);
        _ticks += Stopwatch.GetTimestamp() - t;
    }

    public void Broadcast(Span<byte> data, int root)
    {
        long t = Stopwatch.GetTimestamp();
        inner.Broadcast(data, root);
        _ticks += Stopwatch.GetTimestamp() - t;
        Steps++;
    }

    public void Abort(int exitCode) => inner.Abort(exitCode);
}
