using System.Text;
using Backprop.Data;
using nietras.SeparatedValues;

namespace Backprop.IO;

/// <summary>
/// A CSV/TSV file as a raw table: every field kept as its (trimmed) text, the same delimiter, header, quote and
/// blank-line rules as <see cref="CsvDataset"/>, the same line bounds (<see cref="LineLimitReader"/>) and a bound on the
/// cells and characters held (<see cref="DataLimits"/>: cells at most the value limit, characters at most 8 a value).
/// </summary>
internal static class CsvTable
{
    /// <summary>Distinct texts a column shares one string for (repeated categories are held once).</summary>
    private const int PoolPerColumn = 4096;

    public static RawTable Read(Stream input, string source, CsvOptions options, IReadOnlyList<string>? expectNames = null)
    {
        long maxCells = DataLimits.Check(options.MaxValues);
        long maxChars = maxCells * 8;
        try
        {
            char delimiter = options.Delimiter ?? Detect(input);
            using var text = new StreamReader(input, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
            using var limited = new LineLimitReader(text, source, delimiter);
            using var reader = CsvDataset.ReaderOptions(delimiter, source).From(limited);
            string[]? first = null;
            int firstLine = 0;
            var early = new List<(string[] Fields, int Line)>();
            List<string?>[]? columns = null;
            Dictionary<string, string>[]? pools = null;
            var lines = new List<int>();
            long cells = 0, chars = 0;
            bool? header = options.Header switch { HeaderMode.Yes => true, HeaderMode.No => false, _ => null };
            void Add(string[] fields, int line)
            {
                if (fields.Length != columns!.Length)
                    throw new BackpropException($"{source}: line {line}: found {fields.Length} fields, expected {columns.Length} as on line {firstLine} (ragged rows).");
                cells += fields.Length;
                if (cells > maxCells)
                    throw new BackpropException(DataLimits.TooMany(source, $"line {line}: {lines.Count + 1:N0} rows of {fields.Length:N0} columns make {cells:N0} values", maxCells));
                for (int c = 0; c < fields.Length; c++)
                {
                    string f = fields[c];
                    if (pools![c].Count < PoolPerColumn || pools[c].ContainsKey(f))
                    {
                        if (!pools[c].TryGetValue(f, out var shared))
                        {
                            pools[c][f] = f;
                            chars += f.Length;
                            shared = f;
                        }
                        columns[c].Add(shared);
                    }
                    else
                    {
                        chars += f.Length;
                        columns[c].Add(f);
                    }
                }
                if (chars > maxChars)
                    throw new BackpropException(DataLimits.TooMany(source, $"line {line}: the text so far is {chars:N0} characters", maxChars / 8));
                lines.Add(line);
            }
            string[] names = [];
            foreach (var row in reader)
            {
                int line = row.RowIndex == 0 ? 1 : row.LineNumberFrom;
                var raw = row.Span;
                if (raw.Contains('"') && raw.Count('"') % 2 == 1)
                    throw new BackpropException(
                        $"{source}: line {line}: a quote (\") opens a field that is never closed, so everything after it to the end of the file "
                        + "would be one field; close the quote (a quote inside a quoted field is written twice: \"\").");
                if (row.ColCount == 1 && row[0].Span.IsWhiteSpace())
                    continue;
                var fields = new string[row.ColCount];
                for (int c = 0; c < fields.Length; c++)
                    fields[c] = row[c].ToString();
                if (columns is null)
                {
                    if (first is null)
                    {
                        first = fields;
                        firstLine = line;
                        if (header is null && expectNames is not null && expectNames.All(n => fields.Contains(n, StringComparer.Ordinal)))
                            header = true;
                    }
                    early.Add((fields, line));
                    // The header is decided on the first rows (up to HeaderRows): kept as text until then.
                    if (header is null && early.Count < HeaderRows)
                        continue;
                    Start();
                    continue;
                }
                Add(fields, line);
            }
            void Start()
            {
                header ??= DetectHeader(early.Select(e => e.Fields).ToList());
                names = header.Value ? first! : Enumerable.Range(0, first!.Length).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
                columns = Enumerable.Range(0, first.Length).Select(_ => new List<string?>()).ToArray();
                pools = Enumerable.Range(0, first.Length).Select(_ => new Dictionary<string, string>(StringComparer.Ordinal)).ToArray();
                foreach (var (f, l) in early.Skip(header.Value ? 1 : 0))
                    Add(f, l);
            }
            if (columns is null)
            {
                if (first is null)
                    throw new BackpropException($"{source}: the file is empty (no rows).");
                if (early.Count == 1 && header != false)
                    throw new BackpropException($"{source}: the file has a header ({RawTable.Shorten(string.Join(", ", first))}) and no data rows.");
                Start();
            }
            if (lines.Count == 0)
                throw new BackpropException($"{source}: the file has a header ({RawTable.Shorten(string.Join(", ", names))}) and no data rows.");
            var dup = names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
            if (dup is not null)
                throw new BackpropException($"{source}: the header names two columns \"{RawTable.Shorten(dup.Key)}\"; each column needs its own name.");
            return new RawTable(source, names, columns!.Select(c => c.ToArray()).ToArray(), [.. lines], "csv", header!.Value);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException)
        {
            throw new BackpropException($"{source}: cannot be read as delimited text ({e.Message}).", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new BackpropException($"{source}: cannot read the file ({e.Message}).", e);
        }
    }

    /// <summary>The rows the header is decided on.</summary>
    private const int HeaderRows = 20;

    /// <summary>
    /// A header when some column holds a non-number in the first row and only numbers (at least one; missing values
    /// aside) in the next rows, up to <see cref="HeaderRows"/>. A table whose columns are all text needs --header yes.
    /// </summary>
    private static bool DetectHeader(List<string[]> rows)
    {
        var top = rows[0];
        for (int c = 0; c < top.Length; c++)
        {
            if (top[c].Length == 0 || RawTable.TryNumber(top[c], out _) || TableInference.IsMissing(top[c], TableSettings.DefaultMissing))
                continue;
            int numbers = 0;
            bool other = false;
            foreach (var r in rows.Skip(1))
            {
                if (c >= r.Length || TableInference.IsMissing(r[c], TableSettings.DefaultMissing))
                    continue;
                if (RawTable.TryNumber(r[c], out _))
                    numbers++;
                else
                    other = true;
            }
            if (numbers > 0 && !other)
                return true;
        }
        return false;
    }

    /// <summary>The delimiter from the first 1 MiB (the stream is left at its start).</summary>
    private static char Detect(Stream input)
    {
        long at = input.Position;
        using var text = new StreamReader(input, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
        var buffer = new char[1 << 20];
        int n = text.ReadBlock(buffer, 0, buffer.Length);
        input.Seek(at, SeekOrigin.Begin);
        return CsvDataset.DetectDelimiter(new string(buffer, 0, n));
    }
}
