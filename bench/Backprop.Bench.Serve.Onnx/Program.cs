using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using Microsoft.Extensions.Hosting;
using SessionOptions = Microsoft.ML.OnnxRuntime.SessionOptions;

// The ONNX Runtime peer: POST /predict with one record (or an array of records) by column name, the same JSON
// answer as `backprop serve` ({"model", "predictions": [{"class", "probabilities"}]}), one InferenceSession.Run
// per request (ONNX Runtime's sessions are safe to run concurrently), the preprocessing inside the ONNX graph.
// Usage: Backprop.Bench.Serve.Onnx --model model.onnx --columns a,b,c --classes x,y,z [--port N] [--intra-op-threads N]
string Arg(string name, string? fallback = null)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback ?? throw new ArgumentException($"{name} is required");
}

string modelPath = Arg("--model");
string[] columns = Arg("--columns").Split(',');
string[] classes = Arg("--classes").Split(',');
int port = int.Parse(Arg("--port", "0"), CultureInfo.InvariantCulture);
int intraOp = int.Parse(Arg("--intra-op-threads", "1"), CultureInfo.InvariantCulture);
var index = columns.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);

using var sessionOptions = new SessionOptions
{
    IntraOpNumThreads = intraOp,
    InterOpNumThreads = 1,
    ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
    GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
};
using var session = new InferenceSession(modelPath, sessionOptions);
using var runOptions = new RunOptions();
string inputName = session.InputMetadata.Keys.Single(), outputName = session.OutputMetadata.Keys.Single();
var encodedClasses = classes.Select(c => JsonEncodedText.Encode(c)).ToArray();

var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k =>
{
    k.AddServerHeader = false;
    k.Listen(IPAddress.Loopback, port);
    k.Limits.MaxRequestBodySize = 4 << 20;
});
var app = builder.Build();

app.MapPost("/predict", async (HttpContext context) =>
{
    List<Dictionary<string, float>> records;
    try
    {
        var document = await JsonSerializer.DeserializeAsync(context.Request.Body, PeerJson.Default.JsonElement, context.RequestAborted);
        records = document.ValueKind == JsonValueKind.Array
            ? document.Deserialize(PeerJson.Default.ListDictionaryStringSingle)!
            : [document.Deserialize(PeerJson.Default.DictionaryStringSingle)!];
    }
    catch (JsonException e)
    {
        context.Response.StatusCode = 400;
        await context.Response.WriteAsJsonAsync(new Error(e.Message), PeerJson.Default.Error);
        return;
    }
    int rows = records.Count, features = columns.Length;
    var input = new float[rows * features];
    for (int r = 0; r < rows; r++)
        foreach (var (name, value) in records[r])
        {
            if (!index.TryGetValue(name, out int i))
            {
                context.Response.StatusCode = 400;
                await context.Response.WriteAsJsonAsync(new Error($"unknown column {name}"), PeerJson.Default.Error);
                return;
            }
            input[r * features + i] = value;
        }
    using var tensor = OrtValue.CreateTensorValueFromMemory(input, [rows, features]);
    using var results = session.Run(runOptions, [inputName], [tensor], [outputName]);
    var output = results[0].GetTensorDataAsSpan<float>().ToArray();

    var buffer = new ArrayBufferWriter<byte>(256);
    using (var json = new Utf8JsonWriter(buffer))
    {
        json.WriteStartObject();
        json.WriteString("model", "onnx");
        json.WriteStartArray("predictions");
        int outs = output.Length / rows;
        for (int r = 0; r < rows; r++)
        {
            var y = output.AsSpan(r * outs, outs);
            int best = 0;
            for (int c = 1; c < y.Length; c++)
                if (y[c] > y[best])
                    best = c;
            json.WriteStartObject();
            json.WriteString("class", encodedClasses[best]);
            json.WriteStartObject("probabilities");
            for (int c = 0; c < y.Length; c++)
                json.WriteNumber(encodedClasses[c], y[c]);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }
    context.Response.ContentType = "application/json; charset=utf-8";
    context.Response.ContentLength = buffer.WrittenCount;
    await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
});
app.MapGet("/health", () => "ok");

await app.StartAsync();
string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
Console.WriteLine($"ONNX Runtime {typeof(InferenceSession).Assembly.GetName().Version} serving {Path.GetFileName(modelPath)} on {address}/ (intra-op threads {intraOp})");
await app.WaitForShutdownAsync();

internal sealed record Error([property: JsonPropertyName("error")] string Message);

[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(Dictionary<string, float>))]
[JsonSerializable(typeof(List<Dictionary<string, float>>))]
[JsonSerializable(typeof(Error))]
internal sealed partial class PeerJson : JsonSerializerContext;
