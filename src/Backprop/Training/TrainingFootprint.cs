using System.Numerics;
using Backprop.Data;
using Backprop.Nn;

namespace Backprop.Training;

/// <summary>
/// What a training run will take, worked out from the model's shape, the data and the options before anything is
/// allocated (docs/reliability.md, "Memory"): a run refuses to start when <see cref="RunBytes"/> is more than the
/// process may still take, and a checkpoint writer (<see cref="ICheckpointWriter.Check"/>) when it could not write
/// the checkpoints.
/// </summary>
public sealed record TrainingFootprint
{
    /// <summary>The model's parameters (weights and biases).</summary>
    public required long Parameters { get; init; }

    /// <summary>Bytes of one parameter in the network's element type (4 for float32, 8 for float64).</summary>
    public required int ElementBytes { get; init; }

    /// <summary>Optimizer state arrays per parameter (Adam 2, RMSprop 3, SGD with momentum 1, plain SGD 0), 8 bytes each.</summary>
    public required int OptimizerSlots { get; init; }

    /// <summary>True when the run keeps the best weights (early stopping): one more copy of the parameters.</summary>
    public required bool KeepsBestWeights { get; init; }

    /// <summary>Rows trained on (a checkpoint holds their shuffled order).</summary>
    public required int TrainingRows { get; init; }

    /// <summary>Epochs the run asks for (a checkpoint holds one history entry per epoch trained).</summary>
    public required int Epochs { get; init; }

    /// <summary>Epochs between the run's checkpoints (0: a checkpoint only when it is cancelled, or none).</summary>
    public int CheckpointEveryEpochs { get; init; }

    /// <summary>
    /// Bytes the run allocates besides the model (its weights and gradients exist already) and the raw data: the inputs in the
    /// network's type, regression targets, labels and order, a backup of the parameters, the best weights, the
    /// optimizer's state, the network's buffers for one batch, and the copies a checkpoint takes.
    /// </summary>
    public required long RunBytes { get; init; }

    /// <summary>Bytes of the model itself: weights and gradients in the network's type.</summary>
    public long ModelBytes => 2 * Parameters * ElementBytes;

    /// <summary>The footprint of training <paramref name="network"/> on rows of its width with these options.</summary>
    internal static TrainingFootprint Of<T>(Network<T> network, Optimizer optimizer, TrainingOptions options, int trainingRows, int validationRows)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long p = 0;
        long units = 0, widest = network.Inputs;
        foreach (var layer in network.Layers)
        {
            p += layer.ParameterCount;
            units += layer.Units;
            widest = Math.Max(widest, layer.Units);
        }
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        long rows = (long)trainingRows + validationRows;
        long batch = Math.Min(options.BatchSize, Math.Max(trainingRows, 1));
        bool best = options.EarlyStopping is not null;
        long run =
            rows * network.Inputs * size                         // the rows in the network's type
            + (network.Layers[^1].Activation == Activation.Softmax ? 0 : rows * network.Outputs * size) // regression (or label) targets
            + rows * 8                                          // labels, shuffle order
            + p * size                                          // backup of the parameters (a failed step is undone)
            + (best ? p * size + p * 8 : 0)                     // best weights, and their copy in a checkpoint
            + p * 8L * optimizer.SlotCount                      // optimizer state (double)
            + batch * (network.Inputs + network.Outputs) * size * 2 // batch inputs and targets, the network's copy
            + batch * (3 * units + widest) * size;               // z, a, delta per layer and the scratch row
        return new TrainingFootprint
        {
            Parameters = p,
            ElementBytes = size,
            OptimizerSlots = optimizer.SlotCount,
            KeepsBestWeights = best,
            TrainingRows = trainingRows,
            Epochs = options.Epochs,
            CheckpointEveryEpochs = options.Checkpoint?.EveryEpochs ?? 0,
            RunBytes = run,
        };
    }

    /// <summary>Throws unless the run fits in what this process may still take (the GC's limit: memory, a container's, DOTNET_GCHeapHardLimit).</summary>
    internal void RequireMemory()
    {
        long limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (limit <= 0)
            return;
        long free = limit - GC.GetTotalMemory(false);
        // What is allocated includes garbage (a reader's buffers): collect before refusing.
        if (RunBytes > free)
            free = limit - GC.GetTotalMemory(true);
        if (RunBytes > free)
            throw new BackpropException(
                $"Training this model needs about {DataLimits.Bytes(RunBytes)} besides the model and the data ({Parameters:N0} parameters: "
                + $"{ElementBytes * (KeepsBestWeights ? 2 : 1) + 8 * (OptimizerSlots + (KeepsBestWeights ? 1 : 0))} bytes each for the backup"
                + (KeepsBestWeights ? ", the best weights" : "") + (OptimizerSlots > 0 ? " and the optimizer's state" : "")
                + $", plus the rows and one batch), more than the {DataLimits.Bytes(Math.Max(free, 0))} this process may still take "
                + $"(of {DataLimits.Bytes(limit)}); use smaller layers, fewer rows, or an optimizer with less state (sgd keeps none).");
    }
}
