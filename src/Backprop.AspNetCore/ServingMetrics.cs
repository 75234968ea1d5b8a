using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Backprop.AspNetCore;

/// <summary>
/// The serving counters, written by <c>GET /metrics</c> in the Prometheus text format (version 0.0.4): requests by
/// endpoint and status, errors, a latency histogram, records predicted, batch sizes, model reloads and the version
/// served. Lock-free counters; safe from any thread.
/// </summary>
public sealed class ServingMetrics
{
    /// <summary>Upper bounds (seconds) of the request latency histogram's buckets.</summary>
    public static readonly IReadOnlyList<double> LatencyBuckets =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Upper bounds (rows) of the batch size histogram's buckets.</summary>
    public static readonly IReadOnlyList<double> BatchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384, 65536];

    private readonly ConcurrentDictionary<(string Endpoint, int Code), Counter> _requests = new();
    private readonly ConcurrentDictionary<string, Histogram> _latency = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ModelCounters> _models = new(StringComparer.Ordinal);

    /// <summary>Counts one answered request and its latency. <paramref name="endpoint"/> is a route, never the raw path.</summary>
    public void Request(string endpoint, int status, long startTimestamp)
    {
        _requests.GetOrAdd((endpoint, status), static _ => new Counter()).Add(1);
        double seconds = Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds;
        _latency.GetOrAdd(endpoint, static _ => new Histogram(LatencyBuckets)).Observe(seconds);
    }

    /// <summary>The counters of one model.</summary>
    internal ModelCounters Model(string name) => _models.GetOrAdd(name, static _ => new ModelCounters());

    /// <summary>Requests answered so far with <paramref name="status"/> on <paramref name="endpoint"/>.</summary>
    public long RequestCount(string endpoint, int status) => _requests.TryGetValue((endpoint, status), out var c) ? c.Value : 0;

    /// <summary>The text of <c>GET /metrics</c>.</summary>
    public string Write(IEnumerable<BackpropPredictor> predictors)
    {
        var s = new StringBuilder(4096);
        s.Append("# HELP backprop_requests_total Requests answered, by endpoint and HTTP status code.\n");
        s.Append("# TYPE backprop_requests_total counter\n");
        foreach (var ((endpoint, code), c) in _requests.OrderBy(p => p.Key.Endpoint, StringComparer.Ordinal).ThenBy(p => p.Key.Code))
            s.Append("backprop_requests_total{endpoint=\"").Append(Escape(endpoint)).Append("\",code=\"").Append(Int(code)).Append("\"} ").Append(Int(c.Value)).Append('\n');

        s.Append("# HELP backprop_request_errors_total Requests answered with an error, by endpoint and kind (client: 4xx, server: 5xx).\n");
        s.Append("# TYPE backprop_request_errors_total counter\n");
        foreach (var group in _requests.Where(p => p.Key.Code >= 400).GroupBy(p => (p.Key.Endpoint, Kind: p.Key.Code >= 500 ? "server" : "client"))
                     .OrderBy(g => g.Key.Endpoint, StringComparer.Ordinal).ThenBy(g => g.Key.Kind, StringComparer.Ordinal))
            s.Append("backprop_request_errors_total{endpoint=\"").Append(Escape(group.Key.Endpoint)).Append("\",kind=\"").Append(group.Key.Kind).Append("\"} ")
                .Append(Int(group.Sum(p => p.Value.Value))).Append('\n');

        s.Append("# HELP backprop_request_duration_seconds Time from the request's arrival at the endpoint to its answer, by endpoint.\n");
        s.Append("# TYPE backprop_request_duration_seconds histogram\n");
        foreach (var (endpoint, h) in _latency.OrderBy(p => p.Key, StringComparer.Ordinal))
            h.Write(s, "backprop_request_duration_seconds", $"endpoint=\"{Escape(endpoint)}\"");

        var models = predictors.ToArray();
        s.Append("# HELP backprop_predicted_records_total Records predicted, by model.\n");
        s.Append("# TYPE backprop_predicted_records_total counter\n");
        foreach (var p in models)
            s.Append("backprop_predicted_records_total{model=\"").Append(Escape(p.Name)).Append("\"} ").Append(Int(Model(p.Name).Records.Value)).Append('\n');

        s.Append("# HELP backprop_batch_rows Rows per forward pass (a micro-batch of concurrent requests), by model.\n");
        s.Append("# TYPE backprop_batch_rows histogram\n");
        foreach (var p in models)
            Model(p.Name).Batches.Write(s, "backprop_batch_rows", $"model=\"{Escape(p.Name)}\"");

        s.Append("# HELP backprop_model_reloads_total Model files read after the first, by model and result (loaded: swapped in; refused: broken, the old model kept).\n");
        s.Append("# TYPE backprop_model_reloads_total counter\n");
        foreach (var p in models)
        {
            var m = Model(p.Name);
            s.Append("backprop_model_reloads_total{model=\"").Append(Escape(p.Name)).Append("\",result=\"loaded\"} ").Append(Int(m.Reloaded.Value)).Append('\n');
            s.Append("backprop_model_reloads_total{model=\"").Append(Escape(p.Name)).Append("\",result=\"refused\"} ").Append(Int(m.Refused.Value)).Append('\n');
        }

        s.Append("# HELP backprop_model_version The version number of the model being served (0: none loaded yet), by model.\n");
        s.Append("# TYPE backprop_model_version gauge\n");
        foreach (var p in models)
            s.Append("backprop_model_version{model=\"").Append(Escape(p.Name)).Append("\"} ").Append(Int(p.Current?.Number ?? 0)).Append('\n');

        s.Append("# HELP backprop_model_ready 1 when the model can answer predictions, by model.\n");
        s.Append("# TYPE backprop_model_ready gauge\n");
        foreach (var p in models)
            s.Append("backprop_model_ready{model=\"").Append(Escape(p.Name)).Append("\"} ").Append(p.IsReady ? "1" : "0").Append('\n');

        s.Append("# HELP backprop_queued_rows Rows waiting for a forward pass now, by model.\n");
        s.Append("# TYPE backprop_queued_rows gauge\n");
        foreach (var p in models)
            s.Append("backprop_queued_rows{model=\"").Append(Escape(p.Name)).Append("\"} ").Append(Int(p.QueuedRows)).Append('\n');
        return s.ToString();
    }

    private static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A label value escaped as the text format asks (backslash, double quote, line feed).</summary>
    internal static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    internal sealed class Counter
    {
        private long _value;
        public long Value => Interlocked.Read(ref _value);
        public void Add(long n) => Interlocked.Add(ref _value, n);
    }

    internal sealed class ModelCounters
    {
        public Counter Records { get; } = new();
        public Counter Reloaded { get; } = new();
        public Counter Refused { get; } = new();
        public Histogram Batches { get; } = new(BatchBuckets);
    }

    /// <summary>A cumulative histogram (one count per bucket, a sum and a count), lock-free.</summary>
    internal sealed class Histogram(IReadOnlyList<double> bounds)
    {
        private readonly long[] _buckets = new long[bounds.Count + 1];
        private long _count;
        private long _sumBits;

        public long Count => Interlocked.Read(ref _count);

        public void Observe(double value)
        {
            int i = 0;
            while (i < bounds.Count && value > bounds[i])
                i++;
            Interlocked.Increment(ref _buckets[i]);
            Interlocked.Increment(ref _count);
            long old, updated;
            do
            {
                old = Interlocked.Read(ref _sumBits);
                updated = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(old) + value);
            }
            while (Interlocked.CompareExchange(ref _sumBits, updated, old) != old);
        }

        public void Write(StringBuilder s, string name, string labels)
        {
            long cumulative = 0;
            for (int i = 0; i < bounds.Count; i++)
            {
                cumulative += Interlocked.Read(ref _buckets[i]);
                s.Append(name).Append("_bucket{").Append(labels).Append(",le=\"").Append(bounds[i].ToString("R", CultureInfo.InvariantCulture))
                    .Append("\"} ").Append(Int(cumulative)).Append('\n');
            }
            cumulative += Interlocked.Read(ref _buckets[^1]);
            s.Append(name).Append("_bucket{").Append(labels).Append(",le=\"+Inf\"} ").Append(Int(cumulative)).Append('\n');
            s.Append(name).Append("_sum{").Append(labels).Append("} ")
                .Append(BitConverter.Int64BitsToDouble(Interlocked.Read(ref _sumBits)).ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            s.Append(name).Append("_count{").Append(labels).Append("} ").Append(Int(Count)).Append('\n');
        }
    }
}
