using Backprop.Numerics;
using System.Numerics;
using System.Runtime.CompilerServices;
using Backprop.Nn;

namespace Backprop.Training;

/// <summary>
/// Trains a <see cref="Network{T}"/> on a <see cref="Dataset"/> in mini-batches. <see cref="Model{T}"/> wraps
/// these for the usual case; use them directly to train a network built by hand.
/// </summary>
/// <remarks>
/// Everything is sequential and seeded (<see cref="SplitMix64"/>), so the same network, data, options and seed
/// give bit-identical weights on every run. Cancellation is checked before every batch: a cancelled run stops
/// after at most the batch in progress, with the weights of the last completed batch, and throws
/// <see cref="OperationCanceledException"/>. A non-finite loss or weights stop the run with
/// <see cref="TrainingDivergedException"/>, leaving the last finite weights.
/// </remarks>
public static class Trainer
{
    /// <summary>Trains for <see cref="TrainingOptions.Epochs"/> epochs (or until early stopping) on the calling thread.</summary>
    public static TrainingReport Fit<T>(Network<T> network, Dataset data, TrainingOptions? options = null, long seed = 0,
        CancellationToken cancellationToken = default) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireNoCheckpoint(options);
        var session = new TrainingSession<T>(network, data, options ?? new TrainingOptions(), seed);
        while (!session.Finished)
            session.RunEpoch(cancellationToken);
        return session.Complete();
    }

    /// <summary>As <see cref="Fit{T}"/>, on a thread-pool thread so a UI stays responsive.</summary>
    public static Task<TrainingReport> FitAsync<T>(Network<T> network, Dataset data, TrainingOptions? options = null, long seed = 0,
        CancellationToken cancellationToken = default) where T : unmanaged, IFloatingPointIeee754<T> =>
        Task.Run(() => Fit(network, data, options, seed, cancellationToken), cancellationToken);

    /// <summary>
    /// Trains epoch by epoch, each on a thread-pool thread, yielding each epoch's result; the caller may stop
    /// at any epoch by leaving the loop. Best weights are restored (with early stopping) when the sequence ends.
    /// </summary>
    public static async IAsyncEnumerable<EpochResult> TrainAsync<T>(Network<T> network, Dataset data, TrainingOptions? options = null,
        long seed = 0, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireNoCheckpoint(options);
        var session = new TrainingSession<T>(network, data, options ?? new TrainingOptions(), seed);
        while (!session.Finished)
            yield return await Task.Run(() => session.RunEpoch(cancellationToken), cancellationToken).ConfigureAwait(false);
        session.Complete();
    }

    private static void RequireNoCheckpoint(TrainingOptions? options)
    {
        if (options is { Checkpoint: not null } or { ResumeFrom: not null })
            throw new BackpropException("Checkpoints hold a whole model; train a Model<T> (Model.Fit or Model.TrainAsync) to write or resume them.");
    }

    /// <summary>The class a network predicts for one output row: argmax, or output &gt;= 0.5 for a single output.</summary>
    public static int PredictedClass<T>(ReadOnlySpan<T> output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (output.Length == 1)
            return output[0] >= T.CreateChecked(0.5) ? 1 : 0;
        int best = 0;
        for (int j = 1; j < output.Length; j++)
            if (output[j] > output[best])
                best = j;
        return best;
    }

    /// <summary>
    /// The targets a network is trained against for <paramref name="data"/>: the one-hot rows, or for a
    /// single-output network on two classes the label itself (0 or 1). Throws when the shapes do not fit.
    /// </summary>
    internal static T[] EncodeTargets<T>(Network<T> network, Dataset data) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (data.Inputs != network.Inputs)
            throw new BackpropException($"{data.Name}: rows have {data.Inputs} input(s) but the model takes {network.Inputs}.");
        if (data.IsClassification && network.Outputs == 1 && data.Classes == 2)
        {
            var labels = data.Labels;
            var t = new T[data.Rows];
            for (int r = 0; r < t.Length; r++)
                t[r] = T.CreateChecked(labels[r]);
            return t;
        }
        if (data.Outputs != network.Outputs)
            throw new BackpropException(data.IsClassification
                ? $"{data.Name}: {data.Classes} classes but the model has {network.Outputs} output(s); give the last layer {data.Classes} units (or 1 sigmoid unit for 2 classes)."
                : $"{data.Name}: {data.Outputs} target(s) per row but the model has {network.Outputs} output(s).");
        return Convert<T>(data.Targets);
    }

    internal static T[] Convert<T>(ReadOnlySpan<double> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = new T[values.Length];
        for (int i = 0; i < t.Length; i++)
            t[i] = T.CreateChecked(values[i]);
        return t;
    }

    /// <summary>Mean loss (and accuracy for classification) of <paramref name="network"/> on prepared data, in chunks.</summary>
    internal static (double Loss, double? Accuracy) Measure<T>(Network<T> network, T[] x, T[] y, ReadOnlySpan<int> labels, int rows, int chunk)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double loss = 0;
        int correct = 0;
        int inputs = network.Inputs, outputs = network.Outputs;
        for (int start = 0; start < rows; start += chunk)
        {
            int n = Math.Min(chunk, rows - start);
            var o = network.Forward(x.AsSpan(start * inputs, n * inputs), n);
            loss += network.ComputeLoss(y.AsSpan(start * outputs, n * outputs)) * n;
            if (!labels.IsEmpty)
                for (int r = 0; r < n; r++)
                    if (PredictedClass(o.Slice(r * outputs, outputs)) == labels[start + r])
                        correct++;
        }
        return (loss / rows, labels.IsEmpty ? null : (double)correct / rows);
    }
}
