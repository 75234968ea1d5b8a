using System.Diagnostics;
using System.Runtime.InteropServices;
using Backprop.IO;
using Backprop.Numerics;
using Backprop.Training;

namespace Backprop.Tests.Reliability;

/// <summary>
/// The built command line as a child process, killed at seeded random moments during training (SIGKILL: no
/// chance to clean up; SIGINT: the handler checkpoints and exits 130), resumed each time until it finishes.
/// The final model must equal an uninterrupted run's bit for bit, and after every SIGKILL the last checkpoint
/// and model file must still load. A longer run with more kills is bench/killtest.sh.
/// </summary>
public sealed class KillTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly string _dir = Directory.CreateTempSubdirectory("backprop-kill-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Cli => Path.Combine(AppContext.BaseDirectory, "Backprop.Cli.dll");

    // Big enough hidden layers that a checkpoint every epoch (with Adam's moments) takes a few milliseconds,
    // so a run lasts long enough on a quiet, fast machine for the kills to land while it trains.
    private static string[] TrainArgs(string save, string checkpoint) =>
    [
        "train", "--dataset", "moons", "--hidden", "128,128", "--epochs", "80", "--batch", "4", "--seed", "5",
        "--validation-fraction", "0.2", "--schedule", "step:10:0.5", "--optimizer", "adam", "--lr", "0.005",
        "--save", save, "--checkpoint", checkpoint, "--checkpoint-every", "1",
    ];

    private sealed class Child : IDisposable
    {
        private readonly Process _p;
        private readonly SemaphoreSlim _epochSeen = new(0);
        private readonly System.Text.StringBuilder _out = new();

        public Child(IEnumerable<string> args)
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(Cli);
            foreach (var a in args)
                info.ArgumentList.Add(a);
            _p = new Process { StartInfo = info };
            _p.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null)
                    return;
                lock (_out)
                    _out.AppendLine(e.Data);
                if (e.Data.StartsWith("epoch", StringComparison.Ordinal))
                    _epochSeen.Release();
            };
            _p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_out) _out.AppendLine(e.Data); };
            _p.Start();
            _p.BeginOutputReadLine();
            _p.BeginErrorReadLine();
        }

        public int Pid => _p.Id;
        public bool HasExited => _p.HasExited;
        public string Output { get { lock (_out) return _out.ToString(); } }

        /// <summary>Waits until the child has printed its first epoch line (true) or exited (false).</summary>
        public bool WaitForTraining()
        {
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromSeconds(120))
            {
                if (_epochSeen.Wait(20, Ct))
                    return !_p.HasExited;
                if (_p.HasExited)
                    return false;
            }
            throw new TimeoutException("the child printed no epoch in 120 s:\n" + Output);
        }

        public int WaitForExit()
        {
            if (!_p.WaitForExit(120_000))
            {
                _p.Kill();
                throw new TimeoutException("the child did not exit in 120 s:\n" + Output);
            }
            _p.WaitForExit(); // flush the output events
            return _p.ExitCode;
        }

        public void KillHard() => _p.Kill();

        public void Dispose()
        {
            if (!_p.HasExited)
                _p.Kill();
            _p.Dispose();
        }
    }

    private static readonly Lazy<string> Reference = new(() =>
    {
        string dir = Directory.CreateTempSubdirectory("backprop-kill-ref-").FullName;
        string save = Path.Combine(dir, "model.json");
        using var child = new Child(TrainArgs(save, Path.Combine(dir, "ck.json")));
        int code = child.WaitForExit();
        Assert.True(code == 0, child.Output);
        string text = File.ReadAllText(save);
        Directory.Delete(dir, recursive: true);
        return text;
    });

    private static int[] Bits(Model<float> m) =>
        m.Network.Layers.SelectMany(l => l.Weights.ToArray().Concat(l.Biases.ToArray())).Select(BitConverter.SingleToInt32Bits).ToArray();

    [Fact]
    public void SigkillAtRandomMomentsThenResumeEndsBitIdentical() => KillAndResume(sigint: false, plannedKills: 4, seed: 20261127);

    [Fact]
    public void SigintAtRandomMomentsCheckpointsExitsWith130AndResumesBitIdentical()
    {
        AllowSigintInChildren();
        KillAndResume(sigint: true, plannedKills: 3, seed: 424242);
    }

    private void KillAndResume(bool sigint, int plannedKills, long seed)
    {
        string save = Path.Combine(_dir, "model.json"), checkpoint = Path.Combine(_dir, "ck.json");
        var rng = new SplitMix64(seed);
        int landed = 0, sent = 0, runs = 0;
        while (true)
        {
            Assert.True(++runs <= plannedKills + 8, $"no finished run after {runs - 1} starts");
            var args = TrainArgs(save, checkpoint).ToList();
            if (File.Exists(checkpoint))
                args.AddRange(["--resume", checkpoint]);
            using var child = new Child(args);
            bool kill = sent < plannedKills && child.WaitForTraining();
            if (kill)
            {
                Thread.Sleep(rng.NextInt(150));
                if (!child.HasExited)
                {
                    if (sigint)
                        Assert.Equal(0, SendSignal(child.Pid, 2));
                    else
                        child.KillHard();
                    sent++;
                }
            }
            int code = child.WaitForExit();
            if (code == 0)
                break; // finished (a signal that arrived after the last epoch lets it finish: it has nothing left to lose)
            landed++;
            if (sigint)
            {
                Assert.True(code == Backprop.Cli.Commands.TrainCommand.InterruptedExitCode, $"exit code {code}:\n{child.Output}");
                Assert.Contains($"Checkpoint written to {checkpoint}", child.Output);
            }
            // Whatever moment the kill hit, what is on disk is a complete file that loads.
            if (File.Exists(checkpoint))
                ModelFile.Load(checkpoint);
            if (File.Exists(save))
                ModelFile.Load(save);
        }
        // Most signals land during training; on a very fast machine the last may arrive after it.
        Assert.True(landed >= plannedKills - 1, $"only {landed} of {sent} signals interrupted the training");

        string reference = Reference.Value;
        var expected = Backprop.IO.ModelFile.Deserialize<float>(reference, "reference");
        var actual = ModelFile.Load(save);
        Assert.Equal(Bits(expected), Bits(actual));
        Assert.Equal(reference, File.ReadAllText(save));
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    [DllImport("libc", EntryPoint = "sigaction", SetLastError = true)]
    private static extern int SigAction(int signal, byte[]? action, byte[]? old);

    /// <summary>
    /// A signal ignored by a process stays ignored in the children it starts (and .NET honours that, like nohup).
    /// When this test host was started with SIGINT ignored (a background job of a script), set it back to the
    /// default so the child CLI can receive it. Nothing changes when the runtime already handles SIGINT.
    /// </summary>
    private static void AllowSigintInChildren()
    {
        Assert.True(OperatingSystem.IsLinux(), "the SIGINT kill test uses Linux's sigaction layout");
        var old = new byte[256];
        Assert.Equal(0, SigAction(2, null, old));
        if (BitConverter.ToInt64(old, 0) == 1) // SIG_IGN
            Assert.Equal(0, SigAction(2, new byte[256], null)); // SIG_DFL, no flags
    }
}
