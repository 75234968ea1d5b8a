namespace Backprop.IO;

/// <summary>Reads whole files with a counted limit, so a device or a pipe that never ends (/dev/zero) cannot grow memory without bound.</summary>
public static class BoundedFile
{
    /// <summary>
    /// The bytes of <paramref name="path"/>, at most <paramref name="maxBytes"/>: the count is kept while reading, not
    /// taken from the size the file system reports (0 for a device or a pipe). Errors are <see cref="ModelFormatException"/>
    /// naming the file and <paramref name="what"/> it was read as.
    /// </summary>
    public static byte[] ReadAllBytes(string path, long maxBytes, string what)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            if (stream.CanSeek && stream.Length > maxBytes)
                throw new ModelFormatException($"{path}: the file is {stream.Length:N0} bytes; {what} files are limited to {maxBytes:N0} bytes.");
            var buffer = new MemoryStream(stream.CanSeek ? (int)Math.Min(stream.Length, maxBytes) : 1 << 16);
            var chunk = new byte[1 << 16];
            long total = 0;
            int n;
            while ((n = stream.Read(chunk, 0, chunk.Length)) > 0)
            {
                total += n;
                if (total > maxBytes)
                    throw new ModelFormatException($"{path}: more than {maxBytes:N0} bytes; {what} files are limited to {maxBytes:N0} bytes.");
                buffer.Write(chunk, 0, n);
            }
            return buffer.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new ModelFormatException($"{path}: cannot read the {what} file ({e.Message}).", e);
        }
    }
}
