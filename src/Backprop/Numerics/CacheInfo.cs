using System.Globalization;

namespace Backprop.Numerics;

/// <summary>
/// The data cache sizes of the CPU this process runs on, read once at start-up (Linux: sysfs), so the matrix
/// products size their blocks for the machine instead of for the one they were tuned on. Where the sizes cannot be
/// read (another OS, a container hiding sysfs) conservative defaults apply: 32 KiB L1d, 512 KiB L2, 8 MiB L3.
/// </summary>
internal static class CacheInfo
{
    /// <summary>Level-1 data cache of one core, bytes.</summary>
    public static int L1Data { get; }

    /// <summary>Level-2 cache of one core, bytes.</summary>
    public static int L2 { get; }

    /// <summary>Last-level cache, bytes (shared by the cores that share it).</summary>
    public static long L3 { get; }

    /// <summary>Where the sizes came from: "sysfs" or "defaults".</summary>
    public static string Source { get; }

    internal const int DefaultL1Data = 32 << 10, DefaultL2 = 512 << 10;
    internal const long DefaultL3 = 8L << 20;

    static CacheInfo()
    {
        int l1 = 0, l2 = 0;
        long l3 = 0;
        try
        {
            const string root = "/sys/devices/system/cpu/cpu0/cache";
            if (Directory.Exists(root))
            {
                foreach (var dir in Directory.EnumerateDirectories(root, "index*"))
                {
                    string level = ReadText(Path.Combine(dir, "level"));
                    string type = ReadText(Path.Combine(dir, "type"));
                    long size = ParseSize(ReadText(Path.Combine(dir, "size")));
                    if (size <= 0 || type == "Instruction")
                        continue;
                    switch (level)
                    {
                        case "1": l1 = (int)Math.Min(size, 1 << 24); break;
                        case "2": l2 = (int)Math.Min(size, 1 << 28); break;
                        case "3": l3 = size; break;
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Fall through to the defaults.
        }
        Source = l1 > 0 && l2 > 0 ? "sysfs" : "defaults";
        L1Data = l1 > 0 ? l1 : DefaultL1Data;
        L2 = l2 > 0 ? l2 : DefaultL2;
        L3 = l3 > 0 ? l3 : Math.Max(DefaultL3, L2);
    }

    private static string ReadText(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : "";

    /// <summary>"48K", "1024K", "32M" or a plain byte count; 0 when unreadable.</summary>
    internal static long ParseSize(string text)
    {
        if (text.Length == 0)
            return 0;
        long unit = char.ToUpperInvariant(text[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, _ => 1 };
        string digits = unit == 1 ? text : text[..^1];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value) ? value * unit : 0;
    }
}
