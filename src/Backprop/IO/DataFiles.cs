using Backprop.Data;

namespace Backprop.IO;

/// <summary>A dataset read from a file, with the schema it was read by (which columns were features, label, dropped).</summary>
/// <param name="Data">The rows.</param>
/// <param name="Schema">The columns as read, for a model trained on them to remember.</param>
public sealed record DataFile(Dataset Data, DataSchema Schema);

/// <summary>
/// One entry point for the CLI's <c>--data FILE [--labels FILE]</c>: IDX when a labels file is given or the data
/// file starts with an IDX or gzip magic number, CSV/TSV otherwise.
/// </summary>
public static class DataFiles
{
    /// <summary>The most a pipe or a device given as a data file is kept in memory (1 GiB, the IDX data limit).</summary>
    public const long MaxPipeBytes = IdxDataset.MaxBytes;

    /// <summary>
    /// Opens a data file to be read once, from the start, by every reader that needs it (sniffing, parsing): a regular
    /// file as a seekable file stream; a pipe (<c>&lt;(cat f.csv)</c>, a FIFO, /dev/stdin) or a device opened once and
    /// kept in memory as it is read (at most <see cref="MaxPipeBytes"/>), so a reader can go back to its start and it is
    /// never opened twice (a FIFO's second open waits for a writer that has gone), while a reader that stops early
    /// (a NUL byte in /dev/zero's first line) has kept only what it read. A folder or a missing file is a
    /// <see cref="BackpropException"/> naming it.
    /// </summary>
    public static Stream OpenInput(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var id = FileIdentity.Of(path);
        if (id.Kind == FileKind.Directory)
            throw new BackpropException($"{path}: is a folder; expected a data file.");
        try
        {
            if (id.Exists && !id.IsRegularFile)
                return new ReplayStream(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan), MaxPipeBytes, path);
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new BackpropException($"{path}: cannot read the file ({e.Message}).", e);
        }
    }

    /// <summary>True when <paramref name="path"/> starts like an IDX file (00 00 08 ..) or a gzip file (1F 8B).</summary>
    public static bool LooksLikeIdx(string path)
    {
        using var s = OpenInput(path);
        return LooksLikeIdx(s, path);
    }

    /// <summary>
    /// True when the seekable <paramref name="stream"/> (as <see cref="OpenInput"/> gives, a pipe's too) starts like an
    /// IDX or gzip file; it is left at its start. <paramref name="path"/> names it in errors.
    /// </summary>
    public static bool LooksLikeIdx(Stream stream, string path)
    {
        try
        {
            Span<byte> head = stackalloc byte[3];
            int got = stream.ReadAtLeast(head, 3, throwOnEndOfStream: false);
            stream.Seek(0, SeekOrigin.Begin);
            return (got >= 2 && head[0] == 0x1F && head[1] == 0x8B) || (got == 3 && head[0] == 0 && head[1] == 0 && head[2] == 0x08);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new BackpropException($"{path}: cannot read the file ({e.Message}).", e);
        }
    }

    /// <summary>
    /// Reads a dataset: IDX images (+ labels) or CSV. <paramref name="csv"/> applies to CSV files; its
    /// <see cref="CsvOptions.Classes"/> are used for IDX labels too. Each file is opened and read once.
    /// </summary>
    public static DataFile Read(string dataPath, string? labelsPath = null, CsvOptions? csv = null)
    {
        using var input = OpenInput(dataPath);
        return Read(input, dataPath, labelsPath, csv);
    }

    internal static DataFile Read(Stream input, string dataPath, string? labelsPath, CsvOptions? csv)
    {
        if (labelsPath is not null || LooksLikeIdx(input, dataPath))
        {
            var classes = csv?.Columns?.ClassNames is { Count: > 0 } c ? c : csv?.Classes;
            long limit = DataLimits.Check(csv?.MaxValues);
            var images = IdxDataset.ParseArray(input, dataPath, limit);
            var labels = labelsPath is null ? null : ReadIdx(labelsPath, limit);
            var data = IdxDataset.ToDataset(images, labels, dataPath, labelsPath, classes, limit);
            return new DataFile(data, IdxDataset.SchemaOf(data));
        }
        return CsvDataset.ReadFile(input, csv, dataPath);
    }

    private static IdxArray ReadIdx(string path, long maxValues)
    {
        using var s = OpenInput(path);
        return IdxDataset.ParseArray(s, path, maxValues);
    }

    /// <summary>
    /// Reads a data file for a model: its columns matched to the model's <paramref name="schema"/> (by name when the file
    /// has a header, by position otherwise), labels encoded with the model's classes. The features are raw: the model
    /// applies its preprocessing. With <paramref name="requireLabels"/> false a file without the label column is read
    /// as unlabelled. <paramref name="csv"/> gives the CSV settings (header, delimiter; for a model file of format
    /// version 1, which does not record its columns, also the label and dropped columns). The file is opened once.
    /// </summary>
    public static Dataset ReadFor(DataSchema schema, string dataPath, string? labelsPath, CsvOptions csv, bool requireLabels)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(csv);
        using var input = OpenInput(dataPath);
        IReadOnlyList<string>? classes = schema.Task == TaskKind.Classification ? schema.ClassNames : null;
        bool idx = labelsPath is not null || LooksLikeIdx(input, dataPath);
        bool knowsColumns = schema.FeatureNames is not null || schema.FeatureColumns is not null;
        Dataset data;
        if (idx)
            data = Read(input, dataPath, labelsPath, csv with { Classes = classes, Columns = null }).Data;
        else if (knowsColumns)
            data = CsvDataset.ReadFile(input, csv with { Columns = schema, RequireLabels = requireLabels, Classes = classes, Task = schema.Task }, dataPath).Data;
        else if (!requireLabels && csv.LabelColumn == "last")
        {
            // A model that does not record its columns: a file with exactly the model's inputs has no label column.
            Dataset? unlabelled = null;
            try
            {
                unlabelled = CsvDataset.ReadFile(input, csv with { LabelColumn = "none", Classes = classes, Task = schema.Task }, dataPath).Data;
            }
            catch (BackpropException)
            {
                // e.g. a text label column that is not a number: read it as labelled below.
            }
            input.Seek(0, SeekOrigin.Begin);
            data = unlabelled is not null && unlabelled.Inputs == schema.Features
                ? unlabelled
                : CsvDataset.ReadFile(input, csv with { Classes = classes, Task = schema.Task }, dataPath).Data;
        }
        else
            data = CsvDataset.ReadFile(input, csv with { Classes = classes, Task = schema.Task }, dataPath).Data;
        if (data.Inputs != schema.Features)
            throw new BackpropException($"{dataPath}: has {data.Inputs} feature column(s), but the model takes {schema.Features} inputs.");
        if (requireLabels && !data.HasTargets)
            throw new BackpropException($"{dataPath}: has no labels; this command needs labelled data.");
        return data;
    }

    /// <summary>The default preprocessing for a data file: <see cref="PreprocessingKind.Pixels"/> for IDX images, otherwise standardisation.</summary>
    public static PreprocessingKind DefaultPreprocessing(string dataPath, string? labelsPath = null) =>
        labelsPath is not null || LooksLikeIdx(dataPath) ? PreprocessingKind.Pixels : PreprocessingKind.Standardize;
}

/// <summary>
/// A pipe, FIFO or device read once, as a seekable stream: what has been read is kept (at most a bound), so a reader can
/// go back to the start (a format sniff, a second reading) and gets the same bytes, and a reader that stops early (a
/// NUL byte in the first line of /dev/zero) has kept only what it read, not the whole input.
/// </summary>
internal sealed class ReplayStream(Stream source, long maxBytes, string path) : Stream
{
    private readonly KeptBytes _kept = new();
    private long _position;
    private bool _ended;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;

    /// <summary>Not known before the end: the stream is read to its end first.</summary>
    public override long Length
    {
        get
        {
            ReadToEnd();
            return _kept.Length;
        }
    }

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
            return 0;
        if (_position < _kept.Length)
        {
            int n = _kept.CopyTo(_position, buffer);
            _position += n;
            return n;
        }
        if (_ended)
            return 0;
        int got = source.Read(buffer);
        if (got == 0)
        {
            _ended = true;
            return 0;
        }
        if (_kept.Length + got > maxBytes)
            throw new BackpropException($"{path}: more than {maxBytes:N0} bytes from a pipe or device; data read that way is limited to {maxBytes:N0} bytes.");
        _kept.Write(buffer[..got]);
        _position += got;
        return got;
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        long target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => Length + offset,
        };
        if (target < 0)
            throw new IOException("Seek before the start of the stream.");
        Span<byte> skip = stackalloc byte[4096];
        while (target > _kept.Length && !_ended)
        {
            _position = _kept.Length;
            if (Read(skip[..(int)Math.Min(skip.Length, target - _kept.Length)]) == 0)
                break;
        }
        _position = Math.Min(target, _kept.Length);
        return _position;
    }

    private void ReadToEnd()
    {
        // Read on from the end of what is kept (not through Seek(0, End), which asks Length, which comes here: the
        // stack overflow a piped Parquet file hit).
        long at = _position;
        var chunk = new byte[64 * 1024];
        do
            _position = _kept.Length;
        while (Read(chunk) > 0);
        _position = at;
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            source.Dispose();
            _kept.Clear();
        }
        base.Dispose(disposing);
    }
}

/// <summary>
/// The bytes a <see cref="ReplayStream"/> has read, in chunks of 1 MiB: kept memory is what was read rounded up to a
/// MiB, where a doubling buffer held up to twice that, and three times while it grew (a 1 GiB pipe took 3 GiB).
/// </summary>
internal sealed class KeptBytes
{
    private const int ChunkBits = 20;
    private const int ChunkSize = 1 << ChunkBits;
    private readonly List<byte[]> _chunks = [];

    /// <summary>Bytes kept.</summary>
    public long Length { get; private set; }

    /// <summary>Appends <paramref name="bytes"/>.</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            int at = (int)(Length & (ChunkSize - 1));
            if (at == 0 && Length >> ChunkBits == _chunks.Count)
                _chunks.Add(new byte[ChunkSize]);
            int n = Math.Min(bytes.Length, ChunkSize - at);
            bytes[..n].CopyTo(_chunks[(int)(Length >> ChunkBits)].AsSpan(at));
            bytes = bytes[n..];
            Length += n;
        }
    }

    /// <summary>Copies kept bytes from <paramref name="position"/> (less than <see cref="Length"/>) to <paramref name="destination"/>, at most to the end of a chunk; returns how many.</summary>
    public int CopyTo(long position, Span<byte> destination)
    {
        int at = (int)(position & (ChunkSize - 1));
        int n = (int)Math.Min(Math.Min(destination.Length, ChunkSize - at), Length - position);
        _chunks[(int)(position >> ChunkBits)].AsSpan(at, n).CopyTo(destination);
        return n;
    }

    /// <summary>Lets go of every chunk.</summary>
    public void Clear()
    {
        _chunks.Clear();
        Length = 0;
    }
}
