using Backprop.Cli;
using Backprop.IO;
using Backprop.Tests.IO;

namespace Backprop.Tests.Cli;

/// <summary>
/// The generated matrix of issue 14: every output option of every command against every input path of the same
/// command, named five ways (the same path, ./, sub/.., a symbolic link, a hard link), and every pair of outputs of
/// one command; then every output option against a folder and a place root may not write. Each is refused before
/// any work: exit 2 (3 for the unwritable place), one error line naming both options, the input byte for byte as it
/// was. In process (the refusals happen before any work, so this is fast); the devices and FIFOs, which need the real
/// process, are <see cref="Process.FileSafetyProcessTests"/>.
/// </summary>
public sealed class FileSafetyMatrixTests : IClassFixture<FileSafetyMatrixTests.Files>
{
    private readonly Files _f;

    public FileSafetyMatrixTests(Files files) => _f = files;

    /// <summary>The inputs every command is given: two.csv, an IDX pair, two models, a checkpoint; made once.</summary>
    public sealed class Files : IDisposable
    {
        public string Dir { get; } = TestData.TempFolder();

        public Files()
        {
            File.WriteAllText(P("two.csv"), "x1,x2,label\n" + string.Join("", Enumerable.Range(0, 40).Select(i => $"{i % 7},{i % 5},{(i % 2 == 0 ? "a" : "b")}\n")));
            var img = new List<byte> { 0, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 1, 0, 0, 0, 2 };
            var lbl = new List<byte> { 0, 0, 8, 1, 0, 0, 0, 10 };
            for (int i = 0; i < 10; i++)
            {
                img.AddRange([(byte)(i * 20), (byte)(250 - i * 20)]);
                lbl.Add((byte)(i % 2));
            }
            File.WriteAllBytes(P("img"), [.. img]);
            File.WriteAllBytes(P("lbl"), [.. lbl]);
            Run("train", "--data", P("two.csv"), "--hidden", "2", "--epochs", "1", "--save", P("cls.json"), "--checkpoint", P("ck.json"), "--quiet");
            Run("train", "--data", P("img"), "--labels", P("lbl"), "--hidden", "2", "--epochs", "1", "--test-fraction", "0", "--save", P("idx.json"), "--quiet");
        }

        public string P(string name) => Path.Combine(Dir, name);

        private static void Run(params string[] args)
        {
            var (code, _, err) = CliTests.Run(args);
            Assert.True(code == 0, err);
        }

        public void Dispose() => Directory.Delete(Dir, recursive: true);
    }

    /// <summary>A command line with one input marked {IN}; the other inputs are the shared files.</summary>
    private sealed record Case(string Command, string InputOption, string InputFile, string[] Args);

    private static readonly Case[] Cases =
    [
        new("train", "--data", "two.csv", ["train", "--data", "{IN}", "--hidden", "2", "--epochs", "1"]),
        new("train", "--labels", "lbl", ["train", "--data", "{img}", "--labels", "{IN}", "--hidden", "2", "--epochs", "1"]),
        new("train", "--test", "two.csv", ["train", "--data", "{two.csv}", "--test", "{IN}", "--hidden", "2", "--epochs", "1"]),
        new("train", "--test-labels", "lbl", ["train", "--data", "{img}", "--labels", "{lbl}", "--test", "{img}", "--test-labels", "{IN}", "--hidden", "2", "--epochs", "1"]),
        new("train", "--resume", "ck.json", ["train", "--data", "{two.csv}", "--hidden", "2", "--epochs", "2", "--resume", "{IN}"]),
        new("predict", "--model", "cls.json", ["predict", "--model", "{IN}", "--data", "{two.csv}"]),
        new("predict", "--data", "two.csv", ["predict", "--model", "{cls.json}", "--data", "{IN}"]),
        new("predict", "--labels", "lbl", ["predict", "--model", "{idx.json}", "--data", "{img}", "--labels", "{IN}"]),
        new("export", "--model", "cls.json", ["export", "--model", "{IN}"]),
        new("explain", "--model", "cls.json", ["explain", "--model", "{IN}"]),
        new("plot", "--model", "cls.json", ["plot", "boundary", "--model", "{IN}", "--data", "{two.csv}", "--resolution", "10"]),
        new("plot", "--data", "two.csv", ["plot", "boundary", "--model", "{cls.json}", "--data", "{IN}", "--resolution", "10"]),
        new("plot", "--labels", "lbl", ["plot", "boundary", "--model", "{idx.json}", "--data", "{img}", "--labels", "{IN}", "--resolution", "10"]),
    ];

    /// <summary>Each command's output options (a required one must be given for the command to parse).</summary>
    private static readonly Dictionary<string, string[]> Outputs = new()
    {
        ["train"] = ["--save", "--checkpoint", "--plot"],
        ["predict"] = ["--output"],
        ["export"] = ["--onnx"],
        ["explain"] = ["--out", "--svg"],
        ["plot"] = ["--out"],
    };

    private static readonly Dictionary<string, string> RequiredOutput = new() { ["export"] = "--onnx", ["plot"] = "--out" };

    private static readonly string[] Ways = ["same", "dot", "dotdot", "symlink", "hardlink"];

    public static TheoryData<string, string, string, string> OutputAgainstInput()
    {
        var data = new TheoryData<string, string, string, string>();
        foreach (var c in Cases)
            foreach (string output in Outputs[c.Command])
            {
                // Resuming and checkpointing to the same file is the documented way to continue a run.
                if (c.InputOption == "--resume" && output == "--checkpoint")
                    continue;
                foreach (string way in Ways)
                    data.Add(c.Command, c.InputOption, output, way);
            }
        return data;
    }

    [Theory]
    [MemberData(nameof(OutputAgainstInput))]
    public void AnOutputThatIsAnInputIsRefusedBeforeAnyWork(string command, string inputOption, string outputOption, string way)
    {
        var c = Cases.Single(k => k.Command == command && k.InputOption == inputOption);
        using var dir = new TempDirectory();
        string input = dir.File("in-" + c.InputFile);
        File.Copy(_f.P(c.InputFile), input);
        byte[] before = File.ReadAllBytes(input);
        Directory.CreateDirectory(dir.File("sub"));
        string target = way switch
        {
            "same" => input,
            "dot" => Path.Combine(dir.Path, ".", Path.GetFileName(input)),
            "dotdot" => Path.Combine(dir.Path, "sub", "..", Path.GetFileName(input)),
            "symlink" => File.CreateSymbolicLink(dir.File("link"), input).FullName,
            _ => HardLink(input, dir.File("hard")),
        };
        var args = Args(c, input).ToList();
        if (RequiredOutput.TryGetValue(command, out string? required) && required != outputOption)
            args.AddRange([required, dir.File("other.out")]);
        args.AddRange([outputOption, target]);
        var (code, output, err) = CliTests.Run([.. args]);
        Assert.True(code == 2, $"{string.Join(' ', args)}: exit {code}\n{output}\n{err}");
        Assert.Single(err.Trim().Split('\n'));
        Assert.StartsWith($"error: {outputOption} {target} is the same file as {inputOption} {input}", err);
        Assert.DoesNotContain("epoch", output);
        Assert.Equal(before, File.ReadAllBytes(input));
        Assert.False(File.Exists(dir.File("other.out")));
    }

    public static TheoryData<string, string, string> OutputPairs()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var (command, outs) in Outputs)
            for (int i = 0; i < outs.Length; i++)
                for (int j = i + 1; j < outs.Length; j++)
                    data.Add(command, outs[i], outs[j]);
        return data;
    }

    [Theory]
    [MemberData(nameof(OutputPairs))]
    public void TwoOutputsThatAreOneFileAreRefused(string command, string first, string second)
    {
        var c = Cases.First(k => k.Command == command);
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("out"), "kept");
        File.CreateSymbolicLink(dir.File("link"), dir.File("out"));
        var args = Args(c, _f.P(c.InputFile)).Concat([first, dir.File("out"), second, dir.File("link")]).ToArray();
        var (code, _, err) = CliTests.Run(args);
        Assert.True(code == 2, err);
        Assert.Equal($"error: {first} {dir.File("out")} and {second} {dir.File("link")} are the same file: one would overwrite the other; give each its own path.", err.Trim());
        Assert.Equal("kept", File.ReadAllText(dir.File("out")));
    }

    public static TheoryData<string, string, string> OutputAgainstAPlace()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var (command, outs) in Outputs)
            foreach (string output in outs)
                foreach (string place in new[] { "folder", "unwritable", "missing-folder" })
                    data.Add(command, output, place);
        return data;
    }

    [Theory]
    [MemberData(nameof(OutputAgainstAPlace))]
    public void AnOutputInAPlaceThatCannotTakeItIsRefusedBeforeAnyWork(string command, string outputOption, string place)
    {
        var c = Cases.First(k => k.Command == command);
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.File("folder"));
        string target = place switch
        {
            "folder" => dir.File("folder"),
            "unwritable" => "/sys/backprop-matrix.out", // sysfs: root may not create files there either
            _ => dir.File("no/such/folder/x.out"),
        };
        Assert.SkipWhen(place == "unwritable" && !Directory.Exists("/sys/kernel"), "no /sys on this machine");
        var args = Args(c, _f.P(c.InputFile)).ToList();
        if (RequiredOutput.TryGetValue(command, out string? required) && required != outputOption)
            args.AddRange([required, dir.File("other.out")]);
        args.AddRange([outputOption, target]);
        var (code, output, err) = CliTests.Run([.. args]);
        Assert.True(code == (place == "unwritable" ? 3 : 2), $"exit {code}: {err}");
        Assert.Single(err.Trim().Split('\n'));
        Assert.StartsWith($"error: {outputOption} {target}", err);
        Assert.DoesNotContain("epoch", output);
        Assert.True(Directory.Exists(dir.File("folder")));
        Assert.False(File.Exists(dir.File("other.out")));
    }

    private IEnumerable<string> Args(Case c, string input) =>
        c.Args.Select(a => a == "{IN}" ? input : a.StartsWith('{') ? _f.P(a[1..^1]) : a);

    private static string HardLink(string existing, string link)
    {
        Assert.Equal(0, NativeLink(existing, link));
        return link;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int NativeLink(string existing, string link);
}
