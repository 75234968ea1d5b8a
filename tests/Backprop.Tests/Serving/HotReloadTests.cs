using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Backprop.AspNetCore;
using Backprop.IO;
using Backprop.Training;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Backprop.Tests.Serving;

/// <summary>
/// The model file replaced under a running server: swapped in atomically (each answer computed by one version,
/// never a mix), a broken file refused and logged while the old model serves, a slow copy read once complete.
/// </summary>
public sealed class HotReloadTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly Model<float> V1 = ServingModels.Flowers(seed: 1, epochs: 20);
    private static readonly Model<float> V2 = ServingModels.Flowers(seed: 7, epochs: 3, hidden: 5);

    private const string Body = """[{"sepal length": 1, "sepal_width": 12, "petal/length": 23, "petal_width": 34}, [2, 14, 26, 38], [0, 10, 20, 30]]""";

    private static readonly double[][] Rows = [[1, 12, 23, 34], [2, 14, 26, 38], [0, 10, 20, 30]];

    private static async Task<int> WaitForVersion(LiveServer server, int version)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(15))
        {
            var (_, body, _) = await server.Send(HttpMethod.Get, "health");
            int now = body.GetProperty("model_version").GetInt32();
            if (now >= version)
                return now;
            await Task.Delay(20, Ct);
        }
        throw new TimeoutException($"version {version} was not served within 15 s:\n{string.Join("\n", server.Logs.Lines)}");
    }

    /// <summary>Which model computed an answer: the one whose offline outputs all its rows match (1e-5), checked to be exactly one.</summary>
    private static int ComputedBy(JsonElement answer)
    {
        var p = LiveServer.Probabilities(answer);
        bool Matches(Model<float> m) => Rows.Select((r, i) => m.Predict(r).Zip(p[i], (a, b) => Math.Abs(a - b)).Max()).All(d => d <= 1e-5);
        bool one = Matches(V1), two = Matches(V2);
        Assert.True(one ^ two, $"the answer matches {(one && two ? "both versions" : "neither version")}: a mix of models, or a wrong one");
        return one ? 1 : 2;
    }

    [Fact]
    public void The_two_versions_answer_differently_for_the_test_rows()
    {
        foreach (var r in Rows)
            Assert.True(V1.Predict(r).Zip(V2.Predict(r), (a, b) => Math.Abs(a - b)).Max() > 1e-3);
    }

    [Fact]
    public async Task A_file_replaced_by_rename_is_swapped_in_and_a_broken_one_refused_while_the_old_model_serves()
    {
        await using var server = await LiveServer.Start(V1, watch: true);
        var (_, first, _) = await server.Post(Body);
        Assert.Equal(1, first.GetProperty("model_version").GetInt32());
        Assert.Equal(1, ComputedBy(first));

        V2.Save(server.ModelPath); // AtomicFile: a temporary file renamed over the old one
        Assert.Equal(2, await WaitForVersion(server, 2));
        var (_, second, _) = await server.Post(Body);
        Assert.Equal(2, second.GetProperty("model_version").GetInt32());
        Assert.Equal(2, ComputedBy(second));
        Assert.Contains(server.Logs.Lines, l => l.Contains("swapped in version 2", StringComparison.Ordinal));

        // A broken file, written in place: refused, logged, and version 2 keeps serving.
        string good = File.ReadAllText(server.ModelPath);
        File.WriteAllText(server.ModelPath, good[..(good.Length / 2)]);
        var clock = Stopwatch.StartNew();
        while (server.Predictor.RefusedReloads == 0 && clock.Elapsed < TimeSpan.FromSeconds(15))
            await Task.Delay(20, Ct);
        Assert.Equal(1, server.Predictor.RefusedReloads);
        Assert.Contains(server.Logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("refused the new file", StringComparison.Ordinal)
                                                                                               && l.Contains("Still serving version 2", StringComparison.Ordinal));
        var (status, third, _) = await server.Post(Body);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, third.GetProperty("model_version").GetInt32());
        Assert.Equal(2, ComputedBy(third));
        var (_, info, _) = await server.Send(HttpMethod.Get, "model");
        Assert.Equal(1, info.GetProperty("reloads").GetProperty("refused").GetInt32());
        Assert.Contains("model.json", info.GetProperty("reloads").GetProperty("last_error").GetString());
        string metrics = await server.Client.GetStringAsync("metrics", Ct);
        Assert.Contains("""backprop_model_reloads_total{model="flowers",result="loaded"} 1""", metrics);
        Assert.Contains("""backprop_model_reloads_total{model="flowers",result="refused"} 1""", metrics);

        // The good file back (copied over in place this time): version 3, which is V1 again.
        V1.Save(server.ModelPath + ".new");
        File.Copy(server.ModelPath + ".new", server.ModelPath, overwrite: true);
        Assert.Equal(3, await WaitForVersion(server, 3));
        var (_, fourth, _) = await server.Post(Body);
        Assert.Equal(1, ComputedBy(fourth));
    }

    [Fact]
    public async Task A_file_copied_over_slowly_is_read_once_it_is_complete_not_refused_half_way()
    {
        await using var server = await LiveServer.Start(V1, watch: true, configure: o => o.Debounce = TimeSpan.FromMilliseconds(150));
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(ModelFile.Serialize(V2));
        using (var file = new FileStream(server.ModelPath, FileMode.Create, FileAccess.Write, FileShare.ReadWrite))
        {
            // Three pieces with pauses shorter than the quiet period: the watcher must wait for the last.
            int third = bytes.Length / 3;
            foreach (var (start, end) in new[] { (0, third), (third, 2 * third), (2 * third, bytes.Length) })
            {
                file.Write(bytes, start, end - start);
                file.Flush();
                await Task.Delay(60, Ct);
            }
        }
        Assert.Equal(2, await WaitForVersion(server, 2));
        Assert.Equal(0, server.Predictor.RefusedReloads);
        Assert.DoesNotContain(server.Logs.Lines, l => l.Contains("refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Under_concurrent_requests_every_answer_is_computed_by_exactly_one_version()
    {
        await using var server = await LiveServer.Start(V1, watch: true);
        using var stop = new CancellationTokenSource();
        int answered = 0, failed = 0;
        var seen = new System.Collections.Concurrent.ConcurrentBag<(int Claimed, int Computed)>();
        var clients = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var (status, body, _) = await server.Post(Body);
                if (status != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref failed);
                    continue;
                }
                int claimed = body.GetProperty("model_version").GetInt32();
                seen.Add((claimed, ComputedBy(body)));
                Interlocked.Increment(ref answered);
            }
        }, Ct)).ToArray();
        for (int swap = 0; swap < 4; swap++)
        {
            await Task.Delay(150, Ct);
            (swap % 2 == 0 ? V2 : V1).Save(server.ModelPath);
            await WaitForVersion(server, swap + 2);
        }
        await Task.Delay(100, Ct);
        stop.Cancel();
        await Task.WhenAll(clients);
        Assert.Equal(0, failed);
        Assert.True(answered > 20, $"{answered} answers");
        // Odd versions are V1's file, even ones V2's: the version an answer names is the model that computed it.
        foreach (var (claimed, computed) in seen)
            Assert.Equal(claimed % 2 == 1 ? 1 : 2, computed);
        Assert.True(seen.Select(s => s.Claimed).Distinct().Count() >= 3, "answers from at least three versions");
    }

    [Fact]
    public async Task A_missing_file_at_start_fails_the_start_or_with_the_option_starts_not_ready_until_a_good_file_appears()
    {
        string dir = Directory.CreateTempSubdirectory("backprop-serve-missing-").FullName;
        try
        {
            string path = Path.Combine(dir, "later.json");
            var services = new ServiceCollection().AddLogging();
            services.AddBackpropModel("strict", path);
            await using (var provider = services.BuildServiceProvider())
            {
                var e = Assert.ThrowsAny<BackpropException>(() => provider.GetRequiredService<BackpropPredictor>());
                Assert.Contains("later.json", e.Message);
            }

            var host = Host.CreateApplicationBuilder();
            host.Services.AddBackpropModel("later", path, watch: true, o =>
            {
                o.AllowMissingAtStart = true;
                o.Debounce = TimeSpan.FromMilliseconds(30);
                o.PollInterval = TimeSpan.FromMilliseconds(50);
            });
            using var app = host.Build();
            await app.StartAsync(Ct);
            var predictor = app.Services.GetRequiredService<BackpropPredictor>();
            Assert.False(predictor.IsReady);
            Assert.Throws<ServingUnavailableException>(() => predictor.Predict(ServingModels.Flower(1, 2, 3, 4)));
            V1.Save(path);
            var clock = Stopwatch.StartNew();
            while (!predictor.IsReady && clock.Elapsed < TimeSpan.FromSeconds(15))
                await Task.Delay(20, Ct);
            Assert.True(predictor.IsReady);
            Assert.Equal(1, predictor.Current!.Number);
            Assert.Equal("setosa", predictor.Predict(ServingModels.Flower(0, 10, 20, 30)).Class);
            await app.StopAsync(Ct);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Reload_reads_the_file_now_and_refuses_a_bad_one_at_once()
    {
        string dir = Directory.CreateTempSubdirectory("backprop-serve-reload-").FullName;
        try
        {
            string path = Path.Combine(dir, "m.json");
            V1.Save(path);
            var services = new ServiceCollection().AddLogging();
            services.AddBackpropModel("m", path);
            using var provider = services.BuildServiceProvider();
            var predictor = provider.GetRequiredService<BackpropPredictor>();
            Assert.False(predictor.Reload()); // the same bytes: nothing to swap
            V2.Save(path);
            Assert.True(predictor.Reload());
            Assert.Equal(2, predictor.Current!.Number);
            File.WriteAllText(path, "{\"format\": \"backprop-model\"");
            Assert.False(predictor.Reload());
            Assert.Equal(2, predictor.Current!.Number);
            Assert.Equal(1, predictor.RefusedReloads);
            Assert.Contains("m.json", predictor.LastError);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
