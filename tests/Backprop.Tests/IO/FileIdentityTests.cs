using System.Runtime.InteropServices;
using System.Text;
using Backprop.IO;

namespace Backprop.Tests.IO;

/// <summary>
/// FileIdentity (which file a path names: device and inode), AtomicFile's target checks and short temporary names,
/// and the one-pass CSV reader: the pieces behind issue 14 items 1-4 and 7, tested without a child process.
/// </summary>
public sealed class FileIdentityTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        AtomicFile.ProbeHookForTests.Value = null;
        _dir.Dispose();
    }

    [Fact]
    public void APathNamedFiveWaysIsOneFileAndAnotherFileIsNot()
    {
        string a = _dir.File("a.csv"), b = _dir.File("b.csv");
        File.WriteAllText(a, "1,2\n");
        File.WriteAllText(b, "1,2\n");
        Directory.CreateDirectory(_dir.File("sub"));
        File.CreateSymbolicLink(_dir.File("link"), a);
        Assert.Equal(0, Link(a, _dir.File("hard")));
        foreach (string other in new[] { a, Path.Combine(_dir.Path, ".", "a.csv"), Path.Combine(_dir.Path, "sub", "..", "a.csv"), _dir.File("link"), _dir.File("hard") })
            Assert.True(FileIdentity.SameFile(a, other), other);
        Assert.False(FileIdentity.SameFile(a, b));
        Assert.False(FileIdentity.SameFile(a, _dir.File("new.json")));
        Assert.True(FileIdentity.SameFile(_dir.File("new.json"), Path.Combine(_dir.Path, "sub", "..", "new.json")));
        // A new file under a linked folder is the same as under the folder itself.
        Directory.CreateSymbolicLink(_dir.File("linked-dir"), _dir.File("sub"));
        Assert.True(FileIdentity.SameFile(_dir.File("sub/x.json"), _dir.File("linked-dir/x.json")));
    }

    [Fact]
    public void KindsAreTold()
    {
        Assert.Equal(FileKind.Regular, FileIdentity.Of(Path.Combine(AppContext.BaseDirectory, "Backprop.dll")).Kind);
        Assert.Equal(FileKind.Directory, FileIdentity.Of(_dir.Path).Kind);
        Assert.Equal(FileKind.Missing, FileIdentity.Of(_dir.File("none")).Kind);
        Assert.Equal(FileKind.CharacterDevice, FileIdentity.Of("/dev/null").Kind);
        Assert.Equal(0, MkFifo(_dir.File("fifo"), Convert.ToUInt32("644", 8)));
        Assert.Equal(FileKind.Pipe, FileIdentity.Of(_dir.File("fifo")).Kind); // stat does not open it
    }

    [Fact]
    public void AtomicFileRefusesAFolderAFifoAndAnEmptyPath_AndWritesA255ByteName()
    {
        Assert.Equal(0, MkFifo(_dir.File("fifo"), Convert.ToUInt32("644", 8)));
        Assert.Contains("is a pipe, not a regular file; refusing to replace it", Assert.Throws<BackpropException>(() => AtomicFile.WriteAllText(_dir.File("fifo"), "x")).Message);
        Assert.Equal(FileKind.Pipe, FileIdentity.Of(_dir.File("fifo")).Kind);
        Assert.Contains("is a folder", Assert.Throws<BackpropException>(() => AtomicFile.WriteAllText(_dir.Path, "x")).Message);
        Assert.Contains("empty path", Assert.Throws<BackpropException>(() => AtomicFile.WriteAllText("", "x")).Message);
        // The old temporary name added 44 characters to the target's, so 212 was the longest name that could be written.
        string longest = _dir.File(new string('n', 250) + ".json");
        AtomicFile.WriteAllText(longest, "whole");
        Assert.Equal("whole", File.ReadAllText(longest));
        Assert.Contains("256 bytes long", Assert.Throws<BackpropException>(() => AtomicFile.WriteAllText(_dir.File(new string('n', 251) + ".json"), "x")).Message);
        Assert.Single(Directory.GetFiles(_dir.Path, "*.json"));
        Assert.Empty(Directory.GetFiles(_dir.Path, ".*"));
    }

    [Fact]
    public void AWriteThroughASymbolicLinkReplacesItsTargetAndKeepsTheLink()
    {
        string target = _dir.File("model.json");
        File.WriteAllText(target, "old");
        File.CreateSymbolicLink(_dir.File("current.json"), target);
        AtomicFile.WriteAllText(_dir.File("current.json"), "new");
        Assert.Equal("new", File.ReadAllText(target));
        Assert.NotNull(new FileInfo(_dir.File("current.json")).LinkTarget);
    }

    [Fact]
    public void TheProbeFindsAFolderThatTakesNoNewFile()
    {
        AtomicFile.Probe(_dir.File("m.json"));
        Assert.Empty(Directory.GetFiles(_dir.Path, "*", SearchOption.AllDirectories));
        AtomicFile.ProbeHookForTests.Value = _ => throw new IOException("Read-only file system");
        var e = Assert.Throws<BackpropException>(() => AtomicFile.Probe(_dir.File("m.json")));
        Assert.StartsWith(_dir.File("m.json") + ": cannot write in the folder", e.Message);
        Assert.IsType<IOException>(e.InnerException);
    }

    [Fact]
    public void TheCsvReaderReadsAStreamInOnePassAndParsesTheBlockItSniffedTheDelimiterFrom()
    {
        // More than the 1 MiB the delimiter is detected from, with semicolons, so the replayed block and the rest must join.
        var sb = new StringBuilder("a;b;label\n");
        int rows = 0;
        while (sb.Length < 2_500_000)
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"{rows % 97}.5;{rows % 13};{(rows++ % 3 == 0 ? "x" : "y")}\n");
        byte[] bytes = Encoding.UTF8.GetBytes(sb.ToString());
        var pipe = new PipeLike(new MemoryStream(bytes));
        var file = CsvDataset.ReadFile(pipe, null, "pipe");
        Assert.Equal(rows, file.Data.Rows);
        Assert.Equal(2, file.Data.Inputs);
        Assert.Equal(bytes.Length, pipe.BytesRead);
        Assert.Equal(["a", "b"], file.Schema.FeatureNames);
        Assert.Equal((rows - 1) % 97 + 0.5, file.Data.Features[(rows - 1) * 2]);
    }

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link(string existing, string link);

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MkFifo(string path, uint mode);
}
