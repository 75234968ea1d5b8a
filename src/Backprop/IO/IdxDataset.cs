using Backprop.Data;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;

namespace Backprop.IO;

/// <summary>An IDX array (the MNIST file format) of unsigned bytes: its dimensions and its data, row-major.</summary>
public sealed class IdxArray
{
    internal IdxArray(int[] dimensions, byte[] data)
    {
        Dimensions = dimensions;
        Data = data;
    }

    /// <summary>The dimensions as the header gives them; the first is the number of items.</summary>
    public IReadOnlyList<int> Dimensions { get; }

    /// <summary>All items, row-major.</summary>
    public byte[] Data { get; }

    /// <summary>Number of items (the first dimension).</summary>
    public int Count => Dimensions[0];

    /// <summary>Values per item (the product of the other dimensions; 1 for a labels file).</summary>
    public int ItemSize => Count == 0 ? 0 : Data.Length / Count;
}

/// <summary>
/// Reads IDX files (MNIST's format), plain or gzipped (told apart by the gzip magic bytes 1F 8B).
/// Header: two zero bytes, a type byte (only 0x08, unsigned byte, is read), the number of dimensions,
/// then each dimension as a big-endian int32; then the data. The header is checked before any data is
/// held, sizes are bounded by <see cref="MaxBytes"/>, and a truncated or over-long file is an error.
/// </summary>
public static class IdxDataset
{
    /// <summary>The largest data part accepted (1 GiB); a header that claims more is rejected before reading.</summary>
    public const long MaxBytes = 1L << 30;

    /// <summary>Reads one IDX file.</summary>
    public static IdxArray ReadArray(string path) => ReadArray(path, null);

    /// <summary>Reads one IDX file; with <paramref name="maxValues"/>, a header that gives more values is refused before the data is read.</summary>
    internal static IdxArray ReadArray(string path, long? maxValues)
    {
        Stream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new BackpropException($"{path}: cannot read the file ({e.Message}).", e);
        }
        using (file)
            return ParseArray(file, path, maxValues);
    }

    /// <summary>Parses one IDX file's bytes (plain or gzipped).</summary>
    public static IdxArray ParseArray(byte[] bytes, string source = "idx")
    {
        using var ms = new MemoryStream(bytes, writable: false);
        return ParseArray(ms, source);
    }

    /// <summary>Parses one IDX stream (plain or gzipped).</summary>
    public static IdxArray ParseArray(Stream stream, string source = "idx") => ParseArray(stream, source, null);

    internal static IdxArray ParseArray(Stream stream, string source, long? maxValues)
    {
        try
        {
            var magic = new byte[4];
            int got = ReadFully(stream, magic);
            if (got == 0)
                throw new BackpropException($"{source}: the file is empty; expected an IDX file.");
            if (got >= 2 && magic[0] == 0x1F && magic[1] == 0x8B)
            {
                var compressed = new TrailerStream(new ConcatStream(new MemoryStream(magic, 0, got, writable: false), stream));
                IdxArray array;
                var crc = new Crc32Stream();
                using (var gz = new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: true))
                {
                    crc.Inner = gz;
                    array = ParsePlain(crc, source, gzipped: true, prefix: null, maxValues);
                }
                compressed.CheckEnd(crc, source);
                return array;
            }
            return ParsePlain(stream, source, gzipped: false, prefix: magic.AsSpan(0, got).ToArray(), maxValues);
        }
        catch (InvalidDataException e)
        {
            throw new BackpropException($"{source}: the gzip data is corrupt ({e.Message}).", e);
        }
        catch (IOException e)
        {
            throw new BackpropException($"{source}: cannot read the file ({e.Message}).", e);
        }
    }

    /// <summary>
    /// Reads an images file and a labels file into a classification dataset of raw pixel values (0..255; scale them
    /// with <see cref="PreprocessingKind.Pixels"/>). Classes are the label values present, ordered by value, unless
    /// <paramref name="classes"/> gives them.
    /// </summary>
    /// <remarks>
    /// At most <paramref name="maxValues"/> pixel values (default <see cref="DataLimits.MaxValues"/>): a header that
    /// gives more is refused before any data is read.
    /// </remarks>
    public static Dataset Read(string imagesPath, string labelsPath, IReadOnlyList<string>? classes = null, long? maxValues = null)
    {
        long limit = DataLimits.Check(maxValues);
        return ToDataset(ReadArray(imagesPath, limit), ReadArray(labelsPath, limit), imagesPath, labelsPath, classes, limit);
    }

    /// <summary>Reads an images file alone (no targets), e.g. for prediction; at most <paramref name="maxValues"/> values as in <see cref="Read"/>.</summary>
    public static Dataset ReadImages(string imagesPath, IReadOnlyList<string>? classes = null, long? maxValues = null)
    {
        long limit = DataLimits.Check(maxValues);
        return ToDataset(ReadArray(imagesPath, limit), null, imagesPath, null, classes, limit);
    }

    /// <summary>The schema of a dataset read from IDX files: pixels by position, no names.</summary>
    public static DataSchema SchemaOf(Dataset data) => new()
    {
        Task = TaskKind.Classification,
        ClassNames = data.ClassNames,
        Features = data.Inputs,
        SourceFormat = "idx",
    };

    /// <summary>
    /// Builds a dataset from parsed images and (optionally) labels, checking that they agree. At most
    /// <paramref name="maxValues"/> pixels (default <see cref="DataLimits.MaxValues"/>), checked before the
    /// pixels are converted to doubles (8 bytes each).
    /// </summary>
    public static Dataset ToDataset(IdxArray images, IdxArray? labels, string imagesSource = "images",
        string? labelsSource = "labels", IReadOnlyList<string>? classes = null, long? maxValues = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        long limit = DataLimits.Check(maxValues);
        if (images.Data.Length > limit)
            throw new BackpropException(DataLimits.TooMany(imagesSource,
                $"{string.Join(" x ", images.Dimensions)} = {images.Data.LongLength:N0} values", limit));
        if (images.Dimensions.Count < 2)
            throw new BackpropException($"{imagesSource}: an images file needs at least 2 dimensions (count, pixels...), found {images.Dimensions.Count}.");
        if (images.Count == 0)
            throw new BackpropException($"{imagesSource}: the file holds no images.");
        if (images.ItemSize == 0)
            throw new BackpropException($"{imagesSource}: each image has 0 pixels.");
        int n = images.Count;
        int m = images.ItemSize;
        var features = new double[images.Data.Length];
        for (int i = 0; i < features.Length; i++)
            features[i] = images.Data[i];
        if (labels is null)
            return Dataset.Unlabelled(features, m, imagesSource, null, TaskKind.Classification, classes);

        if (labels.Dimensions.Count != 1)
            throw new BackpropException($"{labelsSource}: a labels file has 1 dimension, found {labels.Dimensions.Count}.");
        if (labels.Count != n)
            throw new BackpropException($"{labelsSource}: {labels.Count} labels, but {imagesSource} holds {n} images; the counts must agree.");
        var keys = new string[256];
        for (int v = 0; v < 256; v++)
            keys[v] = v.ToString(CultureInfo.InvariantCulture);
        IReadOnlyList<string> cls = classes ?? labels.Data.Distinct().Order().Select(b => keys[b]).ToArray();
        var index = new int[256];
        Array.Fill(index, -1);
        for (int i = 0; i < cls.Count; i++)
        {
            string k = CsvDataset.ClassKey(cls[i]);
            if (int.TryParse(k, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v < 256 && index[v] < 0)
                index[v] = i;
        }
        var y = new int[n];
        for (int r = 0; r < n; r++)
        {
            int l = index[labels.Data[r]];
            if (l < 0)
                throw new BackpropException($"{labelsSource}: label {labels.Data[r]} of item {r} is not one of the classes ({CsvDataset.Shorten(string.Join(", ", cls))}).");
            y[r] = l;
        }
        if (cls.Count < 2)
            throw new BackpropException($"{labelsSource}: every label is {(cls.Count == 0 ? "missing" : cls[0])}; a classifier needs examples of at least two classes.");
        return Dataset.Classification(features, m, y, cls.Count, cls, imagesSource);
    }

    private static IdxArray ParsePlain(Stream s, string source, bool gzipped, byte[]? prefix, long? maxValues)
    {
        Span<byte> head = stackalloc byte[4];
        if (prefix is null)
        {
            var tmp = new byte[4];
            int got = ReadFully(s, tmp);
            if (got < 4)
                throw new BackpropException($"{source}: truncated: {got} byte(s) of the 4-byte IDX magic number.");
            tmp.CopyTo(head);
        }
        else
        {
            if (prefix.Length < 4)
                throw new BackpropException($"{source}: truncated: {prefix.Length} byte(s) of the 4-byte IDX magic number.");
            prefix.CopyTo(head);
        }
        if (head[0] != 0 || head[1] != 0)
            throw new BackpropException(gzipped
                ? $"{source}: a gzip file whose content is not IDX images (it starts {head[0]:X2} {head[1]:X2}, expected 00 00); only IDX files are read gzipped: decompress a table first (zcat FILE | backprop ... --data -)."
                : $"{source}: not an IDX file: the magic number starts {head[0]:X2} {head[1]:X2}, expected 00 00 (or a gzip file, 1F 8B).");
        if (head[2] != 0x08)
            throw new BackpropException(
                $"{source}: IDX data type 0x{head[2]:X2} is not supported; expected 0x08 (unsigned bytes, as MNIST uses).");
        int rank = head[3];
        if (rank < 1 || rank > 4)
            throw new BackpropException($"{source}: the IDX header gives {rank} dimensions; expected 1 to 4.");
        var dimBytes = new byte[4 * rank];
        int read = ReadFully(s, dimBytes);
        if (read < dimBytes.Length)
            throw new BackpropException($"{source}: truncated header: {read} of the {dimBytes.Length} bytes of dimensions.");
        var dims = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            int v = BinaryPrimitives.ReadInt32BigEndian(dimBytes.AsSpan(4 * d));
            if (v < 0)
                throw new BackpropException($"{source}: dimension {d} is {v}; expected a size >= 0.");
            dims[d] = v;
        }
        // The product in 128 bits: four dimensions of up to 2^31 cannot overflow it, so any claim is judged exactly.
        Int128 claimed = 1;
        foreach (int v in dims)
            claimed *= v;
        if (maxValues is { } limit && claimed > limit)
            throw new BackpropException(DataLimits.TooMany(source, $"the header gives {string.Join(" x ", dims)} = {claimed:N0} values", limit));
        if (claimed > MaxBytes)
            throw new BackpropException(
                $"{source}: the header claims {string.Join(" x ", dims)} values, more than the {MaxBytes} this reader accepts.");
        long total = (long)claimed;
        // Grow the buffer with the data actually present, never to the claimed size up front.
        var data = new byte[(int)Math.Min(total, 1 << 20)];
        int filled = 0;
        while (filled < total)
        {
            if (filled == data.Length)
                Array.Resize(ref data, (int)Math.Min(total, (long)data.Length * 2));
            int got = s.Read(data, filled, data.Length - filled);
            if (got == 0)
                throw new BackpropException(
                    $"{source}: truncated: the header ({string.Join(" x ", dims)}) needs {total} data bytes, the file holds {filled}.");
            filled += got;
        }
        if (s.ReadByte() >= 0)
            throw new BackpropException($"{source}: more data than the header ({string.Join(" x ", dims)}) describes; the file may be corrupt.");
        return new IdxArray(dims, data);
    }

    private static int ReadFully(Stream s, byte[] buffer)
    {
        int filled = 0;
        while (filled < buffer.Length)
        {
            int got = s.Read(buffer, filled, buffer.Length - filled);
            if (got == 0)
                break;
            filled += got;
        }
        return filled;
    }

    /// <summary>The wrappers below are read front to back once: no seeking, no length, no writing.</summary>
    private abstract class ForwardOnlyStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>
    /// The compressed stream under the gzip decoder: keeps the last 8 bytes it passed on, which end a gzip file that
    /// has nothing after its data (CRC-32 and size of the data, docs/data.md). <see cref="GZipStream"/> itself stops at
    /// the end of its data and ignores what follows, so this is where bytes after the data are found.
    /// </summary>
    private sealed class TrailerStream(Stream inner) : ForwardOnlyStream
    {
        private readonly byte[] _tail = new byte[8];
        private long _total;

        public override int Read(byte[] buffer, int offset, int count)
        {
            int got = inner.Read(buffer, offset, count);
            Keep(buffer.AsSpan(offset, got));
            return got;
        }

        private void Keep(ReadOnlySpan<byte> bytes)
        {
            _total += bytes.Length;
            if (bytes.Length >= 8)
                bytes[^8..].CopyTo(_tail);
            else if (bytes.Length > 0)
            {
                _tail.AsSpan(bytes.Length).CopyTo(_tail);
                bytes.CopyTo(_tail.AsSpan(8 - bytes.Length));
            }
        }

        /// <summary>After the data: the rest of the file read, its last 8 bytes must be the trailer of the data read.</summary>
        public void CheckEnd(Crc32Stream data, string source)
        {
            var rest = new byte[1 << 16];
            long after = 0;
            int got;
            while ((got = inner.Read(rest, 0, rest.Length)) > 0)
            {
                Keep(rest.AsSpan(0, got));
                after += got;
                if (after > 1 << 20)
                    break;
            }
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(_tail);
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(_tail.AsSpan(4));
            if (_total < 18 || crc != data.Crc || size != unchecked((uint)data.Count))
                throw new BackpropException(
                    $"{source}: bytes follow the gzip data (the file does not end with the data's gzip trailer, CRC-32 {data.Crc:X8} and size {data.Count:N0}); "
                    + "nothing may follow an IDX file's data (docs/data.md), and a file of several gzip members is not read either.");
        }
    }

    /// <summary>The decompressed bytes on their way to the parser: their count and CRC-32 (IEEE 802.3, as gzip uses).</summary>
    private sealed class Crc32Stream : ForwardOnlyStream
    {
        private readonly System.IO.Hashing.Crc32 _crc = new();

        public Stream Inner { get; set; } = Null;
        public long Count { get; private set; }
        public uint Crc => _crc.GetCurrentHashAsUInt32();

        public override int Read(byte[] buffer, int offset, int count)
        {
            int got = Inner.Read(buffer, offset, count);
            _crc.Append(buffer.AsSpan(offset, got));
            Count += got;
            return got;
        }
    }

    /// <summary>Reads one stream, then another (to give back bytes already read while sniffing the format).</summary>
    private sealed class ConcatStream(Stream first, Stream second) : ForwardOnlyStream
    {
        public override int Read(byte[] buffer, int offset, int count)
        {
            int got = first.Read(buffer, offset, count);
            return got > 0 ? got : second.Read(buffer, offset, count);
        }
    }
}
