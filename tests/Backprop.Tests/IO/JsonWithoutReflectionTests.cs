using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Backprop.Cli.Playground;
using Backprop.Data;
using Backprop.Explain;
using Backprop.IO;
using Backprop.IO.Json;
using Backprop.Training;
using Microsoft.AspNetCore.TestHost;

namespace Backprop.Tests.IO;

/// <summary>
/// Every JSON surface of the library, and the playground, end to end: explain JSON, a model file with all its
/// sections, a checkpoint and its resumption, the ONNX export's class list, the playground's API. They pass here in
/// the test process, and <see cref="JsonReflectionSwitchTests"/> runs them again in a process where reflection-based
/// serialization is switched off (System.Text.Json.JsonSerializer.IsReflectionEnabledByDefault = false), as an
/// application that sets JsonSerializerIsReflectionEnabledByDefault, or is trimmed, runs them.
/// </summary>
public sealed class JsonWithoutReflectionTests : IDisposable
{
    /// <summary>Set by <see cref="JsonReflectionSwitchTests"/> for the process it starts.</summary>
    internal const string ChildVariable = "BACKPROP_JSON_WITHOUT_REFLECTION";

    private readonly string _dir = Directory.CreateTempSubdirectory("backprop-json-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ReflectionIsOffWhereThisClassIsRunForIt()
    {
        if (Environment.GetEnvironmentVariable(ChildVariable) == "1")
        {
            Assert.False(JsonSerializer.IsReflectionEnabledByDefault);
            // Proof that the switch bites: an anonymous object cannot be written at all.
            Assert.Throws<InvalidOperationException>(() => JsonSerializer.Serialize(new { reflection = true }));
        }
    }

    [Fact]
    public void ExplainJsonIsWrittenAndReadBack()
    {
        string text = ExplainJson.Serialize(Explainer.Seed(ExplainSettings.SeedDefault with { Order = Backprop.Nn.UpdateOrder.Sequential }));
        var doc = ExplainJson.Deserialize(text);
        Assert.Equal(6, doc.Errata!.Count);
        Assert.NotNull(doc.OrderComparison);
        Assert.Equal(2, ModelFile.Deserialize<double>(doc.Updated).Network.Layers.Count);
    }

    [Fact]
    public void AModelFileWithEverySectionACheckpointAndItsResumptionAndTheOnnxExport()
    {
        var data = SyntheticData.TwoMoons(40, 0.1, seed: 3);
        var model = Model.For(data).Preprocess(PreprocessingKind.Standardize).Dense(4, Backprop.Nn.Activation.Tanh).Build<double>(seed: 5);
        string checkpoint = Path.Combine(_dir, "run.checkpoint.json");
        model.Fit(data, new TrainingOptions { Epochs = 2, BatchSize = 8, Checkpoint = CheckpointFile.Every(checkpoint) }, TestContext.Current.CancellationToken);
        model.Metrics = new ModelMetrics { TrainingRows = data.Rows, TrainingLoss = 0.5, TrainingAccuracy = 0.75 };
        string path = Path.Combine(_dir, "moons.json");
        model.Save(path);

        var back = ModelFile.Load<double>(path);
        Assert.Equal(model.Schema.ClassNames, back.Schema.ClassNames);
        Assert.Equal(model.Preprocessing!.Offset, back.Preprocessing!.Offset);
        Assert.Equal(0.75, back.Metrics!.TrainingAccuracy);
        Assert.Equal(model.Predict(0.5, -0.25), back.Predict(0.5, -0.25));

        var saved = CheckpointFile.Read(checkpoint);
        Assert.Equal(2, saved.State.Epoch);
        var resumed = ModelFile.Load<double>(checkpoint);
        resumed.Fit(data, new TrainingOptions { Epochs = 3, BatchSize = 8, ResumeFrom = saved }, TestContext.Current.CancellationToken);
        Assert.Equal(3, resumed.Training.EpochsTrained);

        string onnx = Path.Combine(_dir, "moons.onnx");
        OnnxExport.Save(back, onnx);
        byte[] classes = JsonSerializer.SerializeToUtf8Bytes(back.Schema.ClassNames, BackpropJson.Compact.IReadOnlyListString);
        Assert.True(File.ReadAllBytes(onnx).AsSpan().IndexOf(classes) >= 0, "the ONNX file holds no class list");
    }

    [Fact]
    public async Task ThePlaygroundAnswersEveryEndpoint()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = PlaygroundServer.Build(5077, web => web.UseTestServer());
        await app.StartAsync(ct);
        using var client = app.GetTestClient();
        client.BaseAddress = new Uri("http://127.0.0.1:5077/");
        async Task<(HttpStatusCode, JsonNode)> Send(HttpMethod method, string url, string? body = null)
        {
            using var request = new HttpRequestMessage(method, url);
            if (body is not null)
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await client.SendAsync(request, ct);
            return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync(ct))!);
        }
        var (status, seed) = await Send(HttpMethod.Post, "/api/seed", """{"steps": 1}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, seed["loss_history"]!.AsArray().Count);
        (status, _) = await Send(HttpMethod.Get, "/api/seed/default");
        Assert.Equal(HttpStatusCode.OK, status);
        (status, _) = await Send(HttpMethod.Get, "/api/train/options");
        Assert.Equal(HttpStatusCode.OK, status);
        (status, var run) = await Send(HttpMethod.Post, "/api/train", """{"dataset": "blobs", "samples": 20}""");
        Assert.Equal(HttpStatusCode.OK, status);
        string id = (string)run["id"]!;
        (status, var step) = await Send(HttpMethod.Post, $"/api/train/{id}/step", """{"steps": 2, "grid": 3}""");
        Assert.Equal((HttpStatusCode.OK, 2L), (status, (long)step["steps_trained"]!));
        (status, _) = await Send(HttpMethod.Delete, $"/api/train/{id}");
        Assert.Equal(HttpStatusCode.OK, status);
        // The error answers of every layer: a handler's 400, the host check's 421, the status pages' 404 and 405.
        (status, var error) = await Send(HttpMethod.Post, "/api/seed", """{"stpes": 1}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("stpes", (string)error["error"]!);
        (status, _) = await Send(HttpMethod.Get, "/api/nothing");
        Assert.Equal(HttpStatusCode.NotFound, status);
        (status, _) = await Send(HttpMethod.Put, "/api/seed", "{}");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, status);
        client.DefaultRequestHeaders.Host = "rebound.example:5077";
        (status, _) = await Send(HttpMethod.Get, "/api/seed/default");
        Assert.Equal(HttpStatusCode.MisdirectedRequest, status);
    }
}

/// <summary>Runs <see cref="JsonWithoutReflectionTests"/> in a child process with reflection-based JSON switched off.</summary>
public sealed class JsonReflectionSwitchTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("backprop-noreflection-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task EveryJsonSurfaceWorksInAProcessWhereReflectionBasedSerializationIsOff()
    {
        // The library's csproj sets JsonSerializerIsReflectionEnabledByDefault=false, but a switch in a library's
        // project reaches no process (it goes into an application's runtimeconfig.json): this test makes one. It runs
        // this test assembly (an xunit v3 executable) again on a copy of its runtimeconfig with the switch off.
        string dll = typeof(JsonWithoutReflectionTests).Assembly.Location;
        string bin = Path.GetDirectoryName(dll)!;
        string name = Path.GetFileNameWithoutExtension(dll);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(bin, name + ".runtimeconfig.json")))!;
        config["runtimeOptions"]!["configProperties"]!["System.Text.Json.JsonSerializer.IsReflectionEnabledByDefault"] = false;
        string runtimeConfig = Path.Combine(_dir, name + ".runtimeconfig.json");
        File.WriteAllText(runtimeConfig, config.ToJsonString());

        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            WorkingDirectory = bin,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in new[] { "exec", "--runtimeconfig", runtimeConfig, "--depsfile", Path.Combine(bin, name + ".deps.json"), dll,
                     "-class", typeof(JsonWithoutReflectionTests).FullName!, "-noColor", "-noLogo" })
            start.ArgumentList.Add(arg);
        start.Environment[JsonWithoutReflectionTests.ChildVariable] = "1";
        using var child = Process.Start(start)!;
        var ct = TestContext.Current.CancellationToken;
        var stderr = child.StandardError.ReadToEndAsync(ct);
        string output = await child.StandardOutput.ReadToEndAsync(ct);
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            timeout.CancelAfter(TimeSpan.FromMinutes(5));
            await child.WaitForExitAsync(timeout.Token);
        }
        Assert.True(child.ExitCode == 0, $"exit code {child.ExitCode}:\n{output}\n{await stderr}");
        int tests = typeof(JsonWithoutReflectionTests).GetMethods().Count(m => m.IsDefined(typeof(FactAttribute), true));
        Assert.Contains($"Total: {tests}, Errors: 0, Failed: 0, Skipped: 0", output);
    }
}
