namespace Backprop.AspNetCore;

/// <summary>
/// How one served model is loaded, reloaded, batched and bounded. Every default is safe for a server open to
/// untrusted clients; <see cref="Validate"/> refuses values that would switch a bound off.
/// </summary>
public sealed class BackpropModelOptions
{
    /// <summary>Watch the model file and swap in a new model when it changes (default false).</summary>
    public bool Watch { get; set; }

    /// <summary>
    /// How long the file must be quiet (no change seen) before it is read: a writer that copies over the file in
    /// several writes is read once, after its last one (default 500 ms).
    /// </summary>
    public TimeSpan Debounce { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// While watching, how often the file's size and time are also checked without a file-system event, for file
    /// systems whose events are late or missing (default 2 s; <see cref="TimeSpan.Zero"/>: events only).
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// When the file is missing or broken at start: false (default) throws at start; true starts not ready
    /// (predictions answer 503, <c>/health/ready</c> says why) until a good file appears.
    /// </summary>
    public bool AllowMissingAtStart { get; set; }

    /// <summary>
    /// The most rows one forward pass computes when concurrent requests are batched (default 256). 1 switches
    /// batching off: every request is computed on its own, on its own thread.
    /// </summary>
    public int MaxBatchRows { get; set; } = 256;

    /// <summary>
    /// How long a batch that is not full may wait for more rows before it is computed (default zero: a batch is
    /// what has queued while the previous one computed, so an idle server adds no delay). At most 100 ms.
    /// </summary>
    public TimeSpan MaxBatchDelay { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Forward passes that may run at once (default: the processor count). Requests queue for a batch only when
    /// all of them are busy; 1 batches everything that arrives while one pass runs.
    /// </summary>
    public int ComputeLanes { get; set; } = Environment.ProcessorCount;

    /// <summary>Rows that may wait for a forward pass at once; past this, requests are refused with 503 (default 65,536).</summary>
    public int MaxQueuedRows { get; set; } = 65_536;

    /// <summary>How long a request may wait in the queue before it is answered 503 instead (default 10 s).</summary>
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The most records one <c>/predict</c> request may hold (default 1,000).</summary>
    public int MaxRecordsPerRequest { get; set; } = 1_000;

    /// <summary>The largest <c>/predict</c> body in bytes (default 4 MiB).</summary>
    public int MaxBodyBytes { get; set; } = 4 << 20;

    /// <summary>
    /// Columns that are neither the model's inputs nor its target or dropped columns: refused with a 400 naming the
    /// column (default), or ignored when true.
    /// </summary>
    public bool IgnoreUnknownColumns { get; set; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for a value out of its range, naming the option.</summary>
    public void Validate()
    {
        if (Debounce < TimeSpan.Zero || Debounce > TimeSpan.FromMinutes(1))
            throw new ArgumentOutOfRangeException(nameof(Debounce), Debounce, "Debounce must be from 0 to 1 minute.");
        if (PollInterval < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(PollInterval), PollInterval, "PollInterval must not be negative.");
        if (MaxBatchRows is < 1 or > 65_536)
            throw new ArgumentOutOfRangeException(nameof(MaxBatchRows), MaxBatchRows, "MaxBatchRows must be from 1 to 65,536.");
        if (MaxBatchDelay < TimeSpan.Zero || MaxBatchDelay > TimeSpan.FromMilliseconds(100))
            throw new ArgumentOutOfRangeException(nameof(MaxBatchDelay), MaxBatchDelay, "MaxBatchDelay must be from 0 to 100 ms.");
        if (ComputeLanes is < 1 or > 1024)
            throw new ArgumentOutOfRangeException(nameof(ComputeLanes), ComputeLanes, "ComputeLanes must be from 1 to 1,024.");
        if (MaxQueuedRows < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxQueuedRows), MaxQueuedRows, "MaxQueuedRows must be at least 1.");
        if (QueueTimeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(QueueTimeout), QueueTimeout, "QueueTimeout must be positive.");
        if (MaxRecordsPerRequest is < 1 or > 1_000_000)
            throw new ArgumentOutOfRangeException(nameof(MaxRecordsPerRequest), MaxRecordsPerRequest, "MaxRecordsPerRequest must be from 1 to 1,000,000.");
        if (MaxBodyBytes is < 1024 or > 1 << 30)
            throw new ArgumentOutOfRangeException(nameof(MaxBodyBytes), MaxBodyBytes, "MaxBodyBytes must be from 1 KiB to 1 GiB.");
    }

    /// <summary>A copy (options are read once, when the model is registered).</summary>
    internal BackpropModelOptions Clone() => (BackpropModelOptions)MemberwiseClone();
}
