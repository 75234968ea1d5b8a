using Backprop.IO;

namespace Backprop.Tests.IO;

/// <summary>A pipe read once and kept: the same bytes from any position, across the kept chunks' edges, within the bound.</summary>
public sealed class ReplayStreamTests
{
    [Fact]
    public void EveryPositionGivesTheBytesOfThePipe()
    {
        var data = new byte[(3 << 20) + 12_345]; // three 1 MiB chunks and part of a fourth
        new Random(4).NextBytes(data);
        using var s = new ReplayStream(new PipeLike(new MemoryStream(data), maxRead: 70_001), 8 << 20, "pipe");
        // Half read forwards in odd pieces, then the length (reads on to the end), then random seeks.
        var got = new byte[data.Length];
        int at = 0;
        while (at < data.Length / 2)
            at += s.Read(got, at, Math.Min(777_777, data.Length / 2 - at));
        Assert.Equal(data.Length, s.Length);
        Assert.Equal(data.Length / 2, s.Position);
        while (at < data.Length)
        {
            int n = s.Read(got, at, data.Length - at);
            Assert.True(n > 0);
            at += n;
        }
        Assert.Equal(data, got);
        Assert.Equal(0, s.Read(got, 0, 10));
        var rng = new Random(5);
        for (int i = 0; i < 200; i++)
        {
            long p = rng.NextInt64(data.Length);
            s.Seek(p, SeekOrigin.Begin);
            var piece = new byte[Math.Min(rng.Next(1, 3 << 20), data.Length - (int)p)];
            int filled = 0;
            while (filled < piece.Length)
                filled += s.Read(piece, filled, piece.Length - filled);
            Assert.True(data.AsSpan((int)p, piece.Length).SequenceEqual(piece), $"at {p}");
        }
        Assert.Equal(data.Length - 5, s.Seek(-5, SeekOrigin.End));
    }

    [Fact]
    public void MoreThanTheBoundIsAClearError()
    {
        using var s = new ReplayStream(new PipeLike(new MemoryStream(new byte[3 << 20])), 2 << 20, "pipe");
        var e = Assert.Throws<BackpropException>(() => s.Length);
        Assert.Equal("pipe: more than 2,097,152 bytes from a pipe or device; data read that way is limited to 2,097,152 bytes.", e.Message);
    }
}
