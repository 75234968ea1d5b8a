using System.Globalization;
using System.Text;

namespace Backprop.Tests.Cli.Process;

/// <summary>Tables with text, categories, dates and missing values through the tool: train, inspect, predict, evaluate, errors.</summary>
public sealed partial class CommandProcessTests
{
    /// <summary>
    /// 90 rows: id (one value per row), color (red/green/blue, "teal" once), size (numbers, some "NA" or empty), when
    /// (dates), flag (yes/no), code ("u"/"v" that the options read as categorical), label (A/B from color and size).
    /// </summary>
    private string MessyTable()
    {
        string path = Path.Combine(fx.Dir, "messy.csv");
        if (File.Exists(path))
            return path;
        var sb = new StringBuilder("id,color,size,when,flag,code,label\n");
        string[] colors = ["red", "green", "blue"];
        for (int i = 0; i < 90; i++)
        {
            string color = i == 45 ? "teal" : colors[i % 3];
            double size = (i * 37 % 100) / 10.0;
            string sizeText = i % 11 == 5 ? "NA" : i % 13 == 7 ? "" : size.ToString(CultureInfo.InvariantCulture);
            string when = new DateTime(2000 + i % 7, 1 + i % 12, 1 + i % 28).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            string label = (color == "red") ^ (size > 5) ? "A" : "B";
            sb.Append(CultureInfo.InvariantCulture, $"row{i},{color},{sizeText},{when},{(i % 2 == 0 ? "yes" : "no")},{(i % 4 < 2 ? "u" : "v")},{label}\n");
        }
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    [Fact]
    public void Train_AMessyTableWithEveryKindOption_PredictsNewRowsInAnotherOrder()
    {
        string data = MessyTable();
        string model = Path.Combine(fx.Dir, "messy-model.json");
        var r = ToolProcess.Run(fx.Dir, "train", "--data", data, "--label-column", "label", "--categorical", "code", "--numeric", "size",
            "--date", "when", "--text", "id", "--ignore", "flag", "--missing", ",NA", "--test-fraction", "0.3", "--hidden", "16", "--epochs", "40",
            "--save", model);
        Ok(r);
        // The schema table comes first, one line per column with its kind.
        Assert.Contains("Columns of", r.Out);
        Assert.Matches(@"\n\s+0\s+id\s+text\s", r.Out);
        Assert.Matches(@"\n\s+1\s+color\s+categorical\s", r.Out);
        Assert.Matches(@"\n\s+2\s+size\s+numeric\s+\d+", r.Out);
        Assert.Matches(@"\n\s+3\s+when\s+date\s", r.Out);
        Assert.Matches(@"\n\s+4\s+flag\s+ignored\s", r.Out);
        Assert.Matches(@"\n\s+5\s+code\s+categorical\s", r.Out);
        Assert.Contains("\"version\": 3", File.ReadAllText(model));
        Assert.Contains("\"table\"", File.ReadAllText(model));

        // New rows: the columns in another order, an unseen color, a missing size, no label and no id: one prediction each.
        string rows = Path.Combine(fx.Dir, "messy-new.csv");
        File.WriteAllText(rows, "code,when,size,color\nu,2003-04-05,7.5,red\nv,2001-02-03,,purple\nu,not a date,2,blue\n");
        var p = ToolProcess.Run(fx.Dir, "predict", "--model", model, "--data", rows);
        Ok(p);
        var lines = p.Out.Trim().Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("predicted,p_A,p_B", lines[0]);
        Assert.Contains("1 value(s) of \"color\" not seen in training were treated as missing", p.Err);
        Assert.Contains("1 value(s) of \"when\" that are not of its kind were treated as missing", p.Err);

        // A separate --test file is encoded by the pipeline fitted on --data.
        var t = ToolProcess.Run(fx.Dir, "train", "--data", data, "--label-column", "label", "--test", data, "--epochs", "2", "--hidden", "4", "--json");
        Ok(t);
        Assert.Contains("\"test_rows\":90", t.Out);

        var e = ToolProcess.Run(fx.Dir, "evaluate", "--model", model, "--data", data);
        Ok(e);
        Assert.Contains("accuracy", e.Out);

        // explain --model: the encoding is shown first, each raw value with the features it becomes and their numbers.
        var x = ToolProcess.Run(fx.Dir, "explain", "--model", model, "--input", "red,NA,2004-05-06,v");
        Ok(x);
        Assert.StartsWith("Before step 0: the table encoding", x.Out);
        Assert.Contains("color=red = 1", x.Out);
        Assert.Contains("size (missing) = 1", x.Out);
        Assert.Contains("when:year = 2004", x.Out);
        Assert.Contains("code=v = 1", x.Out);
    }

    [Fact]
    public void Train_ANumericCsv_SaysInOneLineThatEveryColumnIsNumeric()
    {
        var r = ToolProcess.Run(fx.Dir, "train", "--data", "two.csv", "--epochs", "1", "--hidden", "2");
        Ok(r);
        Assert.Matches(@"Columns of two\.csv:\n  \d+ of \d+ columns numeric, no missing values \(read by the numeric reader\); the label is column \d+", r.Out);
    }

    [Fact]
    public void Inspect_ShowsTheKindsAndTakesEveryDataOption()
    {
        string data = MessyTable();
        var plain = ToolProcess.Run(fx.Dir, "inspect", "--data", data);
        Ok(plain);
        Assert.Contains("90 rows, 7 columns (csv, header)", plain.Out);
        Assert.Matches(@"\n\s+0\s+id\s+text\s", plain.Out);
        Assert.Matches(@"\n\s+4\s+flag\s+boolean\s", plain.Out);
        Assert.Matches(@"\n\s+6\s+label\s+label\s", plain.Out);
        // Semicolons, no header: columns are numbered, and every option names them by index.
        string semi = Path.Combine(fx.Dir, "messy-semi.txt");
        File.WriteAllLines(semi, File.ReadAllLines(data).Skip(1).Select(l => l.Replace(',', ';')));
        var all = ToolProcess.Run(fx.Dir, "inspect", "--data", semi, "--delimiter", "semicolon", "--header", "no", "--label-column", "6",
            "--drop-columns", "0", "--task", "classification", "--categorical", "5", "--numeric", "2", "--date", "3", "--text", "1",
            "--ignore", "4", "--missing", "NA");
        Ok(all);
        Assert.Contains("90 rows, 7 columns (csv, no header)", all.Out);
        Assert.Matches(@"\n\s+1\s+1\s+text\s", all.Out);
        Assert.Matches(@"\n\s+2\s+2\s+numeric\s+\d+", all.Out);
        Assert.Matches(@"\n\s+4\s+4\s+ignored\s", all.Out);
        Assert.Matches(@"\n\s+5\s+5\s+categorical\s", all.Out);
    }

    [Fact]
    public void Tables_ClearErrors_OneLineExit2NothingWritten()
    {
        string data = MessyTable();
        string model = Path.Combine(fx.Dir, "messy-error-model.json");
        var noColumn = ToolProcess.Run(fx.Dir, "train", "--data", data, "--label-column", "label", "--categorical", "colour", "--save", model);
        Assert.Equal(2, noColumn.Code);
        Assert.Single(noColumn.ErrorLines);
        Assert.Contains("--categorical \"colour\": no such column", noColumn.Err);
        Assert.False(File.Exists(model));

        string one = Path.Combine(fx.Dir, "one-class.csv");
        File.WriteAllText(one, "x,c,y\n1,a,same\n2,b,same\n3,a,same\n");
        var oneClass = ToolProcess.Run(fx.Dir, "train", "--data", one, "--label-column", "y", "--save", model);
        Assert.Equal(2, oneClass.Code);
        Assert.Single(oneClass.ErrorLines);
        Assert.Contains("has one class (\"same\")", oneClass.Err);
        Assert.False(File.Exists(model));

        Ok(ToolProcess.Run(fx.Dir, "train", "--data", data, "--label-column", "label", "--epochs", "2", "--hidden", "4", "--save", model));
        string lacks = Path.Combine(fx.Dir, "messy-lacks.csv");
        File.WriteAllText(lacks, "color,size\nred,1\n");
        string output = Path.Combine(fx.Dir, "messy-lacks.out.csv");
        var mismatch = ToolProcess.Run(fx.Dir, "predict", "--model", model, "--data", lacks, "--output", output);
        Assert.Equal(2, mismatch.Code);
        Assert.Single(mismatch.ErrorLines);
        Assert.Contains("messy-lacks.csv: has no column \"when\", which the model was trained on (date)", mismatch.Err);
        Assert.False(File.Exists(output));
    }
}
