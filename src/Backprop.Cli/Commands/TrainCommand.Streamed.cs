using System.Globalization;
using Backprop.Cli.Reporting;
using Backprop.Data;
using Backprop.Distributed;
using Backprop.IO;
using Backprop.IO.Json;
using Backprop.Training;
using Backprop.Training.Distributed;

namespace Backprop.Cli.Commands;

/// <summary>`train --stream`: the training rows stay on disk (docs/distributed.md, "Streaming").</summary>
public static partial class TrainCommand
{
    private static void ValidateStream(this Settings s)
    {
        if (s.Data.Data is null)
            throw new BackpropException("--stream needs --data FILE (a Parquet file, or a CSV file with a header).");
        if (s.Data.Labels is not null)
            throw new BackpropException("--stream reads Parquet or CSV; --labels (IDX) is not streamed.");
        if (FileIdentity.Of(s.Data.Data) is { Exists: true, IsRegularFile: false } id && id.Kind != FileKind.Directory)
            throw new BackpropException($"--stream --data {s.Data.Data}: is not a regular file (a pipe, standard input or a device); a streamed run reads its file again every epoch. Drop --stream to read it into memory once, or save it to a file.");
        if (s.Test is not null || s.TestFraction is > 0)
            throw new BackpropException("--stream trains on every row of --data: no --test or --test-fraction (evaluate a test file afterwards with `backprop evaluate`).");
        if (s.Validation > 0 || s.Patience is not null)
            throw new BackpropException("--stream has no validation split: no --validation-fraction or --patience.");
        if (s.Data.Csv.DropColumns.Count > 0 || s.Data.Csv.Header == HeaderMode.No)
            throw new BackpropException("--stream reads every column of a file with a header: no --drop-columns or --header none.");
    }

    /// <summary>Step 1 with --stream: opens the file, makes the first passes (this process's shards only), fits the preprocessing.</summary>
    private static TrainingData OpenStream(Settings s)
    {
        string path = s.Data.Data!;
        int shards = s.Shards ?? TrainingDefaults.Shards;
        var table = StreamedTable.Open(path, new StreamedTableOptions
        {
            LabelColumn = s.Data.Csv.LabelColumn.Equals("last", StringComparison.OrdinalIgnoreCase) ? null : s.Data.Csv.LabelColumn,
            Delimiter = s.Data.Csv.Delimiter ?? ',',
            Task = s.Data.Csv.Task,
        }, shards, s.Group);
        try
        {
            var kind = s.PreprocessingKind ?? PreprocessingKind.Standardize;
            var preprocessing = table.FitPreprocessing(kind);
            var shape = table.Task == TaskKind.Classification
                ? Dataset.Classification(new double[table.Inputs], table.Inputs, [0], table.ClassNames.Count, table.ClassNames, path, table.FeatureNames, table.TargetName)
                : Dataset.Regression(new double[table.Inputs], table.Inputs, [0.0], 1, path, table.FeatureNames, table.TargetName);
            return new TrainingData(shape, shape.Subset([]), null, kind, path, [])
            {
                Streamed = table,
                StreamedPreprocessing = preprocessing,
            };
        }
        catch
        {
            table.Dispose();
            throw;
        }
    }

    private static long StreamedRows(IShardedRows rows)
    {
        long n = 0;
        for (int i = 0; i < rows.Shards; i++)
            n += rows.ShardRows(i);
        return n;
    }

    /// <summary>Step 4 with --stream: the training figures are the last epoch's (measured on each batch before its update).</summary>
    private static int FinishStreamed(Settings s, TrainingData data, Model<float> model, TrainingOutcome outcome, Reporter reporter)
    {
        var last = model.History.Count > 0 ? model.History[^1] : null;
        long rows = data.TrainingRows;
        model.Metrics = last is not null && double.IsFinite(last.TrainingLoss)
            ? new ModelMetrics { TrainingRows = (int)rows, TrainingLoss = last.TrainingLoss, TrainingAccuracy = JsonNumbers.Finite(last.TrainingAccuracy), TestRows = 0 }
            : null;
        if (s.Save is not null)
            model.Save(s.Save);
        var summary = new TrainingSummary
        {
            Epochs = outcome.Epochs,
            TrainingRows = (int)rows,
            TrainingLoss = last?.TrainingLoss,
            TrainingAccuracy = last?.TrainingAccuracy,
            TestRows = 0,
            Seconds = Math.Round(outcome.Seconds, 3),
            SamplesPerS = Math.Round(rows * (double)outcome.Epochs / Math.Max(outcome.Seconds, 1e-9)),
            L2 = outcome.Plan.L2,
            StoppedEarly = false,
            Interrupted = outcome.Interrupted,
            Signal = outcome.Signal?.ToString(),
            Checkpoint = outcome.Interrupted || s.Checkpoint is not null ? s.CheckpointPath : null,
            Diverged = outcome.Diverged?.Message,
            Saved = s.Save,
        };
        if (outcome.Diverged is not null)
            reporter.Note(outcome.Diverged.Message);
        reporter.Report(summary, BackpropJson.Compact.TrainingSummary, _ => string.Join('\n', new[]
        {
            string.Create(CultureInfo.InvariantCulture, $"Done in {outcome.Seconds:F1} s. Training (last epoch, streamed, {rows} rows): loss {last?.TrainingLoss:G5}")
                + (last?.TrainingAccuracy is { } acc ? string.Create(CultureInfo.InvariantCulture, $", accuracy {acc * 100:F2}%") : "") + ".",
            s.Save is not null ? $"Saved the model to {s.Save}." : null,
        }.Where(l => l is not null)));
        return outcome.Diverged is not null ? ExitCodes.Failed : ExitCodes.Success;
    }
}
