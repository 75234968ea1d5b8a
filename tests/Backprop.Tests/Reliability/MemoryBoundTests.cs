using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Backprop.Tests.IO;
using static Backprop.Tests.Reliability.LimitedCli;

namespace Backprop.Tests.Reliability;

/// <summary>
/// The memory bounds of docs/reliability.md ("Memory"), held by the built command line in a child process whose managed
/// heap is capped at the stated bound: the worst inputs a command accepts run within it, and the inputs past the limits
/// are refused with one clean <c>error:</c> line (exit 2) before they are held, not with an out-of-memory abort.
/// </summary>
public sealed class MemoryBoundTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>The heap a command needs besides its data: the runtime, the command line, the small buffers (docs/reliability.md).</summary>
    internal const long Base = 16 * MiB;

    /// <summary>
    /// `train` (float32) on a dataset of <paramref name="values"/> feature values in <paramref name="rows"/> rows, with a
    /// small network: the rows as doubles (8 bytes a value, shared by the test split and the validation split), the
    /// training rows as float32 (4 bytes a value), labels, split and shuffle indices (32 bytes a row).
    /// </summary>
    internal static long TrainBound(long values, long rows) => Base + 12 * values + 32 * rows;

    /// <summary>An IDX file of unsigned bytes: header, then <paramref name="data"/> (or <paramref name="zeros"/> zero bytes), gzipped or not.</summary>
    internal static void WriteIdx(string path, int[] dims, byte[]? data = null, long zeros = 0, bool gzip = false)
    {
        using var file = File.Create(path);
        using Stream s = gzip ? new GZipStream(file, CompressionLevel.Fastest) : file;
        var head = new byte[4 + 4 * dims.Length];
        head[2] = 0x08;
        head[3] = (byte)dims.Length;
        for (int d = 0; d < dims.Length; d++)
            BinaryPrimitives.WriteInt32BigEndian(head.AsSpan(4 + 4 * d), dims[d]);
        s.Write(head);
        if (data is not null)
            s.Write(data);
        var chunk = new byte[1 << 20];
        for (long left = zeros; left > 0; left -= chunk.Length)
            s.Write(chunk, 0, (int)Math.Min(chunk.Length, left));
    }

    /// <summary>A CSV of <paramref name="rows"/> rows of <paramref name="features"/> one-digit features and a label 0..2.</summary>
    internal static string WriteDigitsCsv(string path, int rows, int features)
    {
        var rng = new Random(7);
        var lines = Enumerable.Range(0, 97).Select(i =>
            string.Join(',', Enumerable.Range(0, features).Select(_ => rng.Next(10).ToString(CultureInfo.InvariantCulture))) + "," + (i % 3).ToString(CultureInfo.InvariantCulture)).ToArray();
        using var w = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        for (int r = 0; r < rows; r++)
            w.Write(lines[r % lines.Length] + "\n");
        return path;
    }

    [Fact]
    public void TrainingOnIdxImagesStaysWithinItsBound()
    {
        // 40,000 images of 10 x 10 pixels: 4,000,000 values, 32 MB as doubles. The old path held the pixels as doubles
        // three to four times (the split's copies, the preprocessed copy, one-hot targets) and needed about 110 MB.
        const int rows = 40_000, pixels = 100;
        var rng = new Random(3);
        var images = new byte[rows * pixels];
        rng.NextBytes(images);
        var labels = Enumerable.Range(0, rows).Select(i => (byte)(i % 3)).ToArray();
        string img = _dir.File("img.idx"), lbl = _dir.File("lbl.idx");
        WriteIdx(img, [rows, 10, 10], images);
        WriteIdx(lbl, [rows], labels);
        var r = Run(TrainBound((long)rows * pixels, rows),
            "train", "--data", img, "--labels", lbl, "--hidden", "1", "--epochs", "1", "--batch", "256", "--quiet");
        AssertSuccess(r);
    }
}
