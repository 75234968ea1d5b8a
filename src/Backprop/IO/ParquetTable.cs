using System.Globalization;
using Backprop.Data;
using Parquet;
using Parquet.Serialization;

namespace Backprop.IO;

/// <summary>
/// A Parquet file as a raw table (Parquet.Net, pure managed): one column per top-level data field, each value as text
/// (numbers in invariant culture, round-trip; dates as ISO 8601; booleans as true/false; null as absent). The rows
/// and columns the file declares are checked against <see cref="DataLimits"/> before any value is decoded.
/// </summary>
internal static class ParquetTable
{
    /// <summary>Reads <paramref name="input"/> (seekable) whole; any problem with the file is one <see cref="BackpropException"/>.</summary>
    public static RawTable Read(Stream input, string source, long maxCells) => ReadAsync(input, source, maxCells).GetAwaiter().GetResult();

    private static async Task<RawTable> ReadAsync(Stream input, string source, long maxCells)
    {
        try
        {
            long rows = 0;
            int fields;
            await using (var reader = await ParquetReader.CreateAsync(input, leaveStreamOpen: true).ConfigureAwait(false))
            {
                fields = reader.Schema.GetDataFields().Length;
                for (int g = 0; g < reader.RowGroupCount; g++)
                {
                    using var group = reader.OpenRowGroupReader(g);
                    rows += group.RowCount;
                }
            }
            if (fields == 0 || rows == 0)
                throw new BackpropException($"{source}: the Parquet file has no {(fields == 0 ? "columns" : "rows")}.");
            if (fields > CsvDataset.MaxColumns)
                throw new BackpropException($"{source}: {fields:N0} columns, more than the {CsvDataset.MaxColumns:N0} a table may have.");
            if (rows * fields > maxCells)
                throw new BackpropException(DataLimits.TooMany(source, $"{rows:N0} rows of {fields:N0} columns make {rows * fields:N0} values", maxCells));
            input.Seek(0, SeekOrigin.Begin);
            var result = await ParquetSerializer.DeserializeUntypedAsync(input).ConfigureAwait(false);
            var names = result.Schema.Fields.Select(f => f.Name).ToArray();
            var columns = names.Select(_ => new string?[result.Data.Count]).ToArray();
            for (int r = 0; r < result.Data.Count; r++)
                for (int c = 0; c < names.Length; c++)
                    columns[c][r] = result.Data[r].TryGetValue(names[c], out var v) ? Text(v) : null;
            return new RawTable(source, names, columns, null, "parquet");
        }
        catch (BackpropException)
        {
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Parquet.Net reports a malformed file with many exception types (IOException, InvalidDataException,
            // ArgumentException, IndexOutOfRangeException, ...): each is the file's fault, one clear line.
            // Parquet.Net's IOExceptions ("not a parquet file", a seek past the end of a short file) are the content's
            // fault, not the disk's (the file was opened and is read from memory or a stream we hold): wrapped so the
            // exit code is 2 (bad input), as for a malformed CSV or JSON file, not 3 (I/O).
            throw new BackpropException($"{source}: cannot be read as Parquet ({e.GetType().Name}: {e.Message}).", new InvalidDataException(e.Message, e));
        }
    }

    private static string? Text(object? v) => v switch
    {
        null => null,
        string s => s,
        bool b => b ? "true" : "false",
        DateTime d => d.TimeOfDay == TimeSpan.Zero ? d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : d.ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
        DateTimeOffset d => d.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFFZ", CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        double x => x.ToString("R", CultureInfo.InvariantCulture),
        float x => x.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString(),
    };
}
