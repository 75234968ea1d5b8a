using System.Collections.Concurrent;
using Backprop.Training.Distributed;

namespace Backprop.Tests.Training.Distributed;

/// <summary>
/// K "processes" as threads of this one, joined by queues: an <see cref="IShardGroup"/> for testing the sharded
/// run's protocol (the chain and the broadcast) without MPI. <see cref="Run"/> starts one body per rank and waits.
/// </summary>
internal sealed class ThreadGroup(ThreadGroup.Wires wires, int rank) : IShardGroup
{
    /// <summary>The queues between every pair of ranks.</summary>
    internal sealed class Wires(int size)
    {
        public int Size { get; } = size;
        private readonly BlockingCollection<byte[]>[,] _queues = Make(size);

        public BlockingCollection<byte[]> Between(int from, int to) => _queues[from, to];

        private static BlockingCollection<byte[]>[,] Make(int size)
        {
            var q = new BlockingCollection<byte[]>[size, size];
            for (int i = 0; i < size; i++)
                for (int j = 0; j < size; j++)
                    q[i, j] = new BlockingCollection<byte[]>();
            return q;
        }
    }

    public int Rank { get; } = rank;

    public int Size => wires.Size;

    /// <summary>Messages this rank has sent (sends and broadcasts).</summary>
    public int Sent { get; private set; }

    public void Send(ReadOnlySpan<byte> data, int destination)
    {
        Sent++;
        wires.Between(Rank, destination).Add(data.ToArray());
    }

    public void Receive(Span<byte> data, int source)
    {
        var got = wires.Between(source, Rank).Take(TestContext.Current.CancellationToken);
        Assert.Equal(data.Length, got.Length);
        got.CopyTo(data);
    }

    public void Broadcast(Span<byte> data, int root)
    {
        if (Rank == root)
        {
            for (int r = 0; r < Size; r++)
                if (r != root)
                    Send(data, r);
        }
        else
        {
            Receive(data, root);
        }
    }

    public void Abort(int exitCode) => throw new InvalidOperationException($"abort {exitCode}");

    /// <summary>Runs <paramref name="body"/> for every rank of a new group of <paramref name="size"/> on its own thread; returns their results by rank.</summary>
    public static TResult[] Run<TResult>(int size, Func<ThreadGroup, TResult> body)
    {
        var wires = new Wires(size);
        var tasks = Enumerable.Range(0, size)
            .Select(r => Task.Factory.StartNew(() => body(new ThreadGroup(wires, r)), TaskCreationOptions.LongRunning))
            .ToArray();
        Task.WaitAll(tasks, TestContext.Current.CancellationToken);
        return tasks.Select(t => t.Result).ToArray();
    }
}
