using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Backprop.Data;

namespace Backprop.Training;

/// <summary>
/// Which rows of its data file a model was NOT trained on, so that they can be found again: the seed and fraction of
/// the one stratified split (<see cref="Dataset.Split"/>) that held them out, the number of rows of the whole file and
/// of the held-out part, and a SHA-256 of the rows (<see cref="Hash"/>). The CLI's <c>evaluate --split test</c>
/// re-reads the file, checks the hash (a changed file is an error) and evaluates exactly those rows. Recorded in the
/// model file's <c>training</c> section (optional fields: a file without them reads as a model with no record).
/// </summary>
/// <param name="Seed">The split's seed.</param>
/// <param name="Fraction">The fraction held out, in (0, 1).</param>
/// <param name="Rows">Rows of the whole data file.</param>
/// <param name="TestRows">Rows held out.</param>
/// <param name="DataSha256">The hash of the data's rows (<see cref="Hash"/>), 64 lowercase hex digits.</param>
public sealed record HeldOutSplit(ulong Seed, double Fraction, int Rows, int TestRows, string DataSha256)
{
    /// <summary>The split of <paramref name="data"/> by <paramref name="fraction"/> and <paramref name="seed"/>, recorded.</summary>
    public static (Dataset Train, Dataset Test, HeldOutSplit Record) Make(Dataset data, double fraction, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        var (train, test) = data.Split(fraction, seed);
        return (train, test, new HeldOutSplit(seed, fraction, data.Rows, test.Rows, Hash(data)));
    }

    /// <summary>
    /// Finds the recorded split again in <paramref name="data"/> (the same file read for the model): the training rows
    /// and the held-out rows. Throws <see cref="BackpropException"/> naming <paramref name="source"/> when the rows are
    /// not the ones the model was trained from (another row count or hash: the file changed, or another file).
    /// </summary>
    public (Dataset Train, Dataset Test) Find(Dataset data, string source)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Rows != Rows)
            throw new BackpropException($"{source}: {data.Rows} rows, but the model's held-out split was made from a file of {Rows} rows: this is not the file it was trained on, or the file changed since.");
        string hash = Hash(data);
        if (hash != DataSha256)
            throw new BackpropException($"{source}: the rows are not the ones the model was trained from (SHA-256 of the rows {hash[..12]}..., recorded {DataSha256[..Math.Min(12, DataSha256.Length)]}...): the file changed since training, so its held-out rows cannot be found.");
        var (train, test) = data.Split(Fraction, Seed);
        if (test.Rows != TestRows)
            throw new BackpropException($"{source}: the split gives {test.Rows} held-out rows where the model recorded {TestRows}.");
        return (train, test);
    }

    /// <summary>
    /// SHA-256 of the rows as a model reads them: for each row its features (in the dataset's column order) as
    /// little-endian IEEE doubles, then its class name (UTF-8, length-prefixed) or its targets as doubles. The same
    /// file read with the same options gives the same hash; a changed value, row or label changes it.
    /// </summary>
    public static string Hash(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> eight = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(eight, data.Rows);
        sha.AppendData(eight);
        BinaryPrimitives.WriteInt64LittleEndian(eight, data.Inputs);
        sha.AppendData(eight);
        var names = data.IsClassification ? data.ClassNames.Select(n => Encoding.UTF8.GetBytes(n)).ToArray() : [];
        var labels = data.Labels;
        for (int r = 0; r < data.Rows; r++)
        {
            foreach (double v in data.FeatureRow(r))
            {
                BinaryPrimitives.WriteDoubleLittleEndian(eight, v);
                sha.AppendData(eight);
            }
            if (data.IsClassification)
            {
                var name = names[labels[r]];
                BinaryPrimitives.WriteInt64LittleEndian(eight, name.Length);
                sha.AppendData(eight);
                sha.AppendData(name);
            }
            else if (data.HasTargets)
                foreach (double t in data.TargetRow(r))
                {
                    BinaryPrimitives.WriteDoubleLittleEndian(eight, t);
                    sha.AppendData(eight);
                }
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
