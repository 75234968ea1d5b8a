using System.Text;

namespace Backprop.IO;

/// <summary>
/// Writes a file completely or not at all: the content goes to a temporary file beside the target, is
/// flushed to disk, and then replaces the target in one rename. On any failure the old file is untouched.
/// The target must be a regular file or not exist yet: a device (/dev/null, /dev/full), a pipe, a socket or a
/// folder is refused, since the rename would replace the node itself. A symbolic link is followed: the file it
/// points to is replaced and the link stays. The temporary name is short (<see cref="TemporaryNameLength"/>
/// characters, whatever the target's length), so a target name up to the file system's limit can be written.
/// </summary>
public static class AtomicFile
{
    /// <summary>The longest file name (in UTF-8 bytes) most Unix file systems accept (NAME_MAX).</summary>
    public const int MaxNameBytes = 255;

    /// <summary>The length of the temporary file's name: ".backprop-" + 16 hex digits + ".tmp".</summary>
    public const int TemporaryNameLength = 30;

    /// <summary>Writes <paramref name="content"/> as UTF-8 (no byte order mark).</summary>
    public static void WriteAllText(string path, string content) =>
        Write(path, stream =>
        {
            var bytes = new UTF8Encoding(false).GetBytes(content);
            stream.Write(bytes);
        });

    /// <summary>Writes what <paramref name="write"/> puts in the stream, atomically; errors are <see cref="BackpropException"/>s naming the file.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = CheckTarget(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        string temp = Path.Combine(dir, TemporaryName());
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
    /// Checks, before any work is done, that <paramref name="path"/> can be the target of <see cref="Write"/>: it is not
    /// empty, its name fits the file system's limit, its folder exists (and is a folder), and the path is a regular file
    /// or nothing yet. Throws <see cref="BackpropException"/>. See <see cref="Probe"/> for the check that writes.
    /// </summary>
    public static void RequireWritableTarget(string path) => CheckTarget(path);

    /// <summary>
    /// <see cref="RequireWritableTarget"/>, then proves the folder takes a new file: creates and deletes a temporary
    /// file there, as <see cref="Write"/> will. A read-only file system, a folder the user may not write or a file system
    /// out of inodes fails here, before any work, as a <see cref="BackpropException"/> whose inner exception is the
    /// <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> the system gave.
    /// </summary>
    public static void Probe(string path)
    {
        string full = CheckTarget(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        string temp = Path.Combine(dir, TemporaryName());
        try
        {
            ProbeHookForTests.Value?.Invoke(dir);
            using (new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
            }
            File.Delete(temp);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException && Directory.Exists(dir))
        {
            // The folder is there (CheckTarget saw it) and still "not found": procfs answers ENOENT to a new file. That is
            // a folder that takes no new file, an I/O error like EACCES or EROFS, not a missing path the user mistyped.
            TryDelete(temp);
            throw new BackpropException($"{path}: cannot write in the folder '{dir}' (it exists but takes no new file).",
                new IOException("the folder takes no new file", e));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new BackpropException($"{path}: cannot write in the folder '{dir}' ({e.Message}).", e);
        }
    }

    /// <summary>The checks of <see cref="RequireWritableTarget"/>; returns the path to write (links resolved).</summary>
    private static string CheckTarget(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (string.IsNullOrWhiteSpace(path))
            throw new BackpropException("an empty path was given; expected a file name.");
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(path));
        if (Encoding.UTF8.GetByteCount(name) > MaxNameBytes)
            throw new BackpropException($"{Shorten(path)}: the file name is {Encoding.UTF8.GetByteCount(name)} bytes long; file systems take at most {MaxNameBytes}.");
        var id = FileIdentity.Of(path);
        string full = id.FullPath;
        string dir = Path.GetDirectoryName(full) ?? ".";
        if (id.Kind == FileKind.Directory || path.EndsWith('/') || path.EndsWith(Path.DirectorySeparatorChar))
            throw new BackpropException($"{path}: is a folder; give a file name.");
        if (id.Exists && !id.IsRegularFile)
            throw new BackpropException($"{path}: is {FileIdentity.Describe(id.Kind)}, not a regular file; refusing to replace it (give the path of a file).");
        if (File.Exists(dir))
            throw new BackpropException($"{path}: '{dir}' is a file, not a folder.");
        if (!Directory.Exists(dir))
            throw new BackpropException($"{path}: the folder '{dir}' does not exist.");
        return full;
    }

    private static string TemporaryName() => $".backprop-{Guid.NewGuid():N}"[..26] + ".tmp";

    private static string Shorten(string s) => s.Length > 80 ? s[..40] + "..." + s[^37..] : s;

    /// <summary>Tests only: wraps the stream written to (e.g. one that fails part-way, as a full disk does). Per async flow.</summary>
    internal static readonly AsyncLocal<Func<Stream, Stream>?> StreamHookForTests = new();

    /// <summary>Tests only: runs before <see cref="Probe"/> creates its file, with the folder; may throw as a read-only file system does.</summary>
    internal static readonly AsyncLocal<Action<string>?> ProbeHookForTests = new();

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
