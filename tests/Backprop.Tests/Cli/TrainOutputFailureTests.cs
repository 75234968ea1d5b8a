using Backprop.IO;
using Backprop.Tests.IO;

namespace Backprop.Tests.Cli;

/// <summary>
/// Outputs that fail (issue 14 item 7), in process where a hook makes the failure: a folder that takes no new file is
/// found before the first epoch; a --plot that fails after the model was saved says the model was saved.
/// </summary>
public sealed class TrainOutputFailureTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        AtomicFile.ProbeHookForTests.Value = null;
        AtomicFile.StreamHookForTests.Value = null;
        _dir.Dispose();
    }

    private sealed class FullDisk(Stream inner) : Stream
    {
        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("No space left on device");
        public override void Write(ReadOnlySpan<byte> buffer) => throw new IOException("No space left on device");
        public override void Flush() => inner.Flush();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => 0;
        public override long Position { get => 0; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    [Fact]
    public void AReadOnlyFolderIsFoundBeforeTheFirstEpoch()
    {
        AtomicFile.ProbeHookForTests.Value = _ => throw new IOException("Read-only file system");
        var (code, output, err) = CliTests.Run("train", "--dataset", "moons", "--hidden", "4", "--epochs", "50", "--save", _dir.File("m.json"));
        Assert.Equal(3, code);
        Assert.Equal("", output);
        Assert.Equal($"error: --save {_dir.File("m.json")}: cannot write in the folder '{_dir.Path}' (Read-only file system).", err.Trim());
    }

    [Fact]
    public void APlotThatFailsAfterTheModelWasSavedSaysTheModelWasSaved()
    {
        int writes = 0;
        AtomicFile.StreamHookForTests.Value = s => ++writes == 2 ? new FullDisk(s) : s; // the model first, then the picture
        var (code, output, err) = CliTests.Run("train", "--dataset", "moons", "--hidden", "4", "--epochs", "3",
            "--save", _dir.File("m.json"), "--plot", _dir.File("loss.png"));
        Assert.True(code == 3, err);
        Assert.Contains($"Saved the model to {_dir.File("m.json")}.", output);
        Assert.DoesNotContain("Wrote the loss curves", output);
        Assert.Equal($"error: --plot {_dir.File("loss.png")}: could not write the file (No space left on device); any previous file is unchanged. The model was saved to {_dir.File("m.json")}.", err.Trim());
        Assert.Equal(3, ModelFile.Load(_dir.File("m.json")).Training.EpochsTrained);
        Assert.False(File.Exists(_dir.File("loss.png")));
    }
}
