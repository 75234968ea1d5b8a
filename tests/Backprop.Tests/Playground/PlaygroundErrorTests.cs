using System.Net;
using System.Text;
using System.Text.Json;
using Backprop.Cli.Playground;
using Backprop.IO.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;

namespace Backprop.Tests.Playground;

/// <summary>
/// Every answer that is not a success is a 4xx (a 503 when busy) with a JSON body {"error": "..."} that says what
/// to do; none is a 500 for bad input, none is empty, and no answer ever carries NaN or Infinity.
/// </summary>
public sealed class PlaygroundErrorTests : IAsyncLifetime
{
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    public async ValueTask InitializeAsync()
    {
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

    /// <summary>One request; the answer's text is checked for non-finite numbers whatever its status.</summary>
    internal static async Task<(HttpStatusCode Status, string Text, HttpResponseMessage Response)> Send(HttpClient client, HttpMethod method, string url, byte[]? body = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        }
        var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        string text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        AssertFinite(text);
        return (response.StatusCode, text, response);
    }

    /// <summary>No NaN, Infinity or infinity sign anywhere in an answer, as a JSON token or inside a string.</summary>
    internal static void AssertFinite(string text)
    {
        Assert.DoesNotContain("NaN", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Infinity", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("∞", text, StringComparison.Ordinal);
    }

    /// <summary>The answer is a 4xx (or the given status) whose body is {"error": "..."}; returns the message.</summary>
    internal static string AssertError(HttpStatusCode status, string text, HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, status);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.False(string.IsNullOrWhiteSpace(text), "the error has an empty body");
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error").GetString();
        Assert.False(string.IsNullOrWhiteSpace(error));
        return error!;
    }

    private Task<(HttpStatusCode Status, string Text, HttpResponseMessage Response)> Post(string url, string json) =>
        Send(_client, HttpMethod.Post, url, Encoding.UTF8.GetBytes(json));

    private static byte[] Bytes(string hex) => Convert.FromHexString(hex);

    [Theory]
    // {"order":"<FF>"}, {"order":"<C3>"} (a cut sequence), {"order":"<ED A0 80>"} (an encoded surrogate),
    // {"order":"<C0 AF>"} (an overlong '/'), {"<FF>":1} (in a name), {"x":"<FF>"} (in a field nobody reads).
    [InlineData("/api/seed", "7B226F72646572223A22FF227D")]
    [InlineData("/api/seed", "7B226F72646572223A22C3227D")]
    [InlineData("/api/seed", "7B226F72646572223A22EDA080227D")]
    [InlineData("/api/seed", "7B226F72646572223A22C0AF227D")]
    [InlineData("/api/seed", "7B22FF223A317D")]
    [InlineData("/api/seed", "7B2278223A22FF227D")]
    [InlineData("/api/train", "7B2264617461736574223A22FF227D")]
    public async Task Invalid_utf8_in_a_body_is_400_naming_the_encoding(string url, string hex)
    {
        var (status, text, response) = await Send(_client, HttpMethod.Post, url, Bytes(hex));
        using (response)
            Assert.Contains("UTF-8", AssertError(status, text, response, HttpStatusCode.BadRequest));
    }

    [Theory]
    [InlineData("""{"update_order": "\ud800"}""")]
    [InlineData("""{"lang": "\udfff"}""")]
    public async Task A_lone_surrogate_escape_is_400(string body)
    {
        var (status, text, response) = await Post("/api/seed", body);
        using (response)
            AssertError(status, text, response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_diverged_run_says_so_on_that_step_and_every_later_one()
    {
        // Leaky ReLU, plain SGD, lr 10: the loss becomes NaN within a few hundred steps.
        var (status, text, response) = await Post("/api/train", """{"activation": "leaky-relu", "optimizer": "sgd", "learning_rate": 10}""");
        response.Dispose();
        Assert.Equal(HttpStatusCode.OK, status);
        string id = JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;

        string? first = null;
        for (int k = 0; k < 10 && first is null; k++)
        {
            (status, text, response) = await Post($"/api/train/{id}/step", """{"steps": 100}""");
            using (response)
                if (status != HttpStatusCode.OK)
                    first = AssertError(status, text, response, HttpStatusCode.Conflict);
        }
        Assert.NotNull(first);
        Assert.Contains("diverged", first);
        Assert.Contains("learning rate", first);
        Assert.Contains("new run", first);

        // Every later request on that run: the same 4xx, also one that asks for no steps at all.
        foreach (var body in new[] { """{"steps": 0}""", """{"steps": 1}""", """{"steps": 100, "grid": 100}""" })
        {
            (status, text, response) = await Post($"/api/train/{id}/step", body);
            using (response)
                Assert.Equal(first, AssertError(status, text, response, HttpStatusCode.Conflict));
        }
        // A new run with a lower rate trains.
        (status, text, response) = await Post("/api/train", """{"activation": "leaky-relu", "optimizer": "sgd", "learning_rate": 0.1}""");
        response.Dispose();
        id = JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
        (status, _, response) = await Post($"/api/train/{id}/step", """{"steps": 300}""");
        response.Dispose();
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Theory]
    [InlineData("/api/seed", """{"stpes": 5}""", "'stpes'")]
    [InlineData("/api/seed", """{"v": [[1, 2, 3], [4, 5, 6]], "V": 1}""", "'V'")]
    [InlineData("/api/train", """{"hiden": [8]}""", "'hiden'")]
    [InlineData("/api/train/{id}/step", """{"step": 100}""", "'step'")]
    [InlineData("/api/seed", """{"learning_rate": 0.5, "learning_rate": 100}""", "learning_rate")]
    [InlineData("/api/train/{id}/step", """{"steps": 1, "steps": 1000}""", "steps")]
    [InlineData("/api/train", """{"hidden": [8], "seed": 1, "hidden": [32, 32, 32, 32]}""", "hidden")]
    [InlineData("/api/train/{id}/step", "3", "JSON object")]
    [InlineData("/api/train/{id}/step", "[]", "JSON object")]
    [InlineData("/api/train/{id}/step", "\"steps\"", "JSON object")]
    public async Task A_field_that_is_misspelt_repeated_or_not_in_an_object_is_400_and_nothing_runs(string url, string body, string expected)
    {
        var (status, text, response) = await Post("/api/train", """{"dataset": "blobs", "samples": 30}""");
        response.Dispose();
        string id = JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;

        (status, text, response) = await Post(url.Replace("{id}", id), body);
        using (response)
            Assert.Contains(expected, AssertError(status, text, response, HttpStatusCode.BadRequest));

        // Nothing ran on the run: a typo of "steps" is not 10 steps by default.
        (status, text, response) = await Post($"/api/train/{id}/step", """{"steps": 0, "grid": 2}""");
        using (response)
            Assert.Equal(0, JsonDocument.Parse(text).RootElement.GetProperty("steps_trained").GetInt64());
    }

    [Theory]
    [InlineData("/api/train", """{"samples": -1}""", "samples")]
    [InlineData("/api/train", """{"samples": 0}""", "samples")]
    [InlineData("/api/train", """{"samples": 1e300}""", "samples")]
    [InlineData("/api/train", """{"samples": 99999999999999999999}""", "samples")]
    [InlineData("/api/train", """{"batch_size": -32}""", "batch_size")]
    [InlineData("/api/train", """{"hidden": [0]}""", "hidden[0]")]
    [InlineData("/api/train", """{"hidden": [-8]}""", "hidden[0]")]
    [InlineData("/api/train", """{"hidden": [8.5]}""", "hidden[0]")]
    [InlineData("/api/train", """{"noise": -0.1}""", "noise")]
    [InlineData("/api/train", """{"learning_rate": -0.0}""", "learning_rate")]
    [InlineData("/api/train", """{"learning_rate": 1e309}""", "learning_rate")]
    [InlineData("/api/train", """{"seed": -1}""", "seed")]
    [InlineData("/api/train", """{"seed": 4294967296}""", "seed")]
    [InlineData("/api/train/{id}/step", """{"steps": -1}""", "steps")]
    [InlineData("/api/train/{id}/step", """{"grid": 0}""", "grid")]
    [InlineData("/api/train/{id}/step", """{"grid": -100}""", "grid")]
    [InlineData("/api/seed", """{"steps": -1}""", "steps")]
    [InlineData("/api/seed", """{"steps": 1e5}""", "steps")]
    [InlineData("/api/seed", """{"learning_rate": 1e-400}""", "learning_rate")]
    [InlineData("/api/seed", """{"input": [1e6, 1.0000001e6]}""", "input[1]")]
    public async Task Negative_zero_fractional_and_huge_counts_are_400_naming_the_field(string url, string body, string field)
    {
        var (status, text, response) = await Post("/api/train", """{"dataset": "blobs", "samples": 30}""");
        response.Dispose();
        string id = JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
        (status, text, response) = await Post(url.Replace("{id}", id), body);
        using (response)
            Assert.StartsWith(field, AssertError(status, text, response, HttpStatusCode.BadRequest));
    }

    [Fact]
    public void An_answer_that_would_hold_NaN_or_an_infinity_is_refused_before_anything_is_written()
    {
        var status = new PlaygroundTrainStatus
        {
            StepsTrained = 1, Loss = 0.5, Accuracy = 1, Steps = 1, Seconds = 0.25, StepsPerSecond = 4,
            Grid = new PlaygroundGrid { Size = 1, PredictedClass = [0], Confidence = [0.75] },
        };
        Assert.StartsWith("{\"steps_trained\":1,", System.Text.Encoding.UTF8.GetString(PlaygroundServer.Serialize(status, BackpropJson.Compact.PlaygroundTrainStatus)));
        // A number, a nullable number and an array element: each is the 422 the server answers, naming what to do.
        foreach (var bad in new[]
        {
            status with { Loss = double.NaN },
            status with { StepsPerSecond = double.PositiveInfinity },
            status with { Grid = status.Grid with { Confidence = [double.NegativeInfinity] } },
        })
        {
            var e = Assert.Throws<PlaygroundNonFiniteException>(() => PlaygroundServer.Serialize(bad, BackpropJson.Compact.PlaygroundTrainStatus));
            Assert.Contains("lower the learning rate", e.Message);
        }
    }

    [Theory]
    [InlineData("PUT", "/api/seed", "POST")]
    [InlineData("GET", "/api/seed", "POST")]
    [InlineData("DELETE", "/api/seed/default", "GET")]
    [InlineData("POST", "/api/train/options", "GET")]
    [InlineData("PATCH", "/api/train/abc", "DELETE")]
    [InlineData("GET", "/api/train/abc/step", "POST")]
    [InlineData("POST", "/", "GET")]
    [InlineData("PUT", "/static/app.js", "GET")]
    [InlineData("OPTIONS", "/api/train", "POST")]
    public async Task A_wrong_method_is_405_naming_the_allowed_one(string method, string url, string allowed)
    {
        var (status, text, response) = await Send(_client, new HttpMethod(method), url, method is "GET" or "DELETE" or "OPTIONS" ? null : "{}"u8.ToArray());
        using (response)
        {
            string error = AssertError(status, text, response, HttpStatusCode.MethodNotAllowed);
            Assert.Contains(allowed, response.Content.Headers.Allow);
            Assert.Contains(method, error);
            Assert.Contains(allowed, error);
        }
    }

    [Theory]
    [InlineData("/api/nothing")]
    [InlineData("/static/")]
    [InlineData("/static/a/b.js")]
    [InlineData("/api/train/x/y/z")]
    [InlineData("/static/..%2fPlaygroundServer.cs")]
    [InlineData("/static/%2e%2e%2findex.html")]
    [InlineData("/static/..%5cindex.html")]
    [InlineData("/static/../../etc/passwd")]
    [InlineData("/static/Playground.index.html")]
    [InlineData("/static/Backprop.Cli.Playground.app.js")]
    public async Task An_unknown_path_is_404_json(string url)
    {
        var (status, text, response) = await Send(_client, HttpMethod.Get, url);
        using (response)
            Assert.Contains("no such", AssertError(status, text, response, HttpStatusCode.NotFound));
    }
}
