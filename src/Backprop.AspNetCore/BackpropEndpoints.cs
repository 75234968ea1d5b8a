using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Backprop.AspNetCore;

/// <summary>
/// The serving endpoints for a registered model: <c>POST /predict</c>, <c>GET /model</c>, <c>GET /health</c> (and
/// <c>/health/live</c>, <c>/health/ready</c>), <c>GET /metrics</c>. Every answer is JSON (the metrics: Prometheus
/// text); every refused request gets a 4xx JSON error naming the field, never a 500.
/// </summary>
public static class BackpropEndpoints
{
    /// <summary>The media type of <c>GET /metrics</c> (the Prometheus text format).</summary>
    public const string MetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

    private const string Json = "application/json; charset=utf-8";

    private static readonly JsonEncodedText ModelField = JsonEncodedText.Encode("model"), VersionField = JsonEncodedText.Encode("model_version"),
        PredictionsField = JsonEncodedText.Encode("predictions"), ClassField = JsonEncodedText.Encode("class"),
        ProbabilitiesField = JsonEncodedText.Encode("probabilities"), ValuesField = JsonEncodedText.Encode("values");

    /// <summary>
    /// Maps the endpoints under <paramref name="prefix"/> (e.g. <c>"/iris"</c>; default: the root) for the model
    /// registered as <paramref name="modelName"/> (default: the first registered). Requests never name a file:
    /// the model is the one registered, its file fixed at registration.
    /// </summary>
    public static RouteGroupBuilder MapBackpropEndpoints(this IEndpointRouteBuilder endpoints, string? modelName = null, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(prefix);
        var services = endpoints.ServiceProvider;
        var models = services.GetService<BackpropModels>()
            ?? throw new InvalidOperationException("no Backprop model is registered: call services.AddBackpropModel(name, path) first.");
        string name = modelName ?? models.Names[0];
        _ = models.Names.Contains(name, StringComparer.Ordinal) ? name
            : throw new KeyNotFoundException($"no model named '{name}' is registered; the models are {string.Join(", ", models.Names.Select(n => $"'{n}'"))}.");
        var metrics = services.GetRequiredService<ServingMetrics>();
        var log = services.GetService<ILoggerFactory>()?.CreateLogger("Backprop.AspNetCore.Endpoints");
        prefix = prefix.TrimEnd('/');
        var group = endpoints.MapGroup(prefix);
        // Resolved at the first request, once (the model is loaded then if the host has not loaded it yet).
        var predictor = new Lazy<BackpropPredictor>(() => models.Get(name), LazyThreadSafetyMode.PublicationOnly);
        string tag = $"model '{name}'";

        string predictRoute = prefix + "/predict";
        group.MapPost("/predict", Handler(context => Predict(context, predictor.Value, metrics, predictRoute, log)))
            .WithName(Id(name, "predict"))
            .WithTags(tag)
            .WithSummary("Predict one record or many")
            .WithDescription("The body is one record (a JSON object: column name to raw number), an array of records (objects, or arrays of numbers in the " +
                             "model's input order), or CSV with a header line naming the columns. The model's pipeline (column order, preprocessing) is " +
                             "applied; the target and dropped columns of the training file are ignored, any other column is refused. Concurrent requests " +
                             "are micro-batched into one forward pass; every record of a response is computed by the one model version it names.")
            .Produces(StatusCodes.Status200OK, typeof(PredictResponse), "application/json")
            .Produces(StatusCodes.Status400BadRequest, typeof(ErrorResponse), "application/json")
            .Produces(StatusCodes.Status413PayloadTooLarge, typeof(ErrorResponse), "application/json")
            .Produces(StatusCodes.Status415UnsupportedMediaType, typeof(ErrorResponse), "application/json")
            .Produces(StatusCodes.Status503ServiceUnavailable, typeof(ErrorResponse), "application/json");

        string modelRoute = prefix + "/model";
        group.MapGet("/model", Handler(context => Info(context, predictor.Value, metrics, modelRoute)))
            .WithName(Id(name, "model")).WithTags(tag)
            .WithSummary("The model served: schema, classes, metrics, version, file hash, reloads, limits")
            .Produces(StatusCodes.Status200OK, typeof(ModelInfoResponse), "application/json")
            .Produces(StatusCodes.Status503ServiceUnavailable, typeof(ErrorResponse), "application/json");

        foreach (var (route, kind) in new[] { ("/health", "both"), ("/health/live", "live"), ("/health/ready", "ready") })
        {
            string label = prefix + route;
            group.MapGet(route, Handler(context => Health(context, predictor.Value, metrics, label, kind)))
                .WithName(Id(name, route.Trim('/').Replace('/', '-'))).WithTags(tag)
                .WithSummary(kind switch
                {
                    "live" => "Liveness: 200 while the process serves",
                    "ready" => "Readiness: 200 when a model is loaded, 503 before",
                    _ => "Liveness and readiness: 200 when a model is loaded, 503 before",
                })
                .Produces(StatusCodes.Status200OK, typeof(HealthResponse), "application/json")
                .Produces(StatusCodes.Status503ServiceUnavailable, typeof(HealthResponse), "application/json");
        }

        string metricsRoute = prefix + "/metrics";
        group.MapGet("/metrics", Handler(context => Metrics(context, models, metrics, metricsRoute)))
            .WithName(Id(name, "metrics")).WithTags(tag)
            .WithSummary("Counters in the Prometheus text format: requests, errors, latency, records, batch sizes, reloads")
            .Produces(StatusCodes.Status200OK, typeof(string), "text/plain");
        return group;
    }

    private static string Id(string model, string what) => $"{model}-{what}";

    /// <summary>
    /// A handler as a <see cref="Delegate"/> (not a <see cref="RequestDelegate"/>), so that the endpoint appears in the
    /// OpenAPI document; it still takes the HttpContext and writes the answer itself.
    /// </summary>
    private static Delegate Handler(Func<HttpContext, Task> handler) => handler;

    /// <summary>Response metadata for the OpenAPI document (the handlers are plain request delegates, which carry none).</summary>
    private static TBuilder Produces<TBuilder>(this TBuilder builder, int status, Type type, string contentType) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ProducesResponseTypeMetadata(status, type, [contentType]));

    // ---- POST /predict ---------------------------------------------------------------------------------------

    private static async Task Predict(HttpContext context, BackpropPredictor predictor, ServingMetrics metrics, string route, ILogger? log)
    {
        long start = Stopwatch.GetTimestamp();
        int status = StatusCodes.Status200OK;
        byte[]? body = null;
        RequestReader.Parsed parsed = default;
        try
        {
            var request = context.Request;
            if (request.Query.Count > 0)
            {
                string first = request.Query.Keys.First();
                throw new ServingRequestException(
                    $"/predict takes no query parameters; got '{Cut(first)}'. Send the records in the body (the model is fixed by the server).", first);
            }
            bool csv = ContentKind(request.ContentType);
            var options = predictor.Options;
            var version = predictor.RequireCurrent();
            int length;
            (body, length) = await ReadBody(context, options.MaxBodyBytes).ConfigureAwait(false);
            parsed = csv
                ? RequestReader.Csv(body.AsSpan(0, length), version, options)
                : RequestReader.Json(body.AsSpan(0, length), version, options);
            ArrayPool<byte>.Shared.Return(body);
            body = null;
            var outputs = await predictor.RunAsync(version, parsed.Rows, parsed.Count).ConfigureAwait(false);
            await WritePredictions(context, predictor.Name, version, outputs, parsed.Count).ConfigureAwait(false);
        }
        catch (Exception e) when (Refusal(context, e, log) is { } refused)
        {
            status = refused.Status;
            if (!context.RequestAborted.IsCancellationRequested)
                await WriteError(context, refused.Status, refused.Message, refused.Field).ConfigureAwait(false);
        }
        finally
        {
            if (body is not null)
                ArrayPool<byte>.Shared.Return(body);
            if (parsed.Rows is not null)
                parsed.Return();
            metrics.Request(route, status, start);
        }
    }

    /// <summary>True for CSV, false for JSON; a 415 for anything else.</summary>
    private static bool ContentKind(string? contentType)
    {
        // The common spellings without the header parser, which allocates.
        if (contentType is "application/json" or "application/json; charset=utf-8")
            return false;
        if (contentType is "text/csv" or "text/csv; charset=utf-8")
            return true;
        if (contentType is null || !System.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var type))
            throw new ServingRequestException(
                $"send the records as Content-Type: application/json or text/csv (UTF-8); got {(contentType is null ? "no Content-Type" : $"'{Cut(contentType)}'")}.",
                "Content-Type", StatusCodes.Status415UnsupportedMediaType);
        if (type.CharSet is { } charset && !string.Equals(charset.Trim('"'), "utf-8", StringComparison.OrdinalIgnoreCase))
            throw new ServingRequestException($"the body must be UTF-8; got charset '{Cut(charset)}'.", "Content-Type", StatusCodes.Status415UnsupportedMediaType);
        if (string.Equals(type.MediaType, "application/json", StringComparison.OrdinalIgnoreCase))
            return false;
        if (string.Equals(type.MediaType, "text/csv", StringComparison.OrdinalIgnoreCase))
            return true;
        throw new ServingRequestException($"send the records as Content-Type: application/json or text/csv; got '{Cut(type.MediaType ?? contentType)}'.",
            "Content-Type", StatusCodes.Status415UnsupportedMediaType);
    }

    /// <summary>
    /// Past the body limit, up to this many more bytes are read and dropped before the 413 is answered, so that a
    /// client still sending hears the answer instead of a reset connection; beyond it the connection is dropped.
    /// </summary>
    public const int DrainBytes = 1 << 20;

    /// <summary>The whole body in a pooled buffer, counted against <paramref name="max"/> as it arrives (413 past it).</summary>
    private static async Task<(byte[] Buffer, int Length)> ReadBody(HttpContext context, int max)
    {
        var request = context.Request;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = (long)max + DrainBytes;
        if (request.ContentLength > max)
        {
            if (request.ContentLength <= (long)max + DrainBytes)
                await Drain(context).ConfigureAwait(false);
            throw TooLarge(max);
        }
        var pool = ArrayPool<byte>.Shared;
        var buffer = pool.Rent((int)Math.Min(request.ContentLength ?? 4096, max) + 1);
        int length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > max)
                        throw TooLarge(max);
                    var grown = pool.Rent(Math.Min(buffer.Length * 2, max + 1));
                    buffer.AsSpan(0, length).CopyTo(grown);
                    pool.Return(buffer);
                    buffer = grown;
                }
                int n = await request.Body.ReadAsync(buffer.AsMemory(length), context.RequestAborted).ConfigureAwait(false);
                if (n == 0)
                    break;
                length += n;
                if (length > max)
                {
                    await Drain(context).ConfigureAwait(false);
                    throw TooLarge(max);
                }
            }
            return (buffer, length);
        }
        catch
        {
            pool.Return(buffer);
            throw;
        }
    }

    /// <summary>Reads and drops the rest of the body (bounded by the request's size limit, which Kestrel enforces).</summary>
    private static async Task Drain(HttpContext context)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (await context.Request.Body.ReadAsync(scratch, context.RequestAborted).ConfigureAwait(false) > 0)
            {
            }
        }
        catch (BadHttpRequestException)
        {
            // Past the drain allowance too: Kestrel closes the connection after the answer.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private static ServingRequestException TooLarge(int max) =>
        new($"the request body is larger than {max:N0} bytes, the most this server takes; send fewer records per request.", "body",
            StatusCodes.Status413PayloadTooLarge);

    /// <summary>Per thread: the answer is written here, then copied into the response before any await.</summary>
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_json;

    private static Task WritePredictions(HttpContext context, string model, ModelVersion version, double[] outputs, int count)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(4096);
        buffer.ResetWrittenCount();
        var json = t_json ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true });
        json.Reset(buffer);
        json.WriteStartObject();
        json.WriteString(ModelField, model);
        json.WriteNumber(VersionField, version.Number);
        json.WriteStartArray(PredictionsField);
        int outs = version.Outputs;
        Span<double> p = stackalloc double[version.IsClassifier ? version.ClassNames.Length : 0];
        for (int r = 0; r < count; r++)
        {
            var y = outputs.AsSpan(r * outs, outs);
            json.WriteStartObject();
            if (version.IsClassifier)
            {
                Data.ClassRule.Probabilities<double>(y, p);
                json.WriteString(ClassField, version.ClassNames[Data.ClassRule.Predict<double>(y)]);
                json.WriteStartObject(ProbabilitiesField);
                for (int c = 0; c < p.Length; c++)
                    json.WriteNumber(version.ClassNames[c], (float)p[c]); // the network computes in float32: each value as the float it is
                json.WriteEndObject();
            }
            else
            {
                json.WriteStartArray(ValuesField);
                foreach (double v in y)
                    json.WriteNumberValue((float)v);
                json.WriteEndArray();
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
        json.Flush();
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = Json;
        response.ContentLength = buffer.WrittenCount;
        response.BodyWriter.Write(buffer.WrittenSpan); // copied now, so the thread's buffer is free again
        if (buffer.Capacity > 1 << 20)
        {
            t_buffer = null; // a huge answer's buffer is not kept
            t_json = null;
        }
        return response.BodyWriter.FlushAsync(context.RequestAborted).AsTask();
    }

    // ---- GET /model, /health, /metrics -----------------------------------------------------------------------

    private static async Task Info(HttpContext context, BackpropPredictor predictor, ServingMetrics metrics, string route)
    {
        long start = Stopwatch.GetTimestamp();
        int status = StatusCodes.Status200OK;
        try
        {
            if (predictor.Current is not { } version)
            {
                status = StatusCodes.Status503ServiceUnavailable;
                context.Response.Headers.RetryAfter = ServingUnavailableException.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                await WriteError(context, status, predictor.RequireCurrentMessage(), null).ConfigureAwait(false);
                return;
            }
            await Write(context, status, ModelInfoResponse.From(predictor, version), Serializer.ModelInfoResponse).ConfigureAwait(false);
        }
        finally
        {
            metrics.Request(route, status, start);
        }
    }

    private static async Task Health(HttpContext context, BackpropPredictor predictor, ServingMetrics metrics, string route, string kind)
    {
        long start = Stopwatch.GetTimestamp();
        var current = predictor.Current;
        bool ready = current is not null;
        int status = kind == "live" || ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        try
        {
            var answer = new HealthResponse(ready ? "ok" : "not_ready", Live: true, ready, predictor.Name, current?.Number, predictor.LastError);
            await Write(context, status, answer, Serializer.HealthResponse).ConfigureAwait(false);
        }
        finally
        {
            metrics.Request(route, status, start);
        }
    }

    private static async Task Metrics(HttpContext context, BackpropModels models, ServingMetrics metrics, string route)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            context.Response.ContentType = MetricsContentType;
            await context.Response.WriteAsync(metrics.Write(models.All), context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            metrics.Request(route, StatusCodes.Status200OK, start);
        }
    }

    // ---- Errors ----------------------------------------------------------------------------------------------

    /// <summary>The status, message and field for an exception; null for a client that has gone (nothing to answer).</summary>
    internal static (int Status, string Message, string? Field)? Refusal(HttpContext context, Exception e, ILogger? log)
    {
        switch (e)
        {
            case ServingRequestException r:
                return (r.Status, r.Message, r.Field);
            case ServingUnavailableException u:
                context.Response.Headers.RetryAfter = ServingUnavailableException.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return (StatusCodes.Status503ServiceUnavailable, u.Message, null);
            case BadHttpRequestException b:
                // Kestrel's own refusals while the body arrives: too large (413), too slow (408), malformed chunks (400).
                int status = b.StatusCode is >= 400 and < 500 ? b.StatusCode : StatusCodes.Status400BadRequest;
                return (status, status == StatusCodes.Status413PayloadTooLarge
                    ? "the request body is larger than the server takes; send fewer records per request."
                    : $"the request body could not be read: {b.Message}", "body");
            case OperationCanceledException when context.RequestAborted.IsCancellationRequested:
                return (499, "the client closed the connection.", null); // counted; nothing is written
            case IOException when context.RequestAborted.IsCancellationRequested:
                return (499, "the client closed the connection.", null);
            case BackpropException b:
                // A model-level refusal of the data (e.g. a value the pipeline cannot take): the request's fault.
                return (StatusCodes.Status400BadRequest, b.Message, null);
            default:
                log?.LogError(e, "internal error while predicting");
                return (StatusCodes.Status500InternalServerError, $"internal error: {e.GetType().Name}: {e.Message}", null);
        }
    }

    internal static Task WriteError(HttpContext context, int status, string message, string? field) =>
        Write(context, status, new ErrorResponse(message, field), Serializer.ErrorResponse);

    /// <summary>The answers' serializer: non-ASCII and '&lt;', '&gt;' written as they are (the answers are JSON, sent with nosniff, never HTML).</summary>
    private static readonly ServingJson Serializer = new(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    private static async Task Write<T>(HttpContext context, int status, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        var response = context.Response;
        if (response.HasStarted)
            return;
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(value, type);
        response.StatusCode = status;
        response.ContentType = Json;
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }

    private static string Cut(string value) => value.Length > 60 ? value[..60] + "..." : value;
}
