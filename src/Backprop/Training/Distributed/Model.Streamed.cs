using Backprop.Data;
using Backprop.Training.Distributed;

namespace Backprop.Training;

public sealed partial class Model<T>
{
    /// <summary>
    /// Trains on rows that stay on disk (<see cref="IShardedRows"/>, e.g. <c>Backprop.Distributed.StreamedTable</c>):
    /// a sharded run (<see cref="TrainingOptions.Shards"/> must be the rows' shards) that holds one block per shard in
    /// memory, alone or in a <see cref="TrainingOptions.Group"/>. <paramref name="preprocessing"/> is used when the
    /// model has none yet (fit it in a first pass over the rows: <c>StreamedTable.FitPreprocessing</c>). Validation
    /// data and early stopping are not available for streamed rows.
    /// </summary>
    public TrainingReport FitStreamed(IShardedRows rows, Preprocessing? preprocessing, TrainingOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.ValidationData is not null || options.ValidationFraction > 0)
            throw new BackpropException($"{rows.Name}: streamed rows have no validation split; train without validation (or on a table in memory).");
        if (options.Optimizer is null)
            options = options with { Optimizer = TrainingDefaults.CreateOptimizer() };
        if (rows.Inputs != Network.Inputs)
            throw new BackpropException($"{rows.Name}: rows have {rows.Inputs} input(s) but the model takes {Network.Inputs}.");
        if ((rows.Task == TaskKind.Classification) != (Task == TaskKind.Classification))
            throw new BackpropException($"{rows.Name}: the rows are a {rows.Task.ToString().ToLowerInvariant()} task but the model is a {Task.ToString().ToLowerInvariant()} model.");
        if (rows.Task == TaskKind.Classification && rows.ClassNames.Count != ClassNames.Count)
            throw new BackpropException($"{rows.Name}: {rows.ClassNames.Count} classes but the model has {ClassNames.Count}.");
        if (Interlocked.Exchange(ref _training, 1) != 0)
            throw new InvalidOperationException("This model is already training; one training run at a time.");
        try
        {
            _preprocessing ??= preprocessing ?? Preprocessing.Identity(rows.Inputs);
            if (_preprocessing.Features != rows.Inputs)
                throw new BackpropException($"{rows.Name}: {rows.Inputs} feature column(s), but the preprocessing has {_preprocessing.Features}.");
            // The run takes its shape from a table of one row of zeros; the rows come from the stream, a block at a time.
            var shape = ShapeOf(rows);
            var run = new TrainingRun<T>(this, shape, null, _preprocessing, options, options.Seed ?? Seed, rows);
            Training = Training with
            {
                Optimizer = options.Optimizer!.ToString(),
                LearningRate = options.Optimizer.LearningRate,
                BatchSize = options.BatchSize,
            };
            while (!run.Finished)
                run.RunEpoch(cancellationToken);
            return run.Complete();
        }
        finally
        {
            Volatile.Write(ref _training, 0);
        }
    }

    /// <summary>A table of one row of zeros with the rows' shape (inputs, classes or targets): what the run is built from.</summary>
    private static Dataset ShapeOf(IShardedRows rows) => rows.Task == TaskKind.Classification
        ? Dataset.Classification(new double[rows.Inputs], rows.Inputs, [0], rows.ClassNames.Count, rows.ClassNames, rows.Name)
        : Dataset.Regression(new double[rows.Inputs], rows.Inputs, new double[rows.Targets], rows.Targets, rows.Name);
}
