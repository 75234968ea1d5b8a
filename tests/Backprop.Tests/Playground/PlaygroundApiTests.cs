using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Backprop.Cli.Playground;
using Backprop.Explain;
using Backprop.IO;
using Backprop.IO.Json;
using Backprop.Training;
using Backprop.Nn;
using Backprop.Tests.Explain;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;

namespace Backprop.Tests.Playground;

/// <summary>The playground's JSON API, in process on the ASP.NET Core test server: every endpoint, good and bad input.</summary>
public sealed class PlaygroundApiTests : IAsyncLifetime
{
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        // The in-process test server opens no socket: it stands for 127.0.0.1:5077, the Host its client sends.
        _app = PlaygroundServer.Build(5077, web => web.UseTestServer());
        await _app.StartAsync(TestContext.Current.CancellationToken);
        _client = _app.GetTestClient();
        _client.BaseAddress = new Uri("http://127.0.0.1:5077/");
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> Post(string url, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await _client.PostAsync(url, content, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> Get(string url)
    {
        using var response = await _client.GetAsync(url, TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static double[] Doubles(JsonElement a) => [.. a.EnumerateArray().Select(e => e.GetDouble())];

    [Fact]
    public async Task Page_and_its_files_are_served_from_the_tool_with_a_policy_that_forbids_other_origins()
    {
        var ct = TestContext.Current.CancellationToken;
        using var page = await _client.GetAsync("/", ct);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        string html = await page.Content.ReadAsStringAsync(ct);
        Assert.Contains("/static/app.js", html);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org", ""));
        Assert.DoesNotContain("https://", html);
        Assert.Contains("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        foreach (var (file, type) in new[] { ("app.js", "text/javascript"), ("app.css", "text/css") })
        {
            using var r = await _client.GetAsync("/static/" + file, ct);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal(type, r.Content.Headers.ContentType?.MediaType);
            string body = await r.Content.ReadAsStringAsync(ct);
            Assert.DoesNotContain("https://", body);
        }
        var (status, missing) = await Get("/static/nothing.js");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("nothing.js", missing.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Seed_default_is_the_documents_state()
    {
        var (status, s) = await Get("/api/seed/default");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal([0.15, 0.25, 0.35], Doubles(s.GetProperty("v")[0]));
        Assert.Equal([0.55, 0.70], Doubles(s.GetProperty("w")[2]));
        Assert.Equal(0.35, s.GetProperty("b1").GetDouble());
        Assert.Equal([0.05, 0.10], Doubles(s.GetProperty("input")));
        Assert.Equal(0.5, s.GetProperty("learning_rate").GetDouble());
        Assert.Equal("simultaneous", s.GetProperty("update_order").GetString());
        Assert.True(s.GetProperty("trainable_bias").GetBoolean());
    }

    [Fact]
    public async Task Seed_numbers_equal_explain_json_and_the_independent_scalar_oracle()
    {
        var (status, r) = await Post("/api/seed", "{}");
        Assert.Equal(HttpStatusCode.OK, status);

        // backprop explain --format json for the same (default) state, through the library.
        var explain = JsonDocument.Parse(ExplainJson.Serialize(Explainer.Seed())).RootElement;
        var hidden = explain.GetProperty("layers")[0];
        var output = explain.GetProperty("layers")[1];
        var f = r.GetProperty("forward");
        Assert.Equal(Doubles(hidden.GetProperty("z")), Doubles(f.GetProperty("h")));
        Assert.Equal(Doubles(hidden.GetProperty("a")), Doubles(f.GetProperty("p")));
        Assert.Equal(Doubles(output.GetProperty("z")), Doubles(f.GetProperty("q")));
        Assert.Equal(Doubles(output.GetProperty("a")), Doubles(f.GetProperty("o")));
        Assert.Equal(explain.GetProperty("loss").GetDouble(), r.GetProperty("loss").GetDouble());
        var g = r.GetProperty("gradients");
        // explain's weights_grad is [unit][input]: V_ij (input i -> hidden j) is weights_grad[j][i].
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(hidden.GetProperty("weights_grad")[j][i].GetDouble(), g.GetProperty("v")[i][j].GetDouble());
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++)
                Assert.Equal(output.GetProperty("weights_grad")[j][i].GetDouble(), g.GetProperty("w")[i][j].GetDouble());
        Assert.Equal(hidden.GetProperty("biases_grad")[0].GetDouble(), g.GetProperty("b1").GetDouble());
        Assert.Equal(output.GetProperty("biases_grad")[0].GetDouble(), g.GetProperty("b2").GetDouble());
        Assert.Equal(explain.GetProperty("errata").GetArrayLength(), r.GetProperty("errata").GetArrayLength());

        // And the document's equations written out by hand (SeedScalar), not by the engine.
        var s = SeedScalar.Default();
        s.Forward();
        s.Backward();
        Assert.Equal(s.H1, f.GetProperty("h")[0].GetDouble(), 1e-15);
        Assert.Equal(s.O2, f.GetProperty("o")[1].GetDouble(), 1e-15);
        Assert.Equal(s.E, r.GetProperty("loss").GetDouble(), 1e-15);
        Assert.Equal(s.GV11, g.GetProperty("v")[0][0].GetDouble(), 1e-15);
        Assert.Equal(s.GW32, g.GetProperty("w")[2][1].GetDouble(), 1e-15);
        Assert.Equal(s.GB1, g.GetProperty("b1").GetDouble(), 1e-15);

        // The trace is explain's text output for that state.
        Assert.Equal(Backprop.Explain.Rendering.TraceRenderer.Text(Explainer.Seed()), r.GetProperty("trace").GetString());
    }

    [Fact]
    public async Task Seed_steps_follow_the_chosen_order_and_report_the_loss_history()
    {
        var (status, r) = await Post("/api/seed", """{"steps": 1, "update_order": "sequential", "lang": "zh"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var s = SeedScalar.Default();
        s.StepSequential(0.5);
        var state = r.GetProperty("state");
        Assert.Equal(s.V11, state.GetProperty("v")[0][0].GetDouble(), 1e-15);
        Assert.Equal(s.W11, state.GetProperty("w")[0][0].GetDouble(), 1e-15);
        Assert.Equal(s.B2, state.GetProperty("b2").GetDouble(), 1e-15);
        Assert.Equal("sequential", state.GetProperty("update_order").GetString());
        var history = Doubles(r.GetProperty("loss_history"));
        Assert.Equal(2, history.Length);
        var before = SeedScalar.Default();
        before.Forward();
        Assert.Equal(before.E, history[0], 1e-15);
        s.Forward();
        Assert.Equal(s.E, history[1], 1e-15);
        Assert.Contains("反向传播", r.GetProperty("trace").GetString());

        // 100 simultaneous steps lower the loss; frozen biases keep b1 and b2.
        var (_, run) = await Post("/api/seed", """{"steps": 100, "trainable_bias": false}""");
        var h = Doubles(run.GetProperty("loss_history"));
        Assert.Equal(101, h.Length);
        Assert.True(h[^1] < h[0] / 2, $"loss {h[0]} -> {h[^1]}");
        Assert.Equal(0.35, run.GetProperty("state").GetProperty("b1").GetDouble());
        Assert.Equal(0.60, run.GetProperty("state").GetProperty("b2").GetDouble());
    }

    [Theory]
    [InlineData("""{"learning_rate": -1}""", "learning_rate")]
    [InlineData("""{"learning_rate": "fast"}""", "learning_rate")]
    [InlineData("""{"v": [[1, 2]]}""", "v")]
    [InlineData("""{"w": [[1, 2], [3, 4], [5, "x"]]}""", "w[2][1]")]
    [InlineData("""{"input": [1]}""", "input")]
    [InlineData("""{"target": [1, 2, 3]}""", "target")]
    [InlineData("""{"b1": 1e300}""", "b1")]
    [InlineData("""{"steps": 1000000}""", "steps")]
    [InlineData("""{"steps": 1.5}""", "steps")]
    [InlineData("""{"update_order": "backwards"}""", "update_order")]
    [InlineData("""{"trainable_bias": "per-unit"}""", "trainable_bias")]
    [InlineData("""{"lang": "fr"}""", "lang")]
    [InlineData("""[1, 2]""", "JSON object")]
    [InlineData("""not json""", "not valid JSON")]
    [InlineData("", "empty")]
    public async Task Seed_bad_input_is_400_with_a_message_naming_the_field(string body, string expected)
    {
        var (status, r) = await Post("/api/seed", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(expected, r.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Training_run_learns_xor_and_returns_a_grid_of_predictions()
    {
        var (_, options) = await Get("/api/train/options");
        Assert.Contains("spirals", options.GetProperty("datasets").EnumerateArray().Select(e => e.GetString()));

        var (status, run) = await Post("/api/train", """{"dataset": "xor", "samples": 200, "hidden": [8], "activation": "tanh", "optimizer": "adam", "learning_rate": 0.05, "seed": 3}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, run.GetProperty("class_count").GetInt32());
        Assert.Equal(200, run.GetProperty("points").GetArrayLength());
        // 2 -> 8 -> 2: 2*8 + 8 + 8*2 + 2 weights and biases.
        Assert.Equal(42, run.GetProperty("parameter_count").GetInt32());
        string id = run.GetProperty("id").GetString()!;
        double loss0 = run.GetProperty("status").GetProperty("loss").GetDouble();

        var (s2, st) = await Post($"/api/train/{id}/step", """{"steps": 400, "grid": 20}""");
        Assert.Equal(HttpStatusCode.OK, s2);
        Assert.Equal(400, st.GetProperty("steps_trained").GetInt64());
        Assert.Equal(400, st.GetProperty("steps").GetInt32());
        Assert.True(st.GetProperty("loss").GetDouble() < loss0 / 2, $"loss {loss0} -> {st.GetProperty("loss")}");
        Assert.True(st.GetProperty("accuracy").GetDouble() >= 0.95, $"accuracy {st.GetProperty("accuracy")}");
        var grid = st.GetProperty("grid");
        Assert.Equal(20, grid.GetProperty("size").GetInt32());
        var classes = grid.GetProperty("predicted_class").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(400, classes.Length);
        // XOR: opposite corners share a class, neighbouring corners differ (row 0 is the top of the picture).
        int topLeft = classes[0], topRight = classes[19], bottomLeft = classes[380], bottomRight = classes[399];
        Assert.Equal(topLeft, bottomRight);
        Assert.Equal(topRight, bottomLeft);
        Assert.NotEqual(topLeft, topRight);
        Assert.All(grid.GetProperty("confidence").EnumerateArray(), c => Assert.InRange(c.GetDouble(), 0.5, 1.0));

        using var deleted = await _client.DeleteAsync($"/api/train/{id}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        var (gone, msg) = await Post($"/api/train/{id}/step", "{}");
        Assert.Equal(HttpStatusCode.NotFound, gone);
        Assert.Contains("no training run", msg.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("""{"dataset": "mnist"}""", "dataset")]
    [InlineData("""{"samples": 100000}""", "samples")]
    [InlineData("""{"hidden": [8, 8, 8, 8, 8]}""", "hidden")]
    [InlineData("""{"hidden": [1000]}""", "hidden[0]")]
    [InlineData("""{"hidden": "8,8"}""", "hidden")]
    [InlineData("""{"activation": "softmax"}""", "activation")]
    [InlineData("""{"optimizer": "lbfgs"}""", "optimizer")]
    [InlineData("""{"learning_rate": 0}""", "learning_rate")]
    [InlineData("""{"noise": 5}""", "noise")]
    [InlineData("""{"batch_size": 0}""", "batch_size")]
    [InlineData("""3""", "JSON object")]
    public async Task Training_bad_input_is_400_with_a_message_naming_the_field(string body, string expected)
    {
        var (status, r) = await Post("/api/train", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(expected, r.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Training_steps_are_bounded_and_unknown_routes_are_404()
    {
        var (_, run) = await Post("/api/train", """{"dataset": "blobs", "samples": 30}""");
        string id = run.GetProperty("id").GetString()!;
        var (status, r) = await Post($"/api/train/{id}/step", """{"steps": 5000}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("steps", r.GetProperty("error").GetString());
        (status, r) = await Post($"/api/train/{id}/step", """{"grid": 1000}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("grid", r.GetProperty("error").GetString());
        (status, r) = await Post($"/api/train/{id}/step", """{"steps": 0, "grid": 4}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(16, r.GetProperty("grid").GetProperty("predicted_class").GetArrayLength());
        (status, r) = await Get("/api/nothing");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("/api/nothing", r.GetProperty("error").GetString());
        using var big = new StringContent("{\"x\": \"" + new string('a', PlaygroundServer.MaxBodyBytes) + "\"}", Encoding.UTF8, "application/json");
        using var tooBig = await _client.PostAsync("/api/seed", big, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
    }

    private async Task<string> Text(HttpMethod method, string url, string? json = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (json is not null)
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await _client.SendAsync(request, TestContext.Current.CancellationToken);
        return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Every_answer_is_its_record_read_back_strictly_through_the_one_context()
    {
        // Strict reading: a field the record does not declare would fail here, so the records are the whole API.
        static T Read<T>(string text, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info) =>
            JsonSerializer.Deserialize(text, info) ?? throw new InvalidOperationException("null");
        var state = Read(await Text(HttpMethod.Get, "/api/seed/default"), BackpropJson.Default.PlaygroundSeedState);
        Assert.Equal(0.5, state.LearningRate);
        var seed = Read(await Text(HttpMethod.Post, "/api/seed", """{"steps": 2}"""), BackpropJson.Default.PlaygroundSeedAnswer);
        Assert.Equal(3, seed.LossHistory.Length);
        var options = Read(await Text(HttpMethod.Get, "/api/train/options"), BackpropJson.Default.PlaygroundTrainOptions);
        Assert.Equal(TrainingApi.MaxGrid, options.MaxGrid);
        // The defaults a run given none takes, from TrainingDefaults (the page shows them; an empty field sends null).
        Assert.Equal(TrainingDefaults.SgdLearningRate, options.LearningRates["sgd"]);
        Assert.Equal(0.01, options.LearningRates["adam"]);
        Assert.Equal(TrainingApi.Optimizers.Length, options.LearningRates.Count);
        Assert.Equal(TrainingDefaults.BatchSize, options.BatchSize);
        var created = Read(await Text(HttpMethod.Post, "/api/train", """{"dataset": "blobs", "samples": 30, "batch_size": 8}"""),
            BackpropJson.Default.PlaygroundTrainCreated);
        Assert.Equal(30, created.Points.Length);
        Assert.Equal(created.ClassCount, created.Points.Select(p => p[2]).Distinct().Count());
        var status = Read(await Text(HttpMethod.Post, $"/api/train/{created.Id}/step", """{"steps": 3, "grid": 5}"""),
            BackpropJson.Default.PlaygroundTrainStatus);
        Assert.Equal((3, 3, 25), (status.StepsTrained, status.Steps, status.Grid.PredictedClass.Length));
        var deleted = Read(await Text(HttpMethod.Delete, $"/api/train/{created.Id}"), BackpropJson.Default.PlaygroundDeleted);
        Assert.Equal(created.Id, deleted.Deleted);
        var error = Read(await Text(HttpMethod.Post, "/api/seed", """{"steps": -1}"""), BackpropJson.Default.PlaygroundError);
        Assert.StartsWith("steps", error.Error);
    }

    [Fact]
    public async Task The_names_are_the_explain_jsons_and_a_state_the_server_gives_is_a_request_it_takes()
    {
        // The page sends back the state it was given: every field of the state is a field of the request.
        string state = await Text(HttpMethod.Get, "/api/seed/default");
        var (status, r) = await Post("/api/seed", state.TrimEnd().TrimEnd('}') + """, "steps": 1, "lang": "en"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(state, JsonSerializer.Serialize(SeedApi.Describe(SeedApi.Default), BackpropJson.Compact.PlaygroundSeedState));
        Assert.Equal(1, r.GetProperty("steps").GetInt32());

        // The seed's slips are the explain JSON's own records: same fields, same names, same numbers.
        (status, r) = await Post("/api/seed", """{"lang": "zh"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var explain = JsonDocument.Parse(ExplainJson.Serialize(Explainer.Seed(), Backprop.Explain.Rendering.ExplainLanguage.Chinese)).RootElement;
        var mine = r.GetProperty("errata").EnumerateArray().ToList();
        var theirs = explain.GetProperty("errata").EnumerateArray().ToList();
        Assert.Equal(theirs.Count, mine.Count);
        for (int k = 0; k < mine.Count; k++)
        {
            Assert.Equal(theirs[k].EnumerateObject().Select(p => p.Name), mine[k].EnumerateObject().Select(p => p.Name));
            foreach (var field in theirs[k].EnumerateObject())
                Assert.Equal(field.Value.ToString(), mine[k].GetProperty(field.Name).ToString());
        }
        // explain's settings and the state name the learning rate and the update order alike.
        Assert.Equal(explain.GetProperty("settings").GetProperty("learning_rate").GetDouble(), r.GetProperty("state").GetProperty("learning_rate").GetDouble());
        Assert.Equal(explain.GetProperty("settings").GetProperty("update_order").GetString(), r.GetProperty("state").GetProperty("update_order").GetString());
        Assert.Equal(explain.GetProperty("loss_history")[0].GetDouble(), (await Post("/api/seed", """{"steps": 1}""")).Body.GetProperty("loss_history")[0].GetDouble());
    }

    [Theory]
    [InlineData("/api/seed", """{"update_order": 3}""", "update_order: expected one of simultaneous, sequential, got 3.")]
    [InlineData("/api/seed", """{"lang": ["zh"]}""", "lang: expected one of en, zh, got [\"zh\"].")]
    [InlineData("/api/seed", """{"w": [[1, 2], [3, 4], [5, "x"]]}""", "w[2][1]: expected a finite number, got \"x\".")]
    [InlineData("/api/seed", """{"v": [[1, 2, 3], null]}""", "v[1]: expected 3 numbers, got null.")]
    [InlineData("/api/seed", """{"trainable_bias": "yes"}""", "trainable_bias: expected true or false, got \"yes\".")]
    [InlineData("/api/seed", """{"learning_rate": 1e309}""", "learning_rate: expected a finite number, got 1e309.")]
    [InlineData("/api/train", """{"dataset": 1}""", "dataset: expected one of xor, moons, circles, spirals, blobs, got 1.")]
    [InlineData("/api/train", """{"hidden": [8, null]}""", "hidden[1]: expected a whole number in range, got null.")]
    [InlineData("/api/train", """{"lr": 0.1}""", "unknown field 'lr'; the fields are dataset, samples, noise, hidden, activation, optimizer, learning_rate, batch_size, seed.")]
    public async Task A_value_of_the_wrong_type_is_named_with_what_was_expected_and_what_came(string url, string body, string expected)
    {
        var (status, r) = await Post(url, body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(expected, r.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Deleting_an_unknown_run_is_404()
    {
        using var r = await _client.DeleteAsync("/api/train/nosuchrun", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        var body = JsonDocument.Parse(await r.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        Assert.Contains("nosuchrun", body.GetProperty("error").GetString());
    }

    [Fact]
    public void Port_option_is_checked_and_a_busy_port_is_one_clear_error()
    {
        Assert.Equal(5077, Backprop.Cli.Commands.PlaygroundCommand.ParsePort(null));
        Assert.Equal(0, Backprop.Cli.Commands.PlaygroundCommand.ParsePort("0"));
        var (code, _, err) = CliRunner.Run("playground", "--port", "99999");
        Assert.Equal(2, code);
        Assert.Contains("--port: expected a port number from 0 to 65535", err);

        var busy = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        try
        {
            int port = ((IPEndPoint)busy.LocalEndpoint).Port;
            (code, _, err) = CliRunner.Run("playground", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(2, code);
            Assert.Contains($"cannot listen on 127.0.0.1:{port}", err);
        }
        finally
        {
            busy.Stop();
        }
    }
}
