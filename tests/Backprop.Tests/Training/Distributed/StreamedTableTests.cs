using System.Globalization;
using Backprop.Data;
using Backprop.Distributed;
using Backprop.IO;
using Backprop.Nn;
using Backprop.Training;
using Backprop.Training.Distributed;

namespace Backprop.Tests.Training.Distributed;

/// <summary>
/// Streamed tables (docs/distributed.md, "Streaming"): Parquet by row groups and CSV by byte ranges train to the same
/// bits for any number of processes (threads here), every row is read exactly once per pass whatever the shard
/// boundaries cut, and a value that cannot be read is reported with its file, byte and shard.
/// </summary>
public sealed class StreamedTableTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("bp-stream-");

    public void Dispose() => _dir.Delete(true);

    private string PathOf(string name) => System.IO.Path.Combine(_dir.FullName, name);

    private static int[] Bits(Model<float> m) =>
        m.Network.Layers.SelectMany(l => l.Weights.ToArray().Concat(l.Biases.ToArray())).Select(BitConverter.SingleToInt32Bits).ToArray();

    private static int[] TrainStreamed(string path, IShardGroup? group, StreamedTableOptions? options = null, int epochs = 2, CheckpointOptions? checkpoint = null,
        TrainingCheckpoint? resume = null, double dropout = 0)
    {
        using var table = StreamedTable.Open(path, options, 6, group);
        var model = Model.Classifier(table.Inputs, table.ClassNames.Count).Dense(8, Activation.Tanh).Build(4);
        model.FitStreamed(table, table.FitPreprocessing(PreprocessingKind.Standardize), new TrainingOptions
        {
            Epochs = epochs,
            BatchSize = 24,
            Optimizer = new Adam(0.01),
            Shards = 6,
            Group = group,
            Seed = 2,
            Dropout = dropout,
            InputDropout = dropout / 2,
            Checkpoint = checkpoint,
            ResumeFrom = resume,
        }, Ct);
        return Bits(model);
    }

    private string WriteCsv(int rows, Func<int, string>? line = null)
    {
        string path = PathOf("t.csv");
        using var w = new StreamWriter(path);
        w.Write("id,a,b,label\n");
        var rng = new Backprop.Numerics.SplitMix64(7);
        for (int i = 0; i < rows; i++)
        {
            double a = rng.NextGaussian(), b = rng.NextGaussian();
            // Lines of varying length, so that the byte ranges cut lines at varying places.
            w.Write(line?.Invoke(i) ?? string.Create(CultureInfo.InvariantCulture, $"{i},{a:F3},{b:F1},{(a + b > 0 ? "up" : "down")}\n"));
        }
        return path;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void AParquetTableTrainsToTheSameBitsForAnyNumberOfProcesses(int processes)
    {
        string path = PathOf("t.parquet");
        // Row groups of 700 rows against blocks of 700 rows that start where the shards start: blocks span two groups.
        SyntheticParquet.Write(path, 4000, features: 4, classes: 3, seed: 5, rowGroupRows: 700);
        var alone = TrainStreamed(path, null);
        var ranks = ThreadGroup.Run(processes, g => TrainStreamed(path, g));
        Assert.All(ranks, bits => Assert.Equal(alone, bits));
        // The data matters: another file gives other weights.
        SyntheticParquet.Write(path, 4000, features: 4, classes: 3, seed: 6, rowGroupRows: 700);
        Assert.NotEqual(alone, TrainStreamed(path, null));
    }

    [Fact]
    public void AStreamedTableWithDropoutTrainsToTheSameBitsForAnyNumberOfProcesses()
    {
        string path = PathOf("t.parquet");
        SyntheticParquet.Write(path, 3000, features: 4, classes: 3, seed: 5, rowGroupRows: 700);
        var alone = TrainStreamed(path, null, dropout: 0.4);
        Assert.NotEqual(TrainStreamed(path, null), alone);
        var ranks = ThreadGroup.Run(3, g => TrainStreamed(path, g, dropout: 0.4));
        Assert.All(ranks, bits => Assert.Equal(alone, bits));
    }

    [Fact]
    public void ACsvTableCutByBytesTrainsToTheSameBitsForAnyNumberOfProcessesAndResumesWithAnother()
    {
        string path = WriteCsv(3001);
        var options = new StreamedTableOptions { LabelColumn = "label", BlockRows = 100 };
        var alone = TrainStreamed(path, null, options, epochs: 3);
        Assert.All(ThreadGroup.Run(4, g => TrainStreamed(path, g, options, epochs: 3)), bits => Assert.Equal(alone, bits));
        // Stopped in epoch 2 with 3 processes, resumed with 2.
        string cp = PathOf("c.json");
        ThreadGroup.Run(3, g =>
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            using var table = StreamedTable.Open(path, options, 6, g);
            var model = Model.Classifier(table.Inputs, table.ClassNames.Count).Dense(8, Activation.Tanh).Build(4);
            Assert.Throws<OperationCanceledException>(() => model.FitStreamed(table, table.FitPreprocessing(PreprocessingKind.Standardize), new TrainingOptions
            {
                Epochs = 3, BatchSize = 24, Optimizer = new Adam(0.01), Shards = 6, Group = g, Seed = 2,
                Checkpoint = new CheckpointOptions(new CheckpointFile(cp), 0),
                BatchProgress = new Sync<BatchResult>(r => { if (r.Epoch == 2 && r.Batch == 5) cts.Cancel(); }),
            }, cts.Token));
            return 0;
        });
        var resumed = ThreadGroup.Run(2, g => TrainStreamed(path, g, options, epochs: 3, resume: CheckpointFile.Read(cp)));
        Assert.All(resumed, bits => Assert.Equal(alone, bits));
    }

    [Fact]
    public void EveryCsvLineIsInExactlyOneShardWhereverTheByteRangesCut()
    {
        string path = WriteCsv(2347);
        using var table = StreamedTable.Open(path, new StreamedTableOptions { LabelColumn = "label", BlockRows = 50 }, 7, null);
        Assert.Equal(2347, table.Rows);
        Assert.Equal(["id", "a", "b"], table.FeatureNames);
        Assert.Equal(["down", "up"], table.ClassNames);
        var seen = new int[2347];
        for (int s = 0; s < table.Shards; s++)
        {
            Assert.InRange(table.ShardRows(s), 300, 370); // byte ranges of ~1/7 of the file
            for (long first = 0; first < table.ShardRows(s); first += 50)
            {
                int n = (int)Math.Min(50, table.ShardRows(s) - first);
                var f = new double[n * 3];
                var labels = new int[n];
                table.Read(s, first, n, f, labels, []);
                for (int r = 0; r < n; r++)
                    seen[(int)f[r * 3]]++;
            }
        }
        Assert.All(seen, c => Assert.Equal(1, c));
    }

    [Fact]
    public void AValueThatCannotBeReadIsReportedWithItsFileByteAndShard()
    {
        string path = WriteCsv(600, i => i == 550 ? "550,0.5,oops,up\n" : string.Create(CultureInfo.InvariantCulture, $"{i},0.{i % 10},1.5,{(i % 3 == 0 ? "up" : "down")}\n"));
        var e = Assert.Throws<BackpropException>(() => StreamedTable.Open(path, null, 6, null));
        Assert.Matches(@"t\.csv: byte \d+ \(shard 5, row \d+ of the shard\), column 'b': 'oops' is not a finite number\.", e.Message);
        // The byte offset is the line's.
        long offset = long.Parse(System.Text.RegularExpressions.Regex.Match(e.Message, @"byte (\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        using var f = File.OpenRead(path);
        f.Position = offset;
        Assert.Equal("550,", new StreamReader(f).ReadLine()![..4]);
    }

    private sealed class Sync<TValue>(Action<TValue> action) : IProgress<TValue>
    {
        public void Report(TValue value) => action(value);
    }
}
