using System.Net;
using System.Text;
using System.Text.Json;
using Backprop.Cli.Playground;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Backprop.Tests.Playground;

/// <summary>
/// Who may talk to the playground: only this machine's loopback names with the server's own port (a page whose
/// DNS name was rebound to 127.0.0.1 sends its own name and is refused), only same-origin or origin-less requests,
/// and only JSON bodies (a cross-site form or text/plain POST needs no preflight, so the server must refuse it).
/// </summary>
public sealed class PlaygroundGuardTests : IAsyncLifetime
{
    /// <summary>The port the in-process test server stands for (it opens no socket).</summary>
    private const int Port = 5077;

    private WebApplication _app = null!;
    private HttpClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        _app = PlaygroundServer.Build(Port, web => web.UseTestServer());
        await _app.StartAsync(TestContext.Current.CancellationToken);
        _client = _app.GetTestClient();
        _client.BaseAddress = new Uri($"http://127.0.0.1:{Port}/");
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
    }

    private static async Task<(HttpStatusCode Status, string Error)> Send(HttpClient client, HttpMethod method, string url,
        string? body = null, string contentType = "application/json", string? host = null, string? origin = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType.Length > 0)
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        if (host is not null)
            request.Headers.Host = host;
        if (origin is not null)
            request.Headers.TryAddWithoutValidation("Origin", origin);
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        string text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        if (response.IsSuccessStatusCode)
            return (response.StatusCode, "");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.GetProperty("error").GetString()!);
    }

    [Theory]
    [InlineData("evil.example:5077")]
    [InlineData("127.0.0.1.evil.example:5077")]
    [InlineData("localhost.evil.example:5077")]
    [InlineData("127.0.0.2:5077")]
    [InlineData("0.0.0.0:5077")]
    [InlineData("localhost:5078")]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task A_host_that_is_not_a_loopback_name_with_this_port_is_refused(string host)
    {
        foreach (var (method, url, body) in new[]
        {
            (HttpMethod.Get, "/", null), (HttpMethod.Get, "/static/app.js", null), (HttpMethod.Get, "/api/seed/default", null),
            (HttpMethod.Post, "/api/seed", "{}"), (HttpMethod.Post, "/api/train", "{}"), (HttpMethod.Delete, "/api/train/x", null),
        })
        {
            var (status, error) = await Send(_client, method, url, body, host: host);
            Assert.Equal(HttpStatusCode.MisdirectedRequest, status);
            Assert.Contains("Host", error);
            Assert.Contains($"127.0.0.1:{Port}", error);
        }
    }

    [Theory]
    [InlineData("127.0.0.1:5077")]
    [InlineData("localhost:5077")]
    [InlineData("LocalHost:5077")]
    [InlineData("[::1]:5077")]
    public async Task The_loopback_names_with_this_port_are_served(string host)
    {
        Assert.Equal(HttpStatusCode.OK, (await Send(_client, HttpMethod.Get, "/", host: host)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(_client, HttpMethod.Post, "/api/seed", "{}", host: host)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(_client, HttpMethod.Post, "/api/seed", "{}", host: host, origin: "http://" + host)).Status);
    }

    [Theory]
    [InlineData("http://evil.example")]
    [InlineData("http://127.0.0.1.evil.example:5077")]
    [InlineData("null")]
    [InlineData("http://127.0.0.1:5078")]
    [InlineData("http://localhost:8080")]
    [InlineData("https://127.0.0.1:5077")]
    [InlineData("http://127.0.0.1:5077/path")]
    public async Task A_request_from_another_origin_is_refused_with_403(string origin)
    {
        foreach (var (method, url, body) in new[]
        {
            (HttpMethod.Post, "/api/seed", "{}"), (HttpMethod.Post, "/api/train", "{}"), (HttpMethod.Get, "/api/train/options", null),
            (HttpMethod.Delete, "/api/train/x", null),
        })
        {
            var (status, error) = await Send(_client, method, url, body, origin: origin);
            Assert.Equal(HttpStatusCode.Forbidden, status);
            Assert.Contains("Origin", error);
        }
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("text/plain; charset=utf-8")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("application/jsonp")]
    [InlineData("application/json; charset=utf-16")]
    [InlineData("")]
    public async Task A_post_whose_body_is_not_declared_json_is_refused_and_not_processed(string contentType)
    {
        var ct = TestContext.Current.CancellationToken;
        using var created = await _client.PostAsync("/api/train", new StringContent("""{"dataset": "blobs", "samples": 30}""", Encoding.UTF8, "application/json"), ct);
        string id = JsonDocument.Parse(await created.Content.ReadAsStringAsync(ct)).RootElement.GetProperty("id").GetString()!;

        // What a cross-site form or a no-cors fetch can send without a preflight: same-origin in every other way.
        var (status, error) = await Send(_client, HttpMethod.Post, $"/api/train/{id}/step", """{"steps": 5}""", contentType);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Contains("application/json", error);
        (status, error) = await Send(_client, HttpMethod.Post, "/api/seed", "{}", contentType);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);

        // The refused step did not run: the run is still at step 0.
        using var check = await _client.PostAsync($"/api/train/{id}/step", new StringContent("""{"steps": 0, "grid": 2}""", Encoding.UTF8, "application/json"), ct);
        Assert.Equal(HttpStatusCode.OK, check.StatusCode);
        Assert.Equal(0, JsonDocument.Parse(await check.Content.ReadAsStringAsync(ct)).RootElement.GetProperty("steps_trained").GetInt64());
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON; charset=UTF-8")]
    public async Task Json_declared_in_any_spelling_is_accepted(string contentType) =>
        Assert.Equal(HttpStatusCode.OK, (await Send(_client, HttpMethod.Post, "/api/seed", "{}", contentType)).Status);

    [Fact]
    public async Task On_a_real_socket_the_port_is_the_one_the_connection_arrived_on()
    {
        // Port 0: Kestrel picks one; the allowed Host is that port, not 0 and not the default 5077.
        var ct = TestContext.Current.CancellationToken;
        await using var app = PlaygroundServer.Build(0);
        await app.StartAsync(ct);
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        using var client = new HttpClient { BaseAddress = address };
        int port = address.Port;
        Assert.Equal(HttpStatusCode.OK, (await Send(client, HttpMethod.Get, "/api/train/options")).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(client, HttpMethod.Get, "/api/train/options", host: $"localhost:{port}")).Status);
        Assert.Equal(HttpStatusCode.MisdirectedRequest, (await Send(client, HttpMethod.Get, "/api/train/options", host: $"rebound.example:{port}")).Status);
        Assert.Equal(HttpStatusCode.MisdirectedRequest, (await Send(client, HttpMethod.Get, "/api/train/options", host: $"127.0.0.1:{(port == 65535 ? 1 : port + 1)}")).Status);
        Assert.Equal(HttpStatusCode.MisdirectedRequest, (await Send(client, HttpMethod.Get, "/api/train/options", host: "127.0.0.1:0")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(client, HttpMethod.Post, "/api/seed", "{}", origin: "http://rebound.example")).Status);
    }
}
