using System.Buffers.Binary;
using System.IO.Compression;
using Backprop.Data;
using Backprop.IO;

namespace Backprop.Tests.IO;

public sealed class IdxDatasetTests
{
    /// <summary>An IDX file built by hand from the format's definition: 00 00 08 rank, big-endian dims, data.</summary>
    internal static byte[] Idx(int[] dims, byte[] data, byte type = 0x08)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int d = 0; d < dims.Length; d++)
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dims[d]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    internal static byte[] Gzip(byte[] bytes)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
            gz.Write(bytes);
        return ms.ToArray();
    }

    private static readonly byte[] Pixels = [0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ImagesAndLabelsPlainOrGzipped(bool gzip)
    {
        using var temp = new TempDirectory();
        string dir = temp.Path;
        byte[] images = Idx([3, 2, 2], Pixels);
        byte[] labels = Idx([3], [7, 2, 7]);
        string ip = Path.Combine(dir, "img"), lp = Path.Combine(dir, "lbl");
        File.WriteAllBytes(ip, gzip ? Gzip(images) : images);
        File.WriteAllBytes(lp, gzip ? Gzip(labels) : labels);
        var d = IdxDataset.Read(ip, lp);
        Assert.Equal(3, d.Rows);
        Assert.Equal(4, d.Inputs);
        Assert.Equal(Pixels.Select(b => (double)b), d.Features.ToArray());
        Assert.Equal(["2", "7"], d.ClassNames);
        Assert.Equal([1, 0, 1], d.Labels.ToArray());
        var only = IdxDataset.ReadImages(ip);
        Assert.False(only.HasTargets);
        Assert.Equal(3, only.Rows);
    }

    [Fact]
    public void GivenClassesKeepTheirOrder()
    {
        var d = IdxDataset.ToDataset(IdxDataset.ParseArray(Idx([2, 1], [5, 6])), IdxDataset.ParseArray(Idx([2], [3, 0])),
            classes: ["0", "1", "2", "3"]);
        Assert.Equal([3, 0], d.Labels.ToArray());
        Assert.Equal(4, d.Outputs);
        var e = Assert.Throws<BackpropException>(() => IdxDataset.ToDataset(IdxDataset.ParseArray(Idx([1, 1], [5])),
            IdxDataset.ParseArray(Idx([1], [9])), classes: ["0", "1"]));
        Assert.Contains("label 9", e.Message);
    }

    public static TheoryData<byte[], string> BadFiles => new()
    {
        { [], "empty" },
        { [0, 0, 8], "truncated" },
        { [1, 2, 3, 4, 5], "not an IDX file" },
        { Idx([2], [1, 2], type: 0x0D), "0x0D is not supported" },
        { [0, 0, 8, 0], "0 dimensions" },
        { [0, 0, 8, 9], "9 dimensions" },
        { Idx([2, 3], [1, 2, 3, 4, 5, 6])[..10], "truncated header" },
        { Idx([2, 3], [1, 2, 3, 4, 5]), "needs 6 data bytes, the file holds 5" },
        { Idx([2, 3], [1, 2, 3, 4, 5, 6, 7]), "more data than the header" },
        { Idx([-1], []), "dimension 0 is -1" },
        { Idx([60000, 60000, 28], []), "more than the" },
        { Gzip(Idx([4], [1, 2, 3]))[..20], "truncated" },
        { [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7], "the gzip data is corrupt" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void BadFilesGiveClearErrors(byte[] bytes, string expected)
    {
        var e = Assert.ThrowsAny<BackpropException>(() => IdxDataset.ParseArray(bytes, "f.idx"));
        Assert.StartsWith("f.idx: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void BytesAfterTheGzipDataAreRefused()
    {
        // docs/data.md: nothing may follow the data. GZipStream stops at the end of its data and ignores what follows,
        // so the reader checks that the file ends with the data's gzip trailer (CRC-32 and size).
        var gz = Gzip(Idx([3, 2], [1, 2, 3, 4, 5, 6]));
        Assert.Equal(6, IdxDataset.ParseArray(gz, "f.gz").Data.Length);
        foreach (var junk in new byte[][] { [1], [0, 0, 0], "junk after the data, longer than a trailer"u8.ToArray(), new byte[100_000], [0x1F, 0x8B] })
        {
            var e = Assert.Throws<BackpropException>(() => IdxDataset.ParseArray([.. gz, .. junk], "f.gz"));
            Assert.StartsWith("f.gz: bytes follow the gzip data (the file does not end with the data's gzip trailer, CRC-32", e.Message);
            Assert.Contains("nothing may follow an IDX file's data (docs/data.md)", e.Message);
        }
        // Two gzip members (cat a.gz b.gz) are not read either, as the message says.
        var two = Assert.Throws<BackpropException>(() => IdxDataset.ParseArray([.. Gzip(Idx([3, 2], [1, 2, 3])), .. Gzip([4, 5, 6])], "f.gz"));
        Assert.Contains("several gzip members", two.Message);
        // A damaged trailer is reported the same way (GZipStream itself checks it against the data as well).
        var damaged = (byte[])gz.Clone();
        damaged[^1] ^= 0x40;
        Assert.ThrowsAny<BackpropException>(() => IdxDataset.ParseArray(damaged, "f.gz"));
        // From a file, as the CLI reads it.
        using var dir = new TempDirectory();
        string path = dir.File("x.gz");
        File.WriteAllBytes(path, [.. gz, 7, 7, 7]);
        Assert.Contains("bytes follow the gzip data", Assert.Throws<BackpropException>(() => IdxDataset.ReadArray(path)).Message);
    }

    [Fact]
    public void TruncatedGzipDataIsReported()
    {
        var full = Gzip(Idx([100, 10], Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray()));
        var e = Assert.ThrowsAny<BackpropException>(() => IdxDataset.ParseArray(full[..(full.Length / 2)], "f.gz"));
        Assert.StartsWith("f.gz: truncated: the header (100 x 10) needs 1000 data bytes", e.Message);
    }

    [Fact]
    public void ImagesAndLabelsMustAgree()
    {
        var images = IdxDataset.ParseArray(Idx([3, 2, 2], Pixels));
        var e = Assert.Throws<BackpropException>(() => IdxDataset.ToDataset(images, IdxDataset.ParseArray(Idx([2], [1, 2])), "i", "l"));
        Assert.Contains("2 labels, but i holds 3 images", e.Message);
        var e2 = Assert.Throws<BackpropException>(() => IdxDataset.ToDataset(images, images, "i", "l"));
        Assert.Contains("l: a labels file has 1 dimension, found 3", e2.Message);
        var e3 = Assert.Throws<BackpropException>(() => IdxDataset.ToDataset(IdxDataset.ParseArray(Idx([3], [1, 2, 3])), null, "i"));
        Assert.Contains("at least 2 dimensions", e3.Message);
    }

    [Fact]
    public void MnistTestSet()
    {
        string images = TestData.Require("mnist", "t10k-images-idx3-ubyte.gz");
        string labels = TestData.Require("mnist", "t10k-labels-idx1-ubyte.gz");
        var raw = IdxDataset.ReadArray(images);
        Assert.Equal([10000, 28, 28], raw.Dimensions);
        var d = IdxDataset.Read(images, labels);
        Assert.Equal(10000, d.Rows);
        Assert.Equal(784, d.Inputs);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i.ToString()), d.ClassNames);
        Assert.Equal([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009], d.ClassCounts());
        // The first three test digits are the well-known 7, 2, 1.
        Assert.Equal([7, 2, 1], d.Labels[..3]);
        Assert.Equal(255.0, d.Features.ToArray().Max());
        Assert.Equal(0.0, d.Features.ToArray().Min());
    }
}
