using System.Buffers.Binary;
using System.IO.Compression;

namespace Backprop.Tests.Plotting;

/// <summary>
/// A PNG reader written from the specification (RFC 2083 / W3C PNG), independent of the SkiaSharp encoder that
/// wrote the file: checks the signature, every chunk's CRC, IHDR first and IEND last, inflates the IDAT stream and
/// undoes the five scanline filters. Enough for 8-bit RGB and RGBA without interlacing, what the plots write;
/// anything else is an assertion failure that says what was found.
/// </summary>
internal sealed class Png
{
    private Png(int width, int height, byte[] rgba)
    {
        Width = width;
        Height = height;
        Rgba = rgba;
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>Width x Height pixels, 4 bytes each (R, G, B, A), rows top to bottom.</summary>
    public byte[] Rgba { get; }

    public (byte R, byte G, byte B, byte A) Pixel(int x, int y)
    {
        int o = (y * Width + x) * 4;
        return (Rgba[o], Rgba[o + 1], Rgba[o + 2], Rgba[o + 3]);
    }

    /// <summary>How many pixels have exactly this colour (opaque).</summary>
    public int Count(byte r, byte g, byte b)
    {
        int n = 0;
        for (int o = 0; o < Rgba.Length; o += 4)
            if (Rgba[o] == r && Rgba[o + 1] == g && Rgba[o + 2] == b && Rgba[o + 3] == 255)
                n++;
        return n;
    }

    public static Png Read(string path) => Decode(File.ReadAllBytes(path), path);

    public static Png Decode(byte[] file, string what = "the file")
    {
        byte[] signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        Assert.True(file.Length >= 8 && file.AsSpan(0, 8).SequenceEqual(signature), $"{what}: no PNG signature");
        int at = 8, width = 0, height = 0, colorType = -1, chunks = 0;
        bool ended = false;
        using var idat = new MemoryStream();
        while (at < file.Length)
        {
            Assert.False(ended, $"{what}: data after IEND");
            Assert.True(at + 12 <= file.Length, $"{what}: truncated chunk at byte {at}");
            int length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(at));
            Assert.True(length >= 0 && at + 12L + length <= file.Length, $"{what}: chunk at byte {at} claims {length} bytes");
            string type = System.Text.Encoding.ASCII.GetString(file, at + 4, 4);
            var data = file.AsSpan(at + 8, length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(at + 8 + length));
            Assert.True(crc == Crc32(file.AsSpan(at + 4, 4 + length)), $"{what}: bad CRC in chunk {type}");
            Assert.True(chunks > 0 || type == "IHDR", $"{what}: the first chunk is {type}, not IHDR");
            switch (type)
            {
                case "IHDR":
                    Assert.Equal(13, length);
                    width = BinaryPrimitives.ReadInt32BigEndian(data);
                    height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    int depth = data[8];
                    colorType = data[9];
                    Assert.True(width > 0 && height > 0, $"{what}: {width} x {height}");
                    Assert.True(depth == 8 && colorType is 2 or 6, $"{what}: bit depth {depth}, colour type {colorType} (this reader takes 8-bit RGB or RGBA)");
                    Assert.True(data[10] == 0 && data[11] == 0, $"{what}: unknown compression or filter method");
                    Assert.True(data[12] == 0, $"{what}: interlaced (this reader takes non-interlaced images)");
                    break;
                case "IDAT":
                    idat.Write(data);
                    break;
                case "IEND":
                    ended = true;
                    break;
            }
            chunks++;
            at += 12 + length;
        }
        Assert.True(ended, $"{what}: no IEND chunk");

        int channels = colorType == 6 ? 4 : 3;
        int stride = width * channels;
        var raw = new byte[(stride + 1) * height];
        idat.Position = 0;
        using (var z = new ZLibStream(idat, CompressionMode.Decompress))
        {
            int read = 0, n;
            while (read < raw.Length && (n = z.Read(raw, read, raw.Length - read)) > 0)
                read += n;
            Assert.True(read == raw.Length, $"{what}: image data holds {read} bytes, {raw.Length} expected");
            Assert.True(z.Read(new byte[1], 0, 1) == 0, $"{what}: more image data than {width} x {height} needs");
        }

        var pixels = new byte[stride * height];
        for (int y = 0; y < height; y++)
        {
            int filter = raw[y * (stride + 1)];
            var line = raw.AsSpan(y * (stride + 1) + 1, stride);
            var row = pixels.AsSpan(y * stride, stride);
            ReadOnlySpan<byte> up = y > 0 ? pixels.AsSpan((y - 1) * stride, stride) : new byte[stride];
            for (int i = 0; i < stride; i++)
            {
                int left = i >= channels ? row[i - channels] : 0;
                int above = up[i];
                int corner = i >= channels ? up[i - channels] : 0;
                int predicted = filter switch
                {
                    0 => 0,
                    1 => left,
                    2 => above,
                    3 => (left + above) / 2,
                    4 => Paeth(left, above, corner),
                    _ => throw new Xunit.Sdk.XunitException($"{what}: row {y} has filter type {filter}"),
                };
                row[i] = (byte)(line[i] + predicted);
            }
        }

        if (channels == 4)
            return new Png(width, height, pixels);
        var rgba = new byte[width * height * 4];
        for (int p = 0; p < width * height; p++)
        {
            rgba[p * 4] = pixels[p * 3];
            rgba[p * 4 + 1] = pixels[p * 3 + 1];
            rgba[p * 4 + 2] = pixels[p * 3 + 2];
            rgba[p * 4 + 3] = 255;
        }
        return new Png(width, height, rgba);
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in bytes)
            c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }
}
