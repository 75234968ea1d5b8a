using Backprop.Numerics;
using Parquet;
using Parquet.Schema;

namespace Backprop.Distributed;

/// <summary>
/// Writes a generated classification table to Parquet one row group at a time (memory: one row group), for the
/// streaming tests and the 10-million-row measurement (docs/distributed.md): features <c>x0..</c> drawn from N(0, 1),
/// the label (<c>label</c>, int 0..classes-1) the largest of <c>classes</c> fixed random linear scores. Row group g
/// is drawn from its own stream of the seed, so the same arguments give the same file.
/// </summary>
public static class SyntheticParquet
{
    /// <summary>Writes <paramref name="rows"/> rows to <paramref name="path"/> (replaced).</summary>
    public static void Write(string path, long rows, int features = 10, int classes = 3, long seed = 1, int rowGroupRows = 65_536)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(rowGroupRows, 1);
        var fields = Enumerable.Range(0, features).Select(j => new DataField<double>("x" + j)).ToList<Field>();
        var label = new DataField<int>("label");
        fields.Add(label);
        var schema = new ParquetSchema(fields);
        var w = new double[classes * features];
        var g0 = new SplitMix64(SplitMix64.Derive(seed, 1));
        for (int i = 0; i < w.Length; i++)
            w[i] = g0.NextGaussian();
        // Written beside the target and renamed over it: the file is the old one or the whole new one.
        string temp = path + ".partial";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            var writer = ParquetWriter.CreateAsync(schema, file).GetAwaiter().GetResult();
            try
            {
                WriteGroups(writer, fields, label, w, rows, features, classes, seed, rowGroupRows);
            }
            finally
            {
                writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
        File.Move(temp, path, overwrite: true);
    }

    private static void WriteGroups(ParquetWriter writer, List<Field> fields, DataField<int> label, double[] w, long rows, int features, int classes, long seed, int rowGroupRows)
    {
        var columns = new double[features][];
        var labels = new int[rowGroupRows];
        for (long start = 0, group = 0; start < rows; start += rowGroupRows, group++)
        {
            int n = (int)Math.Min(rowGroupRows, rows - start);
            var rng = new SplitMix64(SplitMix64.Derive(seed, 2 + (ulong)group));
            for (int j = 0; j < features; j++)
                if (columns[j]?.Length != n)
                    columns[j] = new double[n];
            for (int r = 0; r < n; r++)
            {
                for (int j = 0; j < features; j++)
                    columns[j][r] = rng.NextGaussian();
                int best = 0;
                double bestScore = double.NegativeInfinity;
                for (int c = 0; c < classes; c++)
                {
                    double score = 0;
                    for (int j = 0; j < features; j++)
                        score += w[c * features + j] * columns[j][r];
                    if (score > bestScore)
                    {
                        bestScore = score;
                        best = c;
                    }
                }
                labels[r] = best;
            }
            using var rg = writer.CreateRowGroup();
            for (int j = 0; j < features; j++)
                rg.WriteAsync<double>((DataField)fields[j], columns[j].AsMemory(0, n)).GetAwaiter().GetResult();
            rg.WriteAsync<int>(label, labels.AsMemory(0, n)).GetAwaiter().GetResult();
        }
    }
}
