using System.Globalization;
using Backprop.Data;
using Backprop.IO;

namespace Backprop.Tests.IO;

/// <summary>
/// The readers' limits (docs/reliability.md, "Memory"): at most <see cref="DataLimits.MaxValues"/> feature values a
/// dataset, judged from an IDX header before anything is read and counted row by row in a CSV file; at most
/// <see cref="Dataset.MaxClasses"/> distinct labels held as text, refused while reading, or read as numbers when
/// the column may be a regression target.
/// </summary>
public sealed class ReaderLimitTests
{
    [Fact]
    public void ACsvIsRefusedAtTheRowThatPassesTheValueLimit()
    {
        string text = "a,b,c,y\n" + string.Concat(Enumerable.Range(0, 5).Select(i => $"{i},1,2,x{i % 2}\n"));
        Assert.Throws<BackpropException>(() => CsvDataset.Parse(text, new CsvOptions { MaxValues = 14 }, "t.csv"));
        var e = Assert.Throws<BackpropException>(() => CsvDataset.Parse(text, new CsvOptions { MaxValues = 12 }, "t.csv"));
        Assert.StartsWith("t.csv: line 6: row 5 of 3 feature(s) makes 15 values, more than the 12 feature values a dataset may hold", e.Message);
        Assert.Contains("BACKPROP_MAX_VALUES", e.Message);
        Assert.Equal(15, CsvDataset.Parse(text, new CsvOptions { MaxValues = 15 }, "t.csv").Features.Length);
    }

    [Fact]
    public void AnIdxHeaderPastTheLimitIsRefusedBeforeItsDataIsRead()
    {
        using var dir = new TempDirectory();
        string img = dir.File("img"), lbl = dir.File("lbl");
        // The header claims 1000 x 1000 pixels, the file holds none: the limit, not the truncation, is reported.
        Reliability.MemoryBoundTests.WriteIdx(img, [1000, 1000]);
        Reliability.MemoryBoundTests.WriteIdx(lbl, [1000], new byte[1000]);
        var e = Assert.Throws<BackpropException>(() => IdxDataset.Read(img, lbl, maxValues: 999_999));
        Assert.StartsWith($"{img}: the header gives 1000 x 1000 = 1,000,000 values, more than the 999,999 feature values", e.Message);
        var t = Assert.Throws<BackpropException>(() => IdxDataset.Read(img, lbl, maxValues: 1_000_000));
        Assert.Contains("truncated", t.Message);
        // ToDataset on arrays already parsed checks before converting the pixels to doubles.
        var images = IdxDataset.ParseArray(IdxDatasetTests.Idx([4, 3], new byte[12]));
        var labels = IdxDataset.ParseArray(IdxDatasetTests.Idx([4], [0, 1, 0, 1]));
        Assert.Contains("4 x 3 = 12 values, more than the 11", Assert.Throws<BackpropException>(() => IdxDataset.ToDataset(images, labels, maxValues: 11)).Message);
        Assert.Equal(4, IdxDataset.ToDataset(images, labels, maxValues: 12).Rows);
        // Through DataFiles the CSV options carry the limit.
        Assert.Throws<BackpropException>(() => DataFiles.Read(img, lbl, new CsvOptions { MaxValues = 10 }));
    }

    [Fact]
    public void TheLimitComesFromTheEnvironmentAndIsChecked()
    {
        Assert.Equal(1L << 27, DataLimits.DefaultMaxValues);
        Assert.Throws<BackpropException>(() => CsvDataset.Parse("1,2\n3,4\n", new CsvOptions { MaxValues = 0 }));
        Assert.Throws<BackpropException>(() => CsvDataset.Parse("1,2\n3,4\n", new CsvOptions { MaxValues = DataLimits.LargestMaxValues + 1 }));
    }

    private static string Column(int rows, Func<int, string> label) =>
        "f,y\n" + string.Concat(Enumerable.Range(0, rows).Select(i => $"{i % 5},{label(i)}\n"));

    [Fact]
    public void PastAThousandDistinctNumbersTheLabelsAreReadAsNumbersExactly()
    {
        string text = Column(3000, i => (i * 0.37 - 100).ToString("R", CultureInfo.InvariantCulture));
        var auto = CsvDataset.Parse(text, null, "t.csv");
        var told = CsvDataset.Parse(text, new CsvOptions { Task = TaskKind.Regression }, "t.csv");
        Assert.Equal(TaskKind.Regression, auto.Task);
        Assert.Equal(told.Targets.ToArray(), auto.Targets.ToArray());
        Assert.Equal(Enumerable.Range(0, 3000).Select(i => i * 0.37 - 100), auto.Targets.ToArray());
        // Whole numbers too (more than 20 distinct whole numbers are a regression target by the auto rule).
        var whole = CsvDataset.Parse(Column(2500, i => (i * 3).ToString(CultureInfo.InvariantCulture)), null, "t.csv");
        Assert.Equal(TaskKind.Regression, whole.Task);
        Assert.Equal(7497.0, whole.Targets[^1]);
        // A text label after the switch: the column cannot be classes (too many) nor a target (not a number).
        var e = Assert.Throws<BackpropException>(() => CsvDataset.Parse(Column(1500, i => i == 1400 ? "oops" : i.ToString(CultureInfo.InvariantCulture)), null, "t.csv"));
        Assert.Equal("t.csv: column 1 (\"y\") holds more than 1000 distinct labels (1,001 by line 1402, row 1,401), more than the 1000 classes a classifier may have, "
            + "and line 1402 holds \"oops\", which is not a number, so the column cannot be a regression target either: "
            + "nearly a value per row, as an identifier has; choose the real label with --label-column (or drop the identifier with --drop-columns).", e.Message);
        // Told regression, a text target is the usual "not a number".
        var r = Assert.Throws<BackpropException>(() => CsvDataset.Parse(Column(10, i => i == 4 ? "oops" : "1.5"), new CsvOptions { Task = TaskKind.Regression }, "t.csv"));
        Assert.Equal("t.csv: line 6, column 1 (\"y\"): the target \"oops\" is not a number.", r.Message);
    }

    [Fact]
    public void AThousandAndOneClassesAreRefusedAtTheLabelThatMakesThem()
    {
        var ok = CsvDataset.Parse(Column(3000, i => "c" + (i % 1000).ToString(CultureInfo.InvariantCulture)), null, "t.csv");
        Assert.Equal(1000, ok.ClassCount);
        var e = Assert.Throws<BackpropException>(() => CsvDataset.Parse(Column(3000, i => "c" + (i % 1001).ToString(CultureInfo.InvariantCulture)), null, "t.csv"));
        Assert.StartsWith("t.csv: column 1 (\"y\") holds more than 1000 distinct labels (1,001 by line 1002, row 1,001), more than the 1000 classes", e.Message);
        // Labels that are one class written two ways ("7", "07") count once.
        var same = CsvDataset.Parse(Column(2000, i => (i % 2 == 0 ? "" : "0") + (i % 1000).ToString(CultureInfo.InvariantCulture)), new CsvOptions { Task = TaskKind.Classification }, "t.csv");
        Assert.Equal(1000, same.ClassCount);
        // With given classes, the first label outside them is named.
        var given = Enumerable.Range(0, 1000).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var g = Assert.Throws<BackpropException>(() => CsvDataset.Parse(Column(1500, i => i.ToString(CultureInfo.InvariantCulture)), new CsvOptions { Classes = given }, "t.csv"));
        Assert.Equal("t.csv: line 1002, column 1 (\"y\"): label \"1000\" is not one of the classes (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,...).", g.Message);
    }
}

/// <summary>Dataset.MaxClasses holds on every path a class count enters by: datasets, models, model files, measures.</summary>
public sealed class ClassLimitTests
{
    [Fact]
    public void EveryPathRefusesMoreThanAThousandClasses()
    {
        var x = new double[1001];
        var y = Enumerable.Range(0, 1001).ToArray();
        var d = Assert.Throws<BackpropException>(() => Dataset.Classification(x, 1, y, 1001, name: "big"));
        Assert.Equal("big: a classification dataset has 1 to 1000 classes, got 1001; a label column with about a value per row is usually an identifier, not a label.", d.Message);
        Assert.Equal(1000, Dataset.Classification(x[..1000], 1, y[..1000], 1000).ClassCount);
        Assert.Throws<BackpropException>(() => Backprop.Training.Model.Classifier(3, 1001));
        var net = new Backprop.Nn.Network<float>(1, [new Backprop.Nn.Dense<float>(1, 1001, Backprop.Nn.Activation.Softmax)], Backprop.Nn.Loss.CrossEntropy);
        var m = Assert.Throws<BackpropException>(() => Backprop.Training.Model<float>.FromNetwork(net, TaskKind.Classification));
        Assert.Equal("model: a classifier of 1001 outputs has 1001 classes, more than the 1000 a classifier may have.", m.Message);
        using var dir = new TempDirectory();
        string text = File.ReadAllText(Reliability.MemoryBoundTests.WriteWideSoftmaxModel(dir.File("wide.json"), 1001));
        var f = Assert.Throws<ModelFormatException>(() => ModelFile.Deserialize<float>(text, "wide.json"));
        Assert.Equal("wide.json: section 'pipeline': a classifier of 1001 outputs has 1001 classes, more than the 1000 a classifier may have.", f.Message);
        Assert.Throws<BackpropException>(() => Backprop.Training.ClassificationMetrics.From([0], [0], 50_000, 0));
        Assert.Throws<ArgumentException>(() => Backprop.Training.ClassificationMetrics.From([0, 3], [0, 1], 2, 0));
        Assert.Equal(1, Backprop.Training.ClassificationMetrics.From([0, 1], [0, 1], 2, 0).Accuracy);
    }
}
