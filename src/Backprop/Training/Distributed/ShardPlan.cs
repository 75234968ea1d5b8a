using Backprop.Numerics;

namespace Backprop.Training.Distributed;

/// <summary>
/// The sharded definition of a mini-batch (docs/distributed.md). The N training rows are cut into S shards of
/// consecutive rows, shard s holding rows <c>[s*N/S, (s+1)*N/S)</c>. Every epoch, each shard is put in a seeded order
/// of its own: a permutation of its blocks of <see cref="BlockRows"/> rows, and within each block a permutation of
/// its rows, drawn from streams derived from (seed, epoch, shard[, block]) only. Batch b takes from every shard its
/// rows <c>[b*m, (b+1)*m)</c> of that order, with m = ceil(B / S) for the batch size B. The batch's gradient is the
/// sum over the shards, in shard order, of (rows of the shard in the batch / rows in the batch) times the shard's mean
/// gradient. Nothing here depends on how many processes compute the shards, so neither does the result.
/// </summary>
internal sealed class ShardPlan
{
    /// <summary>Rows per block of the in-shard shuffle (the unit a streaming reader reads from disk).</summary>
    public const int DefaultBlockRows = 1024;

    private readonly long[] _starts;
    private readonly long _seed;

    /// <summary>N rows cut evenly: shard s holds rows <c>[s*N/S, (s+1)*N/S)</c>.</summary>
    public ShardPlan(long rows, int shards, int batchSize, long seed, bool shuffle, int blockRows = DefaultBlockRows)
        : this(Even(rows, shards), batchSize, seed, shuffle, blockRows)
    {
    }

    /// <summary>Shards of the given sizes, in order (a CSV file cut by byte ranges has shards of its own sizes).</summary>
    public ShardPlan(IReadOnlyList<long> shardRows, int batchSize, long seed, bool shuffle, int blockRows = DefaultBlockRows)
    {
        int shards = shardRows.Count;
        if (shards < 1)
            throw new BackpropException($"The number of shards must be at least 1, got {shards}.");
        if (blockRows < 1)
            throw new BackpropException($"The rows per block must be at least 1, got {blockRows}.");
        _starts = new long[shards + 1];
        for (int i = 0; i < shards; i++)
            _starts[i + 1] = _starts[i] + shardRows[i];
        long rows = _starts[shards];
        Shards = shards;
        _seed = seed;
        Shuffle = shuffle;
        BlockRows = blockRows;
        PerShard = (int)Math.Max(1, (Math.Min(batchSize, Math.Max(rows, 1)) + shards - 1) / shards);
        long largest = 0;
        for (int s = 0; s < shards; s++)
            largest = Math.Max(largest, ShardRows(s));
        BatchesPerEpoch = (int)Math.Max(1, (largest + PerShard - 1) / PerShard);
    }

    /// <summary>S.</summary>
    public int Shards { get; }

    /// <summary>Rows each shard gives to a batch (m = ceil(B / S); the last batch of an epoch may get fewer).</summary>
    public int PerShard { get; }

    /// <summary>Rows per block of the in-shard shuffle.</summary>
    public int BlockRows { get; }

    /// <summary>Whether the orders are shuffled (else every shard is read in file order).</summary>
    public bool Shuffle { get; }

    /// <summary>Batches per epoch: enough for the largest shard.</summary>
    public int BatchesPerEpoch { get; }

    /// <summary>The first training row of shard <paramref name="shard"/>.</summary>
    public long ShardStart(int shard) => _starts[shard];

    /// <summary>The rows of shard <paramref name="shard"/>.</summary>
    public long ShardRows(int shard) => _starts[shard + 1] - _starts[shard];

    /// <summary>All rows.</summary>
    public long Rows => _starts[^1];

    /// <summary>The sizes of N rows cut evenly into S shards.</summary>
    public static long[] Even(long rows, int shards)
    {
        var sizes = new long[Math.Max(shards, 0)];
        for (int s = 0; s < sizes.Length; s++)
            sizes[s] = (s + 1) * rows / shards - s * rows / shards;
        return sizes;
    }

    /// <summary>
    /// Where position <paramref name="position"/> of shard <paramref name="shard"/>'s order lies: the block and the
    /// position in the block order at which that block starts (every block is full but the shard's last).
    /// </summary>
    public (int Block, long BlockStart) Locate(int[] blockOrder, int shard, long position)
    {
        long at = 0;
        foreach (int block in blockOrder)
        {
            int size = BlockSize(shard, block);
            if (position < at + size)
                return (block, at);
            at += size;
        }
        throw new ArgumentOutOfRangeException(nameof(position), position, "past the shard's rows");
    }

    /// <summary>The positions <c>[Start, Start + Count)</c> in shard <paramref name="shard"/>'s order that batch <paramref name="batch"/> (from 0) takes.</summary>
    public (long Start, int Count) Part(int shard, int batch)
    {
        long start = (long)batch * PerShard, rows = ShardRows(shard);
        return start >= rows ? (rows, 0) : (start, (int)Math.Min(PerShard, rows - start));
    }

    /// <summary>Rows in batch <paramref name="batch"/> over all shards.</summary>
    public int BatchRows(int batch)
    {
        int n = 0;
        for (int s = 0; s < Shards; s++)
            n += Part(s, batch).Count;
        return n;
    }

    /// <summary>The blocks of a shard.</summary>
    public int Blocks(int shard) => (int)((ShardRows(shard) + BlockRows - 1) / BlockRows);

    /// <summary>The order in which shard <paramref name="shard"/> visits its blocks in <paramref name="epoch"/> (from 1).</summary>
    public int[] BlockOrder(int epoch, int shard)
    {
        var order = new int[Blocks(shard)];
        for (int i = 0; i < order.Length; i++)
            order[i] = i;
        if (Shuffle)
            new SplitMix64(Stream(epoch, shard, -1)).Shuffle(order.AsSpan());
        return order;
    }

    /// <summary>
    /// Writes into <paramref name="rows"/> (the block's row count) the order of the rows of block <paramref name="block"/>
    /// of shard <paramref name="shard"/> in <paramref name="epoch"/>, as offsets from the block's first row.
    /// </summary>
    public void RowOrder(int epoch, int shard, int block, Span<int> rows)
    {
        for (int i = 0; i < rows.Length; i++)
            rows[i] = i;
        if (Shuffle)
            new SplitMix64(Stream(epoch, shard, block)).Shuffle(rows);
    }

    /// <summary>The rows in block <paramref name="block"/> of shard <paramref name="shard"/>.</summary>
    public int BlockSize(int shard, int block) => (int)Math.Min(BlockRows, ShardRows(shard) - (long)block * BlockRows);

    /// <summary>
    /// Shard <paramref name="shard"/>'s whole order in <paramref name="epoch"/>, as training-row numbers: its blocks
    /// in their order, each block's rows in theirs.
    /// </summary>
    public void ShardOrder(int epoch, int shard, Span<int> destination)
    {
        long first = ShardStart(shard);
        int at = 0;
        foreach (int block in BlockOrder(epoch, shard))
        {
            int size = BlockSize(shard, block);
            var part = destination.Slice(at, size);
            RowOrder(epoch, shard, block, part);
            for (int i = 0; i < size; i++)
                part[i] = (int)(first + (long)block * BlockRows + part[i]);
            at += size;
        }
    }

    /// <summary>The stream of (epoch, shard, block): derived step by step from the run's seed (stream 3 of it).</summary>
    private ulong Stream(int epoch, int shard, int block)
    {
        ulong s = SplitMix64.Derive(_seed, 3);
        s = SplitMix64.Derive(unchecked((long)s), (ulong)(uint)epoch);
        s = SplitMix64.Derive(unchecked((long)s), (ulong)(uint)shard);
        return SplitMix64.Derive(unchecked((long)s), (ulong)(uint)(block + 1));
    }
}
