using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Backprop.Tests.Cli.Process;

/// <summary>What a child process did: its exit code and everything it wrote.</summary>
internal sealed record ProcessResult(int Code, string Out, string Err)
{
    /// <summary>The non-empty lines of standard error.</summary>
    public string[] ErrorLines => Err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>For assertion messages.</summary>
    public override string ToString() => $"exit code {Code}\n--- stdout:\n{(Out.Length > 3000 ? Out[^3000..] : Out)}\n--- stderr:\n{Err}";
}

/// <summary>
/// Runs the BUILT command-line tool as a child process: <c>dotnet Backprop.Cli.dll</c> from the test's output
/// folder (the build `dotnet test` made, once per run), or the tool named by BACKPROP_CLI (an installed tool's path,
/// or another build's Backprop.Cli.dll: run the same tests against main's build to see them fail before a fix).
/// </summary>
internal static class ToolProcess
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The full path of the dotnet host (found on PATH once).</summary>
    public static string Dotnet { get; } = FindDotnet();

    /// <summary>The tool's Backprop.Cli.dll, or BACKPROP_CLI.</summary>
    public static string Tool => Environment.GetEnvironmentVariable("BACKPROP_CLI") is { Length: > 0 } t ? t
        : Path.Combine(AppContext.BaseDirectory, "Backprop.Cli.dll");

    /// <summary>The command that starts the tool: the program and its first arguments.</summary>
    public static (string Program, string[] Prefix) Command(string? tool = null)
    {
        tool ??= Tool;
        return tool.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? (Dotnet, [tool]) : (tool, []);
    }

    /// <summary>
    /// The tool as words for a script's unquoted <c>$BACKPROP</c> (e.g. <c>$BACKPROP train ... &gt; /dev/full</c>), which
    /// bash splits at spaces: the paths must have none.
    /// </summary>
    public static string ShellCommand(string? tool = null)
    {
        var (program, prefix) = Command(tool);
        string[] words = [program, .. prefix];
        Assert.True(words.All(w => !w.Any(char.IsWhiteSpace)), $"the tool's path has a space, which $BACKPROP cannot carry: {string.Join(" | ", words)}");
        return string.Join(' ', words);
    }

    /// <summary>Single-quotes a word for sh.</summary>
    public static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    /// <summary>Runs the tool in <paramref name="cwd"/> with <paramref name="args"/>; waits at most <paramref name="timeoutSeconds"/>.</summary>
    public static ProcessResult Run(string cwd, IEnumerable<string> args, IDictionary<string, string?>? env = null, int timeoutSeconds = 120, string? tool = null)
    {
        var (program, prefix) = Command(tool);
        return Start(program, prefix.Concat(args), cwd, env, timeoutSeconds);
    }

    /// <summary>Runs the tool in <paramref name="cwd"/>.</summary>
    public static ProcessResult Run(string cwd, params string[] args) => Run(cwd, (IEnumerable<string>)args);

    /// <summary>Runs <paramref name="script"/> with bash in <paramref name="cwd"/>; $BACKPROP is the tool's command.</summary>
    public static ProcessResult Bash(string cwd, string script, IDictionary<string, string?>? env = null, int timeoutSeconds = 120, string? tool = null)
    {
        var all = new Dictionary<string, string?>(env ?? new Dictionary<string, string?>()) { ["BACKPROP"] = ShellCommand(tool) };
        return Start("/bin/bash", ["-c", script], cwd, all, timeoutSeconds);
    }

    /// <summary>Starts any program; standard input is empty.</summary>
    public static ProcessResult Start(string program, IEnumerable<string> args, string cwd, IDictionary<string, string?>? env, int timeoutSeconds)
    {
        using var p = new System.Diagnostics.Process { StartInfo = Info(program, args, cwd, env) };
        var output = new StringBuilder();
        var error = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Append(e.Data).Append('\n'); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (error) error.Append(e.Data).Append('\n'); };
        p.Start();
        p.StandardInput.Close();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not end in {timeoutSeconds} s (a hang):\n{output}\n{error}");
        }
        p.WaitForExit();
        lock (output)
            lock (error)
                return new ProcessResult(p.ExitCode, output.ToString(), error.ToString());
    }

    /// <summary>The start info: redirected streams, the working folder, extra environment (a null value removes a variable).</summary>
    public static ProcessStartInfo Info(string program, IEnumerable<string> args, string cwd, IDictionary<string, string?>? env)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = cwd,
        };
        foreach (var a in args)
            info.ArgumentList.Add(a);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment.Remove("BACKPROP_TEST_FAULT");
        foreach (var (k, v) in env ?? new Dictionary<string, string?>())
        {
            if (v is null)
                info.Environment.Remove(k);
            else
                info.Environment[k] = v;
        }
        return info;
    }

    private static string FindDotnet()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, "dotnet");
            if (File.Exists(candidate))
                return candidate;
        }
        string? root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        return root is not null && File.Exists(Path.Combine(root, "dotnet")) ? Path.Combine(root, "dotnet") : "dotnet";
    }

    /// <summary>Sends a signal (2: SIGINT, 15: SIGTERM).</summary>
    public static void Signal(int pid, int signal) => Assert.Equal(0, NativeKill(pid, signal));

    /// <summary>Makes a named pipe.</summary>
    public static void MakeFifo(string path) => Assert.True(NativeMkfifo(path, Convert.ToUInt32("644", 8)) == 0, $"mkfifo {path} failed");

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int NativeKill(int pid, int signal);

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int NativeMkfifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    /// <summary>Invariant formatting for arguments.</summary>
    public static string S(double v) => v.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Small data the child-process tests share, made once per test run in one temporary folder: a 2-feature
/// classification CSV with a header, the same with an id column, no header and semicolons, a regression CSV,
/// a tiny IDX images+labels pair, and three models trained from them by the tool itself.
/// </summary>
public sealed class CliProcessFixture : IDisposable
{
    /// <summary>The folder holding the shared files.</summary>
    public string Dir { get; } = Directory.CreateTempSubdirectory("backprop-cliproc-").FullName;

    /// <summary>Makes the files and trains the models.</summary>
    public CliProcessFixture()
    {
        var inv = CultureInfo.InvariantCulture;
        var rng = new Random(7);
        var two = new StringBuilder("x1,x2,label\n");
        var semi = new StringBuilder();
        for (int i = 0; i < 80; i++)
        {
            bool b = i % 2 == 1;
            double x1 = (b ? 1.5 : -1.5) + rng.NextDouble() - 0.5, x2 = (b ? -1 : 1) + rng.NextDouble() - 0.5;
            two.Append(inv, $"{x1:F4},{x2:F4},{(b ? "b" : "a")}\n");
            semi.Append(inv, $"{i};{x1:F4};{x2:F4};{(b ? "b" : "a")}\n");
        }
        File.WriteAllText(Path.Combine(Dir, "two.csv"), two.ToString());
        File.WriteAllText(Path.Combine(Dir, "semi.txt"), semi.ToString());
        var reg = new StringBuilder("x1,x2,y\n");
        for (int i = 0; i < 60; i++)
        {
            double x1 = rng.NextDouble() * 2 - 1, x2 = rng.NextDouble() * 2 - 1;
            reg.Append(inv, $"{x1:F4},{x2:F4},{2 * x1 - x2 + 0.1:F4}\n");
        }
        File.WriteAllText(Path.Combine(Dir, "reg.csv"), reg.ToString());
        WriteIdx(Path.Combine(Dir, "img-idx3-ubyte"), Path.Combine(Dir, "lbl-idx1-ubyte"), 40, rng);
        File.WriteAllText(Path.Combine(Dir, "wdbc10.csv"), WdbcLike(rng));
        File.WriteAllText(Path.Combine(Dir, "points.txt"), "label;x1;junk;x2\n0;0.5;9;-0.25\n1;-1;9;0.5\n1;1.5;9;0\n0;0;9;0\n");

        Train("cls.json", "--data", "two.csv");
        Train("reg.json", "--data", "reg.csv", "--task", "regression");
        Train("idx.json", "--data", "img-idx3-ubyte", "--labels", "lbl-idx1-ubyte");
    }

    private void Train(string model, params string[] args)
    {
        var r = ToolProcess.Run(Dir, ["train", .. args, "--hidden", "8", "--epochs", "5", "--test-fraction", "0", "--save", model, "--quiet"]);
        if (r.Code != 0 || !File.Exists(Path.Combine(Dir, model)))
            throw new InvalidOperationException($"the fixture could not train {model}: {r}");
    }

    /// <summary>IDX images of 1x2 pixels (bright first pixel: class 1), so a model of them has 2 inputs, and their labels.</summary>
    private static void WriteIdx(string images, string labels, int n, Random rng)
    {
        var img = new List<byte> { 0, 0, 8, 3, 0, 0, 0, (byte)n, 0, 0, 0, 1, 0, 0, 0, 2 };
        var lbl = new List<byte> { 0, 0, 8, 1, 0, 0, 0, (byte)n };
        for (int i = 0; i < n; i++)
        {
            int c = i % 2;
            img.Add((byte)(c == 1 ? 200 + rng.Next(50) : rng.Next(50)));
            img.Add((byte)(c == 0 ? 200 + rng.Next(50) : rng.Next(50)));
            lbl.Add((byte)c);
        }
        File.WriteAllBytes(images, [.. img]);
        File.WriteAllBytes(labels, [.. lbl]);
    }

    /// <summary>Rows shaped like UCI wdbc (id, B or M, 30 numbers, no header), for the version-1 wdbc fixture model.</summary>
    private static string WdbcLike(Random rng)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < 10; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{9000 + i},{(i % 2 == 0 ? "B" : "M")}");
            for (int k = 0; k < 30; k++)
                sb.Append(CultureInfo.InvariantCulture, $",{rng.NextDouble() * 20:F3}");
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>A model file of format version 1 (written by main at d9f9220): tests/Backprop.Tests/Fixtures/v1.</summary>
    public static string V1(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "v1", name);

    /// <summary>A fresh folder with copies of the shared files, for a test that writes; deleted on Dispose.</summary>
    public Scratch Scratch() => new(Dir);

    /// <inheritdoc/>
    public void Dispose() => Directory.Delete(Dir, recursive: true);
}

/// <summary>The child-process tests: one collection, so they share the fixture and do not load the 2 cores all at once.</summary>
[CollectionDefinition(Name)]
public sealed class CliProcessCollection : ICollectionFixture<CliProcessFixture>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "CLI child processes";
}

/// <summary>A test's own folder holding copies of the fixture's files; deleted, with all in it, on Dispose.</summary>
public sealed class Scratch : IDisposable
{
    /// <summary>Copies the files of <paramref name="from"/>.</summary>
    public Scratch(string from)
    {
        foreach (string f in Directory.GetFiles(from))
            File.Copy(f, System.IO.Path.Combine(Dir, System.IO.Path.GetFileName(f)));
    }

    /// <summary>The folder.</summary>
    public string Dir { get; } = Directory.CreateTempSubdirectory("backprop-cliproc-t-").FullName;

    /// <summary>The full path of <paramref name="name"/> in the folder.</summary>
    public string Path(string name) => System.IO.Path.Combine(Dir, name);

    /// <summary>The bytes of a file in the folder.</summary>
    public byte[] Bytes(string name) => File.ReadAllBytes(Path(name));

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Directory.Exists(Dir))
            Directory.Delete(Dir, recursive: true);
    }
}
