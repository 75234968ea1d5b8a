using System.Numerics;
using Backprop.Training;

namespace Backprop.IO;

/// <summary>
/// A checkpoint file (docs/checkpoint-format.md): a model file of the model as it is at that point (weights, pipeline,
/// training record) plus a <c>checkpoint</c> section with the run's <see cref="TrainingState"/>, replaced atomically on
/// every write. Give one to <see cref="CheckpointOptions"/> to write, read one with <see cref="Read"/> to resume.
/// </summary>
public sealed class CheckpointFile : ICheckpointWriter
{
    /// <param name="path">The checkpoint file.</param>
    public CheckpointFile(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new BackpropException("A checkpoint needs a file path.");
        Location = path;
    }

    /// <inheritdoc/>
    public string Location { get; }

    /// <inheritdoc/>
    public void Write<T>(Model<T> model, TrainingState state) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(state);
        ModelFile.WriteFile(Location, "checkpoint", stream => ModelFile.Write(model, stream, state));
    }

    /// <summary>
    /// Before a run that writes checkpoints every few epochs trains: refuses it when its checkpoint may pass
    /// <see cref="ModelFile.MaxFileBytes"/> or the free space of the checkpoint's file system (estimated by
    /// <see cref="FileRoom.CheckpointBytes"/>). A run that checkpoints only when cancelled is not refused; such a
    /// checkpoint that would pass the size limit is refused when written, and nothing is written.
    /// </summary>
    public void Check<T>(Model<T> model, TrainingFootprint footprint) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(footprint);
        if (footprint.CheckpointEveryEpochs > 0)
            FileRoom.Require(Location, FileRoom.CheckpointBytes(model, footprint), "checkpoint");
    }

    /// <summary>Checkpoints every <paramref name="everyEpochs"/> epochs (0: only when cancelled) to <paramref name="path"/>.</summary>
    public static CheckpointOptions Every(string path, int everyEpochs = 1) => new(new CheckpointFile(path), everyEpochs);

    /// <summary>Reads a checkpoint file to resume from; a plain model file is refused with a clear message.</summary>
    public static TrainingCheckpoint Read(string path) =>
        From(ModelFile.Read<double>(path, "checkpoint"), path);

    /// <summary>Parses a checkpoint file's text; <paramref name="source"/> names it in error messages.</summary>
    public static TrainingCheckpoint Parse(string text, string source = "checkpoint") =>
        From(ModelFile.Parse<double>(System.Text.Encoding.UTF8.GetBytes(text), source), source);

    private static TrainingCheckpoint From((Model<double> Model, TrainingState? State) read, string source) =>
        read.State is { } state
            ? new TrainingCheckpoint(read.Model.Network, state, source)
            : throw new ModelFormatException(
                $"{source}: not a checkpoint (no '{ModelFile.CheckpointSection}' section); a model file alone cannot resume a run exactly.");
}
