using System.Net;
using System.Text;
using System.Text.Json;
using Backprop.Cli.Playground;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Backprop.Tests.Playground;

/// <summary>
/// Heavy requests (seed updates, new runs, training steps) compute on a bounded number of slots with a bounded
/// queue; beyond it they are refused with 503 and Retry-After, and light requests are answered meanwhile. Checked
/// with real concurrency and by order of events (what is still queued when the light answer arrives), never by
/// how fast this machine is.
/// </summary>
public sealed class PlaygroundLoadTests
{
    /// <summary>Polls <paramref name="condition"/>; the limit only keeps a broken build from hanging the run.</summary>
    private static async Task Until(Func<bool> condition, string what)
    {
        var limit = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < limit, $"gave up waiting until {what}");
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<WebApplication> Start(PlaygroundLimits limits)
    {
        var app = PlaygroundServer.Build(5077, web => web.UseTestServer(), limits);
        await app.StartAsync(TestContext.Current.CancellationToken);
        return app;
    }

    private static HttpClient Client(WebApplication app)
    {
        var client = app.GetTestClient();
        client.BaseAddress = new Uri("http://127.0.0.1:5077/");
        return client;
    }

    [Fact]
    public async Task With_200_heavy_requests_in_flight_a_light_one_is_answered_while_heavy_ones_still_wait()
    {
        var ct = TestContext.Current.CancellationToken;
        var limits = new PlaygroundLimits(Slots: 2, Queue: 6);
        await using var app = await Start(limits);
        using var client = Client(app);
        var heavy = app.Services.GetRequiredService<HeavyWork>();

        // Training runs whose steps take a while: 1000 points, four layers of 32, the whole set as the batch.
        var ids = new List<string>();
        for (int r = 0; r < 8; r++)
        {
            using var created = await client.PostAsync("/api/train",
                Json("""{"dataset": "circles", "samples": 1000, "hidden": [32, 32, 32, 32], "batch_size": 1000, "seed": """ + r + "}"), ct);
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
            ids.Add(JsonDocument.Parse(await created.Content.ReadAsStringAsync(ct)).RootElement.GetProperty("id").GetString()!);
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var burst = Enumerable.Range(0, 200).Select(i => Task.Run(() =>
            client.PostAsync($"/api/train/{ids[i % ids.Count]}/step", Json("""{"steps": 1000, "grid": 100}"""), stop.Token), ct)).ToArray();

        // Every heavy request has been admitted (computing or waiting) or refused.
        await Until(() => burst.Count(t => t.IsCompleted) + heavy.Running + heavy.Queued >= burst.Length, "all 200 reached the server");
        Assert.True(heavy.Queued > 0, "no heavy request is waiting: the burst was not heavy enough to test anything");

        // Light requests meanwhile: answered while heavy ones still wait for a slot.
        foreach (var url in new[] { "/api/train/options", "/", "/static/app.js", "/api/seed/default" })
        {
            using var light = await client.GetAsync(url, ct);
            Assert.Equal(HttpStatusCode.OK, light.StatusCode);
        }
        Assert.True(heavy.Queued > 0, "the heavy requests drained before the light ones were answered");
        Assert.Contains(burst, t => !t.IsCompleted);

        // The refused ones: 503, Retry-After, a JSON message; the rest wait or were answered.
        var answered = new List<HttpResponseMessage>();
        foreach (var t in burst.Where(t => t.IsCompletedSuccessfully))
            answered.Add(await t);
        var refused = answered.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToArray();
        int ok = answered.Count(r => r.StatusCode == HttpStatusCode.OK);
        Assert.Equal(answered.Count, refused.Length + ok);
        // At most Slots + Queue were admitted at any time, and only a completed one makes room for another.
        Assert.True(refused.Length >= burst.Length - (limits.Slots + limits.Queue) - ok, $"{refused.Length} refused, {ok} answered");
        foreach (var r in refused)
        {
            Assert.Equal(TimeSpan.FromSeconds(HeavyWork.RetryAfterSeconds), r.Headers.RetryAfter?.Delta);
            string error = JsonDocument.Parse(await r.Content.ReadAsStringAsync(ct)).RootElement.GetProperty("error").GetString()!;
            Assert.Contains("busy", error);
        }
        Assert.InRange(heavy.PeakRunning, 1, limits.Slots);

        // Clients that go away stop their work: queued requests are dropped, running ones stop at the next step.
        await stop.CancelAsync();
        foreach (var t in burst)
        {
            try
            {
                (await t).Dispose();
            }
            catch (OperationCanceledException)
            {
            }
        }
        await Until(() => heavy.Running == 0 && heavy.Queued == 0, "the cancelled requests stopped computing");
    }

    /// <summary>A request body that arrives only when the test says so.</summary>
    private sealed class SlowBody(TaskCompletionSource release) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync("{\"steps\":"u8.ToArray());
            await stream.FlushAsync();
            await release.Task;
            await stream.WriteAsync(" 1}"u8.ToArray());
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Fact]
    public async Task A_slow_client_holds_no_slot_while_its_body_arrives()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = await Start(new PlaygroundLimits(Slots: 1, Queue: 0));
        using var client = Client(app);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var body = new SlowBody(release);
        body.Headers.ContentType = new("application/json");
        var slow = client.PostAsync("/api/seed", body, ct);

        // With one slot and no queue, this is refused if the slow upload holds the slot.
        for (int k = 0; k < 3; k++)
        {
            using var quick = await client.PostAsync("/api/seed", Json("""{"steps": 10}"""), ct);
            Assert.Equal(HttpStatusCode.OK, quick.StatusCode);
        }
        Assert.False(slow.IsCompleted);
        release.SetResult();
        using var done = await slow;
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
    }

    [Fact]
    public async Task Runs_created_at_once_keep_at_most_the_run_limit_and_every_creation_succeeds()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = await Start(new PlaygroundLimits(Slots: 32, Queue: 200));
        using var client = Client(app);
        var created = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            using var r = await client.PostAsync("/api/train", Json("""{"dataset": "blobs", "samples": 4, "hidden": []}"""), ct);
            string text = await r.Content.ReadAsStringAsync(ct);
            Assert.True(r.StatusCode == HttpStatusCode.OK, $"{(int)r.StatusCode}: {text}");
            return JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
        }, ct)));
        int alive = 0;
        foreach (var id in created)
        {
            using var r = await client.PostAsync($"/api/train/{id}/step", Json("""{"steps": 0, "grid": 2}"""), ct);
            if (r.StatusCode == HttpStatusCode.OK)
                alive++;
        }
        Assert.InRange(alive, 1, TrainingApi.MaxRuns);
    }

    [Fact]
    public void Limits_need_a_slot_and_a_queue_of_zero_or_more()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new HeavyWork(new PlaygroundLimits(0, 4)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HeavyWork(new PlaygroundLimits(1, -1)));
        var d = PlaygroundLimits.Default;
        Assert.Equal(Environment.ProcessorCount, d.Slots);
        Assert.True(d.Queue >= d.Slots);
    }
}
