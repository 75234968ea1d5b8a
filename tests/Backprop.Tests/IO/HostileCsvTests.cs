using Backprop.Data;
using Backprop.IO;
using Backprop.Tests.Reliability;

namespace Backprop.Tests.IO;

/// <summary>
/// The CSV reader read as an attacker would (issue 14 item 7 of the brief): NUL bytes, endless lines, a billion
/// commas, huge labels; and the spellings of a line break and a byte order mark, which must read as plain text does.
/// </summary>
public sealed class HostileCsvTests
{
    private static BackpropException Fails(string text, CsvOptions? options = null) =>
        Assert.ThrowsAny<BackpropException>(() => CsvDataset.Parse(text, options, "t.csv"));

    [Fact]
    public void ANulCharacterIsRefusedNotReadAsTheEndOfANumber()
    {
        // double.Parse ignores trailing NULs: "2\0" read as 2, and a binary file could load as numbers.
        Assert.Equal(2.0, double.Parse("2\0", System.Globalization.CultureInfo.InvariantCulture));
        var e = Fails("a,b,c\n1,2,x\n3,4\0,y\n5,6,x\n");
        Assert.Equal("t.csv: line 3 holds a NUL character (byte 0); a CSV file is text (is this a binary file?).", e.Message);
        Assert.Contains("line 1 holds a NUL", Fails("\0\0\0\0").Message);
    }

    [Fact]
    public void ALineTooLongOrTooWideIsRefusedWhileItIsRead()
    {
        var wide = Fails("a,b\n" + new string(',', CsvDataset.MaxColumns) + "\n");
        Assert.Equal("t.csv: line 2 has more than 262,144 fields, the most a CSV row may have.", wide.Message);
        var longLine = Fails("a,b\n1,2\n" + new string('7', CsvDataset.MaxLineChars + 1) + ",1\n");
        Assert.StartsWith("t.csv: line 3 is longer than 4,194,304 characters, the most a CSV line may be", longLine.Message);
        // At the limits: read.
        var d = CsvDataset.Parse("f,y\n" + new string('7', 300) + ",a\n1,b\n", null, "t.csv");
        Assert.Equal(2, d.Rows);
        var widest = string.Join(',', Enumerable.Repeat("1", CsvDataset.MaxColumns - 1));
        Assert.Equal(CsvDataset.MaxColumns - 1, CsvDataset.Parse($"{widest},a\n{widest},b\n", null, "t.csv").Inputs);
    }

    [Fact]
    public void ALabelTooLongForAClassIsRefused()
    {
        string label = new('z', CsvDataset.MaxLabelChars + 1);
        var e = Fails($"a,y\n1,{label}\n2,b\n");
        Assert.Equal("t.csv: line 2, column 1 (\"y\"): the label is 4,097 characters long, more than the 4,096 a label may be.", e.Message);
        Assert.Equal(2, CsvDataset.Parse($"a,y\n1,{label[..^1]}\n2,b\n", null, "t.csv").ClassCount);
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    public void EveryLineBreakAndAByteOrderMarkReadAlike(string newline)
    {
        string text = string.Join(newline, "sepal,petal,kind", "1.5,2,a", "3,4.25,b", "5,6,a") + newline;
        var plain = CsvDataset.Parse(text.Replace(newline, "\n"), null, "t.csv");
        var d = CsvDataset.Parse(text, null, "t.csv");
        Assert.Equal(plain.Features.ToArray(), d.Features.ToArray());
        Assert.Equal(["sepal", "petal"], d.FeatureNames!);
        Assert.Equal(["a", "b"], d.ClassNames);
        using var dir = new TempDirectory();
        string path = dir.File("bom.csv");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. System.Text.Encoding.UTF8.GetBytes(text)]);
        var fromFile = CsvDataset.Read(path, new CsvOptions { LabelColumn = "kind" });
        Assert.Equal(["sepal", "petal"], fromFile.FeatureNames!);
        Assert.Equal(plain.Features.ToArray(), fromFile.Features.ToArray());
    }

    [Fact]
    public void HugeNumbersAreNotFinite()
    {
        Assert.Contains("expected a finite number", Fails("a,b\n1e400,x\n2,y\n").Message);
        Assert.Contains("expected a finite number", Fails("a,b\n1,x\n-1" + new string('0', 400) + ",y\n").Message);
    }
}

/// <summary>The same hostile inputs through the command line, under a capped heap: one clean error, never an abort.</summary>
public sealed class HostileInputCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void DevZeroAndABillionCommasAreRefusedWithinAFewMegabytes()
    {
        Assert.SkipUnless(File.Exists("/dev/zero"), "needs /dev/zero");
        LimitedCli.AssertCleanError(LimitedCli.Run(32 * LimitedCli.MiB, "train", "--data", "/dev/zero", "--epochs", "1"),
            "/dev/zero: line 1 holds a NUL character");
        // 30 million commas on one line (the billion of the brief, at a size a test can write): the parser would hold
        // the line with an index entry a field (about 70 bytes each: 2 GB).
        string commas = _dir.File("commas.csv");
        using (var w = new StreamWriter(commas))
        {
            var block = new string(',', 1 << 20);
            for (int i = 0; i < 30; i++)
                w.Write(block);
            w.Write('\n');
        }
        LimitedCli.AssertCleanError(LimitedCli.Run(32 * LimitedCli.MiB, "train", "--data", commas, "--epochs", "1"),
            "commas.csv: line 1 has more than 262,144 fields");
        // An IDX header of 2^31 - 1 in every dimension (the largest it can claim).
        string idx = _dir.File("max.idx");
        MemoryBoundTests.WriteIdx(idx, [int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue]);
        LimitedCli.AssertCleanError(LimitedCli.Run(32 * LimitedCli.MiB, "predict", "--model", "/dev/null", "--data", idx),
            "not valid JSON");
        LimitedCli.AssertCleanError(LimitedCli.Run(32 * LimitedCli.MiB, "train", "--data", idx, "--labels", idx, "--epochs", "1"),
            "2147483647 x 2147483647 x 2147483647 x 2147483647 = 21,267,647,892,944,572,736,998,860,269,687,930,881 values");
    }
}
