using System.Diagnostics;

namespace Backprop.Tests.Reliability;

/// <summary>
/// The built command line as a child process whose managed heap is capped (<c>DOTNET_GCHeapHardLimit</c>): a command
/// that needs more than the cap ends in an out-of-memory abort (exit 134, "Out of memory." and no <c>error:</c> line),
/// so a child that exits 0, or 2 with one clean <c>error:</c> line, stayed within it. The cap is on the managed heap,
/// which holds everything these commands allocate by size of their input; the runtime itself adds a fixed 40-60 MB of
/// resident memory outside it.
/// </summary>
internal static class LimitedCli
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
    }

    private static string Cli => Path.Combine(AppContext.BaseDirectory, "Backprop.Cli.dll");

    /// <summary>Runs <c>backprop ARGS</c> with at most <paramref name="heapBytes"/> of managed heap.</summary>
    public static Result Run(long heapBytes, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Cli);
        foreach (var a in args)
            info.ArgumentList.Add(a);
        info.Environment["DOTNET_GCHeapHardLimit"] = "0x" + heapBytes.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        // One heap, no server GC: the cap then means what it says on any machine.
        info.Environment["DOTNET_gcServer"] = "0";
        info.Environment.Remove("BACKPROP_MAX_VALUES");
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
            info.Environment[k] = v;
        using var p = Process.Start(info)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(300_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"backprop {string.Join(' ', args)} did not end in 300 s");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    public static Result Run(long heapBytes, params string[] args) => Run(heapBytes, null, args);

    /// <summary>Exit 2 and exactly one line on stderr, an <c>error:</c> line that contains every one of <paramref name="parts"/>.</summary>
    public static string AssertCleanError(Result r, params string[] parts)
    {
        Assert.True(r.ExitCode == 2, r.ToString());
        var lines = r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1 && lines[0].StartsWith("error: ", StringComparison.Ordinal), r.ToString());
        foreach (var part in parts)
            Assert.True(lines[0].Contains(part, StringComparison.Ordinal), $"'{part}' not in: {lines[0]}");
        return lines[0];
    }

    /// <summary>Exit 0 and nothing on stderr.</summary>
    public static void AssertSuccess(Result r)
    {
        Assert.True(r.ExitCode == 0 && r.Error.Trim().Length == 0, r.ToString());
    }

    public const long MiB = 1L << 20;
}
