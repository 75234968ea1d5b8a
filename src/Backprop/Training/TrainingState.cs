using System.Numerics;
using Backprop.Nn;

namespace Backprop.Training;

/// <summary>
/// Everything a training run needs to continue bit for bit, besides the weights (docs/checkpoint-format.md): the
/// settings that must match, the position (epoch, batch, shuffled order, generator state), the partial sums of the
/// epoch in progress, early stopping's state, the optimizer's state, and the model's history. A plain record: the IO
/// layer writes and reads it (one JSON context), the training run validates it against itself before using it.
/// </summary>
public sealed record TrainingState
{
    /// <summary>The version of this record's layout that this build writes and reads.</summary>
    public const int CurrentVersion = 1;

    /// <summary>The layout version.</summary>
    public int Version { get; init; } = CurrentVersion;

    /// <summary>The settings a resumed run must share with this one, as text (compared key by key, in this order).</summary>
    public required IReadOnlyDictionary<string, string> Run { get; init; }

    /// <summary>The epochs the run was asked for.</summary>
    public int Epochs { get; init; }

    /// <summary>Epochs started so far (the one in progress included).</summary>
    public int Epoch { get; init; }

    /// <summary>True when the run stopped between two batches of an epoch.</summary>
    public bool InEpoch { get; init; }

    /// <summary>The next batch of the epoch in progress (0-based).</summary>
    public int Batch { get; init; }

    /// <summary>The epoch in progress: sum over its batches of loss x rows.</summary>
    public double EpochLossSum { get; init; }

    /// <summary>The epoch in progress: correctly classified rows so far.</summary>
    public int EpochCorrect { get; init; }

    /// <summary>The shuffling generator's state, as a decimal string (a 64-bit unsigned value).</summary>
    public required string ShuffleState { get; init; }

    /// <summary>The current permutation of the training rows.</summary>
    public required int[] Order { get; init; }

    /// <summary>The first batch's loss (null before any batch).</summary>
    public double? FirstBatchLoss { get; init; }

    /// <summary>The last batch's loss (null before any batch).</summary>
    public double? LastBatchLoss { get; init; }

    /// <summary>The best validation loss so far (null before any).</summary>
    public double? BestLoss { get; init; }

    /// <summary>The epoch of the best validation loss (0: none yet).</summary>
    public int BestEpoch { get; init; }

    /// <summary>Epochs in a row without improvement (early stopping).</summary>
    public int Wait { get; init; }

    /// <summary>True when early stopping ended the run.</summary>
    public bool StoppedEarly { get; init; }

    /// <summary>The optimizer's name, step count and state arrays.</summary>
    public required OptimizerSnapshot Optimizer { get; init; }

    /// <summary>The best epoch's parameters (weights then biases, layer by layer), kept for early stopping.</summary>
    public double[]? BestWeights { get; init; }

    /// <summary>Epochs the model had trained in total when this was written.</summary>
    public int EpochsTrained { get; init; }

    /// <summary>The model's history up to this point.</summary>
    public IReadOnlyList<EpochResult> History { get; init; } = [];
}

/// <summary>An optimizer's state: its name, steps taken, and per tensor (weights, biases, layer by layer) its state arrays.</summary>
/// <param name="Name">The optimizer's short name (sgd, adam, ...).</param>
/// <param name="Steps">Steps taken.</param>
/// <param name="State">[tensor][slot][element]; empty before the first step.</param>
public sealed record OptimizerSnapshot(string Name, int Steps, double[][][] State);

/// <summary>Writes a checkpoint: the model as it is now (weights, pipeline) with the run's state.</summary>
public interface ICheckpointWriter
{
    /// <summary>Where checkpoints go, for messages (a file path).</summary>
    string Location { get; }

    /// <summary>Writes one checkpoint; completely or not at all.</summary>
    void Write<T>(Model<T> model, TrainingState state) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// Called once before a run trains, with the model and what the run will hold: throw a <see cref="BackpropException"/>
    /// when its checkpoints could not be written (too large to read back, no room), so the run is refused before
    /// any training is done. The default checks nothing.
    /// </summary>
    void Check<T>(Model<T> model, TrainingFootprint footprint) where T : unmanaged, IFloatingPointIeee754<T>
    {
    }
}

/// <summary>A checkpoint read back: the weights it holds and the run's state. Resume with <see cref="TrainingOptions.ResumeFrom"/>.</summary>
/// <param name="Network">The network as checkpointed (in double: a float32 network widens exactly).</param>
/// <param name="State">The run's state.</param>
/// <param name="Source">Where it was read from, for messages.</param>
public sealed record TrainingCheckpoint(Network<double> Network, TrainingState State, string Source);
