using System.Text.Json;

namespace Backprop.Tests.Cli.Process;

/// <summary>
/// A metric that applies but is not finite is written as null by every --json output, never left out: a reader must
/// tell "the test loss overflowed" from "there is no test set" (a field that does not apply, such as a regression's
/// accuracy, is still left out).
/// </summary>
public sealed partial class CommandProcessTests
{
    private static void NullField(JsonElement e, string name, string output) =>
        Assert.True(e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Null, $"{name} should be null in {output}");

    [Fact]
    public void Json_AnInfiniteMetricIsWrittenAsNull_InTrainEvaluateTuneAndImportance()
    {
        using var dir = fx.Scratch();
        // A test feature of 1e300 makes the classifier's test loss infinite; a target of 1e300 the regressor's errors.
        var lines = File.ReadAllLines(Path.Combine(fx.Dir, "two.csv"));
        lines[5] = "1e300," + lines[5].Split(',', 2)[1];
        File.WriteAllLines(dir.Path("test.csv"), lines);
        var reg = File.ReadAllLines(Path.Combine(fx.Dir, "reg.csv"));
        reg[3] = string.Join(',', reg[3].Split(',')[..2]) + ",1e300";
        File.WriteAllLines(dir.Path("reg-big.csv"), reg);

        var train = ToolProcess.Run(dir.Dir, "train", "--data", "two.csv", "--test", "test.csv", "--hidden", "4", "--epochs", "3", "--save", "m.json", "--json");
        Ok(train);
        var summary = LastJson(train.Out);
        NullField(summary, "test_loss", train.Out);
        Assert.Equal(JsonValueKind.Number, summary.GetProperty("test_accuracy").ValueKind);

        var evaluate = ToolProcess.Run(dir.Dir, "evaluate", "--model", Path.Combine(fx.Dir, "reg.json"), "--data", "reg-big.csv", "--json");
        Ok(evaluate);
        var report = JsonDocument.Parse(evaluate.Out).RootElement;
        NullField(report, "loss", evaluate.Out);
        NullField(report, "rmse", evaluate.Out);
        Assert.False(report.TryGetProperty("accuracy", out _)); // does not apply to a regressor: left out

        var regTrain = ToolProcess.Run(dir.Dir, "train", "--data", Path.Combine(fx.Dir, "reg.csv"), "--task", "regression", "--test", "reg-big.csv",
            "--hidden", "4", "--epochs", "3", "--json");
        Ok(regTrain);
        var regSummary = LastJson(regTrain.Out);
        NullField(regSummary, "test_loss", regTrain.Out);
        NullField(regSummary, "test_rmse", regTrain.Out);
        Assert.False(regSummary.TryGetProperty("test_accuracy", out _));

        var tune = ToolProcess.Run(dir.Dir, "tune", "--data", Path.Combine(fx.Dir, "reg.csv"), "--task", "regression", "--test", "reg-big.csv", "--trials", "1", "--json");
        Ok(tune);
        NullField(LastJson(tune.Out), "test_loss", tune.Out);

        var importance = ToolProcess.Run(dir.Dir, "importance", "--model", "m.json", "--data", "test.csv", "--repeats", "1", "--json");
        Ok(importance);
        var columns = JsonDocument.Parse(importance.Out).RootElement.GetProperty("columns");
        Assert.All(columns.EnumerateArray(), c => NullField(c, "loss_increase", importance.Out));
    }
}
