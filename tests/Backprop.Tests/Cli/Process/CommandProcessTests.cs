using System.Diagnostics;
using System.Net.Http;
using System.Text.Json;
using Backprop.IO;

namespace Backprop.Tests.Cli.Process;

/// <summary>
/// Every command of the built tool as a child process, with its exit code, its output and its files checked; between
/// them every option of every command's help is used (<see cref="OptionCoverageTests"/> holds the map).
/// </summary>
[Collection(CliProcessCollection.Name)]
public sealed partial class CommandProcessTests(CliProcessFixture fx)
{
    private static JsonElement LastJson(string output) => JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;

    private static void Ok(ProcessResult r) => Assert.True(r.Code == 0, r.ToString());

    [Fact]
    public void Demo_RunsAtTheRootAndAsACommand_WithStepsAndLr()
    {
        var root = ToolProcess.Run(fx.Dir, "--steps", "50", "--lr", "0.3");
        Ok(root);
        Assert.Contains("learning rate eta = 0.3", root.Out);
        Assert.Contains("after     50 updates", root.Out);
        Assert.Contains("Final outputs against the targets", root.Out);
        Assert.Equal("", root.Err);
        var demo = ToolProcess.Run(fx.Dir, "demo", "--steps", "50", "--lr", "0.3");
        Ok(demo);
        Assert.Equal(root.Out, demo.Out);
        var bad = ToolProcess.Run(fx.Dir, "demo", "--steps", "many");
        Assert.Equal(2, bad.Code);
        Assert.Single(bad.ErrorLines);
        Assert.Contains("--steps", bad.Err);
    }

    [Fact]
    public void Help_ListsTheCommandsAndTheExitCodes_VersionPrintsIt()
    {
        var help = ToolProcess.Run(fx.Dir, "--help");
        Ok(help);
        foreach (string command in new[] { "demo", "explain", "export", "train", "evaluate", "predict", "plot", "info", "gradcheck", "playground" })
            Assert.Contains(command, help.Out);
        Assert.Contains("Exit codes: 0 success; 1 training diverged", help.Out);
        Assert.Contains("143 stopped by SIGTERM", help.Out);
        var version = ToolProcess.Run(fx.Dir, "--version");
        Ok(version);
        Assert.Matches(@"^\d+\.\d+\.\d+", version.Out.Trim());
    }

    [Fact]
    public void Verbose_AddsTheStackTraceToAnInternalError_WhichExitsWith4()
    {
        var env = new Dictionary<string, string?> { ["BACKPROP_TEST_FAULT"] = "internal" };
        var plain = ToolProcess.Run(fx.Dir, ["info", "--model", "cls.json"], env);
        Assert.True(plain.Code == 4, plain.ToString());
        Assert.Single(plain.ErrorLines);
        Assert.StartsWith("internal error: InvalidOperationException", plain.Err);
        Assert.Contains("--verbose", plain.Err);
        var verbose = ToolProcess.Run(fx.Dir, ["info", "--model", "cls.json", "--verbose"], env);
        Assert.Equal(4, verbose.Code);
        Assert.Contains("   at ", verbose.Err);
    }

    [Fact]
    public void OutOfMemory_IsOneErrorLineAndExitCode5()
    {
        var r = ToolProcess.Run(fx.Dir, ["evaluate", "--model", "cls.json", "--data", "two.csv"], new Dictionary<string, string?> { ["BACKPROP_TEST_FAULT"] = "oom" });
        Assert.True(r.Code == 5, r.ToString());
        Assert.Equal(["error: out of memory: the data or the network is too large for this machine's memory (see docs/cli.md, \"Memory\")."], r.ErrorLines);
    }

    [Fact]
    public void Explain_TheSeedWithEveryOption_WritesTheFileAndThePicture()
    {
        using var dir = fx.Scratch();
        var r = ToolProcess.Run(dir.Dir, "explain", "--input", "0.05,0.10", "--target", "0.01,0.99", "--lr", "0.5", "--update-order", "sequential",
            "--steps", "2", "--format", "markdown", "--lang", "zh", "--out", "t.md", "--svg", "n.svg", "--svg-after");
        Ok(r);
        Assert.Equal("Wrote t.md.\n", r.Out);
        string md = File.ReadAllText(dir.Path("t.md"));
        Assert.Contains("#", md);
        Assert.Contains("0.05", md);
        Assert.Contains("after 2 update(s)", File.ReadAllText(dir.Path("n.svg")));
        Assert.Contains("<svg", File.ReadAllText(dir.Path("n.svg")));
    }

    [Fact]
    public void Explain_AModelFileAsJson()
    {
        var r = ToolProcess.Run(fx.Dir, "explain", "--model", "cls.json", "--format", "json");
        Ok(r);
        using var doc = JsonDocument.Parse(r.Out);
        Assert.True(doc.RootElement.GetProperty("layers").GetArrayLength() == 2);
    }

    [Fact]
    public void Export_WritesAnOnnxFileNamedInTheMessage()
    {
        using var dir = fx.Scratch();
        var r = ToolProcess.Run(dir.Dir, "export", "--model", "cls.json", "--onnx", "m.onnx");
        Ok(r);
        Assert.StartsWith("Wrote m.onnx: ONNX IR", r.Out);
        Assert.Contains("preprocessing 'standardize' included", r.Out);
        Assert.Equal(0x08, dir.Bytes("m.onnx")[0]); // field 1 (ir_version), varint
    }

    [Fact]
    public void Train_ACsvWithEveryDataOption()
    {
        // semi.txt: id;x1;x2;label, no header, semicolons.
        var r = ToolProcess.Run(fx.Dir, "train", "--data", "semi.txt", "--delimiter", "semicolon", "--header", "no", "--label-column", "3",
            "--drop-columns", "0", "--task", "classification", "--test-fraction", "0.25", "--hidden", "4", "--epochs", "3", "--json");
        Ok(r);
        var summary = LastJson(r.Out);
        Assert.Equal(60, summary.GetProperty("training_rows").GetInt32());
        Assert.Equal(20, summary.GetProperty("test_rows").GetInt32());
        Assert.True(summary.GetProperty("training_accuracy").GetDouble() > 0.5);
        Assert.Equal(4, r.Out.Trim().Split('\n').Length); // 3 epoch lines, the summary
        var bad = ToolProcess.Run(fx.Dir, "train", "--data", "semi.txt", "--header", "maybe");
        Assert.Equal(2, bad.Code);
        Assert.Equal(["error: --header: expected auto, yes or no, got 'maybe'. Run 'backprop train --help' for usage."], bad.ErrorLines);
    }

    [Fact]
    public void Train_ARegressionWithLossAndPreprocessing()
    {
        var r = ToolProcess.Run(fx.Dir, "train", "--data", "reg.csv", "--task", "regression", "--loss", "mse", "--preprocess", "min-max",
            "--hidden", "8", "--activation", "tanh", "--epochs", "30", "--lr", "0.01", "--json");
        Ok(r);
        var summary = LastJson(r.Out);
        Assert.False(summary.TryGetProperty("training_accuracy", out _));
        Assert.True(summary.TryGetProperty("test_rmse", out _));
        Assert.True(summary.GetProperty("test_r2").GetDouble() > 0, r.Out);
        var epoch = JsonDocument.Parse(r.Out.Split('\n')[0]).RootElement;
        Assert.Equal(1, epoch.GetProperty("epoch").GetInt32());
        Assert.True(epoch.TryGetProperty("training_loss", out _));
        Assert.False(epoch.TryGetProperty("train_loss", out _));
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("rmsprop")]
    [InlineData("adamw")]
    public void Train_WithEachOptimizerAndTheRegularisers(string optimizer)
    {
        var r = ToolProcess.Run(fx.Dir, "train", "--data", "two.csv", "--optimizer", optimizer, "--lr", "0.05", "--schedule", "step:2:0.5",
            "--l2", "0.001", "--clip-norm", "1.0", "--batch", "8", "--seed", "3", "--hidden", "4,4", "--epochs", "4", "--json");
        Ok(r);
        var lines = r.Out.Trim().Split('\n');
        Assert.Equal(5, lines.Length);
        // step:2:0.5 halves the rate every 2 epochs.
        double[] lr = [.. lines.Take(4).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("learning_rate").GetDouble())];
        Assert.Equal([0.05, 0.05, 0.025, 0.025], lr);
        Assert.True(LastJson(r.Out).GetProperty("training_accuracy").GetDouble() > 0.8, r.Out);
    }

    [Fact]
    public void Train_WithDropout_RecordsTheRatesInTheModelAndRefusesARateOutOfRange()
    {
        using var dir = fx.Scratch();
        var r = ToolProcess.Run(dir.Dir, "train", "--data", "two.csv", "--dropout", "0.3", "--input-dropout", "0.1", "--hidden", "16",
            "--epochs", "20", "--batch", "8", "--seed", "2", "--save", "m.json", "--json");
        Ok(r);
        Assert.True(LastJson(r.Out).GetProperty("training_accuracy").GetDouble() > 0.8, r.Out);
        string model = File.ReadAllText(dir.Path("m.json"));
        Assert.Contains("\"dropout\": 0.3", model);
        Assert.Contains("\"input_dropout\": 0.1", model);
        var without = ToolProcess.Run(dir.Dir, "train", "--data", "two.csv", "--hidden", "16", "--epochs", "20", "--batch", "8", "--seed", "2", "--json");
        Ok(without);
        Assert.NotEqual(LastJson(r.Out).GetProperty("training_loss").GetDouble(), LastJson(without.Out).GetProperty("training_loss").GetDouble());
        foreach (var (option, value) in new[] { ("--dropout", "1"), ("--input-dropout", "-0.2") })
        {
            var bad = ToolProcess.Run(dir.Dir, "train", "--data", "two.csv", option, value);
            Assert.Equal(2, bad.Code);
            Assert.Single(bad.ErrorLines);
            Assert.Contains($"error: {option} must be a number in [0, 1)", bad.Err);
        }
    }

    [Fact]
    public void Cv_ACsvWithEveryDataAndTrainingOption_WritesItsFolds()
    {
        using var dir = fx.Scratch();
        var r = ToolProcess.Run(dir.Dir, "cv", "--data", "semi.txt", "--delimiter", "semicolon", "--header", "no", "--label-column", "3",
            "--drop-columns", "0", "--task", "classification", "--folds", "4", "--folds-out", "folds.csv", "--preprocess", "min-max",
            "--hidden", "6", "--activation", "tanh", "--loss", "cross-entropy", "--optimizer", "momentum", "--lr", "0.05", "--schedule", "cosine:30",
            "--epochs", "30", "--batch", "8", "--seed", "4", "--validation-fraction", "0.25", "--patience", "5", "--l2", "0.001", "--clip-norm", "5",
            "--dropout", "0.1", "--input-dropout", "0.05", "--json");
        Ok(r);
        var lines = r.Out.Trim().Split('\n');
        Assert.Equal(5, lines.Length);
        Assert.All(lines.Take(4), l => Assert.Equal(20, JsonDocument.Parse(l).RootElement.GetProperty("test_rows").GetInt32()));
        var summary = LastJson(r.Out);
        Assert.Equal(4, summary.GetProperty("folds").GetInt32());
        Assert.True(summary.GetProperty("mean").GetProperty("accuracy").GetDouble() > 0.8, r.Out);
        Assert.Equal(81, File.ReadAllLines(dir.Path("folds.csv")).Length);
        var bad = ToolProcess.Run(dir.Dir, "cv", "--data", "semi.txt", "--delimiter", "semicolon", "--folds", "0");
        Assert.Equal(2, bad.Code);
        Assert.Single(bad.ErrorLines);
        Assert.Contains("--folds", bad.Err);
    }

    [Fact]
    public void Cv_IdxFilesWithTheirLabels_AsText()
    {
        var r = ToolProcess.Run(fx.Dir, "cv", "--data", "img-idx3-ubyte", "--labels", "lbl-idx1-ubyte", "--folds", "2", "--hidden", "4", "--epochs", "3");
        Ok(r);
        Assert.Contains("2-fold cross-validation of img-idx3-ubyte: 40 rows", r.Out);
        Assert.Matches(@"(?m)^mean\s", r.Out);
    }

    [Fact]
    public void Evaluate_SplitTestIsTheHeldOutRowsOfTheTrainingFile()
    {
        using var dir = fx.Scratch();
        Ok(ToolProcess.Run(dir.Dir, "train", "--data", "semi.txt", "--delimiter", "semicolon", "--header", "no", "--label-column", "3",
            "--drop-columns", "0", "--hidden", "4", "--epochs", "3", "--save", "m.json", "--quiet"));
        var r = ToolProcess.Run(dir.Dir, "evaluate", "--model", "m.json", "--data", "semi.txt", "--delimiter", "semicolon", "--header", "no",
            "--label-column", "3", "--drop-columns", "0", "--split", "test", "--json");
        Ok(r);
        Assert.Equal(16, JsonDocument.Parse(r.Out).RootElement.GetProperty("rows").GetInt32()); // 20% of 80
        var bad = ToolProcess.Run(dir.Dir, "evaluate", "--model", "m.json", "--data", "two.csv", "--split", "test");
        Assert.Equal(2, bad.Code);
        Assert.Single(bad.ErrorLines);
    }

    [Fact]
    public void Tune_ACsvWithEveryOption_ScoresByCvMeasuresTheTestFileAndSavesTheBest()
    {
        using var dir = fx.Scratch();
        var r = ToolProcess.Run(dir.Dir, "tune", "--data", "semi.txt", "--delimiter", "semicolon", "--header", "no", "--label-column", "3",
            "--drop-columns", "0", "--task", "classification", "--test", "semi.txt", "--trials", "2", "--time", "10m", "--seed", "2", "--folds", "2",
            "--preprocess", "min-max", "--save", "best.json", "--json");
        Ok(r);
        var summary = LastJson(r.Out);
        Assert.Equal("cv 2", summary.GetProperty("scored_by").GetString());
        Assert.Equal(80, summary.GetProperty("test_rows").GetInt32());
        Assert.True(ModelFile.Load(dir.Path("best.json")).ExtraSections.ContainsKey("tune"));
        var split = ToolProcess.Run(dir.Dir, "tune", "--data", "semi.txt", "--delimiter", "semicolon", "--trials", "1", "--validation-fraction", "0.3");
        Ok(split);
        Assert.Contains("scored by a 30% validation split", split.Out);
        Assert.Contains("Leaderboard", split.Out);
    }

    [Fact]
    public void Tune_IdxFilesWithTheirLabels_AndSigtermKeepsAWholeBestModel()
    {
        using var dir = fx.Scratch();
        var r = ToolProcess.Run(dir.Dir, "tune", "--data", "img-idx3-ubyte", "--labels", "lbl-idx1-ubyte", "--test", "img-idx3-ubyte",
            "--test-labels", "lbl-idx1-ubyte", "--trials", "1");
        Ok(r);
        Assert.Contains("Test (img-idx3-ubyte)", r.Out);
        // A long search, stopped by SIGTERM once it has saved a best model: exit 143, the file whole and loadable.
        var killed = ToolProcess.Bash(dir.Dir,
            "$BACKPROP tune --data two.csv --time 10m --save best.json > out.txt 2>&1 & pid=$!; "
            + "for i in $(seq 1 600); do [ -s best.json ] && break; sleep 0.05; done; sleep 0.3; kill -TERM $pid; wait $pid; echo $?");
        Assert.True(killed.Code == 0, killed.ToString());
        Assert.Equal("143", killed.Out.Trim());
        Assert.True(ModelFile.Load(dir.Path("best.json")).ExtraSections.ContainsKey("tune"));
        Assert.Contains("kept the best so far", File.ReadAllText(dir.Path("out.txt")));
        Assert.Empty(Directory.GetFiles(dir.Dir, ".backprop-*"));
    }

    [Fact]
    public void Importance_ACsvWithEveryOption_TheTableTheJsonAndTheChart()
    {
        using var dir = fx.Scratch();
        string[] csv = ["--delimiter", "semicolon", "--header", "no", "--label-column", "3", "--drop-columns", "0", "--task", "classification"];
        Ok(ToolProcess.Run(dir.Dir, ["train", "--data", "semi.txt", .. csv, "--hidden", "4", "--epochs", "5", "--save", "m.json", "--quiet"]));
        var r = ToolProcess.Run(dir.Dir, ["importance", "--model", "m.json", "--data", "semi.txt", .. csv, "--split", "test", "--repeats", "2",
            "--seed", "3", "--plot", "imp.png", "--json"]);
        Ok(r);
        var report = JsonDocument.Parse(r.Out).RootElement;
        Assert.Equal(16, report.GetProperty("rows").GetInt32());
        Assert.Equal(2, report.GetProperty("columns").GetArrayLength());
        Assert.Equal("imp.png", report.GetProperty("plot").GetString());
        Assert.Equal(0x89, dir.Bytes("imp.png")[0]);
        var bad = ToolProcess.Run(dir.Dir, "importance", "--model", "m.json", "--data", "semi.txt", "--repeats", "many");
        Assert.Equal(2, bad.Code);
        Assert.Single(bad.ErrorLines);
    }

    [Fact]
    public void Importance_AnIdxModelWithItsLabels()
    {
        var r = ToolProcess.Run(fx.Dir, "importance", "--model", "idx.json", "--data", "img-idx3-ubyte", "--labels", "lbl-idx1-ubyte", "--repeats", "2");
        Ok(r);
        Assert.Contains("Permutation importance of idx.json on 40 rows", r.Out);
    }

    [Fact]
    public void Train_EarlyStoppingReallyStops()
    {
        var r = ToolProcess.Run(fx.Dir, "train", "--dataset", "moons", "--validation-fraction", "0.3", "--patience", "2", "--epochs", "300",
            "--lr", "0.05", "--hidden", "64");
        Ok(r);
        Assert.Matches(@"Stopped early at epoch \d+; kept the weights of epoch \d+\.", r.Out);
        int epochs = r.Out.Split('\n').Count(l => l.StartsWith("epoch", StringComparison.Ordinal));
        Assert.InRange(epochs, 3, 299);
    }

    [Fact]
    public void Train_IdxFilesWithATestFileAndItsLabels()
    {
        var r = ToolProcess.Run(fx.Dir, "train", "--data", "img-idx3-ubyte", "--labels", "lbl-idx1-ubyte", "--test", "img-idx3-ubyte",
            "--test-labels", "lbl-idx1-ubyte", "--hidden", "4", "--epochs", "3", "--json");
        Ok(r);
        var summary = LastJson(r.Out);
        Assert.Equal(40, summary.GetProperty("training_rows").GetInt32());
        Assert.Equal(40, summary.GetProperty("test_rows").GetInt32());
    }

    [Fact]
    public void Train_CheckpointsEveryNEpochsAndResumesToMoreEpochs_QuietPrintsOnlyTheSummary()
    {
        using var dir = fx.Scratch();
        var first = ToolProcess.Run(dir.Dir, "train", "--data", "two.csv", "--hidden", "4", "--epochs", "4", "--checkpoint", "ck.json",
            "--checkpoint-every", "2", "--quiet");
        Ok(first);
        Assert.DoesNotContain("epoch", first.Out);
        Assert.StartsWith("Done in", first.Out);
        Assert.NotNull(ModelFile.Read<double>(dir.Path("ck.json")).Checkpoint);
        Assert.Equal(4, ModelFile.Load(dir.Path("ck.json")).Training.EpochsTrained);
        var resumed = ToolProcess.Run(dir.Dir, "train", "--data", "two.csv", "--hidden", "4", "--epochs", "6", "--checkpoint", "ck.json",
            "--resume", "ck.json", "--json", "--save", "m.json");
        Ok(resumed);
        var summary = LastJson(resumed.Out);
        Assert.Equal(6, summary.GetProperty("epochs").GetInt32());
        Assert.Equal("ck.json", summary.GetProperty("checkpoint").GetString());
        Assert.Equal(2, resumed.Out.Trim().Split('\n').Length - 1); // epochs 5 and 6 only
        Assert.Equal(6, ModelFile.Load(dir.Path("m.json")).Training.EpochsTrained);
    }

    [Fact]
    public void Train_PlotWritesThePng()
    {
        using var dir = fx.Scratch();
        var r = ToolProcess.Run(dir.Dir, "train", "--dataset", "moons", "--hidden", "4", "--epochs", "3", "--plot", "loss.png");
        Ok(r);
        Assert.Contains("Wrote the loss curves to loss.png.", r.Out);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, dir.Bytes("loss.png")[..4]);
    }

    [Fact]
    public void Train_SigtermFinishesTheBatchWritesTheCheckpointAndExits143()
    {
        using var dir = fx.Scratch();
        var (program, prefix) = ToolProcess.Command();
        var info = ToolProcess.Info(program, [.. prefix, "train", "--dataset", "spirals", "--hidden", "64,64", "--epochs", "100000", "--batch", "4",
            "--save", "m.json"], dir.Dir, null);
        using var p = System.Diagnostics.Process.Start(info)!;
        var output = new System.Text.StringBuilder();
        var epoch = new ManualResetEventSlim();
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (output)
                output.AppendLine(e.Data);
            if (e.Data.StartsWith("epoch", StringComparison.Ordinal))
                epoch.Set();
        };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        try
        {
            Assert.True(epoch.Wait(TimeSpan.FromSeconds(120), TestContext.Current.CancellationToken), output.ToString());
            ToolProcess.Signal(p.Id, 15);
            Assert.True(p.WaitForExit(60_000), output.ToString());
            p.WaitForExit();
        }
        finally
        {
            if (!p.HasExited)
                p.Kill();
        }
        string text;
        lock (output)
            text = output.ToString();
        Assert.True(p.ExitCode == 143, $"exit code {p.ExitCode}\n{text}");
        Assert.Contains("Interrupted by SIGTERM", text);
        Assert.Contains("Checkpoint written to m.checkpoint.json", text);
        Assert.True(ModelFile.Read<double>(dir.Path("m.checkpoint.json")).Checkpoint is not null);
        Assert.True(ModelFile.Load(dir.Path("m.json")).Training.EpochsTrained >= 1);
    }

    [Fact]
    public void Train_Xor_WithDefaultOptionsTrainsOnEveryRowAndSaysWhy()
    {
        var r = ToolProcess.Run(fx.Dir, "train", "--dataset", "xor");
        Ok(r);
        Assert.Contains("4 training rows, 0 test rows, 200 epochs", r.Out);
        Assert.Contains("Note: dataset xor has only 4 rows, fewer than 50: no test set is held out by default", r.Out);
        Assert.DoesNotContain("validation", r.Out + r.Err);
        Assert.Contains("Training: loss", r.Out);
        Assert.DoesNotContain("Test:", r.Out);
        var json = ToolProcess.Run(fx.Dir, "train", "--dataset", "xor", "--json");
        Ok(json);
        Assert.Contains("no test set is held out by default", LastJson(json.Out).GetProperty("notes")[0].GetString());
    }

    [Fact]
    public void Train_ThatDivergesPrintsItsReportSavesTheModelAndWritesNullForNonFiniteNumbers()
    {
        using var dir = fx.Scratch();
        var r = ToolProcess.Run(dir.Dir, "train", "--dataset", "moons", "--hidden", "16", "--optimizer", "sgd", "--lr", "1e10", "--epochs", "5", "--save", "d.json");
        Assert.True(r.Code == 1, r.ToString());
        Assert.Contains("Training stopped at epoch 1", r.Err);
        Assert.DoesNotContain("Training stopped: Training stopped", r.Err); // said once, not twice
        Assert.DoesNotContain("internal error", r.Err);
        Assert.Contains("Saved the model to d.json (its last finite weights).", r.Out);
        var saved = ModelFile.Load(dir.Path("d.json"));
        Assert.All(saved.Network.Layers, l => Assert.All(l.Weights.ToArray(), w => Assert.True(float.IsFinite(w))));

        var json = ToolProcess.Run(dir.Dir, "train", "--dataset", "moons", "--hidden", "16", "--optimizer", "sgd", "--lr", "1e10", "--epochs", "5", "--json");
        Assert.Equal(1, json.Code);
        var summary = LastJson(json.Out);
        Assert.Equal(JsonValueKind.Null, summary.GetProperty("training_loss").ValueKind);
        Assert.StartsWith("Training stopped at epoch 1", summary.GetProperty("diverged").GetString());
    }

    [Fact]
    public void Train_WithATestRowOf1e300_SavesTheModelAndPrintsItsSummary()
    {
        // Issue 14 item 5's second case: a test feature of 1e300 made the test loss infinite, and the model file and the
        // --json summary failed with "internal error: ArgumentException ... cannot be written as valid JSON" (exit 1).
        using var dir = fx.Scratch();
        var lines = File.ReadAllLines(Path.Combine(fx.Dir, "two.csv"));
        lines[5] = "1e300," + lines[5].Split(',', 2)[1];
        File.WriteAllLines(dir.Path("test.csv"), lines);
        var r = ToolProcess.Run(dir.Dir, "train", "--data", "two.csv", "--test", "test.csv", "--hidden", "4", "--epochs", "3", "--save", "m.json", "--json");
        Ok(r);
        Assert.DoesNotContain("internal error", r.Err);
        var summary = LastJson(r.Out);
        Assert.Equal(80, summary.GetProperty("test_rows").GetInt32());
        Assert.Equal("m.json", summary.GetProperty("saved").GetString());
        Assert.Equal(3, ModelFile.Load(dir.Path("m.json")).Training.EpochsTrained);
    }

    [Fact]
    public void Evaluate_TheTextReportOfAClassifier()
    {
        var r = ToolProcess.Run(fx.Dir, "evaluate", "--model", "cls.json", "--data", "two.csv");
        Ok(r);
        Assert.Matches(@"^loss [0-9.]+, accuracy [0-9.]+% \(\d+/80\)\n", r.Out);
        Assert.Contains("class  precision  recall     f1  support", r.Out);
        Assert.Contains("confusion matrix (rows: actual, columns: predicted)", r.Out);
    }

    [Fact]
    public void Evaluate_ARegressorAndAnIdxModelAsJson()
    {
        var reg = ToolProcess.Run(fx.Dir, "evaluate", "--model", "reg.json", "--data", "reg.csv", "--json");
        Ok(reg);
        var doc = JsonDocument.Parse(reg.Out).RootElement;
        Assert.Equal(60, doc.GetProperty("rows").GetInt32());
        Assert.True(doc.GetProperty("rmse").GetDouble() >= 0);
        Assert.True(doc.TryGetProperty("mae", out _) && doc.TryGetProperty("r2", out _));
        Assert.False(doc.TryGetProperty("accuracy", out _));
        var idx = ToolProcess.Run(fx.Dir, "evaluate", "--model", "idx.json", "--data", "img-idx3-ubyte", "--labels", "lbl-idx1-ubyte", "--json");
        Ok(idx);
        var e = JsonDocument.Parse(idx.Out).RootElement;
        Assert.Equal(40, e.GetProperty("rows").GetInt32());
        Assert.Equal(["0", "1"], e.GetProperty("classes").EnumerateArray().Select(c => c.GetString()));
    }

    [Fact]
    public void Predict_AClassifierARegressorAndAnIdxModel()
    {
        using var dir = fx.Scratch();
        var cls = ToolProcess.Run(dir.Dir, "predict", "--model", "cls.json", "--data", "two.csv", "--output", "p.csv");
        Ok(cls);
        Assert.Equal("Wrote 80 predictions to p.csv.\n", cls.Err);
        var lines = File.ReadAllLines(dir.Path("p.csv"));
        Assert.Equal("predicted,p_a,p_b", lines[0]);
        Assert.Equal(81, lines.Length);
        var reg = ToolProcess.Run(dir.Dir, "predict", "--model", "reg.json", "--data", "reg.csv");
        Ok(reg);
        Assert.Equal("predicted", reg.Out.Split('\n')[0]);
        Assert.Equal(61, reg.Out.Trim().Split('\n').Length);
        var idx = ToolProcess.Run(dir.Dir, "predict", "--model", "idx.json", "--data", "img-idx3-ubyte", "--labels", "lbl-idx1-ubyte");
        Ok(idx);
        Assert.Equal("predicted,p_0,p_1", idx.Out.Split('\n')[0]);
        Assert.Equal(41, idx.Out.Trim().Split('\n').Length);
    }

    [Fact]
    public void Plot_TheBoundaryOnADataFileAndOnABuiltInDataset()
    {
        using var dir = fx.Scratch();
        var r = ToolProcess.Run(dir.Dir, "plot", "boundary", "--model", "cls.json", "--data", "two.csv", "--out", "b.png", "--resolution", "20");
        Ok(r);
        Assert.Equal("Wrote b.png.\n", r.Out);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, dir.Bytes("b.png")[..4]);
        var moons = ToolProcess.Run(dir.Dir, "plot", "boundary", "--model", "cls.json", "--dataset", "moons", "--seed", "2", "--out", "m.png", "--resolution", "10");
        Ok(moons);
        Assert.True(dir.Bytes("m.png").Length > 100);
        Assert.NotEqual(dir.Bytes("b.png"), dir.Bytes("m.png"));
    }

    [Fact]
    public void Plot_TheBoundaryOfAnIdxModelWithItsLabels()
    {
        using var dir = fx.Scratch();
        var r = ToolProcess.Run(dir.Dir, "plot", "boundary", "--model", "idx.json", "--data", "img-idx3-ubyte", "--labels", "lbl-idx1-ubyte", "--out", "i.png", "--resolution", "10");
        Ok(r);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, dir.Bytes("i.png")[..4]);
        var unlabelled = ToolProcess.Run(dir.Dir, "plot", "boundary", "--model", "idx.json", "--data", "img-idx3-ubyte", "--out", "j.png");
        Assert.Equal(2, unlabelled.Code);
        Assert.False(File.Exists(dir.Path("j.png")));
    }

    [Fact]
    public void EvaluatePredictAndPlot_AVersion1ModelWithEveryDataOption()
    {
        // A model file of format version 1 does not record its columns: the data options say where they are.
        using var dir = fx.Scratch();
        string[] wdbc = ["--label-column", "1", "--drop-columns", "0", "--header", "no", "--delimiter", "comma", "--task", "classification"];
        var eval = ToolProcess.Run(dir.Dir, ["evaluate", "--model", CliProcessFixture.V1("wdbc.json"), "--data", "wdbc10.csv", .. wdbc, "--json"]);
        Ok(eval);
        var doc = JsonDocument.Parse(eval.Out).RootElement;
        Assert.Equal(10, doc.GetProperty("rows").GetInt32());
        Assert.Equal(["B", "M"], doc.GetProperty("classes").EnumerateArray().Select(c => c.GetString()));
        var withoutOptions = ToolProcess.Run(dir.Dir, "evaluate", "--model", CliProcessFixture.V1("wdbc.json"), "--data", "wdbc10.csv");
        Assert.Equal(2, withoutOptions.Code);
        var predict = ToolProcess.Run(dir.Dir, ["predict", "--model", CliProcessFixture.V1("wdbc.json"), "--data", "wdbc10.csv", .. wdbc]);
        Ok(predict);
        Assert.Equal("predicted,p_B,p_M", predict.Out.Split('\n')[0]);
        Assert.Equal(11, predict.Out.Trim().Split('\n').Length);
        // points.txt: label;x1;junk;x2 with a header.
        var plot = ToolProcess.Run(dir.Dir, "plot", "boundary", "--model", CliProcessFixture.V1("moons-bce.json"), "--data", "points.txt",
            "--label-column", "first", "--drop-columns", "2", "--header", "yes", "--delimiter", "semicolon", "--task", "classification",
            "--out", "p.png", "--resolution", "10");
        Ok(plot);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, dir.Bytes("p.png")[..4]);
    }

    [Fact]
    public void Info_AsTextAndAsJson()
    {
        var text = ToolProcess.Run(fx.Dir, "info", "--model", "cls.json");
        Ok(text);
        Assert.Contains("cls.json: backprop-model version", text.Out);
        Assert.Contains("inputs 2, outputs 2, loss cross-entropy, 42 parameters", text.Out);
        var json = ToolProcess.Run(fx.Dir, "info", "--model", "cls.json", "--json");
        Ok(json);
        var doc = JsonDocument.Parse(json.Out).RootElement;
        Assert.Equal(42, doc.GetProperty("parameters").GetInt32());
        Assert.Equal(8, doc.GetProperty("layers")[0].GetProperty("units").GetInt32());
        Assert.Equal("relu", doc.GetProperty("layers")[0].GetProperty("activation").GetString());
        Assert.Contains("pipeline", doc.GetProperty("sections").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void Gradcheck_AModelWithToleranceAndEpsilon_PassesAndFails()
    {
        var pass = ToolProcess.Run(fx.Dir, "gradcheck", "--model", "cls.json", "--input", "0.1,0.2;1,-1", "--target", "1,0;0,1", "--tolerance", "1e-4", "--epsilon", "1e-5");
        Ok(pass);
        Assert.Contains("2 sample(s), central differences with step 1E-05", pass.Out);
        Assert.EndsWith("All layers pass.\n", pass.Out);
        var fail = ToolProcess.Run(fx.Dir, "gradcheck", "--epsilon", "0.5", "--tolerance", "1e-9");
        Assert.Equal(1, fail.Code);
        Assert.Contains("FAIL", fail.Out);
    }

    [Fact]
    public async Task Playground_StartsOnAFreePortAnswersAGetAndStopsOnSigtermWith143()
    {
        var ct = TestContext.Current.CancellationToken;
        // --open: xdg-open, where there is one, opens $BROWSER, here echo, which prints the address; without one, a note.
        var (program, prefix) = ToolProcess.Command();
        var info = ToolProcess.Info(program, [.. prefix, "playground", "--port", "0", "--open"], fx.Dir,
            new Dictionary<string, string?> { ["BROWSER"] = "/bin/echo", ["DISPLAY"] = null, ["WAYLAND_DISPLAY"] = null });
        using var p = System.Diagnostics.Process.Start(info)!;
        var err = new System.Text.StringBuilder();
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (err) err.AppendLine(e.Data); };
        p.BeginErrorReadLine();
        try
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
            wait.CancelAfter(TimeSpan.FromSeconds(60));
            string? line = await p.StandardOutput.ReadLineAsync(wait.Token);
            var m = System.Text.RegularExpressions.Regex.Match(line ?? "", @"on (http://127\.0\.0\.1:\d+)/");
            Assert.True(m.Success, line);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            var page = await http.GetAsync(m.Groups[1].Value + "/", ct);
            Assert.Equal(System.Net.HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("<html", await page.Content.ReadAsStringAsync(ct), StringComparison.OrdinalIgnoreCase);
            if (File.Exists("/usr/bin/xdg-open"))
                Assert.Equal(m.Groups[1].Value + "/", await p.StandardOutput.ReadLineAsync(wait.Token));
            ToolProcess.Signal(p.Id, 15);
            using var exit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            exit.CancelAfter(TimeSpan.FromSeconds(30));
            await p.WaitForExitAsync(exit.Token);
        }
        finally
        {
            if (!p.HasExited)
                p.Kill();
        }
        Assert.Equal(143, p.ExitCode);
        if (!File.Exists("/usr/bin/xdg-open"))
            lock (err)
                Assert.Contains("note: could not open a browser", err.ToString());
    }

    [Fact]
    public async Task Serve_WithEveryOption_PredictsRefusesOverLimitsAndStopsOnSigterm()
    {
        var ct = TestContext.Current.CancellationToken;
        using var scratch = fx.Scratch();
        var (program, prefix) = ToolProcess.Command();
        var info = ToolProcess.Info(program, [.. prefix, "serve", "--model", "cls.json", "--port", "0", "--host", "127.0.0.1",
            "--name", "two-blobs", "--no-watch", "--max-batch", "8", "--batch-delay", "1", "--compute-lanes", "1",
            "--max-records", "3", "--max-body-bytes", "2048"], scratch.Dir, null);
        using var p = System.Diagnostics.Process.Start(info)!;
        try
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
            wait.CancelAfter(TimeSpan.FromSeconds(60));
            string? line = await p.StandardOutput.ReadLineAsync(wait.Token);
            var m = System.Text.RegularExpressions.Regex.Match(line ?? "", @"on (http://127\.0\.0\.1:\d+)/");
            Assert.True(m.Success, line);
            Assert.Contains("'two-blobs'", line);
            string url = m.Groups[1].Value;
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            async Task<(int Status, string Body)> Post(string body)
            {
                using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
                using var response = await http.PostAsync(url + "/predict", content, ct);
                return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(ct));
            }
            // The model was trained on two.csv (x1, x2 -> a or b): a raw record by column name, and the class it gets.
            var one = await Post("""{"x1": 1.5, "x2": -1}""");
            Assert.True(one.Status == 200, one.Body);
            Assert.Contains("\"b\"", one.Body);
            var model = await http.GetStringAsync(url + "/model", ct);
            Assert.Contains("two-blobs", model);
            // --max-records 3: four records are refused, naming the limit; --max-body-bytes 2048: a larger body too.
            var four = await Post("""[{"x1": 1, "x2": 0}, {"x1": 1, "x2": 0}, {"x1": 1, "x2": 0}, {"x1": 1, "x2": 0}]""");
            Assert.True(four.Status is >= 400 and < 500, four.Body);
            Assert.Contains("3", four.Body);
            var big = await Post("{\"x1\": 1, \"x2\": 0, \"pad\": \"" + new string('x', 4000) + "\"}");
            Assert.Equal(413, big.Status);
            // --no-watch: another model copied over the file is not loaded (the version stays 1).
            File.Copy(Path.Combine(scratch.Dir, "reg.json"), Path.Combine(scratch.Dir, "cls.json"), overwrite: true);
            await Task.Delay(2000, ct);
            Assert.Contains("\"model_version\":1", (await http.GetStringAsync(url + "/model", ct)).Replace(" ", ""));
            ToolProcess.Signal(p.Id, 15);
            using var exit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            exit.CancelAfter(TimeSpan.FromSeconds(30));
            await p.WaitForExitAsync(exit.Token);
        }
        finally
        {
            if (!p.HasExited)
                p.Kill();
        }
        // A server's SIGTERM is its normal stop: the requests in flight finish and it exits 0 (docs/cli.md).
        Assert.Equal(0, p.ExitCode);
    }
}
