using System.Globalization;

namespace Backprop.Tests.Cli.Process;

/// <summary>
/// `mpirun -np K backprop train` (docs/distributed.md): the model file of K = 1..4 processes is the same bytes as
/// one process's with the same --shards; a rank killed with SIGKILL ends the job within seconds with mpirun's message
/// naming it; --resume from the last checkpoint with the same or another K ends on the bytes of an uninterrupted
/// run; a rank that cannot read the data says which file and where. Oversubscribed (2 cores run up to 4 ranks).
/// These need Open MPI (.ci/run installs openmpi-bin); without mpirun they skip, which CI refuses.
/// </summary>
public sealed class MpiProcessTests
{
    private static readonly string Mpirun = new[] { "/usr/bin/mpirun", "/usr/local/bin/mpirun" }.FirstOrDefault(File.Exists) ?? "";

    /// <summary>Open MPI refuses root unless told, and a terminal type makes .NET write escape codes into the captured output.</summary>
    private static readonly Dictionary<string, string?> Env = new()
    {
        ["OMPI_ALLOW_RUN_AS_ROOT"] = "1",
        ["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1",
        ["TERM"] = "dumb",
        ["MPIRUN"] = Mpirun,
    };

    private static void RequireMpi()
    {
        if (Mpirun.Length == 0 || !File.Exists("/usr/lib/x86_64-linux-gnu/libmpi.so.40") && !File.Exists("/usr/lib/libmpi.so.40"))
            Assert.Skip("Open MPI is not installed (mpirun, libmpi.so.40); .ci/run installs openmpi-bin and libopenmpi-dev with apt-get.");
    }

    private static readonly string[] Train = ["train", "--dataset", "moons", "--hidden", "16", "--seed", "3"];

    private static string Args(IEnumerable<string> args) => string.Join(' ', args.Select(ToolProcess.Quote));

    private static ProcessResult MpiTrain(string dir, int k, params string[] args) =>
        ToolProcess.Bash(dir, $"\"$MPIRUN\" --oversubscribe -np {k} $BACKPROP {Args([.. Train, .. args])}", Env, timeoutSeconds: 180);

    private static void Ok(ProcessResult r) => Assert.True(r.Code == 0, r.ToString());

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Mpirun_KProcessesWriteTheModelFileOfOneProcessWithTheSameShards(int k)
    {
        RequireMpi();
        using var dir = new TempDir();
        Ok(ToolProcess.Run(dir.Path, [.. Train, "--epochs", "6", "--shards", "12", "--save", "alone.json"]));
        var job = MpiTrain(dir.Path, k, "--epochs", "6", "--save", "mpi.json");
        Ok(job);
        // Rank 0 alone reports: one summary, and the line says how the work was shared.
        Assert.Contains($"12 shards over {k} process(es)", job.Out);
        Assert.Single(job.Out.Split('\n'), l => l.StartsWith("Saved the model to", StringComparison.Ordinal));
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir.Path, "alone.json")), File.ReadAllBytes(Path.Combine(dir.Path, "mpi.json")));
        // Unsharded alone is another definition, so another model: the comparison above can fail.
        Ok(ToolProcess.Run(dir.Path, [.. Train, "--epochs", "6", "--save", "unsharded.json"]));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(dir.Path, "unsharded.json")), File.ReadAllBytes(Path.Combine(dir.Path, "mpi.json")));
    }

    [Fact]
    public void Mpirun_ARankKilledWithSigkillEndsTheJobInSeconds_AndResumesWithTheSameOrAnotherKToTheSameBytes()
    {
        RequireMpi();
        using var dir = new TempDir();
        const string epochs = "40";
        Ok(ToolProcess.Run(dir.Path, [.. Train, "--epochs", epochs, "--shards", "12", "--save", "alone.json"]));
        // Three ranks; as soon as the first checkpoint is there, rank 1 is killed; mpirun must end the job itself.
        string script = $$"""
            "$MPIRUN" --oversubscribe -np 3 $BACKPROP {{Args([.. Train, "--epochs", epochs, "--checkpoint", "c.json", "--save", "never.json"])}} > job.txt 2>&1 &
            mp=$!
            for i in $(seq 1200); do [ -f c.json ] && break; sleep 0.05; done
            [ -f c.json ] || { echo "no checkpoint"; kill $mp; exit 9; }
            victim=
            for p in $(pgrep -P $mp); do tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1 && victim=$p; done
            [ -n "$victim" ] || { echo "no rank 1 among $(pgrep -P $mp)"; kill $mp; exit 9; }
            start=$(date +%s%N)
            kill -9 $victim
            wait $mp
            rc=$?
            echo "rc=$rc ms=$(( ($(date +%s%N) - start) / 1000000 ))"
            cp c.json c2.json
            """;
        var kill = ToolProcess.Bash(dir.Path, script, Env, timeoutSeconds: 120);
        string job = File.ReadAllText(Path.Combine(dir.Path, "job.txt"));
        Assert.True(kill.Code == 0, kill + "\n--- job:\n" + job);
        var m = System.Text.RegularExpressions.Regex.Match(kill.Out, @"rc=(\d+) ms=(\d+)");
        Assert.True(m.Success, kill.ToString());
        Assert.NotEqual("0", m.Groups[1].Value);
        Assert.True(int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) < 15_000, $"the job took {m.Groups[2].Value} ms to end after the kill\n{job}");
        Assert.Matches(@"rank 1 with PID \d+ .*exited on signal 9 \(Killed\)", job.Replace('\n', ' '));
        Assert.False(File.Exists(Path.Combine(dir.Path, "never.json")), job);

        // Resume: with another K (2) from the checkpoint, and with the same K (3) from a copy of it.
        Ok(MpiTrain(dir.Path, 2, "--epochs", epochs, "--resume", "c.json", "--save", "resumed2.json"));
        Ok(MpiTrain(dir.Path, 3, "--epochs", epochs, "--resume", "c2.json", "--save", "resumed3.json"));
        var alone = File.ReadAllBytes(Path.Combine(dir.Path, "alone.json"));
        Assert.Equal(alone, File.ReadAllBytes(Path.Combine(dir.Path, "resumed2.json")));
        Assert.Equal(alone, File.ReadAllBytes(Path.Combine(dir.Path, "resumed3.json")));
    }

    [Fact]
    public void Mpirun_ARankThatCannotReadTheDataSaysWhichFileAndWhere_AndTheJobEnds()
    {
        RequireMpi();
        using var dir = new TempDir();
        var lines = new List<string> { "a,b,label" };
        for (int i = 0; i < 60; i++)
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{i * 0.1},{i % 7},{(i % 2 == 0 ? "x" : "y")}"));
        lines[41] = "1.5,x"; // a ragged row (a text value in a numeric column would make that column categorical)
        File.WriteAllLines(Path.Combine(dir.Path, "bad.csv"), lines);
        var r = ToolProcess.Bash(dir.Path, $"\"$MPIRUN\" --oversubscribe -np 2 $BACKPROP train --data bad.csv --epochs 2", Env, timeoutSeconds: 120);
        Assert.NotEqual(0, r.Code);
        string all = r.Out + r.Err;
        Assert.Matches(@"error: rank [01] of 2: bad\.csv.*line 42", all);
    }

    [Fact]
    public void Mpirun_StreamedParquetAndCsvTrainToTheBytesOfOneProcess_AndABadLineNamesTheRankFileAndByte()
    {
        RequireMpi();
        using var dir = new TempDir();
        string parquet = System.IO.Path.Combine(dir.Path, "t.parquet");
        Backprop.Distributed.SyntheticParquet.Write(parquet, 3000, features: 4, classes: 3, seed: 2, rowGroupRows: 512);
        string[] train = ["train", "--data", "t.parquet", "--stream", "--hidden", "8", "--epochs", "2", "--shards", "4"];
        Ok(ToolProcess.Run(dir.Path, [.. train, "--save", "alone.json"]));
        var job = ToolProcess.Bash(dir.Path, $"\"$MPIRUN\" --oversubscribe -np 2 $BACKPROP {Args([.. train, "--save", "mpi.json"])}", Env, timeoutSeconds: 180);
        Ok(job);
        Assert.Contains("3000 training rows (streamed)", job.Out);
        Assert.Equal(File.ReadAllBytes(System.IO.Path.Combine(dir.Path, "alone.json")), File.ReadAllBytes(System.IO.Path.Combine(dir.Path, "mpi.json")));

        // A CSV whose second half (rank 1's shards) holds a value that is not a number: rank 1 says where, the job ends.
        var lines = new List<string> { "a,b,label" };
        for (int i = 0; i < 400; i++)
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{i * 0.01:F2},{i % 5},{(i % 2 == 0 ? "x" : "y")}"));
        lines[351] = "3.50,five,y";
        File.WriteAllLines(System.IO.Path.Combine(dir.Path, "bad.csv"), lines);
        var bad = ToolProcess.Bash(dir.Path, $"\"$MPIRUN\" --oversubscribe -np 2 $BACKPROP train --data bad.csv --stream --epochs 1", Env, timeoutSeconds: 120);
        Assert.NotEqual(0, bad.Code);
        Assert.Matches(@"error: rank 1 of 2: bad\.csv: byte \d+ \(shard \d+, row \d+ of the shard\), column 'b': 'five' is not a finite number", bad.Out + bad.Err);
    }

    private sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("bp-mpi-").FullName;

        public void Dispose() => Directory.Delete(Path, true);
    }
}
