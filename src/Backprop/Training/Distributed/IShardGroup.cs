namespace Backprop.Training.Distributed;

/// <summary>
/// The processes that train one model together (data-parallel): each holds the same weights and computes the
/// gradients of its own shards of every mini-batch; the shard gradients are then added in one fixed order, shard 0,
/// 1, ..., S-1, whatever the number of processes, and every process takes the same step with the same sum.
/// <c>MpiGroup</c> is the group of an <c>mpirun</c> job; a test or another transport can implement this interface.
/// </summary>
/// <remarks>
/// Process r of K owns the shards <c>[r*S/K, (r+1)*S/K)</c> (<see cref="ShardRange"/>). The sum travels as a chain:
/// rank 0 adds its shards and sends the running sum to rank 1, which adds its own and sends it on; the last rank
/// broadcasts the total. So the additions happen in shard order, exactly as one process makes them.
/// </remarks>
public interface IShardGroup
{
    /// <summary>This process's number, 0 to <see cref="Size"/> - 1. Rank 0 writes the model, checkpoints and output.</summary>
    int Rank { get; }

    /// <summary>How many processes train together (K).</summary>
    int Size { get; }

    /// <summary>Sends <paramref name="data"/> to process <paramref name="destination"/> (returns when the buffer may be reused).</summary>
    void Send(ReadOnlySpan<byte> data, int destination);

    /// <summary>Receives exactly <paramref name="data"/>'s length of bytes from process <paramref name="source"/>.</summary>
    void Receive(Span<byte> data, int source);

    /// <summary>Every process ends with <paramref name="root"/>'s <paramref name="data"/> (a collective call).</summary>
    void Broadcast(Span<byte> data, int root);

    /// <summary>
    /// Ends every process of the group at once with <paramref name="exitCode"/> after this one failed (the others,
    /// waiting for its part of a sum, would otherwise wait forever).
    /// </summary>
    void Abort(int exitCode);

    /// <summary>The shards <c>[First, First + Count)</c> of <paramref name="shards"/> that process <paramref name="rank"/> of <paramref name="size"/> owns.</summary>
    static (int First, int Count) ShardRange(int shards, int rank, int size)
    {
        int first = (int)((long)rank * shards / size), end = (int)((long)(rank + 1) * shards / size);
        return (first, end - first);
    }
}
