using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Backprop.AspNetCore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Backprop.Cli.Commands;

/// <summary>
/// `backprop serve`: a model file as an HTTP service (POST /predict, GET /health, /model, /metrics, /openapi.json),
/// hot-reloaded when the file changes, on 127.0.0.1 unless --host says otherwise. Built on Backprop.AspNetCore.
/// </summary>
public static partial class ServeCommand
{
    /// <summary>The default port (the playground's is 5077).</summary>
    public const int DefaultPort = 5078;

    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "The model file to serve (reloaded when it changes).", Required = true, HelpName = "FILE" };
        var port = new Option<string?>("--port") { Description = $"Port (default {DefaultPort}; 0 picks a free one).", HelpName = "N" };
        var host = new Option<string?>("--host") { Description = "Address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for every interface).", HelpName = "ADDR" };
        var name = new Option<string?>("--name") { Description = "The model's name in answers and metrics (default: the file name without its extension).", HelpName = "NAME" };
        var noWatch = new Option<bool>("--no-watch") { Description = "Do not reload the model when its file changes." };
        var maxBatch = new Option<string?>("--max-batch") { Description = "Most rows in one forward pass of concurrent requests (default 256; 1 turns batching off).", HelpName = "ROWS" };
        var batchDelay = new Option<string?>("--batch-delay") { Description = "Longest wait for a batch to fill, in milliseconds (default 0: a batch is what queued during the previous one).", HelpName = "MS" };
        var lanes = new Option<string?>("--compute-lanes") { Description = "Forward passes that may run at once (default: the processor count); requests batch when all are busy.", HelpName = "N" };
        var maxRecords = new Option<string?>("--max-records") { Description = "Most records in one request (default 1000).", HelpName = "N" };
        var maxBody = new Option<string?>("--max-body-bytes") { Description = "Largest request body (default 4194304).", HelpName = "BYTES" };
        var command = new Command("serve",
            "Serve a model over HTTP: POST /predict (JSON records by column name, or CSV), GET /health, /model, /metrics (Prometheus), /openapi.json. " +
            "The model file is reloaded atomically when it changes; a broken file is refused and the old model keeps serving. Ctrl+C or SIGTERM " +
            "stops it after the requests in flight.");
        foreach (var option in new Option[] { model, port, host, name, noWatch, maxBatch, batchDelay, lanes, maxRecords, maxBody })
            command.Options.Add(option);
        command.SetAction(parse => App.Guard(error, () =>
        {
            string path = parse.GetValue(model)!;
            var options = new BackpropServerOptions
            {
                ModelPath = path,
                ModelName = parse.GetValue(name) is { } n ? CheckName(n) : NameOf(path),
                Host = parse.GetValue(host) ?? "127.0.0.1",
                Port = parse.GetValue(port) is { } p ? Int(p, "--port", 0, 65535, "a port number") : DefaultPort,
                Watch = !parse.GetValue(noWatch),
                Configure = ModelOptions(parse.GetValue(maxBatch), parse.GetValue(batchDelay), parse.GetValue(lanes), parse.GetValue(maxRecords), parse.GetValue(maxBody)),
            };
            using var app = BackpropServer.Build(options);
            Start(app, options);
            var predictor = app.Services.GetRequiredService<BackpropPredictor>();
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var v = predictor.Current!;
            output.WriteLine($"Serving '{predictor.Name}' version {v.Number} ({v.FileName}, sha256 {v.Sha256[..12]}; {v.Model}) on {address}/");
            output.WriteLine($"POST {address}/predict, GET /health, /model, /metrics, /openapi.json. {(options.Watch ? "Reloads the file when it changes. " : "")}" +
                             "Ctrl+C or SIGTERM stops it (requests in flight finish).");
            output.Flush();
            var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
            lifetime.ApplicationStopping.Register(() =>
            {
                output.WriteLine("Stopping: no new connections; finishing the requests in flight.");
                output.Flush();
            });
            app.WaitForShutdown();
            output.WriteLine("Stopped.");
            return 0;
        }));
        return command;
    }

    private static void Start(WebApplication app, BackpropServerOptions options)
    {
        try
        {
            app.Start();
        }
        catch (IOException e)
        {
            throw new BackpropException($"--port: cannot listen on {options.Host}:{options.Port} ({e.Message}); try another port or --port 0.");
        }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1 && e.InnerException is BackpropException inner)
        {
            throw inner;
        }
    }

    /// <summary>The model options from the command line's numbers, each checked with a message naming its option.</summary>
    private static Action<BackpropModelOptions> ModelOptions(string? maxBatch, string? batchDelay, string? lanes, string? maxRecords, string? maxBody)
    {
        int? computeLanes = lanes is null ? null : Int(lanes, "--compute-lanes", 1, 1024);
        int? batch = maxBatch is null ? null : Int(maxBatch, "--max-batch", 1, 65_536);
        double? delay = batchDelay is null ? null : Number(batchDelay, "--batch-delay", 0, 100);
        int? records = maxRecords is null ? null : Int(maxRecords, "--max-records", 1, 1_000_000);
        int? body = maxBody is null ? null : Int(maxBody, "--max-body-bytes", 1024, 1 << 30);
        return o =>
        {
            if (batch is { } b)
                o.MaxBatchRows = b;
            if (delay is { } d)
                o.MaxBatchDelay = TimeSpan.FromMilliseconds(d);
            if (computeLanes is { } l)
                o.ComputeLanes = l;
            if (records is { } r)
                o.MaxRecordsPerRequest = r;
            if (body is { } m)
                o.MaxBodyBytes = m;
        };
    }

    private static int Int(string text, string option, int min, int max, string what = "a whole number") =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max
            ? v
            : throw new BackpropException($"{option}: expected {what} from {min.ToString(what == "a port number" ? "D" : "N0", CultureInfo.InvariantCulture)} to {max.ToString(what == "a port number" ? "D" : "N0", CultureInfo.InvariantCulture)}, got '{text}'.");

    private static double Number(string text, string option, double min, double max) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= min && v <= max
            ? v
            : throw new BackpropException($"{option}: expected a number from {min} to {max}, got '{text}'.");

    /// <summary>The default name: the file name without its extension(s), if it makes a valid name; otherwise "model".</summary>
    internal static string NameOf(string path)
    {
        string stem = Path.GetFileName(path);
        int dot = stem.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0)
            stem = stem[..dot];
        return ValidName().IsMatch(stem) ? stem : "model";
    }

    private static string CheckName(string name) =>
        ValidName().IsMatch(name) ? name : throw new BackpropException($"--name: expected 1 to 64 letters, digits, '.', '_' or '-', got '{name}'.");

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex ValidName();
}
