using System.Text.Json;
using Backprop.IO;

namespace Backprop.Tests.Cli.Process;

/// <summary>
/// Issue 14 items 2, 4 and 7 through the real process: devices, pipes and FIFOs, a read-only file system, a folder
/// root may not write, a 250-character name, standard output that fails. Each case is refused cleanly (exit 2 or 3,
/// one error line, nothing touched) or, for inputs from a pipe, read once and used.
/// </summary>
[Collection(CliProcessCollection.Name)]
public sealed class FileSafetyProcessTests(CliProcessFixture fx)
{
    /// <summary>Every output option of every command, with the rest of a command line that would otherwise run.</summary>
    public static TheoryData<string, string> OutputOptions => new()
    {
        { "--save", "train --data two.csv --hidden 2 --epochs 1" },
        { "--checkpoint", "train --data two.csv --hidden 2 --epochs 1" },
        { "--plot", "train --data two.csv --hidden 2 --epochs 1" },
        { "--output", "predict --model cls.json --data two.csv" },
        { "--onnx", "export --model cls.json" },
        { "--out", "explain --model cls.json" },
        { "--svg", "explain --model cls.json" },
        { "--out ", "plot boundary --model cls.json --data two.csv --resolution 10" },
    };

    [Theory]
    [MemberData(nameof(OutputOptions))]
    public void ADeviceOrAFifoAsAnOutputIsRefusedAndStaysWhatItWas(string option, string command)
    {
        using var dir = fx.Scratch();
        ToolProcess.MakeFifo(dir.Path("fifo"));
        // The null and full devices, as nodes of their own (the same major and minor numbers as /dev/null and /dev/full):
        // a tool that replaced its target (main at bba2e6b did) breaks only these, never the machine's /dev/null.
        var nodes = ToolProcess.Bash(dir.Dir, "mknod -m 666 null c 1 3 && mknod -m 666 full c 1 7 && echo x > null && (echo x > full) 2>&1");
        Assert.SkipUnless(nodes.Out.Contains("No space left on device"),
            $"device nodes cannot be made here (mknod needs root and a file system without nodev): {nodes}");
        // Each target: refused before any work, exit 2, one line; afterwards still a character device / a FIFO.
        var r = ToolProcess.Bash(dir.Dir,
            $"for t in null full fifo; do $BACKPROP {command} {option.Trim()} $t > out.$$ 2> err.$$; echo \"$t $? $(wc -l < err.$$) $(grep -c '^epoch' out.$$)\"; cat err.$$ >&2; done");
        Assert.True(r.Code == 0, r.ToString());
        var rows = r.Out.Trim().Split('\n');
        Assert.Equal(3, rows.Length);
        foreach (string row in rows)
            Assert.True(row.EndsWith(" 2 1 0", StringComparison.Ordinal), $"{row}\n{r}");
        Assert.Contains($"{option.Trim()} null: is a character device, not a regular file; refusing to replace it", r.Err);
        Assert.Contains($"{option.Trim()} full: is a character device", r.Err);
        Assert.Contains($"{option.Trim()} fifo: is a pipe, not a regular file", r.Err);
        Assert.Equal(FileKind.CharacterDevice, FileIdentity.Of(dir.Path("null")).Kind);
        Assert.Equal(FileKind.CharacterDevice, FileIdentity.Of(dir.Path("full")).Kind);
        Assert.Equal(FileKind.Pipe, FileIdentity.Of(dir.Path("fifo")).Kind);
        Assert.Equal(FileKind.CharacterDevice, FileIdentity.Of("/dev/null").Kind);
        Assert.Equal(FileKind.CharacterDevice, FileIdentity.Of("/dev/full").Kind);
    }

    [Fact]
    public void TheMachinesOwnDevNullAndDevFullAreRefusedByName()
    {
        // In a private mount namespace each device is bind-mounted onto itself: a mount point cannot be renamed over
        // (EBUSY), so even a tool that tried could not replace the machine's /dev/null; the names and nodes are the real ones.
        var probe = ToolProcess.Start("/usr/bin/unshare", ["-m", "sh", "-c", "mount --bind /dev/null /dev/null && echo bound"], fx.Dir, null, 30);
        Assert.SkipUnless(probe.Out.Contains("bound"), $"no private mount namespace here (unshare -m: {probe.Err.Trim()}); the device-node test covers the refusal");
        foreach (string device in new[] { "/dev/null", "/dev/full" })
        {
            var r = ToolProcess.Bash(fx.Dir,
                $"unshare -m sh -c \"mount --bind {device} {device} && exec $BACKPROP train --data two.csv --hidden 2 --epochs 1 --save {device}\"");
            Assert.True(r.Code == 2, r.ToString());
            Assert.Equal([$"error: --save {device}: is a character device, not a regular file; refusing to replace it (give the path of a file)."], r.ErrorLines);
            Assert.Equal(FileKind.CharacterDevice, FileIdentity.Of(device).Kind);
        }
    }

    [Fact]
    public void EveryReaderTakesAPipeOnceAndAFifoDoesNotHang()
    {
        using var dir = fx.Scratch();
        Assert.Equal(0, ToolProcess.Run(dir.Dir, "train", "--data", "two.csv", "--hidden", "2", "--epochs", "1", "--checkpoint", "ck.json", "--quiet").Code);
        ToolProcess.MakeFifo(dir.Path("fifo"));
        string[] cases =
        [
            "train --data <(cat two.csv) --hidden 2 --epochs 1 --json",
            "train --data <(cat img-idx3-ubyte) --labels <(cat lbl-idx1-ubyte) --hidden 2 --epochs 1 --json",
            "train --data two.csv --test <(cat two.csv) --hidden 2 --epochs 1 --json",
            "train --data img-idx3-ubyte --labels lbl-idx1-ubyte --test <(cat img-idx3-ubyte) --test-labels <(cat lbl-idx1-ubyte) --hidden 2 --epochs 1 --json",
            "train --data two.csv --hidden 2 --epochs 2 --resume <(cat ck.json) --json",
            "evaluate --model <(cat cls.json) --data <(cat two.csv) --json",
            "predict --model <(cat idx.json) --data <(cat img-idx3-ubyte) --labels <(cat lbl-idx1-ubyte)",
            "explain --model <(cat cls.json) --format json",
            "gradcheck --model <(cat cls.json) --input 0.1,0.2 --target 1,0",
            "export --model <(cat cls.json) --onnx m.onnx",
            "info --model <(cat cls.json) --json",
            "plot boundary --model <(cat cls.json) --data <(cat two.csv) --out b.png --resolution 10",
            "train --data fifo --hidden 2 --epochs 1 --json",
        ];
        string script = string.Join("\n", cases.Select((c, i) =>
            (c.Contains("fifo") ? "(cat two.csv > fifo &)\n" : "") + $"timeout 60 $BACKPROP {c} > out{i}.txt 2> err{i}.txt; echo \"{i} $?\""));
        var r = ToolProcess.Bash(dir.Dir, script, timeoutSeconds: 300);
        Assert.True(r.Code == 0, r.ToString());
        var codes = r.Out.Trim().Split('\n');
        Assert.Equal(cases.Length, codes.Length);
        for (int i = 0; i < cases.Length; i++)
            Assert.True(codes[i] == $"{i} 0", $"{cases[i]}: {codes[i]}\n{File.ReadAllText(dir.Path($"err{i}.txt"))}");
        // The pipe gave every row: the same counts as the file itself.
        foreach (int i in new[] { 0, 12 })
        {
            var summary = JsonDocument.Parse(File.ReadAllLines(dir.Path($"out{i}.txt"))[^1]).RootElement;
            Assert.Equal(64, summary.GetProperty("training_rows").GetInt32());
            Assert.Equal(16, summary.GetProperty("test_rows").GetInt32());
        }
        Assert.Equal(80, JsonDocument.Parse(File.ReadAllText(dir.Path("out2.txt")).Trim().Split('\n')[^1]).RootElement.GetProperty("test_rows").GetInt32());
        Assert.Equal(80, JsonDocument.Parse(File.ReadAllText(dir.Path("out5.txt"))).RootElement.GetProperty("rows").GetInt32());
        Assert.Equal(41, File.ReadAllLines(dir.Path("out6.txt")).Length);
    }

    [Fact]
    public void AReadOnlyFileSystemIsFoundBeforeTraining()
    {
        using var dir = fx.Scratch();
        Directory.CreateDirectory(dir.Path("ro"));
        // A read-only tmpfs in a private mount namespace: gone when the process ends, whatever happens.
        var probe = ToolProcess.Start("/usr/bin/unshare", ["-m", "sh", "-c", "mount -t tmpfs -o ro none ro && touch ro/x"], dir.Dir, null, 30);
        Assert.SkipUnless(probe.Err.Contains("Read-only file system"),
            $"this machine cannot mount a read-only file system in a private mount namespace (unshare -m, mount: {probe.Err.Trim()}); AtomicFileProbeTests covers the check with a hook");
        var r = ToolProcess.Bash(dir.Dir, "unshare -m sh -c \"mount -t tmpfs -o ro none ro && exec $BACKPROP train --data two.csv --hidden 2 --epochs 3 --save ro/m.json\"");
        Assert.True(r.Code == 3, r.ToString());
        Assert.DoesNotContain("epoch", r.Out);
        Assert.StartsWith("error: --save ro/m.json: cannot write in the folder", r.Err);
        Assert.Contains("Read-only file system", r.Err);
        Assert.Single(r.ErrorLines);
    }

    [Fact]
    public void AFolderEvenRootMayNotWriteIsFoundBeforeTraining()
    {
        // sysfs refuses new files to root too (EACCES).
        Assert.SkipUnless(Directory.Exists("/sys/kernel"), "no /sys on this machine");
        var r = ToolProcess.Run(fx.Dir, "train", "--data", "two.csv", "--hidden", "2", "--epochs", "3", "--save", "/sys/backprop-test.json");
        Assert.True(r.Code == 3, r.ToString());
        Assert.DoesNotContain("epoch", r.Out);
        Assert.StartsWith("error: --save /sys/backprop-test.json: cannot write in the folder '/sys'", r.Err);
        Assert.False(File.Exists("/sys/backprop-test.json"));
        // procfs refuses them with ENOENT although the folder exists: the same I/O error (it was exit 2, "Could not find file").
        Assert.SkipUnless(Directory.Exists("/proc/self"), "no /proc on this machine");
        var proc = ToolProcess.Run(fx.Dir, "train", "--data", "two.csv", "--hidden", "2", "--epochs", "3", "--save", "/proc/backprop-test.json");
        Assert.True(proc.Code == 3, proc.ToString());
        Assert.DoesNotContain("epoch", proc.Out);
        Assert.Equal("error: --save /proc/backprop-test.json: cannot write in the folder '/proc' (it exists but takes no new file).\n", proc.Err);
    }

    [Fact]
    public void ALegal250CharacterNameIsWrittenAndA256CharacterOneIsRefusedBeforeTraining()
    {
        using var dir = fx.Scratch();
        string name = new string('m', 245) + ".json";
        var r = ToolProcess.Run(dir.Dir, "train", "--data", "two.csv", "--hidden", "2", "--epochs", "2", "--save", name, "--plot", new string('p', 246) + ".png");
        Assert.True(r.Code == 0, r.ToString());
        Assert.Equal(2, ModelFile.Load(dir.Path(name)).Training.EpochsTrained);
        Assert.Equal(2, Directory.GetFiles(dir.Dir, "*m.json").Length + Directory.GetFiles(dir.Dir, "*p.png").Length);
        Assert.Empty(Directory.GetFiles(dir.Dir, ".*"));
        var tooLong = ToolProcess.Run(dir.Dir, "train", "--data", "two.csv", "--hidden", "2", "--epochs", "2", "--save", new string('m', 251) + ".json");
        Assert.Equal(2, tooLong.Code);
        Assert.DoesNotContain("epoch", tooLong.Out);
        Assert.Contains("the file name is 256 bytes long; file systems take at most 255", tooLong.Err);
    }

    [Theory]
    [InlineData("> /dev/full", "No space left on device")]
    [InlineData(">&-", "cannot write to standard output")]
    public void StandardOutputThatFailsDoesNotStopTheRun_TheModelIsSavedAndTheExitCodeIs3(string redirect, string reason)
    {
        using var dir = fx.Scratch();
        var r = ToolProcess.Bash(dir.Dir, $"$BACKPROP train --data two.csv --hidden 2 --epochs 3 --checkpoint ck.json --save m.json {redirect}");
        Assert.True(r.Code == 3, r.ToString());
        Assert.Contains("error: cannot write to standard output", r.Err);
        Assert.Contains(reason, r.Err);
        Assert.Equal(3, ModelFile.Load(dir.Path("m.json")).Training.EpochsTrained);
        Assert.NotNull(ModelFile.Read<double>(dir.Path("ck.json")).Checkpoint);
    }

    [Theory]
    [InlineData("info --model cls.json")]
    [InlineData("info --model cls.json --json")]
    [InlineData("evaluate --model cls.json --data two.csv")]
    [InlineData("predict --model cls.json --data two.csv")]
    [InlineData("explain")]
    [InlineData("demo --steps 10")]
    [InlineData("gradcheck --model cls.json --input 0.5,0.5 --target 1,0")]
    [InlineData("--help")]
    public void StandardOutputThatFailsIsExitCode3ForEveryCommand(string command)
    {
        // Issue 14 item 16: an I/O error on standard output gave 1 (the docs said 2); it is 3 for every command, with one
        // error line, not only for train (above).
        var r = ToolProcess.Bash(fx.Dir, $"$BACKPROP {command} > /dev/full");
        Assert.True(r.Code == 3, r.ToString());
        Assert.Equal("error: cannot write to standard output (No space left on device).\n", r.Err);
        Assert.Equal(FileKind.CharacterDevice, FileIdentity.Of("/dev/full").Kind);
    }

    [Fact]
    public void DashIsStandardInputForData()
    {
        // Was "error: -: cannot read the file (Could not find file '<cwd>/-')". Now standard input, read once as any pipe:
        // the same predictions as from the file, and a training run on piped rows; a file named - is still ./-.
        var r = ToolProcess.Bash(fx.Dir,
            "cat two.csv | $BACKPROP predict --model cls.json --data - > piped.$$ && $BACKPROP predict --model cls.json --data two.csv > named.$$ " +
            "&& cmp piped.$$ named.$$ && echo same; rm -f piped.$$ named.$$; " +
            "printf 'a,b,y\\n0,0,0\\n0,1,1\\n1,0,1\\n1,1,0\\n' | $BACKPROP train --data - --hidden 4 --epochs 2 --quiet; echo \"train $?\"; " +
            "cp two.csv ./- && $BACKPROP predict --model cls.json --data ./- | cmp - <($BACKPROP predict --model cls.json --data two.csv) && echo dotslash; rm -f ./-");
        Assert.True(r.Code == 0, r.ToString());
        Assert.Contains("same", r.Out);
        Assert.Contains("train 0", r.Out);
        Assert.Contains("dotslash", r.Out);
        Assert.DoesNotContain("error", r.Err);

        // inspect reads it once too (it opened it twice: the table lost the bytes the first look took); predict's
        // --output - is standard output.
        r = ToolProcess.Bash(fx.Dir,
            "cat two.csv | $BACKPROP inspect --data - | tail -n +2 > piped.$$ && $BACKPROP inspect --data two.csv | tail -n +2 > named.$$ && cmp piped.$$ named.$$ && echo inspect; " +
            "$BACKPROP predict --model cls.json --data two.csv --output - | cmp - <($BACKPROP predict --model cls.json --data two.csv) && echo output; rm -f piped.$$ named.$$");
        Assert.True(r.Code == 0, r.ToString());
        Assert.Contains("inspect", r.Out);
        Assert.Contains("output", r.Out);

        // Refused before any work, one line each: standard input twice, a model "saved" to standard output, a stream
        // of a pipe (a streamed run reads its file every epoch).
        foreach (var (script, message) in new[]
        {
            ("cat two.csv | $BACKPROP train --data - --test -", "error: --test -: standard input is already read by --data; only one option can read it (save the other to a file)."),
            ("$BACKPROP train --data two.csv --save -", "error: --save -: is not written to standard output; give a file name."),
            ("cat cls.json | $BACKPROP predict --model - --data two.csv", "error: --model -: standard input is read only for data (--data, --labels, --test, --test-labels); give a file name (a file named - is ./-)."),
            ("cat two.csv | $BACKPROP train --data - --stream", "error: --stream --data /dev/stdin: is not a regular file (a pipe, standard input or a device)"),
            // Standard input closed: the runtime's own pipe takes descriptor 0 and reading it waited forever.
            ("$BACKPROP train --data - <&-", "error: --data -: standard input is closed; pipe the data in (cat data.csv | backprop ... --data -) or give a file."),
        })
        {
            r = ToolProcess.Bash(fx.Dir, script + "; echo \"rc $?\"");
            Assert.Contains("rc 2", r.Out);
            Assert.Single(r.Err.Trim().Split('\n'));
            Assert.StartsWith(message, r.Err.Trim());
        }
    }

    [Fact]
    public void DashOnATerminalIsRefusedInsteadOfWaitingForTypedRows()
    {
        // script(1) (util-linux) runs the tool on a pseudo-terminal: standard input is a terminal there.
        var r = ToolProcess.Bash(fx.Dir, "script -qec \"$BACKPROP train --data -\" /dev/null < /dev/null; echo \"rc $?\"", timeoutSeconds: 60);
        Assert.Contains("error: --data -: standard input is a terminal; pipe the data in (cat data.csv | backprop ... --data -) or give a file.", r.Out);
        Assert.Contains("rc 2", r.Out);
        // Its other name too (it waited until killed).
        r = ToolProcess.Bash(fx.Dir, "script -qec \"$BACKPROP train --data /dev/stdin\" /dev/null < /dev/null; echo \"rc $?\"", timeoutSeconds: 60);
        Assert.Contains("error: --data /dev/stdin: standard input is a terminal;", r.Out);
        Assert.Contains("rc 2", r.Out);
    }

    [Fact]
    public void AnEmptyPathIsAClearError()
    {
        foreach (string[] args in new[]
        {
            new[] { "train", "--dataset", "xor", "--save", "" },
            ["train", "--dataset", "xor", "--resume", ""], // was internal error: ArgumentException (exit 4), from the Ctrl+C checkpoint's path
            ["train", "--dataset", "xor", "--resume", " "],
            ["predict", "--model", "cls.json", "--data", "two.csv", "--output", ""],
            ["evaluate", "--model", "", "--data", "two.csv"],
            ["export", "--model", "cls.json", "--onnx", " "],
        })
        {
            var r = ToolProcess.Run(fx.Dir, args);
            Assert.True(r.Code == 2, r.ToString());
            Assert.Single(r.ErrorLines);
            Assert.Matches(@"^error: --\w+: an empty path was given; expected a file name\.$", r.ErrorLines[0]);
        }
    }
}
