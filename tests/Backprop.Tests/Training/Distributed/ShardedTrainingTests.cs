using Backprop.Data;
using Backprop.IO;
using Backprop.Nn;
using Backprop.Training;
using Backprop.Training.Distributed;

namespace Backprop.Tests.Training.Distributed;

/// <summary>
/// The sharded definition of a batch's gradient (TrainingOptions.Shards, docs/distributed.md): the same bits for any
/// number of processes, the gradient of the whole batch up to rounding, every row once per epoch, and exact resumes.
/// The processes here are threads (<see cref="ThreadGroup"/>); MpiProcessTests runs the same under mpirun.
/// </summary>
public sealed class ShardedTrainingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly Dataset Moons = SyntheticData.TwoMoons(203, 0.15, seed: 3);

    private static Model<float> NewModel() => Model.Classifier(2, 2).Dense(16, Activation.Tanh).Dense(8, Activation.Relu).Build(5);

    private static TrainingOptions Options(int? shards, IShardGroup? group = null, int epochs = 4, double dropout = 0) => new()
    {
        Epochs = epochs,
        Dropout = dropout,
        InputDropout = dropout / 2,
        BatchSize = 20,
        Optimizer = new Adam(0.01),
        Shards = shards,
        Group = group,
        Seed = 9,
        ValidationFraction = 0.2,
    };

    private static int[] Bits(Model<float> m) =>
        m.Network.Layers.SelectMany(l => l.Weights.ToArray().Concat(l.Biases.ToArray())).Select(BitConverter.SingleToInt32Bits).ToArray();

    private static int[] TrainAlone(int? shards, int epochs = 4, double dropout = 0)
    {
        var model = NewModel();
        model.Fit(Moons, Options(shards, epochs: epochs, dropout: dropout), Ct);
        return Bits(model);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 0)]
    [InlineData(3, 0)]
    [InlineData(4, 0)]
    [InlineData(1, 0.4)]
    [InlineData(3, 0.4)]
    public void AnyNumberOfProcessesGivesTheBitsOfOneProcess(int processes, double dropout)
    {
        var alone = TrainAlone(12, dropout: dropout);
        if (dropout > 0)
            Assert.NotEqual(TrainAlone(12), alone);
        var ranks = ThreadGroup.Run(processes, g =>
        {
            var model = NewModel();
            var report = model.Fit(Moons, Options(12, g, dropout: dropout), Ct);
            return (Bits: Bits(model), report.History.Count, g.Sent);
        });
        foreach (var r in ranks)
        {
            Assert.Equal(alone, r.Bits);
            Assert.Equal(4, r.Count);
        }
        // The ranks really exchanged: each batch, every rank but the last sends once; the last broadcasts.
        if (processes > 1)
            Assert.All(ranks, r => Assert.True(r.Sent > 0));
    }

    [Fact]
    public void TheNumberOfShardsIsPartOfTheDefinitionAndUnshardedStaysAsItWas()
    {
        var unsharded = TrainAlone(null);
        var s12 = TrainAlone(12);
        var s4 = TrainAlone(4);
        Assert.NotEqual(unsharded, s12);
        Assert.NotEqual(s4, s12);
        Assert.Equal(s12, TrainAlone(12));
        // Unsharded is the run as it always was: the default options give the same bits.
        var model = NewModel();
        model.Fit(Moons, Options(null) with { Shards = null }, Ct);
        Assert.Equal(unsharded, Bits(model));
    }

    [Fact]
    public void OneBatchOfShardsIsTheWholeBatchsGradientUpToRounding()
    {
        // One batch of every row, plain SGD, no shuffle: the update is lr * gradient, so the weights after one step
        // show the gradient. Sharded (rows of 7 shards of unequal parts weighted by their rows) against unsharded.
        double[] Step(int? shards)
        {
            var model = Model.Classifier(2, 2).Dense(6, Activation.Tanh).Build<double>(2);
            model.Fit(Moons, new TrainingOptions { Epochs = 1, BatchSize = Moons.Rows, Optimizer = new Sgd(0.5), Shuffle = false, Shards = shards }, Ct);
            return model.Network.Layers.SelectMany(l => l.Weights.ToArray().Concat(l.Biases.ToArray())).ToArray();
        }
        var whole = Step(null);
        var sharded = Step(7);
        Assert.Equal(whole.Length, sharded.Length);
        for (int i = 0; i < whole.Length; i++)
            Assert.Equal(whole[i], sharded[i], 1e-12);
        Assert.NotEqual(whole, sharded); // computed differently, so not the same bits everywhere
    }

    [Fact]
    public void EveryRowIsInExactlyOneBatchPartPerEpochAndTheOrderChangesPerEpoch()
    {
        var plan = new ShardPlan(rows: 10_007, shards: 12, batchSize: 32, seed: 4, shuffle: true, blockRows: 100);
        Assert.Equal(3, plan.PerShard);
        var epochOrders = new List<int[]>();
        for (int epoch = 1; epoch <= 2; epoch++)
        {
            var seen = new int[10_007];
            var all = new List<int>();
            for (int s = 0; s < plan.Shards; s++)
            {
                var order = new int[plan.ShardRows(s)];
                plan.ShardOrder(epoch, s, order);
                for (int b = 0; b < plan.BatchesPerEpoch; b++)
                {
                    var (start, count) = plan.Part(s, b);
                    foreach (int row in order.AsSpan((int)start, count))
                    {
                        Assert.InRange(row, plan.ShardStart(s), plan.ShardStart(s) + plan.ShardRows(s) - 1);
                        seen[row]++;
                    }
                }
                all.AddRange(order);
            }
            Assert.All(seen, c => Assert.Equal(1, c));
            epochOrders.Add([.. all]);
        }
        Assert.NotEqual(epochOrders[0], epochOrders[1]);
        Assert.Equal(278, plan.BatchesPerEpoch); // ceil(834 rows of the largest shard / 3)
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 3)]
    [InlineData(4, 2)]
    public void ResumingMidEpochWithAnotherNumberOfProcessesEndsOnTheSameBits(int before, int after)
    {
        var alone = TrainAlone(12, epochs: 4);
        var dir = Directory.CreateTempSubdirectory("bp-shard-resume-");
        try
        {
            string path = Path.Combine(dir.FullName, "run.checkpoint.json");
            // Stop after 2 epochs and 3 batches of the third: cancelled between two batches, the run checkpoints.
            ThreadGroup.Run(before, g =>
            {
                var model = NewModel();
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
                var options = Options(12, g) with
                {
                    Checkpoint = new CheckpointOptions(new CheckpointFile(path), 0),
                    BatchProgress = new Sync<BatchResult>(r => { if (r.Epoch == 3 && r.Batch == 3) cts.Cancel(); }),
                };
                Assert.Throws<OperationCanceledException>(() => model.Fit(Moons, options, cts.Token));
                return 0;
            });
            var checkpoint = CheckpointFile.Read(path);
            Assert.True(checkpoint.State.InEpoch);
            var ranks = ThreadGroup.Run(after, g =>
            {
                var model = NewModel();
                model.Fit(Moons, Options(12, g) with { ResumeFrom = CheckpointFile.Read(path) }, Ct);
                return Bits(model);
            });
            Assert.All(ranks, bits => Assert.Equal(alone, bits));
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void AResumeWithOtherShardsIsRefused()
    {
        var dir = Directory.CreateTempSubdirectory("bp-shard-other-");
        try
        {
            string path = Path.Combine(dir.FullName, "c.json");
            var model = NewModel();
            model.Fit(Moons, Options(12, epochs: 2) with { Checkpoint = new CheckpointOptions(new CheckpointFile(path)) }, Ct);
            var e = Assert.Throws<BackpropException>(() => NewModel().Fit(Moons, Options(6) with { ResumeFrom = CheckpointFile.Read(path) }, Ct));
            Assert.Contains("shards: checkpoint has '12', this run has '6'", e.Message);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void AGroupNeedsShardsAndAtLeastOneShardPerProcess()
    {
        var g = new ThreadGroup(new ThreadGroup.Wires(3), 0);
        Assert.Contains("set Shards", Assert.Throws<BackpropException>(() => Options(null, g).Validate()).Message);
        Assert.Contains("3 processes need at least 3 shards, got 2", Assert.Throws<BackpropException>(() => Options(2, g).Validate()).Message);
        Assert.Contains("from 1 to 4096", Assert.Throws<BackpropException>(() => Options(0).Validate()).Message);
    }

    private sealed class Sync<TValue>(Action<TValue> action) : IProgress<TValue>
    {
        public void Report(TValue value) => action(value);
    }
}
