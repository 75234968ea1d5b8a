using System.Runtime.InteropServices;

namespace Backprop.IO;

/// <summary>What a path names on the file system, as <c>stat</c> reports it (links followed).</summary>
public enum FileKind
{
    /// <summary>Nothing is there (or a symbolic link that points nowhere).</summary>
    Missing,
    /// <summary>A regular file.</summary>
    Regular,
    /// <summary>A folder.</summary>
    Directory,
    /// <summary>A character device, such as /dev/null or /dev/full.</summary>
    CharacterDevice,
    /// <summary>A block device (a disk).</summary>
    BlockDevice,
    /// <summary>A named pipe (FIFO), or a pipe such as bash's <c>&lt;(...)</c> gives.</summary>
    Pipe,
    /// <summary>A Unix socket.</summary>
    Socket,
    /// <summary>Something else.</summary>
    Other,
}

/// <summary>
/// Which file a path names: its device and inode (Unix <c>stat</c>, links followed) and its kind. Two paths name the
/// same file when both exist and their device and inode are equal, so a symbolic link, a hard link, <c>./x</c> and
/// <c>dir/../x</c> all match; a path that does not exist yet is compared by its resolved full path (its folder's
/// links resolved). On a system without <c>stat</c> the identity is the resolved full path.
/// </summary>
/// <param name="Device">The device the file lives on (0 when unknown).</param>
/// <param name="Inode">The file's inode on that device (0 when unknown).</param>
/// <param name="Kind">What the path names.</param>
/// <param name="FullPath">The path resolved: absolute, with the links of its folders (and of itself, when it exists) resolved.</param>
public readonly record struct FileIdentity(ulong Device, ulong Inode, FileKind Kind, string FullPath)
{
    /// <summary>The identity of <paramref name="path"/> now.</summary>
    public static FileIdentity Of(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Resolve(path);
        if (Stat(path, out ulong dev, out ulong ino, out uint mode))
            return new FileIdentity(dev, ino, KindOf(mode), full);
        if (OperatingSystem.IsWindows() || !s_statWorks)
        {
            var kind = Directory.Exists(full) ? FileKind.Directory : File.Exists(full) ? FileKind.Regular : FileKind.Missing;
            return new FileIdentity(0, 0, kind, full);
        }
        return new FileIdentity(0, 0, FileKind.Missing, full);
    }

    /// <summary>True when the path exists and is a regular file.</summary>
    public bool IsRegularFile => Kind == FileKind.Regular;

    /// <summary>True when the path names nothing yet.</summary>
    public bool Exists => Kind != FileKind.Missing;

    /// <summary>True when <paramref name="other"/> is the same file: the same device and inode, or the same resolved path.</summary>
    public bool SameFileAs(FileIdentity other)
    {
        if (Exists && other.Exists && Inode != 0 && other.Inode != 0)
            return Device == other.Device && Inode == other.Inode;
        return string.Equals(FullPath, other.FullPath, OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()
            ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> name the same file (see <see cref="FileIdentity"/>).</summary>
    public static bool SameFile(string a, string b) => Of(a).SameFileAs(Of(b));

    /// <summary>The kind in words, for messages: "a character device", "a folder", ...</summary>
    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Missing => "missing",
        FileKind.Regular => "a regular file",
        FileKind.Directory => "a folder",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Pipe => "a pipe",
        FileKind.Socket => "a socket",
        _ => "not a regular file",
    };

    /// <summary>
    /// <paramref name="path"/> made absolute with every symbolic link resolved that exists: the whole path when it
    /// exists, else its deepest existing folder with the rest appended.
    /// </summary>
    public static string Resolve(string path)
    {
        string full = Path.GetFullPath(path);
        string rest = "";
        string current = full;
        while (true)
        {
            if (RealPath(current) is { } real)
                return rest.Length == 0 ? real : Path.Join(real, rest);
            string? parent = Path.GetDirectoryName(current);
            if (parent is null || parent == current)
                return full;
            string name = Path.GetFileName(current);
            rest = rest.Length == 0 ? name : Path.Join(name, rest);
            current = parent;
        }
    }

    private static FileKind KindOf(uint mode) => (mode & 0xF000) switch
    {
        0x8000 => FileKind.Regular,
        0x4000 => FileKind.Directory,
        0x2000 => FileKind.CharacterDevice,
        0x6000 => FileKind.BlockDevice,
        0x1000 => FileKind.Pipe,
        0xC000 => FileKind.Socket,
        _ => FileKind.Other,
    };

    private static bool s_statWorks = true;

    /// <summary>
    /// <c>stat(2)</c> through libc: st_dev and st_ino are the first two 64-bit fields on Linux x64 and arm64; st_mode
    /// follows st_nlink (64-bit) on x64 and precedes it (32-bit) on arm64. Other systems: false.
    /// </summary>
    private static bool Stat(string path, out ulong device, out ulong inode, out uint mode)
    {
        device = inode = 0;
        mode = 0;
        if (!OperatingSystem.IsLinux() || !s_statWorks)
            return false;
        int modeOffset = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => 24,
            Architecture.Arm64 => 16,
            _ => -1,
        };
        if (modeOffset < 0)
        {
            s_statWorks = false;
            return false;
        }
        var buffer = new byte[256];
        try
        {
            if (NativeStat(path, buffer) != 0)
                return false;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_statWorks = false;
            return false;
        }
        device = BitConverter.ToUInt64(buffer, 0);
        inode = BitConverter.ToUInt64(buffer, 8);
        mode = BitConverter.ToUInt32(buffer, modeOffset);
        return true;
    }

    private static string? RealPath(string path)
    {
        if (OperatingSystem.IsWindows())
            return File.Exists(path) || Directory.Exists(path) ? Path.GetFullPath(path) : null;
        try
        {
            IntPtr p = NativeRealPath(path, IntPtr.Zero);
            if (p == IntPtr.Zero)
                return null;
            try
            {
                return Marshal.PtrToStringUTF8(p);
            }
            finally
            {
                NativeFree(p);
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return File.Exists(path) || Directory.Exists(path) ? Path.GetFullPath(path) : null;
        }
    }

    [DllImport("libc", EntryPoint = "stat", SetLastError = true)]
    private static extern int NativeStat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] buffer);

    [DllImport("libc", EntryPoint = "realpath", SetLastError = true)]
    private static extern IntPtr NativeRealPath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

    [DllImport("libc", EntryPoint = "free")]
    private static extern void NativeFree(IntPtr p);
}
