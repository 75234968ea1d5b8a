using System.Numerics;
using Backprop.Data;
using Backprop.Training;

namespace Backprop.IO;

/// <summary>
/// How large a model or checkpoint file will be, at most, and whether it can be written: no more than
/// <see cref="ModelFile.MaxFileBytes"/> (what can be read back), and no more than the target's file system has free.
/// Checked before a save and, for checkpoints, before a run trains (docs/reliability.md).
/// </summary>
public static class FileRoom
{
    /// <summary>The longest a float32 number is written, with its separator: "-1.17549435E-38, ".</summary>
    internal const int Float32Bytes = 17;

    /// <summary>The longest a float64 number is written, with its separator: "-2.2250738585072014E-308,".</summary>
    internal const int Float64Bytes = 25;

    /// <summary>An upper bound of the bytes the model file of <paramref name="model"/> takes.</summary>
    public static long ModelBytes<T>(Model<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        long number = System.Runtime.CompilerServices.Unsafe.SizeOf<T>() <= 4 ? Float32Bytes : Float64Bytes;
        long bytes = 4096 + 256L * model.Network.Layers.Count;
        foreach (var layer in model.Network.Layers)
            bytes += layer.ParameterCount * number + 16L * layer.Units;
        var s = model.Schema;
        // Names may be escaped (\uXXXX: 6 bytes a character); positions and the preprocessing's two numbers a feature.
        bytes += 6L * ((s.FeatureNames?.Sum(n => n.Length + 4L) ?? 0) + s.ClassNames.Sum(n => n.Length + 4L)
            + s.DroppedColumns.Sum(n => n.Length + 4L) + (s.Target?.Length ?? 0));
        bytes += s.Features * (12L + 2 * Float64Bytes);
        foreach (var raw in model.ExtraSections.Values)
            bytes += 2L * raw.Length + 16;
        return bytes;
    }

    /// <summary>
    /// An upper bound of the bytes a checkpoint of <paramref name="model"/> in the run <paramref name="footprint"/>
    /// describes takes: the model file, the optimizer's state and the best weights in float64, the rows' order and one
    /// history entry per epoch.
    /// </summary>
    public static long CheckpointBytes<T>(Model<T> model, TrainingFootprint footprint) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(footprint);
        return ModelBytes(model)
            + footprint.Parameters * Float64Bytes * (footprint.OptimizerSlots + (footprint.KeepsBestWeights ? 1 : 0))
            + 11L * footprint.TrainingRows
            + 400L * ((long)footprint.Epochs + model.EpochsTrained)
            + 4096;
    }

    /// <summary>
    /// Throws <see cref="BackpropException"/> unless a file of at most <paramref name="bytes"/> can be written to
    /// <paramref name="path"/>: no more than <see cref="ModelFile.MaxFileBytes"/>, and the file system holding the
    /// path's folder has that much free (when it says; a missing folder is left to the write to report).
    /// </summary>
    public static void Require(string path, long bytes, string what)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (bytes > ModelFile.MaxFileBytes)
            throw new BackpropException(
                $"{path}: the {what} may take up to {DataLimits.Bytes(bytes)} ({bytes:N0} bytes), more than the {DataLimits.Bytes(ModelFile.MaxFileBytes)} "
                + $"a model or checkpoint file may be (larger ones could not be read back); use a smaller model"
                + (what == "checkpoint" ? ", or an optimizer with less state (adam keeps 2 numbers a parameter, sgd none)." : "."));
        long free = FreeSpaceForTests.Value?.Invoke(path) ?? FreeSpace(path);
        if (free >= 0 && bytes > free)
            throw new BackpropException(
                $"{path}: the {what} may take up to {DataLimits.Bytes(bytes)} ({bytes:N0} bytes), and its file system has {DataLimits.Bytes(free)} free; free some space or write it elsewhere.");
    }

    /// <summary>Throws unless the model file of <paramref name="model"/> can be written to <paramref name="path"/> (see <see cref="Require"/>).</summary>
    public static void RequireForModel<T>(Model<T> model, string path) where T : unmanaged, IFloatingPointIeee754<T> =>
        Require(path, ModelBytes(model), "model file");

    /// <summary>Free bytes of the file system that holds <paramref name="path"/>'s folder, or -1 when unknown.</summary>
    private static long FreeSpace(string path)
    {
        try
        {
            string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (dir is null || !Directory.Exists(dir))
                return -1;
            var drive = new DriveInfo(dir);
            // Pseudo file systems (/proc, /sys) report 0 of 0: unknown, not full.
            return drive.TotalSize == 0 ? -1 : drive.AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return -1;
        }
    }

    /// <summary>Tests only: the free space a path's file system reports. Per async flow.</summary>
    internal static readonly AsyncLocal<Func<string, long>?> FreeSpaceForTests = new();
}
