using System.Globalization;
using System.Text;
using System.Text.Json;
using Backprop.IO;

namespace Backprop.Tests.Cli.Process;

/// <summary>cv, tune and importance read tables as train does: the kind options, CSV with text and missing values, JSON.</summary>
public sealed partial class CommandProcessTests
{
    private static readonly string[] MessyKinds = ["--label-column", "label", "--categorical", "code", "--numeric", "size", "--date", "when",
        "--text", "id", "--ignore", "flag", "--missing", ",NA"];

    /// <summary>The messy table as a JSON array of records (numbers as numbers, empty fields as null).</summary>
    private string MessyJson()
    {
        string path = Path.Combine(fx.Dir, "messy-table.json");
        if (File.Exists(path))
            return path;
        var lines = File.ReadAllLines(MessyTable());
        var names = lines[0].Split(',');
        var records = lines.Skip(1).Select(line => "{" + string.Join(",", line.Split(',').Select((v, i) =>
            JsonSerializer.Serialize(names[i]) + ":" + (v.Length == 0 ? "null"
                : double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? v : JsonSerializer.Serialize(v)))) + "}");
        File.WriteAllText(path, "[\n" + string.Join(",\n", records) + "\n]\n");
        return path;
    }

    [Fact]
    public void Cv_AMessyTableWithEveryKindOption_AndAJsonTable()
    {
        string data = MessyTable();
        var r = ToolProcess.Run(fx.Dir, ["cv", "--data", data, .. MessyKinds, "--folds", "3", "--hidden", "8", "--epochs", "20", "--json"]);
        Ok(r);
        var lines = r.Out.Trim().Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Equal(90, lines.Take(3).Sum(l => JsonDocument.Parse(l).RootElement.GetProperty("test_rows").GetInt32()));
        Assert.True(LastJson(r.Out).GetProperty("mean").GetProperty("accuracy").GetDouble() > 0.5, r.Out);

        // A JSON table, kinds inferred, as text: the schema table first.
        var text = ToolProcess.Run(fx.Dir, "cv", "--data", MessyJson(), "--label-column", "label", "--folds", "2", "--hidden", "4", "--epochs", "2");
        Ok(text);
        Assert.Contains("each fold's encoding is fitted on its training rows only", text.Out);
        Assert.Matches(@"\n\s+1\s+color\s+categorical\s", text.Out);
        Assert.Matches(@"(?m)^mean\s", text.Out);

        // A kind option naming no column: one error line, exit 2.
        var bad = ToolProcess.Run(fx.Dir, "cv", "--data", data, "--label-column", "label", "--categorical", "nope");
        Assert.Equal(2, bad.Code);
        Assert.Single(bad.ErrorLines);
        Assert.Contains("nope", bad.Err);
    }

    [Fact]
    public void Tune_AMessyTableWithEveryKindOption_SavesAModelThatPredictsRawRows()
    {
        using var dir = fx.Scratch();
        string data = MessyTable();
        var r = ToolProcess.Run(dir.Dir, ["tune", "--data", data, .. MessyKinds, "--trials", "2", "--test", MessyJson(), "--save", "best.json", "--json"]);
        Ok(r);
        Assert.Equal(90, LastJson(r.Out).GetProperty("test_rows").GetInt32());
        var model = ModelFile.Load(dir.Path("best.json"));
        Assert.NotNull(model.Table);
        Assert.Equal(["color", "size", "when", "code"], model.Table.Columns.Select(c => c.Name));
        File.WriteAllText(dir.Path("new.csv"), "code,when,size,color\nu,2003-04-05,7.5,red\nv,2001-02-03,,purple\n");
        var p = ToolProcess.Run(dir.Dir, "predict", "--model", "best.json", "--data", "new.csv");
        Ok(p);
        Assert.Equal(3, p.Out.Trim().Split('\n').Length);
    }

    [Fact]
    public void Importance_ATableModelShufflesEachRawColumnAsOne()
    {
        using var dir = fx.Scratch();
        Ok(ToolProcess.Run(dir.Dir, ["train", "--data", MessyTable(), .. MessyKinds, "--hidden", "8", "--epochs", "20", "--save", "m.json", "--quiet"]));
        var r = ToolProcess.Run(dir.Dir, "importance", "--model", "m.json", "--data", MessyJson(), "--repeats", "2", "--json");
        Ok(r);
        var report = JsonDocument.Parse(r.Out).RootElement;
        Assert.Equal(90, report.GetProperty("rows").GetInt32());
        // One entry per raw column the model reads (color's one-hot features shuffled together), none per encoded feature.
        var columns = report.GetProperty("columns").EnumerateArray().Select(c => c.GetProperty("column").GetString()!).Order().ToArray();
        Assert.Equal(["code", "color", "size", "when"], columns);
    }
}
