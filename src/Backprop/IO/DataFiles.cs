namespace Backprop.IO;

/// <summary>
/// One entry point for the CLI's <c>--data FILE [--labels FILE]</c>: IDX when a labels file is given or the data
/// file starts with an IDX or gzip magic number, CSV/TSV otherwise.
/// </summary>
public static class DataFiles
{
    /// <summary>True when <paramref name="path"/> starts like an IDX file (00 00 08 ..) or a gzip file (1F 8B).</summary>
    public static bool LooksLikeIdx(string path)
    {
        try
        {
            using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            Span<byte> head = stackalloc byte[3];
            int got = s.ReadAtLeast(head, 3, throwOnEndOfStream: false);
            return (got >= 2 && head[0] == 0x1F && head[1] == 0x8B) || (got == 3 && head[0] == 0 && head[1] == 0 && head[2] == 0x08);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new BackpropException($"{path}: cannot read the file ({e.Message}).", e);
        }
    }

    /// <summary>
    /// Reads a dataset: IDX images (+ labels) or CSV. <paramref name="csv"/> applies to CSV files; its
    /// <see cref="CsvOptions.Classes"/> are used for IDX labels too.
    /// </summary>
    public static DataTable Read(string dataPath, string? labelsPath = null, CsvOptions? csv = null)
    {
        if (labelsPath is not null)
            return IdxDataset.Read(dataPath, labelsPath, csv?.Classes);
        if (LooksLikeIdx(dataPath))
            return IdxDataset.ReadImages(dataPath);
        return CsvDataset.Read(dataPath, csv);
    }

    /// <summary>The default preprocessing for a data file: <see cref="PreprocessingKind.Pixels"/> for IDX images, otherwise standardisation.</summary>
    public static PreprocessingKind DefaultPreprocessing(string dataPath, string? labelsPath = null) =>
        labelsPath is not null || LooksLikeIdx(dataPath) ? PreprocessingKind.Pixels : PreprocessingKind.Standardize;
}
