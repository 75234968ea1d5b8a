using System.Globalization;
using System.Text.Json.Serialization;
using Backprop.Data;
using Backprop.IO;
using Backprop.Tests.IO;
using Parquet.Serialization;

namespace Backprop.Tests.Data;

/// <summary>Parquet files as tables: the same values as the CSV, the same model as the CSV, clear errors, bounded.</summary>
public sealed class ParquetTableTests
{
    private sealed class Small
    {
        [JsonPropertyName("name")] public string? Name { get; set; }
        [JsonPropertyName("n")] public double? N { get; set; }
        [JsonPropertyName("when")] public DateTime? When { get; set; }
        [JsonPropertyName("ok")] public bool? Ok { get; set; }
    }

    private sealed class Penguin
    {
        public string? Species { get; set; }
        public string? Island { get; set; }
        [JsonPropertyName("Beak Length (mm)")] public double? BeakLength { get; set; }
        [JsonPropertyName("Beak Depth (mm)")] public double? BeakDepth { get; set; }
        [JsonPropertyName("Flipper Length (mm)")] public double? Flipper { get; set; }
        [JsonPropertyName("Body Mass (g)")] public double? Mass { get; set; }
        public string? Sex { get; set; }
    }

    private static MemoryStream Write<T>(IEnumerable<T> rows)
    {
        var s = new MemoryStream();
        ParquetSerializer.SerializeAsync(rows, s).GetAwaiter().GetResult();
        s.Position = 0;
        return s;
    }

    [Fact]
    public void Parquet_ReadsAsTheCsv()
    {
        using var s = Write(new[]
        {
            new Small { Name = "ab", N = 1.5, When = new DateTime(2001, 2, 3, 0, 0, 0, DateTimeKind.Utc), Ok = true },
            new Small { Name = null, N = 2, When = null, Ok = false },
        });
        var t = TableFiles.ReadRaw(s, "t.parquet", new CsvOptions());
        Assert.Equal("parquet", t.Format);
        Assert.Equal(["name", "n", "when", "ok"], t.ColumnNames);
        Assert.Equal(["ab", "1.5", "2001-02-03", "true"], Enumerable.Range(0, 4).Select(c => t[0, c]));
        Assert.Equal([null, "2", null, "false"], Enumerable.Range(0, 4).Select(c => t[1, c]));
    }

    [Fact]
    public async Task Parquet_FromAPipe_ReadsAsFromAFile()
    {
        // A pipe cannot seek: its bytes are kept as they are read (ReplayStream), and Parquet asks for the length
        // first. That once recursed until the stack overflowed (Length -> ReadToEnd -> Seek(End) -> Length).
        using var s = Write(new[]
        {
            new Small { Name = "ab", N = 1.5, When = new DateTime(2001, 2, 3, 0, 0, 0, DateTimeKind.Utc), Ok = true },
            new Small { Name = null, N = 2, When = null, Ok = false },
        });
        using var dir = new TempDirectory();
        string fifo = dir.File("t.parquet");
        Backprop.Tests.Cli.Process.ToolProcess.MakeFifo(fifo);
        byte[] bytes = s.ToArray();
        var writer = Task.Run(() => File.WriteAllBytes(fifo, bytes), TestContext.Current.CancellationToken);
        var t = TableFiles.ReadTable(fifo, new CsvOptions { LabelColumn = "ok" }).Table;
        await writer.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal("parquet", t.Format);
        Assert.Equal(["ab", "1.5", "2001-02-03", "true"], Enumerable.Range(0, 4).Select(c => t[0, c]));
        Assert.Equal([null, "2", null, "false"], Enumerable.Range(0, 4).Select(c => t[1, c]));
    }

    [Fact]
    public void AMalformedParquetFileIsBadInputNotAnIOError()
    {
        // Parquet.Net says "not a parquet file" with an IOException: it was exit 3 (I/O), where a malformed CSV or
        // JSON file is exit 2.
        using var dir = new TempDirectory();
        string path = dir.File("junk.parquet");
        File.WriteAllBytes(path, "PAR1 not a footer at all PAR1"u8.ToArray());
        var (code, _, err) = Backprop.Tests.Cli.CliTests.Run("train", "--data", path);
        Assert.Equal(2, code);
        Assert.StartsWith($"error: {path}: cannot be read as Parquet (", err.Trim());
    }

    [Fact]
    public void PenguinsParquet_GivesTheModelOfTheCsv()
    {
        string csvPath = TestData.Require("penguins", "penguins.csv");
        var csv = TableFiles.ReadTable(csvPath, new CsvOptions { LabelColumn = "Species" });
        double? Num(int r, int c) => RawTable.TryNumber(csv.Table[r, c], out double v) ? v : null;
        string? Text(int r, int c) => TableInference.IsMissing(csv.Table[r, c], []) ? null : csv.Table[r, c];
        var rows = Enumerable.Range(0, csv.Table.Rows).Select(r => new Penguin
        {
            Species = Text(r, 0), Island = Text(r, 1), BeakLength = Num(r, 2), BeakDepth = Num(r, 3), Flipper = Num(r, 4), Mass = Num(r, 5), Sex = Text(r, 6),
        }).ToArray();
        using var dir = new TempDirectory();
        string path = dir.File("penguins.parquet");
        using (var s = Write(rows))
            File.WriteAllBytes(path, s.ToArray());
        var options = new CsvOptions { LabelColumn = "Species" };
        var fromCsv = TableFiles.Prepare(csv, options, 0.3, 1);
        var fromParquet = TableFiles.Prepare(TableFiles.ReadTable(path, options), options, 0.3, 1);
        Assert.Equal(fromCsv.Pipeline.FeatureNames, fromParquet.Pipeline.FeatureNames);
        Assert.Equal(fromCsv.Data.Features.ToArray(), fromParquet.Data.Features.ToArray());
        Assert.Equal(fromCsv.Data.Labels.ToArray(), fromParquet.Data.Labels.ToArray());
    }

    [Fact]
    public void Parquet_Fuzzed_OnlyClearErrors()
    {
        using var s = Write(Enumerable.Range(0, 20).Select(i => new Small { Name = "r" + i, N = i, Ok = i % 2 == 0 }));
        var good = s.ToArray();
        var rng = new Random(16);
        for (int i = 0; i < 400; i++)
        {
            var bytes = (byte[])good.Clone();
            for (int k = rng.Next(1, 4); k > 0; k--)
                bytes[4 + rng.Next(bytes.Length - 8)] = (byte)rng.Next(256);
            try
            {
                TableFiles.ReadRaw(new MemoryStream(bytes), "f.parquet", new CsvOptions { MaxValues = 1000 });
            }
            catch (BackpropException)
            {
            }
        }
        var e = Assert.Throws<BackpropException>(() => TableFiles.ReadRaw(new MemoryStream(good), "big.parquet", new CsvOptions { MaxValues = 50 }));
        Assert.Contains("20 rows of 4 columns make 80 values", e.Message);
    }
}
