using System.Buffers.Binary;
using Backprop.Training.Distributed;

namespace Backprop.Distributed;

/// <summary>
/// Every shard's blob, in shard order, on every process: each computes the blobs of its own shards, and the list
/// passes along the ranks as the gradient sums do (IShardGroup's chain), the last rank broadcasting the whole. Used
/// for a streamed table's first passes (row counts, classes, statistics), so that they do not depend on K either.
/// </summary>
internal static class ShardExchange
{
    public static byte[][] Gather(IShardGroup? group, int shards, Func<int, byte[]> local)
    {
        if (group is null)
            return Enumerable.Range(0, shards).Select(local).ToArray();
        var (first, count) = IShardGroup.ShardRange(shards, group.Rank, group.Size);
        var list = new List<byte[]>(shards);
        if (group.Rank > 0)
            list.AddRange(Unpack(ReceiveBlob(group, group.Rank - 1)));
        for (int s = first; s < first + count; s++)
            list.Add(local(s));
        int last = group.Size - 1;
        byte[] packed = Pack(list);
        if (group.Rank < last)
            SendBlob(group, packed, group.Rank + 1);
        // The last rank's list is everyone's.
        var length = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(length, packed.LongLength);
        group.Broadcast(length, last);
        var all = group.Rank == last ? packed : new byte[BinaryPrimitives.ReadInt64LittleEndian(length)];
        group.Broadcast(all, last);
        var result = Unpack(all);
        if (result.Length != shards)
            throw new BackpropException($"the processes exchanged {result.Length} shard summaries, expected {shards}.");
        return result;
    }

    private static void SendBlob(IShardGroup group, byte[] blob, int to)
    {
        var length = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(length, blob.LongLength);
        group.Send(length, to);
        group.Send(blob, to);
    }

    private static byte[] ReceiveBlob(IShardGroup group, int from)
    {
        var length = new byte[8];
        group.Receive(length, from);
        var blob = new byte[BinaryPrimitives.ReadInt64LittleEndian(length)];
        group.Receive(blob, from);
        return blob;
    }

    private static byte[] Pack(List<byte[]> blobs)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        w.Write(blobs.Count);
        foreach (var b in blobs)
        {
            w.Write(b.Length);
            w.Write(b);
        }
        w.Flush();
        return ms.ToArray();
    }

    private static byte[][] Unpack(byte[] packed)
    {
        using var r = new BinaryReader(new MemoryStream(packed));
        var blobs = new byte[r.ReadInt32()][];
        for (int i = 0; i < blobs.Length; i++)
            blobs[i] = r.ReadBytes(r.ReadInt32());
        return blobs;
    }
}
