using System.Diagnostics;
using System.Globalization;
using Backprop.IO.Json;
using Backprop.Training;

namespace Backprop.Cli.Reporting;

/// <summary>
/// Training progress: one line (or one JSON object, <see cref="EpochLine"/>) per epoch, and on a terminal a live line
/// redrawn per batch (at most ten times a second) with the epoch, batch, loss, speed and time left.
/// </summary>
public sealed class TrainingProgress(Reporter reporter, bool quiet, bool live, int rows, int epochs) : IProgress<EpochResult>
{
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private long _lastDraw;
    private long _samples;
    private bool _lineOpen;

    private TextWriter Out => reporter.Streams.Out;

    /// <summary>The per-batch sink (feeds the live line).</summary>
    public IProgress<BatchResult> Batches => new BatchSink(this);

    /// <inheritdoc/>
    public void Report(EpochResult e)
    {
        if (quiet)
            return;
        EndLine();
        var line = new EpochLine(e.Epoch, e.TrainingLoss, e.TrainingAccuracy, e.ValidationLoss, e.ValidationAccuracy, e.LearningRate,
            Math.Round(_watch.Elapsed.TotalSeconds, 3));
        reporter.Report(line, BackpropJson.Compact.EpochLine, _ => e.ToString());
    }

    private void Batch(BatchResult b)
    {
        _samples += b.Rows;
        if (!live)
            return;
        long now = _watch.ElapsedMilliseconds;
        if (now - _lastDraw < 100 && b.Batch < b.Batches)
            return;
        _lastDraw = now;
        double seconds = Math.Max(_watch.Elapsed.TotalSeconds, 1e-9);
        double rate = _samples / seconds;
        double remaining = ((double)rows * epochs - _samples) / Math.Max(rate, 1e-9);
        Out.Write(string.Create(CultureInfo.InvariantCulture,
            $"\r  epoch {b.Epoch}/{epochs}  batch {b.Batch}/{b.Batches}  loss {b.Loss:F5}  {rate:N0} samples/s  ETA {TimeSpan.FromSeconds(Math.Max(remaining, 0)):mm\\:ss}   "));
        _lineOpen = true;
    }

    /// <summary>Clears the live line, if one is drawn.</summary>
    public void EndLine()
    {
        if (_lineOpen)
        {
            Out.Write("\r" + new string(' ', 100) + "\r");
            _lineOpen = false;
        }
    }

    private sealed class BatchSink(TrainingProgress owner) : IProgress<BatchResult>
    {
        public void Report(BatchResult value) => owner.Batch(value);
    }
}
