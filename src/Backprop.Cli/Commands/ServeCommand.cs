using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Backprop.AspNetCore;
using Backprop.Cli.Options;
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

    /// <summary>The command's options.</summary>
    public sealed class Settings
    {
        /// <summary>--model FILE.</summary>
        public required string Model { get; init; }

        /// <summary>--port N (0: a free port).</summary>
        public int Port { get; init; } = DefaultPort;

        /// <summary>--host ADDR.</summary>
        public string Host { get; init; } = "127.0.0.1";

        /// <summary>--name NAME (default: the file name without its extension).</summary>
        public string? Name { get; init; }

        /// <summary>False with --no-watch.</summary>
        public bool Watch { get; init; } = true;

        /// <summary>--max-batch ROWS.</summary>
        public int? MaxBatch { get; init; }

        /// <summary>--batch-delay MS.</summary>
        public double? BatchDelay { get; init; }

        /// <summary>--compute-lanes N.</summary>
        public int? ComputeLanes { get; init; }

        /// <summary>--max-records N.</summary>
        public int? MaxRecords { get; init; }

        /// <summary>--max-body-bytes BYTES.</summary>
        public int? MaxBodyBytes { get; init; }

        /// <summary>Checks every option's range and the model file, before the server starts.</summary>
        public void Validate()
        {
            Range("--port", Port, 0, 65535);
            Range("--max-batch", MaxBatch, 1, 65_536);
            Range("--compute-lanes", ComputeLanes, 1, 1024);
            Range("--max-records", MaxRecords, 1, 1_000_000);
            Range("--max-body-bytes", MaxBodyBytes, 1024, 1 << 30);
            if (BatchDelay is { } d && !(d >= 0 && d <= 100))
                throw new BackpropException($"--batch-delay: expected a number of milliseconds from 0 to 100, got {d.ToString(CultureInfo.InvariantCulture)}.");
            if (Name is { } n)
                CheckName(n);
            if (string.IsNullOrWhiteSpace(Host))
                throw new BackpropException("--host: expected an address such as 127.0.0.1 or 0.0.0.0.");
            FileChecks.Check([new("--model", Model)], []);
        }

        private static void Range(string option, int? value, int min, int max)
        {
            if (value is { } v && (v < min || v > max))
                throw new BackpropException($"{option}: expected a whole number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}, got {v.ToString(CultureInfo.InvariantCulture)}.");
        }
    }

    /// <summary>The command.</summary>
    public static Command Create(CliStreams streams)
    {
        var model = CommonOptions.Model("The model file to serve (reloaded when it changes).", required: true);
        var port = new Option<int?>("--port") { Description = $"Port (default {DefaultPort}; 0 picks a free one).", HelpName = "N" };
        var host = new Option<string?>("--host") { Description = "Address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for every interface).", HelpName = "ADDR" };
        var name = new Option<string?>("--name") { Description = "The model's name in answers and metrics (default: the file name without its extension).", HelpName = "NAME" };
        var noWatch = new Option<bool>("--no-watch") { Description = "Do not reload the model when its file changes." };
        var maxBatch = new Option<int?>("--max-batch") { Description = "Most rows in one forward pass of concurrent requests (default 256; 1 turns batching off).", HelpName = "ROWS" };
        var batchDelay = new Option<double?>("--batch-delay") { Description = "Longest wait for a batch to fill, in milliseconds (default 0: a batch is what queued during the previous one).", HelpName = "MS" };
        var lanes = new Option<int?>("--compute-lanes") { Description = "Forward passes that may run at once (default: the processor count); requests batch when all are busy.", HelpName = "N" };
        var maxRecords = new Option<int?>("--max-records") { Description = "Most records in one request (default 1000).", HelpName = "N" };
        var maxBody = new Option<int?>("--max-body-bytes") { Description = "Largest request body (default 4194304).", HelpName = "BYTES" };
        var command = new Command("serve",
            "Serve a model over HTTP: POST /predict (JSON records by column name, or CSV), GET /health, /model, /metrics (Prometheus), /openapi.json. " +
            "The model file is reloaded atomically when it changes; a broken file is refused and the old model keeps serving. Ctrl+C or SIGTERM " +
            "stops it after the requests in flight.");
        foreach (var option in new Option[] { model, port, host, name, noWatch, maxBatch, batchDelay, lanes, maxRecords, maxBody })
            command.Options.Add(option);
        command.SetAction(parse => App.Guard(streams, () =>
        {
            var s = new Settings
            {
                Model = parse.GetValue(model)!,
                Port = parse.GetValue(port) ?? DefaultPort,
                Host = parse.GetValue(host) ?? "127.0.0.1",
                Name = parse.GetValue(name),
                Watch = !parse.GetValue(noWatch),
                MaxBatch = parse.GetValue(maxBatch),
                BatchDelay = parse.GetValue(batchDelay),
                ComputeLanes = parse.GetValue(lanes),
                MaxRecords = parse.GetValue(maxRecords),
                MaxBodyBytes = parse.GetValue(maxBody),
            };
            s.Validate();
            return Run(s, streams.Out);
        }));
        return command;
    }

    private static int Run(Settings s, TextWriter output)
    {
        var options = new BackpropServerOptions
        {
            ModelPath = s.Model,
            ModelName = s.Name ?? NameOf(s.Model),
            Host = s.Host,
            Port = s.Port,
            Watch = s.Watch,
            Configure = o =>
            {
                if (s.MaxBatch is { } b)
                    o.MaxBatchRows = b;
                if (s.BatchDelay is { } d)
                    o.MaxBatchDelay = TimeSpan.FromMilliseconds(d);
                if (s.ComputeLanes is { } l)
                    o.ComputeLanes = l;
                if (s.MaxRecords is { } r)
                    o.MaxRecordsPerRequest = r;
                if (s.MaxBodyBytes is { } m)
                    o.MaxBodyBytes = m;
            },
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
        return ExitCodes.Success;
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

    /// <summary>The default name: the file name without its extension(s), if it makes a valid name; otherwise "model".</summary>
    internal static string NameOf(string path)
    {
        string stem = Path.GetFileName(path);
        int dot = stem.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0)
            stem = stem[..dot];
        return ValidName().IsMatch(stem) ? stem : "model";
    }

    internal static string CheckName(string name) =>
        ValidName().IsMatch(name) ? name : throw new BackpropException($"--name: expected 1 to 64 letters, digits, '.', '_' or '-', got '{name}'.");

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex ValidName();
}
