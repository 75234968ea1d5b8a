using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Backprop.Data;
using Backprop.IO;
using Backprop.Nn;
using Backprop.Training;

// The load test of `backprop serve` (bench/serve.sh builds and runs it; docs/serving.md has the figures).
//
// Two models of the optdigits digits (64 named pixel columns, 10 classes) are trained here, V1 and V2, different
// enough that every request row's answer tells which computed it. Then, in turn on this machine:
//   backprop   `backprop serve` on V1 (micro-batching on), its file replaced 10 times during the run (V2, V1, ...:
//              half by rename as AtomicFile writes, half copied over in place);
//   onnx       the same V1 exported to ONNX, served by ONNX Runtime in a minimal ASP.NET Core app (the peer);
//   single     `backprop serve --max-batch 1` on V1 (one forward pass per request), also reloaded 10 times;
//   lanes1     `backprop serve --compute-lanes 1` (one forward pass at a time: everything that arrives meanwhile batches).
// Each is driven by the same load generator: N concurrent clients in a loop for S seconds after a warm-up, one
// record a request, every answer checked against both models' offline predictions: it must match exactly one
// (1e-4), the one its model_version names (a version that answered with both models would be a mix).
// One JSON line per run on stdout (and in --out). --hidden 1024,1024 makes V1 big enough for the forward pass to
// be the bottleneck, where micro-batching pays (the default 128,64 is dominated by HTTP and JSON).
var options = Options.Parse(args);
string cpu = CpuModel();
var clock = Stopwatch.StartNew();
Console.Error.WriteLine($"cpu: {cpu}, {Environment.ProcessorCount} cores; training the two models...");
var models = BenchModels.Train(options.Datasets, options.Hidden);
Console.Error.WriteLine($"trained in {clock.Elapsed.TotalSeconds:0.0} s: V1 {models.V1}, V2 {models.V2}; {models.Rows.Length} request rows tell them apart");

string dir = Directory.CreateTempSubdirectory("backprop-serve-bench-").FullName;
string v1Path = Path.Combine(dir, "v1.json"), v2Path = Path.Combine(dir, "v2.json"), served = Path.Combine(dir, "model.json"), onnx = Path.Combine(dir, "model.onnx");
models.V1.Save(v1Path);
models.V2.Save(v2Path);
OnnxExport.Save(models.V1, onnx);
byte[] v1Bytes = File.ReadAllBytes(v1Path), v2Bytes = File.ReadAllBytes(v2Path);

using var output = options.Out is null ? null : new StreamWriter(options.Out, append: true);
try
{
    for (int round = 1; round <= options.Rounds; round++)
        foreach (var mode in options.Modes)
        {
            File.WriteAllBytes(served, v1Bytes);
            var server = mode == "onnx"
                ? Server.Start("dotnet", [options.Peer, "--model", onnx, "--columns", string.Join(",", BenchModels.Columns), "--classes", string.Join(",", models.V1.ClassNames), "--port", "0"])
                : Server.Start("dotnet", [options.Cli, "serve", "--model", served, "--port", "0", .. mode switch
                {
                    "single" => new[] { "--max-batch", "1" },
                    "lanes1" => ["--compute-lanes", "1"],
                    _ => [],
                }]);
            using (server)
            {
                var reloader = mode == "onnx" ? null : new Reloader(served, v1Bytes, v2Bytes, options.Reloads);
                var result = await Load.Run(server, models, options, reloader);
                string? metrics = mode == "onnx" ? null : await Load.Get(server.Address + "/metrics");
                var line = new Dictionary<string, object?>
                {
                    ["bench"] = "serve",
                    ["server"] = mode == "onnx" ? "onnxruntime" : "backprop",
                    ["mode"] = mode,
                    ["round"] = round,
                    ["clients"] = options.Clients,
                    ["seconds"] = Math.Round(result.Seconds, 2),
                    ["requests"] = result.Requests,
                    ["throughput_rps"] = Math.Round(result.Requests / result.Seconds, 1),
                    ["p50_ms"] = Math.Round(result.Percentile(0.50), 3),
                    ["p99_ms"] = Math.Round(result.Percentile(0.99), 3),
                    ["p999_ms"] = Math.Round(result.Percentile(0.999), 3),
                    ["max_ms"] = Math.Round(result.Percentile(1), 3),
                    ["failed"] = result.Failed,
                    ["failures"] = result.Failures,
                    ["mismatched"] = result.Mismatched,
                    ["versions"] = result.Versions,
                    ["file_replacements"] = reloader?.Done ?? 0,
                    ["reloads_loaded"] = metrics is null ? null : Metric(metrics, "backprop_model_reloads_total", "loaded"),
                    ["reloads_refused"] = metrics is null ? null : Metric(metrics, "backprop_model_reloads_total", "refused"),
                    ["mean_batch_rows"] = metrics is null ? null : MeanBatch(metrics),
                    ["server_cpu_s"] = Math.Round(result.ServerCpuSeconds, 2),
                    ["cpu"] = cpu,
                    ["cores"] = Environment.ProcessorCount,
                    ["model"] = models.V1.ToString(),
                };
                string json = JsonSerializer.Serialize(line);
                Console.WriteLine(json);
                output?.WriteLine(json);
                output?.Flush();
            }
        }
}
finally
{
    Directory.Delete(dir, recursive: true);
}
return 0;

static double? Metric(string text, string name, string result)
{
    var m = Regex.Match(text, $@"^{name}\{{[^}}]*result=""{result}""\}} ([0-9.eE+-]+)$", RegexOptions.Multiline);
    return m.Success ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;
}

static double? MeanBatch(string text)
{
    var sum = Regex.Match(text, @"^backprop_batch_rows_sum\{[^}]*\} ([0-9.eE+-]+)$", RegexOptions.Multiline);
    var count = Regex.Match(text, @"^backprop_batch_rows_count\{[^}]*\} ([0-9.eE+-]+)$", RegexOptions.Multiline);
    if (!sum.Success || !count.Success)
        return null;
    double c = double.Parse(count.Groups[1].Value, CultureInfo.InvariantCulture);
    return c == 0 ? null : Math.Round(double.Parse(sum.Groups[1].Value, CultureInfo.InvariantCulture) / c, 2);
}

static string CpuModel()
{
    try
    {
        var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line is null ? "unknown" : line[(line.IndexOf(':') + 1)..].Trim();
    }
    catch (IOException)
    {
        return "unknown";
    }
}

internal sealed record Options(string Cli, string Peer, string Datasets, int Clients, double Seconds, double WarmUp, int Reloads, int Rounds,
    string[] Modes, string? Out, int[] Hidden)
{
    public static Options Parse(string[] args)
    {
        string? Get(string name)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        return new Options(
            Get("--cli") ?? throw new ArgumentException("--cli PATH/Backprop.Cli.dll is required"),
            Get("--peer") ?? throw new ArgumentException("--peer PATH/Backprop.Bench.Serve.Onnx.dll is required"),
            Get("--datasets") ?? "../shared/datasets",
            int.Parse(Get("--clients") ?? "64", CultureInfo.InvariantCulture),
            double.Parse(Get("--seconds") ?? "30", CultureInfo.InvariantCulture),
            double.Parse(Get("--warmup") ?? "10", CultureInfo.InvariantCulture),
            int.Parse(Get("--reloads") ?? "10", CultureInfo.InvariantCulture),
            int.Parse(Get("--rounds") ?? "1", CultureInfo.InvariantCulture),
            (Get("--modes") ?? "backprop,onnx,single").Split(','),
            Get("--out"),
            (Get("--hidden") ?? "128,64").Split(',').Select(h => int.Parse(h, CultureInfo.InvariantCulture)).ToArray());
    }
}

/// <summary>The two models and the request rows (optdigits test rows on which V1 and V2 answer differently).</summary>
internal sealed record BenchModels(Model<float> V1, Model<float> V2, double[][] Rows, byte[][] Bodies, double[][] P1, double[][] P2)
{
    public static readonly string[] Columns = Enumerable.Range(0, 64).Select(i => $"px{i / 8}{i % 8}").ToArray();

    public static BenchModels Train(string datasets, int[] hidden)
    {
        Dataset Named(string file)
        {
            var d = CsvDataset.Read(Path.Combine(datasets, "optdigits", file), new CsvOptions { Header = HeaderMode.No });
            return Dataset.Classification(d.Features.ToArray(), d.Inputs, d.Labels.ToArray(), d.ClassCount, d.ClassNames, file, Columns, "digit");
        }
        var train = Named("optdigits.tra");
        var test = Named("optdigits.tes");
        var builder = Model.For(train).Preprocess(PreprocessingKind.Standardize);
        foreach (int units in hidden)
            builder = builder.Dense(units, Activation.Relu);
        var v1 = builder.Build<float>(1);
        v1.Fit(train, new TrainingOptions { Epochs = 10, Optimizer = new Adam(0.001), Seed = 1 });
        var v2 = Model.For(train).Preprocess(PreprocessingKind.Standardize).Dense(32, Activation.Tanh).Build<float>(2);
        v2.Fit(train, new TrainingOptions { Epochs = 2, Optimizer = new Adam(0.001), Seed = 2 });
        var rows = new List<double[]>();
        var p1 = new List<double[]>();
        var p2 = new List<double[]>();
        for (int r = 0; r < test.Rows; r++)
        {
            var x = test.Features.Slice(r * 64, 64).ToArray();
            double[] a = v1.Predict(x), b = v2.Predict(x);
            if (a.Zip(b, (u, v) => Math.Abs(u - v)).Max() > 0.01)
            {
                rows.Add(x);
                p1.Add(a);
                p2.Add(b);
            }
        }
        var bodies = rows.Select(x => JsonSerializer.SerializeToUtf8Bytes(Columns.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => x[p.i]))).ToArray();
        return new BenchModels(v1, v2, [.. rows], bodies, [.. p1], [.. p2]);
    }
}

/// <summary>A server as a child process on a free loopback port (its first line names the address).</summary>
internal sealed class Server : IDisposable
{
    private readonly Process _process;

    private Server(Process process, string address)
    {
        _process = process;
        Address = address;
    }

    public string Address { get; }

    public TimeSpan Cpu
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public static Server Start(string file, string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
            info.ArgumentList.Add(a);
        // Both servers under the same runtime settings.
        info.Environment["DOTNET_gcServer"] = "0";
        var process = Process.Start(info)!;
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null && !e.Data.Contains(" info: ", StringComparison.Ordinal)) Console.Error.WriteLine("  server: " + e.Data); };
        process.BeginErrorReadLine();
        var match = Regex.Match("", "x");
        while (process.StandardOutput.ReadLine() is { } line)
        {
            match = Regex.Match(line, @"(http://127\.0\.0\.1:\d+)/");
            if (match.Success)
                break;
        }
        if (!match.Success)
            throw new InvalidOperationException($"{string.Join(" ", args)}: the server printed no address (exit code {(process.HasExited ? process.ExitCode : -1)}).");
        _ = process.StandardOutput.ReadToEndAsync();
        return new Server(process, match.Groups[1].Value);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
    }
}

/// <summary>Replaces the served file during the measured time: V2, V1, V2, ... alternately by rename and by copying over in place.</summary>
internal sealed class Reloader(string path, byte[] v1, byte[] v2, int count)
{
    public int Done { get; private set; }

    public async Task Run(TimeSpan span, CancellationToken stop)
    {
        for (int i = 0; i < count; i++)
        {
            var due = TimeSpan.FromTicks(span.Ticks * (2 * i + 1) / (2 * count));
            var wait = due - Elapsed;
            if (wait > TimeSpan.Zero)
                await Task.Delay(wait, stop);
            byte[] bytes = i % 2 == 0 ? v2 : v1;
            if (i % 4 < 2)
            {
                string temp = path + ".tmp";
                await File.WriteAllBytesAsync(temp, bytes, stop);
                File.Move(temp, path, overwrite: true);
            }
            else
            {
                await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite);
                int half = bytes.Length / 2;
                await file.WriteAsync(bytes.AsMemory(0, half), stop);
                await file.FlushAsync(stop);
                await Task.Delay(20, stop);
                await file.WriteAsync(bytes.AsMemory(half), stop);
            }
            Done++;
        }
    }

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private TimeSpan Elapsed => _clock.Elapsed;

    public void Restart() => _clock.Restart();
}

internal sealed class Result
{
    public long Requests;
    public long Failed;
    public long Mismatched;
    public double Seconds;
    public double ServerCpuSeconds;
    public readonly ConcurrentDictionary<string, long> Failures = new();
    public readonly ConcurrentDictionary<string, string> Versions = new();
    public long[] Latencies = [];

    /// <summary>A latency percentile in milliseconds (nearest rank).</summary>
    public double Percentile(double q)
    {
        if (Latencies.Length == 0)
            return double.NaN;
        int i = Math.Clamp((int)Math.Ceiling(q * Latencies.Length) - 1, 0, Latencies.Length - 1);
        return Latencies[i] * 1000.0 / Stopwatch.Frequency;
    }
}

internal static class Load
{
    private static readonly HttpClient Client = new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 1024,
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
    })
    { Timeout = TimeSpan.FromSeconds(30) };

    public static async Task<string> Get(string url) => await Client.GetStringAsync(url);

    public static async Task<Result> Run(Server server, BenchModels models, Options options, Reloader? reloader)
    {
        var result = new Result();
        string url = server.Address + "/predict";
        // Warm-up: the same load, not counted (JIT tiers, connections, the pool's threads).
        await Drive(url, models, options.Clients, TimeSpan.FromSeconds(options.WarmUp), null);
        var cpu0 = server.Cpu;
        using var stop = new CancellationTokenSource();
        reloader?.Restart();
        var reloads = reloader?.Run(TimeSpan.FromSeconds(options.Seconds), stop.Token);
        var clock = Stopwatch.StartNew();
        var latencies = await Drive(url, models, options.Clients, TimeSpan.FromSeconds(options.Seconds), result);
        result.Seconds = clock.Elapsed.TotalSeconds;
        result.ServerCpuSeconds = (server.Cpu - cpu0).TotalSeconds;
        stop.Cancel();
        if (reloads is not null)
        {
            try
            {
                await reloads;
            }
            catch (OperationCanceledException)
            {
            }
        }
        Array.Sort(latencies);
        result.Latencies = latencies;
        return result;
    }

    private static async Task<long[]> Drive(string url, BenchModels models, int clients, TimeSpan span, Result? result)
    {
        long end = Stopwatch.GetTimestamp() + (long)(span.TotalSeconds * Stopwatch.Frequency);
        var perClient = new List<long>[clients];
        var tasks = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var mine = perClient[c] = new List<long>(1 << 14);
            int k = 0;
            while (Stopwatch.GetTimestamp() < end)
            {
                int row = (c + k++ * clients) % models.Rows.Length;
                using var content = new ByteArrayContent(models.Bodies[row]);
                content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
                long start = Stopwatch.GetTimestamp();
                string? failure = null;
                byte[]? body = null;
                try
                {
                    using var response = await Client.PostAsync(url, content);
                    body = await response.Content.ReadAsByteArrayAsync();
                    if (response.StatusCode != HttpStatusCode.OK)
                        failure = $"HTTP {(int)response.StatusCode}";
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    failure = e.GetType().Name;
                }
                long took = Stopwatch.GetTimestamp() - start;
                if (result is null)
                    continue;
                mine.Add(took);
                Interlocked.Increment(ref result.Requests);
                if (failure is not null)
                {
                    Interlocked.Increment(ref result.Failed);
                    result.Failures.AddOrUpdate(failure, 1, (_, n) => n + 1);
                    continue;
                }
                Check(body!, row, models, result);
            }
        })).ToArray();
        await Task.WhenAll(tasks);
        return perClient.SelectMany(l => l ?? []).ToArray();
    }

    /// <summary>The answer must match exactly one model's offline prediction, and always the same one for the version it names.</summary>
    private static void Check(byte[] body, int row, BenchModels models, Result result)
    {
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        string version = root.TryGetProperty("model_version", out var v) ? v.GetInt32().ToString(CultureInfo.InvariantCulture) : "onnx";
        var probabilities = root.GetProperty("predictions")[0].GetProperty("probabilities");
        var names = models.V1.ClassNames;
        bool one = true, two = true;
        for (int c = 0; c < names.Count; c++)
        {
            double p = probabilities.GetProperty(names[c]).GetDouble();
            one &= Math.Abs(p - models.P1[row][c]) <= 1e-4;
            two &= Math.Abs(p - models.P2[row][c]) <= 1e-4;
        }
        if (one == two)
        {
            Interlocked.Increment(ref result.Mismatched);
            result.Failures.AddOrUpdate(one ? "matches both models" : "matches neither model", 1, (_, n) => n + 1);
            return;
        }
        string model = one ? "V1" : "V2";
        string seen = result.Versions.GetOrAdd(version, model);
        if (seen != model)
        {
            Interlocked.Increment(ref result.Mismatched);
            result.Failures.AddOrUpdate($"version {version} answered with both models", 1, (_, n) => n + 1);
        }
    }
}
