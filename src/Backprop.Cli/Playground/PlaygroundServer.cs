using System.Net;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Backprop.IO.Json;
using Backprop.Training;

namespace Backprop.Cli.Playground;

/// <summary>
/// The playground's web server: ASP.NET Core minimal APIs on Kestrel, bound to 127.0.0.1 only. Serves the page
/// (files embedded in this assembly) and a small JSON API whose every number comes from the engine.
/// </summary>
/// <remarks>
/// Binding to loopback is not enough on its own: any web page the user opens can make the browser send requests
/// to 127.0.0.1, and a page whose DNS name is rebound to 127.0.0.1 can even read the answers. So every request
/// must name this server in its Host header (a loopback name with the server's own port), a request that says
/// it comes from another origin is refused, and a POST must declare a JSON body (which a cross-site page cannot
/// send without the browser asking first, and this server never grants).
/// </remarks>
public static class PlaygroundServer
{
    /// <summary>Request bodies larger than this are refused (the largest real one, a seed state, is about 1 KB).</summary>
    public const int MaxBodyBytes = 64 * 1024;

    /// <summary>The host names a request may address the server by (with the server's port).</summary>
    public static readonly IReadOnlyList<string> HostNames = ["127.0.0.1", "localhost", "[::1]"];

    private static readonly Dictionary<string, string> ContentTypes = new()
    {
        [".html"] = "text/html; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".svg"] = "image/svg+xml",
    };

    /// <summary>
    /// Builds the server on 127.0.0.1:<paramref name="port"/> (0: any free port). <paramref name="configure"/>
    /// lets tests swap in the in-process test server. Requests must address the port their connection arrived
    /// on; where there is no connection (the in-process test server), <paramref name="port"/>.
    /// <paramref name="limits"/> bounds the computation (default <see cref="PlaygroundLimits.Default"/>).
    /// </summary>
    public static WebApplication Build(int port, Action<IWebHostBuilder>? configure = null, PlaygroundLimits? limits = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, port);
            k.Limits.MaxRequestBodySize = MaxBodyBytes;
        });
        configure?.Invoke(builder.WebHost);
        // Every answer is written through the one context; ASP.NET's own JSON (none today) would be too, never by reflection.
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolver = BackpropJson.Compact);
        builder.Services.AddSingleton<TrainingApi>();
        builder.Services.AddSingleton(_ => new HeavyWork(limits ?? PlaygroundLimits.Default));
        var app = builder.Build();
        Map(app, port);
        return app;
    }

    private static void Map(WebApplication app, int port)
    {
        // Whatever answers without a body (no route: 404, a route with other methods: 405, anything the server
        // itself refuses) gets a JSON error, so that no answer is ever empty.
        app.UseStatusCodePages(async pages =>
        {
            var context = pages.HttpContext;
            string allow = context.Response.Headers.Allow.ToString();
            string message = context.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => $"no such resource: {context.Request.Method} {Quote(context.Request.Path.Value)}.",
                StatusCodes.Status405MethodNotAllowed => $"{Quote(context.Request.Method)} is not allowed on {Quote(context.Request.Path.Value)}; use {allow}.",
                int status => $"the request was refused (HTTP {status}).",
            };
            await context.Response.WriteAsJsonAsync(new PlaygroundError(message), BackpropJson.Compact.PlaygroundError, cancellationToken: context.RequestAborted);
        });
        app.Use(async (context, next) =>
        {
            // The page talks to nobody else: everything from this origin, nothing from outside.
            context.Response.Headers["Content-Security-Policy"] =
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
            context.Response.Headers["X-Content-Type-Options"] = "nosniff";
            context.Response.Headers["Cache-Control"] = "no-store";
            if (Refusal(context, context.Connection.LocalPort > 0 ? context.Connection.LocalPort : port) is { } refused)
            {
                context.Response.StatusCode = refused.Status;
                await context.Response.WriteAsJsonAsync(new PlaygroundError(refused.Message), BackpropJson.Compact.PlaygroundError, cancellationToken: context.RequestAborted);
                return;
            }
            try
            {
                await next(context);
            }
            catch (Exception e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                // A fault of the server, never of the request (those are answered where they are found): still JSON.
                context.Response.Clear();
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                await context.Response.WriteAsJsonAsync(new PlaygroundError($"internal error: {e.GetType().Name}: {e.Message}"), BackpropJson.Compact.PlaygroundError,
                    cancellationToken: context.RequestAborted);
            }
        });

        app.MapGet("/", () => Static("index.html"));
        app.MapGet("/static/{name}", (string name) => Static(name));

        app.MapGet("/api/seed/default", () => Handle(() => SeedApi.Describe(SeedApi.Default), BackpropJson.Compact.PlaygroundSeedState));
        // Heavy: computed on HeavyWork's slots. Light (the page, its files, the defaults, DELETE): at once.
        app.MapPost("/api/seed", (HttpContext context, HeavyWork heavy) => Heavy(context, heavy, (body, cancel) =>
        {
            var (state, steps, lang) = SeedApi.Parse(body);
            return SeedApi.Compute(state, steps, lang, cancel);
        }, BackpropJson.Compact.PlaygroundSeedAnswer));
        app.MapGet("/api/train/options", () => Handle(() => new PlaygroundTrainOptions
        {
            Datasets = TrainingApi.Datasets,
            Activations = TrainingApi.ActivationNames,
            Optimizers = TrainingApi.Optimizers,
            MaxLayers = TrainingApi.MaxLayers,
            MaxUnits = TrainingApi.MaxUnits,
            MaxSamples = TrainingApi.MaxSamples,
            MaxStepsPerRequest = TrainingApi.MaxStepsPerRequest,
            MaxGrid = TrainingApi.MaxGrid,
            LearningRates = TrainingApi.Optimizers.ToDictionary(o => o, TrainingDefaults.PlaygroundLearningRate),
            BatchSize = TrainingDefaults.PlaygroundBatchSize,
        }, BackpropJson.Compact.PlaygroundTrainOptions));
        app.MapPost("/api/train", (HttpContext context, TrainingApi api, HeavyWork heavy) =>
            Heavy(context, heavy, (body, _) => api.Create(body), BackpropJson.Compact.PlaygroundTrainCreated));
        app.MapPost("/api/train/{id}/step", (HttpContext context, string id, TrainingApi api, HeavyWork heavy) =>
            Heavy(context, heavy, (body, cancel) => api.Step(id, body, cancel), BackpropJson.Compact.PlaygroundTrainStatus));
        app.MapDelete("/api/train/{id}", (string id, TrainingApi api) => Handle(() =>
            api.Delete(id) ? new PlaygroundDeleted(id) : throw new PlaygroundNotFoundException($"no training run '{id}'."), BackpropJson.Compact.PlaygroundDeleted));
    }

    /// <summary>Why a request is refused before it is routed, or null: the Host, the Origin, a POST's content type.</summary>
    internal static (int Status, string Message)? Refusal(HttpContext context, int port)
    {
        var request = context.Request;
        var host = request.Host;
        if (!host.HasValue || !HostNames.Contains(host.Host, StringComparer.OrdinalIgnoreCase) || (host.Port ?? 80) != port)
            return (StatusCodes.Status421MisdirectedRequest,
                $"the Host header {Quote(host.Value)} does not name this server; open http://127.0.0.1:{port}/ " +
                $"(or localhost:{port}, [::1]:{port}). Other names are refused so that no other site can reach the playground through its own name.");

        // A browser sends Origin on every cross-origin request and on same-origin ones other than GET and HEAD:
        // absent, or this very origin (scheme, the name the request used, the port), or refused.
        var origins = request.Headers.Origin;
        if (origins.Count > 0)
        {
            string origin = string.Join(", ", origins.ToArray());
            string own = $"http://{host.Host}:{port}";
            if (origins.Count > 1 || !(string.Equals(origin, own, StringComparison.OrdinalIgnoreCase)
                || (port == 80 && string.Equals(origin, $"http://{host.Host}", StringComparison.OrdinalIgnoreCase))))
                return (StatusCodes.Status403Forbidden,
                    $"the request comes from another origin (Origin {Quote(origin)}); the playground answers only its own page at {own}.");
        }

        if (HttpMethods.IsPost(request.Method) && !IsJson(request.ContentType))
            return (StatusCodes.Status415UnsupportedMediaType,
                $"a POST body must be JSON sent as Content-Type: application/json (UTF-8); got {Quote(request.ContentType ?? "no Content-Type")}.");
        return null;
    }

    private static bool IsJson(string? contentType) =>
        System.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var type)
        && string.Equals(type.MediaType, "application/json", StringComparison.OrdinalIgnoreCase)
        && (type.CharSet is null || string.Equals(type.CharSet.Trim('"'), "utf-8", StringComparison.OrdinalIgnoreCase));

    /// <summary>A request value quoted for a message, cut at 60 characters.</summary>
    private static string Quote(string? value) =>
        "'" + (value is null ? "" : value.Length > 60 ? value[..60] + "..." : value) + "'";

    private static IResult Static(string name)
    {
        if (!ContentTypes.TryGetValue(Path.GetExtension(name), out var type))
            return Error(StatusCodes.Status404NotFound, $"no such file: {name}");
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Playground/" + name);
        if (stream is null)
            return Error(StatusCodes.Status404NotFound, $"no such file: {name}");
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return Results.Bytes(memory.ToArray(), type);
    }

    /// <summary>
    /// Reads the body here, then computes on one of <paramref name="heavy"/>'s slots: a slow client holds no slot
    /// while its body arrives, and the answer is serialized on the slot, so it holds none while the answer leaves.
    /// </summary>
    private static async Task<IResult> Heavy<T>(HttpContext context, HeavyWork heavy, Func<JsonElement, CancellationToken, T> handler, JsonTypeInfo<T> answer)
    {
        var (document, refused) = await ReadBody(context);
        if (refused is not null)
            return refused;
        using (document)
        {
            try
            {
                byte[] bytes = await heavy.Run(cancel => Serialize(handler(document!.RootElement, cancel), answer), context.RequestAborted);
                return Results.Bytes(bytes, "application/json; charset=utf-8");
            }
            catch (PlaygroundBusyException e)
            {
                context.Response.Headers.RetryAfter = HeavyWork.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Error(StatusCodes.Status503ServiceUnavailable, e.Message);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                return Results.Empty; // the client has gone; nobody reads this
            }
            catch (Exception e) when (Failure(e) is { } failure)
            {
                return failure;
            }
        }
    }

    /// <summary>The body as a JSON document, or the 4xx answer saying why it is not one.</summary>
    private static async Task<(JsonDocument? Document, IResult? Refused)> ReadBody(HttpContext context)
    {
        byte[] body;
        try
        {
            if (context.Request.ContentLength > MaxBodyBytes)
                return (null, Error(StatusCodes.Status413PayloadTooLarge, $"request body too large; at most {MaxBodyBytes} bytes."));
            using var limited = new MemoryStream();
            var buffer = new byte[8192];
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                if (limited.Length + read > MaxBodyBytes)
                    return (null, Error(StatusCodes.Status413PayloadTooLarge, $"request body too large; at most {MaxBodyBytes} bytes."));
                limited.Write(buffer, 0, read);
            }
            body = limited.ToArray();
        }
        catch (BadHttpRequestException e)
        {
            return (null, Error(e.StatusCode, $"the request body could not be read: {e.Message}"));
        }
        if (body.Length == 0)
            return (null, Error(StatusCodes.Status400BadRequest, "expected a JSON object in the request body; it is empty."));
        // JSON is UTF-8 (RFC 8259); the parser checks only what it decodes, so check all of it first.
        if (!System.Text.Unicode.Utf8.IsValid(body))
            return (null, Error(StatusCodes.Status400BadRequest, "the request body is not valid UTF-8; JSON must be sent as UTF-8."));
        try
        {
            return (JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 8, AllowDuplicateProperties = false }), null);
        }
        catch (JsonException e)
        {
            return (null, Error(StatusCodes.Status400BadRequest, $"the request body is not valid JSON: {e.Message}"));
        }
    }

    /// <summary>Runs a handler and writes its answer, or the error it ran into, as JSON.</summary>
    private static IResult Handle<T>(Func<T> handler, JsonTypeInfo<T> answer)
    {
        try
        {
            return Results.Bytes(Serialize(handler(), answer), "application/json; charset=utf-8");
        }
        catch (Exception e) when (Failure(e) is { } failure)
        {
            return failure;
        }
    }

    /// <summary>The answer for an exception a handler throws; null for one that is a fault of the server.</summary>
    private static IResult? Failure(Exception e) => e switch
    {
        PlaygroundInputException or BackpropException => Error(StatusCodes.Status400BadRequest, e.Message),
        PlaygroundNotFoundException => Error(StatusCodes.Status404NotFound, e.Message),
        PlaygroundDivergedException => Error(StatusCodes.Status409Conflict, e.Message),
        PlaygroundNonFiniteException => Error(StatusCodes.Status422UnprocessableEntity, e.Message),
        ArgumentException or InvalidOperationException or ArithmeticException => Error(StatusCodes.Status500InternalServerError, $"internal error: {e.Message}"),
        _ => null,
    };

    /// <summary>
    /// The answer as UTF-8 JSON through the one context (compact: one line), written here rather than after the
    /// handler returns, so that a number JSON cannot hold (NaN, infinity) is an error this server answers (422), not an
    /// exception in the middle of a response.
    /// </summary>
    internal static byte[] Serialize<T>(T value, JsonTypeInfo<T> answer)
    {
        try
        {
            return JsonSerializer.SerializeToUtf8Bytes(value, answer);
        }
        catch (NonFiniteNumberException)
        {
            throw new PlaygroundNonFiniteException(
                "the computation produced a number that is not finite (NaN or infinity); lower the learning rate or the size of the values.");
        }
    }

    private static IResult Error(int status, string message) =>
        Results.Json(new PlaygroundError(message), BackpropJson.Compact.PlaygroundError, statusCode: status);
}
