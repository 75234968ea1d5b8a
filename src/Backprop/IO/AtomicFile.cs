using System.Text;

namespace Backprop.IO;

/// <summary>
/// Writes a file completely or not at all: the content goes to a temporary file beside the target, is
/// flushed to disk, and then replaces the target in one rename. On any failure the old file is untouched.
/// </summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string content) =>
        Write(path, stream =>
        {
            var bytes = new UTF8Encoding(false).GetBytes(content);
            stream.Write(bytes);
        });

    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        RequireWritableTarget(path);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                var stream = StreamHookForTests.Value?.Invoke(file) ?? file;
                write(stream);
                stream.Flush();
                file.Flush(flushToDisk: true); // fsync before the rename: after a crash the target is the old file or the whole new one
            }
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new BackpropException($"{path}: could not write the file ({e.Message}); any previous file is unchanged.", e);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// Checks, before any work is done, that <paramref name="path"/> can be the target of <see cref="Write"/>:
    /// its folder exists (and is a folder) and the path itself is not a folder. Throws <see cref="BackpropException"/>.
    /// </summary>
    public static void RequireWritableTarget(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        if (File.Exists(dir))
            throw new BackpropException($"{path}: '{dir}' is a file, not a folder.");
        if (!Directory.Exists(dir))
            throw new BackpropException($"{path}: the folder '{dir}' does not exist.");
        if (Directory.Exists(full))
            throw new BackpropException($"{path}: is a folder; give a file name.");
    }

    /// <summary>Tests only: wraps the stream written to (e.g. one that fails part-way, as a full disk does). Per async flow.</summary>
    internal static readonly AsyncLocal<Func<Stream, Stream>?> StreamHookForTests = new();

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
