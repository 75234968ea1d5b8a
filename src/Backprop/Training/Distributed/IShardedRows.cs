using Backprop.Data;

namespace Backprop.Training.Distributed;

/// <summary>
/// Training rows that stay on disk, cut into shards and read a block at a time (a streaming Parquet or CSV table:
/// <c>Backprop.Distributed.StreamedTable</c>). A sharded run keeps one block per shard of its own in memory, so
/// its memory does not grow with the row count (docs/distributed.md, "Streaming").
/// </summary>
public interface IShardedRows
{
    /// <summary>The data's name for messages (its file).</summary>
    string Name { get; }

    /// <summary>Input columns.</summary>
    int Inputs { get; }

    /// <summary>Classification or regression.</summary>
    TaskKind Task { get; }

    /// <summary>The class names, in label order (classification).</summary>
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>Target columns (1 for classification: the label).</summary>
    int Targets { get; }

    /// <summary>The shards the rows are cut into (S), and so the run's <see cref="TrainingOptions.Shards"/>.</summary>
    int Shards { get; }

    /// <summary>The rows of shard <paramref name="shard"/>.</summary>
    long ShardRows(int shard);

    /// <summary>Rows per block: the unit the run reads and shuffles within (<see cref="Read"/> is asked for one block at a time).</summary>
    int BlockRows { get; }

    /// <summary>A digest of the rows (a checkpoint of other data is refused on resume).</summary>
    string Fingerprint { get; }

    /// <summary>
    /// Reads the rows <c>[first, first + count)</c> of shard <paramref name="shard"/> (numbered from the shard's
    /// first row), raw: features (count x <see cref="Inputs"/>), and labels (classification) or targets (count x
    /// <see cref="Targets"/>). Throws <see cref="BackpropException"/> naming the file and where it failed.
    /// </summary>
    void Read(int shard, long first, int count, Span<double> features, Span<int> labels, Span<double> targets);
}
