using Backprop.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Backprop.AspNetCore;

/// <summary>
/// One served model: answers from the current <see cref="ModelVersion"/> and, when watching, swaps in a new one
/// when the model file changes. Safe to call from any number of threads.
/// </summary>
/// <remarks>
/// <para>A swap is one reference assignment: every call takes the current version once and computes with it alone,
/// so it sees the old model or the new one, never a mix. A new file that cannot be read or is not a valid model is
/// refused and logged, and the old model keeps serving.</para>
/// <para>The file is read only when it is complete. Writers that replace it with a rename (as Backprop's own
/// <c>AtomicFile</c> does) are complete at once; a file copied over in several writes is read once it has been
/// quiet for <see cref="BackpropModelOptions.Debounce"/>, its size and time unchanged across the read. A file that
/// fails to parse is read once more after another quiet period before it is refused, so a slow copy is not
/// reported as broken.</para>
/// </remarks>
public sealed class BackpropPredictor : IDisposable
{
    private readonly BackpropModelOptions _options;
    private readonly ServingMetrics.ModelCounters _counters;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly object _reload = new();
    private readonly MicroBatcher _batcher;
    private volatile ModelVersion? _current;
    private FileSystemWatcher? _watcher;
    private ITimer? _debounce, _poll;
    private int _next = 1;
    private FileStamp _lastRead, _lastPolled;
    private bool _pending;
    private string? _suspectHash, _refusedHash;
    private volatile string? _lastError;
    private DateTimeOffset? _lastErrorAt;
    private bool _disposed;

    internal BackpropPredictor(string name, string path, BackpropModelOptions options, ServingMetrics metrics, ILoggerFactory? logs, TimeProvider time)
    {
        Name = name;
        Path = System.IO.Path.GetFullPath(path);
        _options = options;
        _counters = metrics.Model(name);
        _log = (logs ?? NullLoggerFactory.Instance).CreateLogger("Backprop.AspNetCore.Model");
        _time = time;
        _batcher = new MicroBatcher(options, rows => _counters.Batches.Observe(rows));
        try
        {
            var first = ModelVersion.Load(Path, _next, time);
            _next++;
            _current = first;
            _lastRead = FileStamp.Of(Path);
            _log.LogInformation("Model '{Name}': loaded version {Version} from {File} (sha256 {Hash}): {Model}.",
                Name, first.Number, first.FileName, first.Sha256, first.Model);
        }
        catch (BackpropException e) when (options.AllowMissingAtStart)
        {
            Refuse(null, e.Message);
        }
        if (options.Watch)
            StartWatching();
    }

    /// <summary>The name the model was registered under.</summary>
    public string Name { get; }

    /// <summary>The model file's full path (resolved when the model was registered).</summary>
    public string Path { get; }

    /// <summary>The version answering now; null only while no good file has been loaded (<see cref="BackpropModelOptions.AllowMissingAtStart"/>).</summary>
    public ModelVersion? Current => _current;

    /// <summary>True when a model is loaded and predictions can be answered.</summary>
    public bool IsReady => _current is not null;

    /// <summary>Whether the file is watched for changes.</summary>
    public bool Watching => _options.Watch;

    /// <summary>New files swapped in since start.</summary>
    public long Reloads => _counters.Reloaded.Value;

    /// <summary>New files refused since start (the old model kept serving).</summary>
    public long RefusedReloads => _counters.Refused.Value;

    /// <summary>Why the last file read was refused, or null when the last one read was good.</summary>
    public string? LastError => _lastError;

    /// <summary>When <see cref="LastError"/> happened.</summary>
    public DateTimeOffset? LastErrorAt => _lastErrorAt;

    /// <summary>The options this model was registered with.</summary>
    internal BackpropModelOptions Options => _options;

    /// <summary>Rows waiting for a forward pass now.</summary>
    internal int QueuedRows => _batcher.QueuedRows;

    /// <summary>
    /// The prediction for one raw record given by column name, the model's pipeline applied (as
    /// <c>Model.Predict(IReadOnlyDictionary)</c>: every input column must be there, others are ignored).
    /// </summary>
    /// <exception cref="BackpropException">A column the model takes is missing, or a value is not finite.</exception>
    /// <exception cref="ServingUnavailableException">No model is loaded yet.</exception>
    public Prediction Predict(IReadOnlyDictionary<string, double> record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var version = RequireCurrent();
        var outputs = version.Model.Predict(record);
        _counters.Records.Add(1);
        return ToPrediction(version, outputs, 0);
    }

    /// <summary>The predictions for many records, all computed by one model version in one batched forward pass.</summary>
    /// <exception cref="BackpropException">A record lacks a column the model takes, or a value is not finite.</exception>
    /// <exception cref="ServingUnavailableException">No model is loaded yet.</exception>
    public IReadOnlyList<Prediction> Predict(IReadOnlyList<IReadOnlyDictionary<string, double>> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var version = RequireCurrent();
        var rows = Rows(version, records);
        var outputs = new double[records.Count * version.Outputs];
        version.Model.Predict(rows, records.Count, outputs);
        _counters.Records.Add(records.Count);
        return Enumerable.Range(0, records.Count).Select(r => ToPrediction(version, outputs, r)).ToArray();
    }

    /// <summary>
    /// The predictions for <paramref name="records"/>, micro-batched with the other requests in flight into one
    /// forward pass (see <see cref="BackpropModelOptions.MaxBatchRows"/>); all computed by one model version.
    /// </summary>
    /// <exception cref="BackpropException">A record lacks a column the model takes, or a value is not finite.</exception>
    /// <exception cref="ServingUnavailableException">No model is loaded yet, or the queue is full.</exception>
    public async ValueTask<IReadOnlyList<Prediction>> PredictAsync(IReadOnlyList<IReadOnlyDictionary<string, double>> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var version = RequireCurrent();
        var rows = Rows(version, records);
        for (int i = 0; i < rows.Length; i++)
            if (!double.IsFinite(rows[i]))
                throw new BackpropException($"Record {i / version.Features}: \"{version.Model.Schema.FeatureName(i % version.Features)}\" is not a finite number.");
        var outputs = await RunAsync(version, rows, records.Count).ConfigureAwait(false);
        return Enumerable.Range(0, records.Count).Select(r => ToPrediction(version, outputs, r)).ToArray();
    }

    /// <summary>One record, micro-batched (see <see cref="PredictAsync(IReadOnlyList{IReadOnlyDictionary{string, double}})"/>).</summary>
    public async ValueTask<Prediction> PredictAsync(IReadOnlyDictionary<string, double> record) =>
        (await PredictAsync([record]).ConfigureAwait(false))[0];

    /// <summary>
    /// Checks the file now, without waiting for the watcher: true when a new version was swapped in. A file that
    /// fails is refused at once (logged; the old model keeps serving), and <see cref="LastError"/> says why.
    /// </summary>
    public bool Reload() => Check(confirmNow: true);

    /// <summary>Stops watching.</summary>
    public void Dispose()
    {
        lock (_reload)
        {
            _disposed = true;
            _watcher?.Dispose();
            _debounce?.Dispose();
            _poll?.Dispose();
        }
    }

    /// <summary>Raw rows (count x features, the model's input order) through the batcher; counted as predicted records.</summary>
    internal async ValueTask<double[]> RunAsync(ModelVersion version, double[] rows, int count)
    {
        var outputs = await _batcher.Run(version, rows, count).ConfigureAwait(false);
        _counters.Records.Add(count);
        return outputs;
    }

    internal ModelVersion RequireCurrent() => _current ?? throw new ServingUnavailableException(RequireCurrentMessage());

    internal string RequireCurrentMessage() =>
        $"model '{Name}' is not loaded yet ({_lastError ?? "no file read yet"}); it will be served once {System.IO.Path.GetFileName(Path)} is a valid model file.";

    private static double[] Rows(ModelVersion version, IReadOnlyList<IReadOnlyDictionary<string, double>> records)
    {
        var rows = new double[records.Count * version.Features];
        for (int r = 0; r < records.Count; r++)
        {
            ArgumentNullException.ThrowIfNull(records[r], $"records[{r}]");
            version.Model.RowFrom(records[r]).CopyTo(rows, r * version.Features);
        }
        return rows;
    }

    internal static Prediction ToPrediction(ModelVersion version, ReadOnlySpan<double> outputs, int row)
    {
        var y = outputs.Slice(row * version.Outputs, version.Outputs);
        if (version.IsClassifier)
        {
            var model = version.Model;
            var p = new double[model.ClassCount];
            ClassRule.Probabilities<double>(y, p);
            var probabilities = new Dictionary<string, double>(p.Length, StringComparer.Ordinal);
            for (int c = 0; c < p.Length; c++)
                probabilities[model.ClassNames[c]] = p[c];
            return new Prediction(version.Number, model.ClassNames[ClassRule.Predict<double>(y)], probabilities, null);
        }
        return new Prediction(version.Number, null, null, y.ToArray());
    }

    // ---- Watching --------------------------------------------------------------------------------------------

    private void StartWatching()
    {
        string dir = System.IO.Path.GetDirectoryName(Path)!;
        try
        {
            var watcher = new FileSystemWatcher(dir, System.IO.Path.GetFileName(Path))
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                IncludeSubdirectories = false,
            };
            watcher.Changed += (_, _) => Poke();
            watcher.Created += (_, _) => Poke();
            watcher.Deleted += (_, _) => Poke();
            watcher.Renamed += (_, _) => Poke();
            watcher.Error += (_, e) => _log.LogWarning("Model '{Name}': the file watcher failed ({Error}); the file is still polled every {Poll}.",
                Name, e.GetException().Message, _options.PollInterval);
            watcher.EnableRaisingEvents = true;
            _watcher = watcher;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException or UnauthorizedAccessException)
        {
            _log.LogWarning("Model '{Name}': cannot watch {Folder} ({Error}); polling the file every {Poll} instead.", Name, dir, e.Message,
                _options.PollInterval);
        }
        _debounce = _time.CreateTimer(_ => Check(confirmNow: false), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        var poll = _options.PollInterval > TimeSpan.Zero ? _options.PollInterval : _watcher is null ? TimeSpan.FromSeconds(2) : TimeSpan.Zero;
        if (poll > TimeSpan.Zero)
            _poll = _time.CreateTimer(_ => PollOnce(), null, poll, poll);
    }

    /// <summary>A change was seen: (re)start the quiet period.</summary>
    private void Poke()
    {
        lock (_reload)
            if (!_disposed)
                Schedule();
    }

    /// <summary>(Re)starts the quiet period after which the file is checked (caller holds the lock).</summary>
    private void Schedule()
    {
        _pending = true;
        _debounce?.Change(_options.Debounce, Timeout.InfiniteTimeSpan);
    }

    private void PollOnce()
    {
        // A stamp that changed since the last poll restarts the quiet period, as an event would; one that is stable
        // but differs from the last file read (an event was missed) starts one if none is pending. Never restarting
        // a pending quiet period for a stable file, so a poll faster than the debounce cannot hold the read off.
        var now = FileStamp.Of(Path);
        lock (_reload)
        {
            if (_disposed)
                return;
            bool changed = now != _lastPolled;
            _lastPolled = now;
            if (changed || (now != _lastRead && !_pending))
                Schedule();
        }
    }

    /// <summary>Reads the file if it changed since the last read; true when a new version was swapped in.</summary>
    private bool Check(bool confirmNow)
    {
        lock (_reload)
        {
            if (_disposed)
                return false;
            _pending = false;
            var before = FileStamp.Of(Path);
            if (!before.Exists)
            {
                if (_lastRead.Exists || confirmNow)
                    Refuse(null, $"{Path}: the file is gone" + (_current is null ? "." : $"; still serving version {_current.Number}."), stamp: before);
                return false;
            }
            if (before == _lastRead && !confirmNow && _suspectHash is null)
                return false;
            byte[] bytes;
            try
            {
                bytes = IO.BoundedFile.ReadAllBytes(Path, IO.ModelFile.MaxFileBytes, "model");
            }
            catch (BackpropException e)
            {
                if (!confirmNow && FileStamp.Of(Path) != before)
                    Poke(); // it changed while read: wait for it to settle
                else
                    Refuse(null, e.Message, stamp: before);
                return false;
            }
            var after = FileStamp.Of(Path);
            if (after != before && !confirmNow)
            {
                Poke(); // still being written
                return false;
            }
            string hash = ModelVersion.Hash(bytes);
            if (hash == _current?.Sha256 || hash == _refusedHash)
            {
                _lastRead = after; // the same content again (touched, or rewritten unchanged): nothing to do
                _suspectHash = null;
                return false;
            }
            ModelVersion version;
            try
            {
                version = ModelVersion.FromBytes(bytes, Path, _next, _time);
            }
            catch (BackpropException e)
            {
                if (!confirmNow && _suspectHash != hash)
                {
                    // Perhaps a copy paused mid-file: look once more after another quiet period before refusing.
                    _suspectHash = hash;
                    Schedule();
                    return false;
                }
                Refuse(hash, e.Message, stamp: after);
                return false;
            }
            _next++;
            var old = _current;
            _current = version; // the swap: requests that already took the old version finish with it
            _lastRead = after;
            _suspectHash = null;
            _refusedHash = null;
            _lastError = null;
            _counters.Reloaded.Add(1);
            _log.LogInformation("Model '{Name}': swapped in version {Version} from {File} (sha256 {Hash}): {Model}{Old}.",
                Name, version.Number, version.FileName, version.Sha256, version.Model, old is null ? "" : $"; version {old.Number} finishes the requests it had begun");
            return true;
        }
    }

    private void Refuse(string? hash, string reason, FileStamp stamp = default)
    {
        _lastRead = stamp;
        _suspectHash = null;
        if (hash is not null)
            _refusedHash = hash;
        _lastError = reason;
        _lastErrorAt = _time.GetUtcNow();
        if (_current is not null || hash is not null)
            _counters.Refused.Add(1);
        if (_current is null)
            _log.LogError("Model '{Name}': no model to serve: {Reason} Waiting for a valid file.", Name, reason);
        else
            _log.LogError("Model '{Name}': refused the new file: {Reason} Still serving version {Version} (sha256 {Hash}).",
                Name, reason, _current.Number, _current.Sha256);
    }

    /// <summary>What a file looks like from outside: whether it exists, its size and its last write time.</summary>
    private record struct FileStamp(bool Exists, long Length, DateTime WriteTime)
    {
        public static FileStamp Of(string path)
        {
            var info = new FileInfo(path);
            return info.Exists ? new FileStamp(true, info.Length, info.LastWriteTimeUtc) : default;
        }
    }
}
