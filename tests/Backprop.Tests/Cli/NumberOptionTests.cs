namespace Backprop.Tests.Cli;

/// <summary>Every numeric option reads a number written with a point, and says which option a bad one was.</summary>
public sealed class NumberOptionTests
{
    [Theory]
    // A comma was a thousands separator: --lr 0,001 trained at a rate of 1, --l2 1,5 at 15, without a word.
    [InlineData("--lr", "0,001", "error: --lr: '0,001' is not a number (write it with a point: 0.001).")]
    [InlineData("--l2", "1,5", "error: --l2: '1,5' is not a number (write it with a point: 1.5).")]
    [InlineData("--dropout", "0,5", "error: --dropout: '0,5' is not a number (write it with a point: 0.5).")]
    [InlineData("--test-fraction", "0,2", "error: --test-fraction: '0,2' is not a number (write it with a point: 0.2).")]
    // A word gave .NET's type name: "as expected type 'System.Nullable`1[System.Double]'".
    [InlineData("--l2", "abc", "error: --l2: 'abc' is not a number.")]
    [InlineData("--epochs", "1,0", "error: --epochs: '1,0' is not a whole number.")]
    [InlineData("--epochs", "99999999999", "error: --epochs: '99999999999' is out of range (at most 2,147,483,647).")]
    public void ABadNumberIsAClearErrorNamingItsOption(string option, string value, string message)
    {
        var (code, _, err) = CliTests.Run("train", "--dataset", "xor", option, value);
        Assert.Equal(2, code);
        Assert.StartsWith(message, err.Trim());
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void NumbersWithAPointSignsAndExponentsStillRead()
    {
        var (code, output, err) = CliTests.Run("train", "--dataset", "xor", "--lr", "1e-2", "--l2", "0.0005", "--epochs", "+3", "--seed", "-4", "--json");
        Assert.True(code == 0, err);
        Assert.Contains("\"epochs\":3", output);
        (code, _, err) = CliTests.Run("gradcheck", "--dataset", "xor", "--tolerance", "1,5");
        Assert.Equal(2, code);
        Assert.Contains("--tolerance: '1,5' is not a number", err);
    }
}

/// <summary>A gzipped table is named as such, with the way round (it read "not an gzipped IDX file" and quoted decompressed bytes).</summary>
public sealed class GzippedTableTests
{
    [Fact]
    public void AGzippedCsvSaysToDecompressIt()
    {
        string dir = Backprop.Tests.IO.TestData.TempFolder();
        try
        {
            string path = Path.Combine(dir, "t.csv.gz");
            using (var gz = new System.IO.Compression.GZipStream(File.Create(path), System.IO.Compression.CompressionLevel.Fastest))
                gz.Write("a,b,y\n0,0,0\n1,1,1\n"u8);
            var (code, _, err) = CliTests.Run("train", "--data", path);
            Assert.Equal(2, code);
            Assert.Equal($"error: {path}: a gzip file whose content is not IDX images (it starts 61 2C, expected 00 00); only IDX files are read gzipped: decompress a table first (zcat FILE | backprop ... --data -).", err.Trim());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
