using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Backprop.AspNetCore;

/// <summary>What <see cref="BackpropServer.Build"/> serves, where, and how.</summary>
public sealed class BackpropServerOptions
{
    /// <summary>The model file (required).</summary>
    public required string ModelPath { get; init; }

    /// <summary>The model's name in answers and metrics (default "model").</summary>
    public string ModelName { get; init; } = "model";

    /// <summary>The address to listen on (default 127.0.0.1: this machine only). "localhost" means 127.0.0.1.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The port (default 5078; 0 picks a free one).</summary>
    public int Port { get; init; } = 5078;

    /// <summary>Reload the model when its file changes (default true).</summary>
    public bool Watch { get; init; } = true;

    /// <summary>Sets the model's other options (batching, limits, the watcher's timings).</summary>
    public Action<BackpropModelOptions>? Configure { get; init; }

    /// <summary>How long a stop (Ctrl+C, SIGTERM) waits for the requests in flight to finish (default 15 s).</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Log model loads, swaps and refusals (and the server's warnings) to standard error (default true).</summary>
    public bool LogToConsole { get; init; } = true;
}

/// <summary>
/// A standalone model server (what <c>backprop serve</c> runs): Kestrel on one address, the model registered with
/// <c>AddBackpropModel</c>, its endpoints, <c>/openapi.json</c>, and the guards a server reachable from a browser needs.
/// </summary>
/// <remarks>
/// <para>Bound to a loopback address (the default), a request must name the server as a loopback name with the
/// server's own port in its Host header (127.0.0.1, localhost or [::1]): a web page whose DNS name is rebound to
/// 127.0.0.1 sends its own name and is refused (421). On any address, a request that says it comes from a web
/// origin other than the server's own (an Origin header) is refused (403), and <c>/predict</c> takes only
/// <c>application/json</c> and <c>text/csv</c> bodies, which a cross-site page cannot send without a preflight that
/// this server never grants. No CORS headers are sent.</para>
/// <para>Bounded: body size, records per request, queued rows, header and body timeouts, connections. Stopping
/// (SIGTERM, Ctrl+C) stops accepting connections and finishes the requests in flight before the process exits.</para>
/// </remarks>
public static class BackpropServer
{
    /// <summary>The host names a request may use when the server is bound to loopback.</summary>
    public static readonly IReadOnlyList<string> LoopbackNames = ["127.0.0.1", "localhost", "[::1]"];

    /// <summary>Connections open at once, at most.</summary>
    public const int MaxConnections = 4096;

    /// <summary>The address to listen on for <paramref name="host"/>, or an error naming what was expected.</summary>
    /// <exception cref="BackpropException">Not an IP address or "localhost".</exception>
    public static IPAddress ParseHost(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
            return IPAddress.Loopback;
        string bare = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        if (IPAddress.TryParse(bare, out var address))
            return address;
        throw new BackpropException($"--host: expected an IP address to listen on (127.0.0.1, ::1, 0.0.0.0, a local address) or localhost; got '{host}'.");
    }

    /// <summary>
    /// Builds the server (not started). The model file is loaded when it starts; a missing or broken file fails the
    /// start with a <see cref="BackpropException"/> naming the file. <paramref name="configure"/> adds to the host (tests).
    /// </summary>
    public static WebApplication Build(BackpropServerOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var address = ParseHost(options.Host);
        if (options.Port is < 0 or > 65535)
            throw new BackpropException($"--port: expected a port number from 0 to 65535, got {options.Port}.");
        var model = new BackpropModelOptions { Watch = options.Watch };
        options.Configure?.Invoke(model);
        model.Validate();

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        builder.Logging.ClearProviders();
        if (options.LogToConsole)
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
            // Not even errors per request: with this category enabled, hosting opens a log scope and an Activity for
            // every request, which costs more than the forward pass (Kestrel's own errors still log).
            builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
            builder.Logging.AddFilter("Backprop", LogLevel.Information);
        }
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(address, options.Port);
            k.Limits.MaxRequestBodySize = (long)model.MaxBodyBytes + BackpropEndpoints.DrainBytes;
            k.Limits.MaxConcurrentConnections = MaxConnections;
            k.Limits.MaxConcurrentUpgradedConnections = 0;
            k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            k.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(60);
            k.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            k.Limits.MaxRequestLineSize = 4 * 1024;
        });
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = options.ShutdownTimeout);
        builder.Services.AddBackpropModel(options.ModelName, options.ModelPath, options.Watch, o =>
        {
            o.Watch = options.Watch;
            options.Configure?.Invoke(o);
        });
        builder.Services.AddOpenApi("v1", o => BackpropOpenApi.Describe(o, options.ModelName));
        configure?.Invoke(builder);

        var app = builder.Build();
        var metrics = app.Services.GetRequiredService<ServingMetrics>();
        bool loopback = IPAddress.IsLoopback(address);
        app.UseStatusCodePages(async pages =>
        {
            var context = pages.HttpContext;
            string allow = context.Response.Headers.Allow.ToString();
            string message = context.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => $"no such resource: {context.Request.Method} {Cut(context.Request.Path.Value)}; see GET /openapi.json for the endpoints.",
                StatusCodes.Status405MethodNotAllowed => $"{Cut(context.Request.Method)} is not allowed on {Cut(context.Request.Path.Value)}; use {allow}.",
                int status => $"the request was refused (HTTP {status}).",
            };
            await BackpropEndpoints.WriteError(context, context.Response.StatusCode, message, context.Response.StatusCode == 405 ? "method" : "path");
        });
        app.Use(async (context, next) =>
        {
            long start = Stopwatch.GetTimestamp();
            var endpoint = context.GetEndpoint();
            bool ours = endpoint is RouteEndpoint { RoutePattern.RawText: { } pattern } && BackpropEndpointNames.Contains(pattern);
            context.Response.Headers.XContentTypeOptions = "nosniff";
            context.Response.Headers.CacheControl = "no-store";
            if (Refusal(context, loopback) is { } refused)
            {
                await BackpropEndpoints.WriteError(context, refused.Status, refused.Message, refused.Field);
                metrics.Request(ours ? ((RouteEndpoint)endpoint!).RoutePattern.RawText! : "other", refused.Status, start);
                return;
            }
            try
            {
                await next(context);
            }
            catch (Exception e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                context.Response.Clear();
                await BackpropEndpoints.WriteError(context, StatusCodes.Status500InternalServerError, $"internal error: {e.GetType().Name}: {e.Message}", null);
            }
            if (!ours)
                metrics.Request(endpoint is RouteEndpoint r ? r.RoutePattern.RawText ?? "other" : "other", context.Response.StatusCode, start);
        });
        app.MapBackpropEndpoints(options.ModelName);
        app.MapOpenApi("/openapi.json");
        app.MapGet("/", () => Results.Json(new Dictionary<string, string>
        {
            ["model"] = options.ModelName,
            ["predict"] = "POST /predict",
            ["model_info"] = "GET /model",
            ["health"] = "GET /health, /health/live, /health/ready",
            ["metrics"] = "GET /metrics",
            ["openapi"] = "GET /openapi.json",
        }));
        return app;
    }

    /// <summary>The route patterns whose handlers count their own requests in the metrics.</summary>
    private static readonly HashSet<string> BackpropEndpointNames = ["/predict", "/model", "/health", "/health/live", "/health/ready", "/metrics"];

    /// <summary>Why a request is refused before it reaches an endpoint, or null: its Host (loopback binding) or its Origin.</summary>
    internal static (int Status, string Message, string Field)? Refusal(HttpContext context, bool loopback)
    {
        var request = context.Request;
        var host = request.Host;
        int port = context.Connection.LocalPort;
        if (loopback && (!host.HasValue || !LoopbackNames.Contains(host.Host, StringComparer.OrdinalIgnoreCase) || (host.Port ?? 80) != port))
            return (StatusCodes.Status421MisdirectedRequest,
                $"the Host header {Quote(host.Value)} does not name this server; use 127.0.0.1:{port} (or localhost:{port}, [::1]:{port}). " +
                "Other names are refused so that no web page can reach the server through a name of its own.", "Host");
        var origins = request.Headers.Origin;
        if (origins.Count > 0)
        {
            string origin = string.Join(", ", origins.ToArray());
            string own = $"{request.Scheme}://{host.Value}";
            if (origins.Count > 1 || !string.Equals(origin, own, StringComparison.OrdinalIgnoreCase))
                return (StatusCodes.Status403Forbidden,
                    $"the request comes from the web origin {Quote(origin)}; this server answers no web page but its own ({own}) and sends no CORS headers.", "Origin");
        }
        return null;
    }

    private static string Quote(string? value) => "'" + Cut(value) + "'";

    private static string Cut(string? value) => value is null ? "" : value.Length > 60 ? value[..60] + "..." : value;
}
