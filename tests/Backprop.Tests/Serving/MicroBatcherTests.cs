using System.Collections.Concurrent;
using System.Text;
using Backprop.AspNetCore;
using Backprop.IO;
using Backprop.Training;

namespace Backprop.Tests.Serving;

/// <summary>Concurrent requests computed in one forward pass, bounded, and never mixing model versions.</summary>
public sealed class MicroBatcherTests
{
    private static readonly ModelVersion A = Version(ServingModels.Flowers(seed: 1), 1);
    private static readonly ModelVersion B = Version(ServingModels.Flowers(seed: 7, epochs: 3, hidden: 5), 2);

    private static ModelVersion Version(Model<float> model, int number) =>
        ModelVersion.FromBytes(Encoding.UTF8.GetBytes(ModelFile.Serialize(model)), "test.json", number, TimeProvider.System);

    private static double[] Row(int i) => [i % 3, 10 + i % 5, 20 + i % 7, 30 + i % 4];

    private static void Near(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5, $"output {i}: {actual[i]} vs {expected[i]}");
    }

    /// <summary>Runs <paramref name="n"/> single-row requests at once (released together) and records the batch sizes.</summary>
    private static async Task<(double[][] Results, List<int> Batches)> Burst(BackpropModelOptions options, int n, Func<int, ModelVersion> version)
    {
        var batches = new List<int>();
        var batcher = new MicroBatcher(options, rows => { lock (batches) batches.Add(rows); });
        using var go = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, n).Select(i => Task.Factory.StartNew(() =>
        {
            go.Wait();
            return batcher.Run(version(i), Row(i), 1).AsTask();
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()).ToArray();
        go.Set();
        var results = await Task.WhenAll(tasks);
        return (results, batches);
    }

    [Fact]
    public async Task Concurrent_requests_share_forward_passes_and_each_gets_its_own_rows_outputs()
    {
        var (results, batches) = await Burst(new BackpropModelOptions { MaxBatchDelay = TimeSpan.FromMilliseconds(50) }, 16, _ => A);
        for (int i = 0; i < results.Length; i++)
            Near(A.Model.Predict(Row(i)), results[i]);
        Assert.Equal(16, batches.Sum());
        Assert.True(batches.Count < 16, $"16 requests in {batches.Count} forward passes: no batching");
        Assert.True(batches.Max() > 1);
    }

    [Fact]
    public async Task A_batch_holds_at_most_max_batch_rows()
    {
        var (results, batches) = await Burst(new BackpropModelOptions { MaxBatchRows = 4, MaxBatchDelay = TimeSpan.FromMilliseconds(30) }, 24, _ => A);
        Assert.All(batches, b => Assert.InRange(b, 1, 4));
        Assert.Equal(24, batches.Sum());
        for (int i = 0; i < results.Length; i++)
            Near(A.Model.Predict(Row(i)), results[i]);
    }

    [Fact]
    public async Task Max_batch_rows_1_computes_every_request_alone()
    {
        var (_, batches) = await Burst(new BackpropModelOptions { MaxBatchRows = 1 }, 12, _ => A);
        Assert.Equal(Enumerable.Repeat(1, 12), batches);
    }

    [Fact]
    public async Task Rows_of_two_model_versions_are_never_computed_in_one_pass()
    {
        // Alternate versions in one burst: each result must be its own version's, which a mixed batch would break.
        var (results, batches) = await Burst(new BackpropModelOptions { MaxBatchDelay = TimeSpan.FromMilliseconds(30) }, 24, i => i % 2 == 0 ? A : B);
        for (int i = 0; i < results.Length; i++)
            Near((i % 2 == 0 ? A : B).Model.Predict(Row(i)), results[i]);
        Assert.Equal(24, batches.Sum());
    }

    [Fact]
    public async Task A_full_queue_refuses_with_503_instead_of_growing()
    {
        var options = new BackpropModelOptions { MaxQueuedRows = 2, MaxBatchDelay = TimeSpan.FromMilliseconds(100) };
        var batcher = new MicroBatcher(options);
        var refused = new ConcurrentBag<Exception>();
        using var go = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, 12).Select(i => Task.Factory.StartNew(async () =>
        {
            go.Wait();
            try
            {
                await batcher.Run(A, Row(i), 1);
            }
            catch (ServingUnavailableException e)
            {
                refused.Add(e);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()).ToArray();
        go.Set();
        await Task.WhenAll(tasks);
        Assert.NotEmpty(refused);
        Assert.Contains("busy", refused.First().Message);
        Assert.Equal(0, batcher.QueuedRows);
    }

    [Fact]
    public async Task An_idle_batcher_computes_at_once_on_the_callers_thread()
    {
        var batcher = new MicroBatcher(new BackpropModelOptions());
        var pending = batcher.Run(A, Row(3), 1);
        Assert.True(pending.IsCompletedSuccessfully); // no hop to another thread, no wait
        Near(A.Model.Predict(Row(3)), await pending);
    }
}
