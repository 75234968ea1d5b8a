using System.Text.Json.Nodes;
using Backprop.Data;
using Backprop.IO;
using Backprop.Nn;
using Backprop.Tests.Explain;
using Backprop.Training;

namespace Backprop.Tests.Reliability;

/// <summary>
/// Writes that cannot succeed (full disk, missing folder, a folder where the file should be, a file system that
/// refuses files) give a clear <see cref="BackpropException"/> and leave the previous file as it was. Tests run as
/// root here, so a read-only folder is not an option; a failing stream is injected into AtomicFile instead.
/// </summary>
public sealed class WriteFailureTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly string _dir = Directory.CreateTempSubdirectory("backprop-write-").FullName;

    public void Dispose()
    {
        AtomicFile.StreamHookForTests.Value = null;
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>A stream that accepts <paramref name="capacity"/> bytes and then fails as a full disk does (ENOSPC).</summary>
    private sealed class FullDisk(Stream inner, long capacity) : Stream
    {
        private long _written;
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_written + buffer.Length > capacity)
            {
                inner.Write(buffer[..(int)(capacity - _written)]);
                _written = capacity;
                throw new IOException("No space left on device");
            }
            inner.Write(buffer);
            _written += buffer.Length;
        }
        public override void Flush() => inner.Flush();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _written;
        public override long Position { get => _written; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    private static Network<double> Net(int seed) =>
        Network<double>.Create(3, [new LayerSpec(8, Activation.Tanh), new LayerSpec(2, Activation.Softmax)], Loss.CrossEntropy, seed);

    [Fact]
    public void DiskFullInTheMiddleOfASaveLeavesTheOldModelIntactAndNoTemporaryFile()
    {
        string path = Path.Combine(_dir, "model.json");
        ModelFile.Save(Net(1), path);
        string before = File.ReadAllText(path);

        AtomicFile.StreamHookForTests.Value = s => new FullDisk(s, 300);
        var e = Assert.Throws<BackpropException>(() => ModelFile.Save(Net(2), path));
        AtomicFile.StreamHookForTests.Value = null;

        Assert.Contains("No space left on device", e.Message);
        Assert.Contains("unchanged", e.Message);
        Assert.Equal(before, File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(_dir));
        Assert.Equal(ModelFile.Serialize(Net(1)), ModelFile.Serialize(ModelFile.Load<double>(path).Network));
    }

    [Fact]
    public void DiskFullWhileCheckpointingStopsTrainingAndKeepsThePreviousCheckpoint()
    {
        string path = Path.Combine(_dir, "ck.json");
        int writes = 0;
        AtomicFile.StreamHookForTests.Value = s => ++writes >= 2 ? new FullDisk(s, 1000) : s;
        var model = Model.Classifier(2, 2).Dense(4, Activation.Tanh).Build(seed: 1);
        var options = new TrainingOptions { Epochs = 4, BatchSize = 10, Optimizer = new Sgd(0.1), Checkpoint = CheckpointFile.Every(path) };
        var e = Assert.ThrowsAny<BackpropException>(() => model.Fit(SyntheticData.TwoMoons(40, 0.1, seed: 1), options, Ct));
        AtomicFile.StreamHookForTests.Value = null;

        Assert.Contains("No space left on device", e.Message);
        var (_, saved) = ModelFile.Read<float>(path); // the checkpoint of epoch 1, whole
        Assert.Equal(1, saved!.Epoch);
        Assert.Equal([path], Directory.GetFiles(_dir));
    }

    [Fact]
    public void MissingFolderFolderTargetAndFileAsFolderAreClearErrors()
    {
        var net = Net(1);
        var e = Assert.Throws<BackpropException>(() => ModelFile.Save(net, Path.Combine(_dir, "no-such-folder", "m.json")));
        Assert.Contains("does not exist", e.Message);

        Directory.CreateDirectory(Path.Combine(_dir, "folder"));
        e = Assert.Throws<BackpropException>(() => ModelFile.Save(net, Path.Combine(_dir, "folder")));
        Assert.Contains("is a folder", e.Message);
        Assert.True(Directory.Exists(Path.Combine(_dir, "folder")));

        File.WriteAllText(Path.Combine(_dir, "plain"), "keep");
        e = Assert.Throws<BackpropException>(() => ModelFile.Save(net, Path.Combine(_dir, "plain", "m.json")));
        Assert.Contains("is a file, not a folder", e.Message);
        Assert.Equal("keep", File.ReadAllText(Path.Combine(_dir, "plain")));
    }

    [Fact]
    public void AFileSystemThatRefusesNewFilesIsAClearError()
    {
        // /proc accepts no new files, even from root: the nearest thing to a read-only target here.
        Assert.True(Directory.Exists("/proc"), "this test needs Linux's /proc");
        var e = Assert.Throws<BackpropException>(() => ModelFile.Save(Net(1), "/proc/backprop-model.json"));
        Assert.Contains("could not write the file", e.Message);
    }

    [Theory]
    [InlineData("--save")]
    [InlineData("--checkpoint")]
    public void TrainRefusesAnUnwritableTargetBeforeTraining(string option)
    {
        string existing = Path.Combine(_dir, "existing.json");
        File.WriteAllText(existing, "old");
        var (code, output, err) = CliRunner.Run("train", "--dataset", "xor", "--epochs", "2", "--hidden", "2", option, Path.Combine(_dir, "missing", "m.json"));
        Assert.Equal(2, code);
        Assert.Contains($"error: {option}", err);
        Assert.Contains("does not exist", err);
        Assert.DoesNotContain("epoch", output);

        (code, _, err) = CliRunner.Run("train", "--dataset", "xor", "--epochs", "2", "--hidden", "2", option, _dir);
        Assert.Equal(2, code);
        Assert.Contains("is a folder", err);
        Assert.Equal("old", File.ReadAllText(existing));
    }

    [Fact]
    public void ResumeFromAMissingCheckpointIsAClearError()
    {
        var (code, _, err) = CliRunner.Run("train", "--dataset", "moons", "--epochs", "2", "--hidden", "2", "--resume", Path.Combine(_dir, "none.json"));
        Assert.Equal(2, code);
        Assert.Contains("none.json", err);
    }
}
