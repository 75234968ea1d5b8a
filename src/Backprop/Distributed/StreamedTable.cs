using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Backprop.Data;
using Backprop.Training.Distributed;
using Parquet;
using Parquet.Schema;

namespace Backprop.Distributed;

/// <summary>How a <see cref="StreamedTable"/> reads its file.</summary>
public sealed record StreamedTableOptions
{
    /// <summary>The label (target) column by name; null: the last column.</summary>
    public string? LabelColumn { get; init; }

    /// <summary>CSV: the field delimiter. Default ','.</summary>
    public char Delimiter { get; init; } = ',';

    /// <summary>The task; null: classification, except a Parquet label column of floating-point numbers (regression).</summary>
    public TaskKind? Task { get; init; }

    /// <summary>
    /// Rows per block (the unit of reading and of the in-shard shuffle); null: 1024 for CSV, for Parquet the file's
    /// largest row group up to 65,536 rows (a block then spans at most two row groups).
    /// </summary>
    public int? BlockRows { get; init; }
}

/// <summary>
/// A training table that stays on disk (Parquet, or CSV with a header), cut into S shards and read a block at a time:
/// the <see cref="IShardedRows"/> of a streamed run. Parquet shards are the rows <c>[s*N/S, (s+1)*N/S)</c> (N from the
/// file's metadata); CSV shards are byte ranges, shard s holding the lines that start in <c>[s*F/S, (s+1)*F/S)</c> of
/// the F bytes after the header. <see cref="Open"/> makes a first pass over this process's shards only (row counts,
/// block offsets, classes, sums) and exchanges the per-shard results with the group, so that every process knows
/// every shard's size and the classes without reading another's rows.
/// </summary>
/// <remarks>
/// Memory: a CSV shard keeps one file offset per block (8 bytes per <see cref="StreamedTableOptions.BlockRows"/>
/// rows); a Parquet shard keeps the row group it last read (its rows x columns values). Nothing else grows with the
/// row count. Quoted CSV fields are not read here (use the in-memory reader).
/// </remarks>
public sealed class StreamedTable : IShardedRows, IDisposable
{
    private readonly string _path;
    private readonly StreamedTableOptions _options;
    private readonly IShardGroup? _group;
    private readonly int _labelIndex;
    private readonly string[] _columns;
    private readonly long[] _shardRows;
    private readonly Dictionary<string, int> _classIndex = new(StringComparer.Ordinal);
    private readonly ParquetPart? _parquet;
    private readonly CsvPart? _csv;
    private string[] _classNames = [];

    private StreamedTable(string path, StreamedTableOptions options, int shards, IShardGroup? group)
    {
        _path = path;
        _options = options;
        _group = group;
        Shards = shards;
        if (shards < 1)
            throw new BackpropException($"The number of shards must be at least 1, got {shards}.");
        bool parquet = path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) || IsParquet(path);
        if (parquet)
        {
            _parquet = new ParquetPart(this);
            _columns = _parquet.Columns;
        }
        else
        {
            _csv = new CsvPart(this);
            _columns = _csv.Columns;
        }
        if (_columns.Length < 2)
            throw new BackpropException($"{path}: {_columns.Length} column(s); a table to train on needs at least one feature and a label column.");
        _labelIndex = options.LabelColumn is { } label ? Array.IndexOf(_columns, label) : _columns.Length - 1;
        if (_labelIndex < 0)
            throw new BackpropException($"{path}: no column '{options.LabelColumn}'; the columns are {string.Join(", ", _columns.Take(20))}.");
        FeatureNames = [.. _columns.Where((_, i) => i != _labelIndex)];
        TargetName = _columns[_labelIndex];
        Task = options.Task ?? (_parquet?.LabelIsFloatingPoint(_labelIndex) == true ? TaskKind.Regression : TaskKind.Classification);
        BlockRows = options.BlockRows ?? (_parquet is not null ? (int)Math.Clamp(_parquet.LargestGroup, 1, 1 << 16) : ShardPlan.DefaultBlockRows);
        if (BlockRows < 1)
            throw new BackpropException($"The rows per block must be at least 1, got {BlockRows}.");
        _shardRows = new long[shards];
    }

    /// <summary>
    /// Opens <paramref name="path"/> (Parquet by its extension or magic bytes, else CSV) for a run of
    /// <paramref name="shards"/> shards, and makes the first pass over the shards this process owns in
    /// <paramref name="group"/> (all of them when null).
    /// </summary>
    public static StreamedTable Open(string path, StreamedTableOptions? options, int shards, IShardGroup? group)
    {
        var table = new StreamedTable(path, options ?? new StreamedTableOptions(), shards, group);
        table.FirstPass();
        return table;
    }

    /// <inheritdoc/>
    public string Name => _path;

    /// <inheritdoc/>
    public int Inputs => _columns.Length - 1;

    /// <inheritdoc/>
    public TaskKind Task { get; }

    /// <inheritdoc/>
    public IReadOnlyList<string> ClassNames => _classNames;

    /// <inheritdoc/>
    public int Targets => 1;

    /// <inheritdoc/>
    public int Shards { get; }

    /// <summary>The feature columns' names.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>The label column's name.</summary>
    public string TargetName { get; }

    /// <summary>Every row of every shard.</summary>
    public long Rows => _shardRows.Sum();

    /// <inheritdoc/>
    public long ShardRows(int shard) => _shardRows[shard];

    /// <inheritdoc/>
    public string Fingerprint { get; private set; } = "";

    /// <inheritdoc/>
    public int BlockRows { get; }

    private int Block => BlockRows;

    private (int First, int Count) Mine => _group is null ? (0, Shards) : IShardGroup.ShardRange(Shards, _group.Rank, _group.Size);

    private bool IsMine(int shard) => shard >= Mine.First && shard < Mine.First + Mine.Count;

    // The first pass: per shard its rows, its labels' distinct values and a digest of its bytes; exchanged in shard order.
    private void FirstPass()
    {
        var blobs = ShardExchange.Gather(_group, Shards, shard =>
        {
            long rows = 0;
            var labels = new SortedSet<string>(StringComparer.Ordinal);
            ulong hash = 14695981039346656037UL;
            Scan(shard, (features, label, target, n) =>
            {
                rows += n;
                hash = Fnv(hash, MemoryMarshal.AsBytes(features));
                if (Task == TaskKind.Regression)
                    hash = Fnv(hash, MemoryMarshal.AsBytes(target));
                else
                    for (int r = 0; r < n; r++)
                    {
                        labels.Add(label[r]!);
                        hash = Fnv(hash, Encoding.UTF8.GetBytes(label[r]!));
                        if (labels.Count > Dataset.MaxClasses)
                            throw new BackpropException($"{_path}: more than {Dataset.MaxClasses} distinct labels in column '{TargetName}' (shard {shard}); is it a regression target? (--task regression)");
                    }
            });
            using var ms = new MemoryStream();
            using var w = new BinaryWriter(ms);
            w.Write(rows);
            w.Write(hash);
            w.Write(labels.Count);
            foreach (var l in labels)
                w.Write(l);
            w.Flush();
            return ms.ToArray();
        });
        var all = new SortedSet<string>(StringComparer.Ordinal);
        ulong digest = 14695981039346656037UL;
        for (int s = 0; s < Shards; s++)
        {
            using var r = new BinaryReader(new MemoryStream(blobs[s]));
            _shardRows[s] = r.ReadInt64();
            digest = Fnv(digest, BitConverter.GetBytes(r.ReadUInt64()));
            int count = r.ReadInt32();
            for (int i = 0; i < count; i++)
                all.Add(r.ReadString());
        }
        Fingerprint = digest.ToString("x16", CultureInfo.InvariantCulture) + "/" + Rows.ToString(CultureInfo.InvariantCulture);
        if (Task == TaskKind.Classification)
        {
            // Classes in label order: numerically when every label is a whole number, else by ordinal string order.
            var names = all.ToArray();
            if (names.All(n => long.TryParse(n, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)))
                names = [.. names.OrderBy(n => long.Parse(n, CultureInfo.InvariantCulture))];
            if (names.Length < 2)
                throw new BackpropException($"{_path}: column '{TargetName}' has {names.Length} distinct label(s); classification needs at least 2.");
            _classNames = names;
            for (int i = 0; i < names.Length; i++)
                _classIndex[names[i]] = i;
        }
        if (Rows == 0)
            throw new BackpropException($"{_path}: no rows to train on.");
    }

    /// <summary>
    /// Fits <paramref name="kind"/> in passes over the shards (each process its own): the sums, then for
    /// standardisation the squared deviations from the mean, per shard in row order, added in shard order.
    /// </summary>
    public Preprocessing FitPreprocessing(PreprocessingKind kind)
    {
        int m = Inputs;
        var offset = new double[m];
        var scale = new double[m];
        Array.Fill(scale, 1.0);
        switch (kind)
        {
            case PreprocessingKind.None:
                break;
            case PreprocessingKind.Pixels:
                Array.Fill(scale, 255.0);
                break;
            case PreprocessingKind.Standardize:
            {
                var sum = SumOver((features, n, acc) =>
                {
                    for (int r = 0; r < n; r++)
                        for (int j = 0; j < m; j++)
                            acc[j] += features[r * m + j];
                });
                var mean = sum.Select(v => v / Rows).ToArray();
                var ss = SumOver((features, n, acc) =>
                {
                    for (int r = 0; r < n; r++)
                        for (int j = 0; j < m; j++)
                        {
                            double d = features[r * m + j] - mean[j];
                            acc[j] += d * d;
                        }
                });
                for (int j = 0; j < m; j++)
                {
                    double sd = Math.Sqrt(ss[j] / Rows);
                    offset[j] = mean[j];
                    scale[j] = sd > 0 && double.IsFinite(sd) ? sd : 1.0;
                }
                break;
            }
            case PreprocessingKind.MinMax:
            {
                var lo = Reduce(double.PositiveInfinity, Math.Min);
                var hi = Reduce(double.NegativeInfinity, Math.Max);
                for (int j = 0; j < m; j++)
                {
                    offset[j] = lo[j];
                    double range = hi[j] - lo[j];
                    scale[j] = range > 0 && double.IsFinite(range) ? range : 1.0;
                }
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown preprocessing.");
        }
        return Preprocessing.Create(kind, offset, scale);
    }

    private double[] SumOver(Action<double[], int, double[]> add)
    {
        int m = Inputs;
        var blobs = ShardExchange.Gather(_group, Shards, shard =>
        {
            var acc = new double[m];
            Scan(shard, (features, _, _, n) => add(features, n, acc));
            return MemoryMarshal.AsBytes(acc.AsSpan()).ToArray();
        });
        var total = new double[m];
        foreach (var b in blobs)
        {
            var part = MemoryMarshal.Cast<byte, double>(b);
            for (int j = 0; j < m; j++)
                total[j] += part[j];
        }
        return total;
    }

    private double[] Reduce(double start, Func<double, double, double> f)
    {
        int m = Inputs;
        var blobs = ShardExchange.Gather(_group, Shards, shard =>
        {
            var acc = Enumerable.Repeat(start, m).ToArray();
            Scan(shard, (features, _, _, n) =>
            {
                for (int r = 0; r < n; r++)
                    for (int j = 0; j < m; j++)
                        acc[j] = f(acc[j], features[r * m + j]);
            });
            return MemoryMarshal.AsBytes(acc.AsSpan()).ToArray();
        });
        var total = Enumerable.Repeat(start, m).ToArray();
        foreach (var b in blobs)
        {
            var part = MemoryMarshal.Cast<byte, double>(b);
            for (int j = 0; j < m; j++)
                total[j] = f(total[j], part[j]);
        }
        return total;
    }

    /// <summary>A chunk of a shard's rows: features (n x inputs), labels (classification) or targets, n.</summary>
    private delegate void ChunkVisitor(double[] features, string?[] labels, double[] targets, int n);

    /// <summary>Reads shard <paramref name="shard"/> from its start, block by block (the first pass also records CSV block offsets).</summary>
    private void Scan(int shard, ChunkVisitor visit)
    {
        var features = new double[Block * Inputs];
        var labels = new string?[Block];
        var targets = new double[Block];
        if (_parquet is not null)
        {
            long rows = _parquet.ShardRows(shard);
            for (long first = 0; first < rows; first += Block)
            {
                int n = (int)Math.Min(Block, rows - first);
                _parquet.ReadRaw(shard, first, n, features, labels, targets);
                visit(features, labels, targets, n);
            }
        }
        else
        {
            _csv!.ScanShard(shard, features, labels, targets, visit);
        }
    }

    /// <inheritdoc/>
    public void Read(int shard, long first, int count, Span<double> features, Span<int> labels, Span<double> targets)
    {
        if (!IsMine(shard))
            throw new InvalidOperationException($"shard {shard} is another process's.");
        var f = new double[count * Inputs];
        var l = new string?[count];
        var t = new double[count];
        if (_parquet is not null)
            _parquet.ReadRaw(shard, first, count, f, l, t);
        else
            _csv!.ReadBlock(shard, first, count, f, l, t);
        f.CopyTo(features);
        if (Task == TaskKind.Regression)
        {
            t.AsSpan(0, count).CopyTo(targets);
            return;
        }
        for (int r = 0; r < count; r++)
        {
            if (!_classIndex.TryGetValue(l[r]!, out int c))
                throw new BackpropException($"{_path}: shard {shard}, row {first + r} of the shard: label '{l[r]}' was not seen in the first pass (did the file change?).");
            labels[r] = c;
        }
    }

    /// <summary>Closes the file.</summary>
    public void Dispose()
    {
        _parquet?.Dispose();
        _csv?.Dispose();
    }

    private static ulong Fnv(ulong h, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
            h = unchecked((h ^ b) * 1099511628211UL);
        return h;
    }

    private static bool IsParquet(string path)
    {
        try
        {
            using var f = File.OpenRead(path);
            Span<byte> magic = stackalloc byte[4];
            return f.Read(magic) == 4 && magic.SequenceEqual("PAR1"u8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BackpropException($"{path}: cannot read the file ({e.Message}).", e);
        }
    }

    private static double ParseNumber(string path, ReadOnlySpan<char> text, Func<string> where)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new BackpropException($"{path}: {where()}: '{text.ToString()}' is not a finite number.");
        return v;
    }

    /// <summary>A Parquet file: shards by row number, read by row groups (one cached per shard).</summary>
    private sealed class ParquetPart : IDisposable
    {
        private readonly StreamedTable _t;
        private readonly FileStream _file;
        private readonly ParquetReader _reader;
        private readonly DataField[] _fields;
        private readonly long[] _groupStarts;
        private readonly Dictionary<int, (int Group, double[][] Numbers, string?[] Labels)> _cache = [];

        public ParquetPart(StreamedTable t)
        {
            _t = t;
            try
            {
                _file = new FileStream(t._path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
                _reader = ParquetReader.CreateAsync(_file).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or NotSupportedException or ArgumentException)
            {
                throw new BackpropException($"{t._path}: cannot read the Parquet file ({e.Message}).", e);
            }
            _fields = _reader.Schema.GetDataFields();
            Columns = [.. _fields.Select(f => f.Name)];
            _groupStarts = new long[_reader.RowGroupCount + 1];
            for (int g = 0; g < _reader.RowGroupCount; g++)
            {
                using var rg = _reader.OpenRowGroupReader(g);
                _groupStarts[g + 1] = _groupStarts[g] + rg.RowCount;
            }
            foreach (var f in _fields)
                if (f.IsArray)
                    throw new BackpropException($"{t._path}: column '{f.Name}' holds lists; a table to train on needs one value per row and column.");
        }

        public string[] Columns { get; }

        private long Rows => _groupStarts[^1];

        public long LargestGroup => Enumerable.Range(0, _groupStarts.Length - 1).Select(g => _groupStarts[g + 1] - _groupStarts[g]).DefaultIfEmpty(1).Max();

        public bool LabelIsFloatingPoint(int label) => _fields[label].ClrType == typeof(double) || _fields[label].ClrType == typeof(float);

        public long ShardRows(int shard) => (shard + 1) * Rows / _t.Shards - shard * Rows / _t.Shards;

        /// <summary>Rows <c>[first, first + n)</c> of a shard, raw.</summary>
        public void ReadRaw(int shard, long first, int n, double[] features, string?[] labels, double[] targets)
        {
            long start = shard * Rows / _t.Shards + first;
            int m = _t.Inputs, label = _t._labelIndex;
            for (int r = 0; r < n;)
            {
                long row = start + r;
                int g = Array.BinarySearch(_groupStarts, row);
                if (g < 0)
                    g = ~g - 1;
                while (g + 1 < _groupStarts.Length - 1 && _groupStarts[g + 1] <= row)
                    g++;
                var (numbers, strings) = Group(shard, g);
                int at = (int)(row - _groupStarts[g]);
                int take = (int)Math.Min(n - r, _groupStarts[g + 1] - row);
                for (int i = 0; i < take; i++)
                {
                    int c = 0;
                    for (int col = 0; col < numbers.Length; col++)
                    {
                        if (col == label)
                            continue;
                        features[(r + i) * m + c++] = numbers[col][at + i];
                    }
                    if (_t.Task == TaskKind.Regression)
                        targets[r + i] = numbers[label][at + i];
                    else
                        labels[r + i] = strings[at + i];
                }
                r += take;
            }
        }

        private (double[][] Numbers, string?[] Labels) Group(int shard, int g)
        {
            if (_cache.TryGetValue(shard, out var hit) && hit.Group == g)
                return (hit.Numbers, hit.Labels);
            int rows = (int)(_groupStarts[g + 1] - _groupStarts[g]);
            var numbers = new double[_fields.Length][];
            string?[] labels = [];
            try
            {
                using var rg = _reader.OpenRowGroupReader(g);
                for (int col = 0; col < _fields.Length; col++)
                {
                    var f = _fields[col];
                    if (col == _t._labelIndex && _t.Task == TaskKind.Classification)
                    {
                        labels = ReadLabels(rg, f, rows, g);
                        numbers[col] = [];
                        continue;
                    }
                    numbers[col] = ReadNumbers(rg, f, rows, g);
                }
            }
            catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or ArgumentException or InvalidOperationException)
            {
                throw new BackpropException($"{_t._path}: row group {g} (rows {_groupStarts[g]}..{_groupStarts[g + 1] - 1}, shard {shard}): cannot be read ({e.Message}).", e);
            }
            _cache[shard] = (g, numbers, labels);
            return (numbers, labels);
        }

        private double[] ReadNumbers(ParquetRowGroupReader rg, DataField f, int rows, int g)
        {
            var result = new double[rows];
            if (f.ClrType == typeof(double))
                Fill<double>(rg, f, rows, g, v => v, result);
            else if (f.ClrType == typeof(float))
                Fill<float>(rg, f, rows, g, v => v, result);
            else if (f.ClrType == typeof(int))
                Fill<int>(rg, f, rows, g, v => v, result);
            else if (f.ClrType == typeof(long))
                Fill<long>(rg, f, rows, g, v => v, result);
            else if (f.ClrType == typeof(short))
                Fill<short>(rg, f, rows, g, v => v, result);
            else if (f.ClrType == typeof(byte))
                Fill<byte>(rg, f, rows, g, v => v, result);
            else if (f.ClrType == typeof(bool))
                Fill<bool>(rg, f, rows, g, v => v ? 1 : 0, result);
            else
                throw new BackpropException($"{_t._path}: column '{f.Name}' is of type {f.ClrType.Name}; a feature must be a number.");
            for (int i = 0; i < rows; i++)
                if (!double.IsFinite(result[i]))
                    throw new BackpropException($"{_t._path}: row {_groupStarts[g] + i}, column '{f.Name}': {result[i]} is not a finite number.");
            return result;
        }

        private void Fill<TValue>(ParquetRowGroupReader rg, DataField f, int rows, int g, Func<TValue, double> convert, double[] result)
            where TValue : struct
        {
            if (f.IsNullable)
            {
                var values = new TValue?[rows];
                rg.ReadAsync<TValue>(f, values.AsMemory()).GetAwaiter().GetResult();
                for (int i = 0; i < rows; i++)
                    result[i] = values[i] is { } v ? convert(v)
                        : throw new BackpropException($"{_t._path}: row {_groupStarts[g] + i}, column '{f.Name}': no value (null); every row needs every column.");
            }
            else
            {
                var values = new TValue[rows];
                rg.ReadAsync<TValue>(f, values.AsMemory()).GetAwaiter().GetResult();
                for (int i = 0; i < rows; i++)
                    result[i] = convert(values[i]);
            }
        }

        private string?[] ReadLabels(ParquetRowGroupReader rg, DataField f, int rows, int g)
        {
            if (f.ClrType == typeof(string))
            {
                var values = new string?[rows];
                rg.ReadAsync(f, values.AsMemory()).GetAwaiter().GetResult();
                for (int i = 0; i < rows; i++)
                    if (values[i] is null)
                        throw new BackpropException($"{_t._path}: row {_groupStarts[g] + i}, column '{f.Name}': no label (null).");
                return values;
            }
            var numbers = ReadNumbers(rg, f, rows, g);
            var labels = new string?[rows];
            for (int i = 0; i < rows; i++)
                labels[i] = numbers[i].ToString("R", CultureInfo.InvariantCulture);
            return labels;
        }

        public void Dispose()
        {
            _reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _file.Dispose();
        }
    }

    /// <summary>A CSV file with a header: shards by byte ranges, blocks found in the first pass.</summary>
    private sealed class CsvPart : IDisposable
    {
        private readonly StreamedTable _t;
        private readonly FileStream _file;
        private readonly long _dataStart, _length;
        private readonly Dictionary<int, List<long>> _blockOffsets = [];

        public CsvPart(StreamedTable t)
        {
            _t = t;
            try
            {
                _file = new FileStream(t._path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new BackpropException($"{t._path}: cannot read the file ({e.Message}).", e);
            }
            _length = _file.Length;
            var header = ReadLine(_file, 1 << 20) ?? throw new BackpropException($"{t._path}: empty file; a streamed CSV needs a header line.");
            _dataStart = _file.Position;
            Columns = [.. header.TrimEnd('\r').Split(t._options.Delimiter).Select(c => c.Trim())];
            if (header.Contains('"'))
                throw new BackpropException($"{t._path}: line 1: quoted fields are not read when streaming; use the in-memory reader (without --stream).");
        }

        public string[] Columns { get; }

        private long ShardByteStart(int shard) => _dataStart + shard * (_length - _dataStart) / _t.Shards;

        /// <summary>Positions the file at the first line that starts at or after <paramref name="offset"/>.</summary>
        private void SeekLineAt(long offset)
        {
            if (offset <= _dataStart)
            {
                _file.Position = _dataStart;
                return;
            }
            // A line starts at offset when the byte before it ends a line.
            _file.Position = offset - 1;
            int b;
            while ((b = _file.ReadByte()) >= 0 && b != '\n')
            {
            }
        }

        public void ScanShard(int shard, double[] features, string?[] labels, double[] targets, ChunkVisitor visit)
        {
            long end = ShardByteStart(shard + 1);
            SeekLineAt(ShardByteStart(shard));
            var offsets = new List<long>();
            int n = 0;
            long row = 0;
            while (_file.Position < end && _file.Position < _length)
            {
                long lineStart = _file.Position;
                if (n == 0)
                    offsets.Add(lineStart);
                var line = ReadLine(_file, 1 << 20);
                if (line is null)
                    break;
                if (line.Length == 0 || line == "\r")
                    throw new BackpropException($"{_t._path}: byte {lineStart} (shard {shard}, row {row} of the shard): an empty line.");
                Parse(line, shard, row, lineStart, features.AsSpan(n * _t.Inputs, _t.Inputs), out labels[n], out targets[n]);
                row++;
                if (++n == _t.Block)
                {
                    visit(features, labels, targets, n);
                    n = 0;
                }
            }
            if (n > 0)
                visit(features, labels, targets, n);
            _blockOffsets[shard] = offsets;
        }

        public void ReadBlock(int shard, long first, int count, double[] features, string?[] labels, double[] targets)
        {
            if (first % _t.Block != 0 || !_blockOffsets.TryGetValue(shard, out var offsets))
                throw new InvalidOperationException("CSV shards are read a whole block at a time, after the first pass.");
            _file.Position = offsets[(int)(first / _t.Block)];
            for (int r = 0; r < count; r++)
            {
                long lineStart = _file.Position;
                var line = ReadLine(_file, 1 << 20)
                    ?? throw new BackpropException($"{_t._path}: byte {lineStart} (shard {shard}, row {first + r} of the shard): the file ended early (did it change since the first pass?).");
                Parse(line, shard, first + r, lineStart, features.AsSpan(r * _t.Inputs, _t.Inputs), out labels[r], out targets[r]);
            }
        }

        private void Parse(string line, int shard, long row, long byteOffset, Span<double> features, out string? label, out double target)
        {
            string Where() => $"byte {byteOffset} (shard {shard}, row {row} of the shard)";
            var text = line.AsSpan().TrimEnd('\r');
            if (text.Contains('"'))
                throw new BackpropException($"{_t._path}: {Where()}: quoted fields are not read when streaming; use the in-memory reader (without --stream).");
            int col = 0, c = 0;
            label = null;
            target = 0;
            foreach (var range in text.Split(_t._options.Delimiter))
            {
                if (col >= Columns.Length)
                    throw new BackpropException($"{_t._path}: {Where()}: more than the header's {Columns.Length} fields.");
                var field = text[range].Trim();
                if (col == _t._labelIndex)
                {
                    if (_t.Task == TaskKind.Regression)
                        target = ParseNumber(_t._path, field, Where);
                    else
                        label = field.Length > 0 ? field.ToString() : throw new BackpropException($"{_t._path}: {Where()}: an empty label.");
                }
                else
                {
                    features[c++] = ParseNumber(_t._path, field, () => $"{Where()}, column '{Columns[col]}'");
                }
                col++;
            }
            if (col != Columns.Length)
                throw new BackpropException($"{_t._path}: {Where()}: {col} field(s), but the header has {Columns.Length}.");
        }

        /// <summary>One line (without its '\n') of at most <paramref name="max"/> bytes, or null at the end.</summary>
        private string? ReadLine(Stream s, int max)
        {
            var bytes = new List<byte>(128);
            int b;
            while ((b = s.ReadByte()) >= 0 && b != '\n')
            {
                if (bytes.Count >= max)
                    throw new BackpropException($"{_t._path}: byte {s.Position}: a line longer than {max} bytes.");
                bytes.Add((byte)b);
            }
            if (b < 0 && bytes.Count == 0)
                return null;
            return Encoding.UTF8.GetString(CollectionsMarshal.AsSpan(bytes));
        }

        public void Dispose() => _file.Dispose();
    }
}
