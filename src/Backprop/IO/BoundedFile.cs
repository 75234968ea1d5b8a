namespace Backprop.IO;

/// <summary>Reads whole files with a counted limit, so a device or a pipe that never ends (/dev/zero) cannot grow memory without bound.</summary>
public static class BoundedFile
{
    private const int Chunk = 1 << 16;

    /// <summary>
    /// The bytes of <paramref name="path"/>, at most <paramref name="maxBytes"/>: the count is kept while reading, not
    /// taken from the size the file system reports (0 for a device or a pipe). Errors are <see cref="ModelFormatException"/>
    /// naming the file and <paramref name="what"/> it was read as.
    /// </summary>
    public static byte[] ReadAllBytes(string path, long maxBytes, string what) => ReadAllBytes(path, maxBytes, what, null);

    /// <summary>
    /// As <see cref="ReadAllBytes(string, long, string)"/>; <paramref name="inspect"/> sees every piece as it is read (in
    /// order) and may throw to stop reading at once, e.g. at the first byte that cannot belong to the format. A regular
    /// file is read into one array of its size; a device or a pipe into blocks, then one array (twice its size briefly).
    /// </summary>
    internal static byte[] ReadAllBytes(string path, long maxBytes, string what, Action<ReadOnlySpan<byte>>? inspect)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            long known = stream.CanSeek ? stream.Length : 0;
            if (known > maxBytes)
                throw new ModelFormatException($"{path}: the file is {known:N0} bytes; {what} files are limited to {maxBytes:N0} bytes.");
            var blocks = new List<byte[]>();
            var lengths = new List<int>();
            long total = 0;
            // The size the file system reports, when it reports one: read straight into the array that is returned.
            if (known > 0)
            {
                var exact = new byte[known];
                int filled = 0;
                int n;
                while (filled < exact.Length && (n = stream.Read(exact, filled, (int)Math.Min(Chunk, exact.Length - filled))) > 0)
                {
                    inspect?.Invoke(exact.AsSpan(filled, n));
                    filled += n;
                }
                total = filled;
                if (filled < exact.Length)
                    return exact[..filled];
                blocks.Add(exact);
                lengths.Add(filled);
            }
            // Beyond it (a device, a pipe, a file that grew while read): counted block by block.
            while (true)
            {
                var block = new byte[Chunk];
                int n = stream.Read(block, 0, block.Length);
                if (n == 0)
                    break;
                total += n;
                if (total > maxBytes)
                    throw new ModelFormatException($"{path}: more than {maxBytes:N0} bytes; {what} files are limited to {maxBytes:N0} bytes.");
                inspect?.Invoke(block.AsSpan(0, n));
                blocks.Add(block);
                lengths.Add(n);
            }
            if (blocks.Count == 1 && lengths[0] == blocks[0].Length)
                return blocks[0];
            var all = new byte[total];
            long at = 0;
            for (int b = 0; b < blocks.Count; b++)
            {
                Array.Copy(blocks[b], 0, all, at, lengths[b]);
                at += lengths[b];
                blocks[b] = null!;
            }
            return all;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new ModelFormatException($"{path}: cannot read the {what} file ({e.Message}).", e);
        }
    }
}
