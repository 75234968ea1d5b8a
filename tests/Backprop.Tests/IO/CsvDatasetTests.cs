using Backprop.Data;
using Backprop.IO;

namespace Backprop.Tests.IO;

public sealed class CsvDatasetTests
{
    private static BackpropException Fails(string text, CsvOptions? options = null) =>
        Assert.ThrowsAny<BackpropException>(() => CsvDataset.Parse(text, options, "t.csv"));

    [Fact]
    public void HeaderAutoDetectedAndLabelByName()
    {
        var d = CsvDataset.Parse("a,b,kind\n1,2,x\n3,4,y\n5,6,x\n", new CsvOptions { LabelColumn = "kind" }, "t.csv");
        Assert.Equal(3, d.Rows);
        Assert.Equal(2, d.Inputs);
        Assert.Equal(["a", "b"], d.FeatureNames!);
        Assert.Equal("kind", d.TargetName);
        Assert.Equal([1.0, 2, 3, 4, 5, 6], d.Features.ToArray());
        Assert.Equal(["x", "y"], d.ClassNames);
        Assert.Equal([0, 1, 0], d.Labels.ToArray());
        Assert.Equal(TaskKind.Classification, d.Task);
        Assert.False(d.Targets.Length > 0); // classification keeps labels, not one-hot rows (the trainer encodes them)
    }

    [Fact]
    public void NoHeaderWhenFirstRowIsData()
    {
        var d = CsvDataset.Parse("1,2,x\n3,4,y\n", null, "t.csv");
        Assert.Null(d.FeatureNames);
        Assert.Equal(2, d.Rows);
    }

    [Fact]
    public void HeaderYesAndNoOverrideDetection()
    {
        // Every column is text in both rows, so auto sees no header; "yes" takes the first row as names.
        var yes = CsvDataset.Parse("1,2,c\n3,4,d\n5,6,d\n", new CsvOptions { Header = HeaderMode.Yes }, "t.csv");
        Assert.Equal(2, yes.Rows);
        Assert.Equal(["1", "2"], yes.FeatureNames!);
        // With "no", the header row is data and "a" is not a number.
        var e = Fails("a,b,c\n3,4,d\n", new CsvOptions { Header = HeaderMode.No });
        Assert.Contains("line 1, column 0", e.Message);
        Assert.Equal(1, CsvDataset.Parse("x,y\n3,4\n", new CsvOptions { Header = HeaderMode.Yes }).Rows);
    }

    [Fact]
    public void QuotedFieldsMayHoldTheDelimiterAndQuotes()
    {
        var d = CsvDataset.Parse("f1,f2,label\n1.5,\"2\",\"big, red\"\n-2e-1,3,\"say \"\"hi\"\"\"\n", null, "t.csv");
        Assert.Equal([1.5, 2, -0.2, 3], d.Features.ToArray());
        Assert.Equal(["big, red", "say \"hi\""], d.ClassNames);
        Assert.Equal([0, 1], d.Labels.ToArray());
    }

    [Fact]
    public void LabelFirstLastAndIndexCountFileColumns()
    {
        const string text = "7,1,2,3\n8,4,5,6\n7,0,0,0\n";
        var first = CsvDataset.Parse(text, new CsvOptions { LabelColumn = "first" });
        Assert.Equal([1.0, 2, 3, 4, 5, 6, 0, 0, 0], first.Features.ToArray());
        Assert.Equal(["7", "8"], first.ClassNames);
        var last = CsvDataset.Parse(text, new CsvOptions { LabelColumn = "last" });
        Assert.Equal([7.0, 1, 2, 8, 4, 5, 7, 0, 0], last.Features.ToArray());
        // Index 2 is the file's third column even when column 0 is dropped.
        var byIndex = CsvDataset.Parse(text, new CsvOptions { LabelColumn = "2", DropColumns = ["0"] });
        Assert.Equal([1.0, 3, 4, 6, 0, 0], byIndex.Features.ToArray());
        Assert.Equal(["0", "2", "5"], byIndex.ClassNames);
    }

    [Fact]
    public void DropColumnsByIndexAndName()
    {
        const string text = "id,x,y,label\n101,1,2,a\n102,3,4,b\n";
        var byName = CsvDataset.Parse(text, new CsvOptions { DropColumns = ["id"] });
        Assert.Equal([1.0, 2, 3, 4], byName.Features.ToArray());
        Assert.Equal(["x", "y"], byName.FeatureNames!);
        var byIndex = CsvDataset.Parse(text, new CsvOptions { DropColumns = ["0", "2"] });
        Assert.Equal([1.0, 3], byIndex.Features.ToArray());
    }

    [Fact]
    public void IntegerLabelsAreOrderedByValueAndCanonical()
    {
        var d = CsvDataset.Parse("1,10\n2,9\n3,01\n4,10.0\n5,2\n");
        Assert.Equal(["1", "2", "9", "10"], d.ClassNames);
        Assert.Equal([3, 2, 0, 3, 1], d.Labels.ToArray());
    }

    [Fact]
    public void RegressionTargetsAuto()
    {
        // A fractional target means regression.
        var d = CsvDataset.Parse("x,y\n1,0.5\n2,1.5\n3,2\n");
        Assert.Equal(TaskKind.Regression, d.Task);
        Assert.Equal([0.5, 1.5, 2], d.Targets.ToArray());
        Assert.Equal(1, d.Outputs);
        Assert.Empty(d.ClassNames);
        // More than MaxAutoClasses distinct whole numbers is regression too.
        string many = string.Concat(Enumerable.Range(0, CsvOptions.MaxAutoClasses + 1).Select(i => $"{i},{i * 3}\n"));
        Assert.Equal(TaskKind.Regression, CsvDataset.Parse(many).Task);
        string few = string.Concat(Enumerable.Range(0, CsvOptions.MaxAutoClasses).Select(i => $"{i},{i * 3}\n"));
        Assert.Equal(TaskKind.Classification, CsvDataset.Parse(few).Task);
    }

    [Fact]
    public void TaskOptionOverridesTheRule()
    {
        var reg = CsvDataset.Parse("1,0\n2,1\n", new CsvOptions { Task = TaskKind.Regression });
        Assert.Equal(TaskKind.Regression, reg.Task);
        Assert.Equal([0.0, 1], reg.Targets.ToArray());
        var cls = CsvDataset.Parse("1,0.5\n2,1.5\n", new CsvOptions { Task = TaskKind.Classification });
        Assert.Equal(["0.5", "1.5"], cls.ClassNames);
        var e = Fails("1,a\n2,b\n", new CsvOptions { Task = TaskKind.Regression });
        Assert.Contains("line 1, column 1", e.Message);
    }

    [Fact]
    public void GivenClassesMapLabelsAndRejectUnknownOnes()
    {
        var d = CsvDataset.Parse("1,b\n2,a\n", new CsvOptions { Classes = ["a", "b", "c"] });
        Assert.Equal([1, 0], d.Labels.ToArray());
        Assert.Equal(3, d.Outputs);
        var e = Fails("1,b\n2,z\n", new CsvOptions { Classes = ["a", "b"] });
        Assert.Contains("line 2", e.Message);
        Assert.Contains("\"z\"", e.Message);
    }

    [Theory]
    [InlineData("1;2;3\n4;5;6\n")]
    [InlineData("1\t2\t3\n4\t5\t6\n")]
    [InlineData("1,2,3\r\n4,5,6\r\n")]
    public void DelimiterAndLineEndingsDetected(string text)
    {
        var d = CsvDataset.Parse(text);
        Assert.Equal([1.0, 2, 4, 5], d.Features.ToArray());
        Assert.Equal(["3", "6"], d.ClassNames);
    }

    [Theory]
    [InlineData('"')]
    [InlineData('\n')]
    [InlineData(' ')]
    public void ImpossibleDelimitersAreRejected(char delimiter) =>
        Assert.Contains("cannot be the delimiter", Fails("1,2\n", new CsvOptions { Delimiter = delimiter }).Message);

    [Fact]
    public void ExplicitDelimiterWins()
    {
        var d = CsvDataset.Parse("1|2.5|a,b\n3|4|c\n", new CsvOptions { Delimiter = '|', Header = HeaderMode.No }, "t.csv");
        Assert.Equal([1.0, 2.5, 3, 4], d.Features.ToArray());
        Assert.Equal(["a,b", "c"], d.ClassNames);
        // A decimal comma is not a number, whatever the delimiter.
        var e = Assert.Throws<BackpropException>(() => CsvDataset.Parse("1|2,5|a\n", new CsvOptions { Delimiter = '|', Header = HeaderMode.No }));
        Assert.Contains("line 1, column 1: the feature \"2,5\" is not a", e.Message);
    }

    [Fact]
    public void DecimalCommaInSemicolonFileIsNotADelimiter()
    {
        Assert.Equal(';', CsvDataset.DetectDelimiter("a;b;c\n1,5;2,5;x\n"));
        Assert.Equal(',', CsvDataset.DetectDelimiter("\n\n\"a;b;c\",d\n"));
    }

    [Fact]
    public void BlankLinesAreIgnoredAndLineNumbersStayTrue()
    {
        var d = CsvDataset.Parse("\n1,2,a\n\n   \n3,4,b\n\n");
        Assert.Equal(2, d.Rows);
        var e = Fails("\n1,2,a\n\n3,x,b\n");
        Assert.Contains("t.csv: line 4, column 1", e.Message);
        Assert.Contains("\"x\" is not a number", e.Message);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("\n\n  \n", "empty")]
    [InlineData("a,b\n", "no data rows")]
    public void EmptyFilesAreReported(string text, string expected)
    {
        var e = Fails(text, new CsvOptions { Header = text.StartsWith('a') ? HeaderMode.Yes : HeaderMode.Auto });
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("t.csv", e.Message);
    }

    [Fact]
    public void RaggedRowsAreReported()
    {
        var e = Fails("1,2,a\n3,4,b\n5,b\n");
        Assert.Contains("line 3", e.Message);
        Assert.Contains("found 2 fields, expected 3", e.Message);
    }

    [Theory]
    [InlineData("1,,a\n", "missing value")]
    [InlineData("1,?,a\n", "missing value")]
    [InlineData("1,NA,a\n", "missing value")]
    [InlineData("1,NaN,a\n", "finite")]
    [InlineData("1,Infinity,a\n", "finite")]
    [InlineData("1,-Infinity,a\n", "finite")]
    [InlineData("1,1e999,a\n", "finite")]
    [InlineData("1,1.2.3,a\n", "not a number")]
    public void BadFeaturesNameLineAndColumn(string row, string expected)
    {
        var e = Fails("0,0,a\n" + row);
        Assert.Contains("line 2, column 1", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void LineNumbersCountQuotedLineBreaks()
    {
        var e = Fails("1,\"a\nb\",x\n2,3,y\n4,z,y\n");
        Assert.Contains("line 4, column 1", e.Message);
        Assert.Contains("line 1, column 1", Fails("1,q,x\n2,3,y\n", new CsvOptions { Header = HeaderMode.No }).Message);
    }

    [Fact]
    public void MissingLabelIsReported()
    {
        var e = Fails("1,2,a\n3,4,\n");
        Assert.Contains("line 2, column 2: the label is missing", e.Message);
    }

    [Theory]
    [InlineData("5", "no such column")]
    [InlineData("-1", "no such column")]
    [InlineData("species", "needs a header")]
    public void LabelColumnThatDoesNotExist(string label, string expected)
    {
        var e = Fails("1,2,a\n3,4,b\n", new CsvOptions { LabelColumn = label });
        Assert.Contains(expected, e.Message);
        Assert.Contains("--label-column", e.Message);
    }

    [Fact]
    public void UnknownNameAndDroppingTheLabelAreReported()
    {
        Assert.Contains("no such column", Fails("x,y\n1,a\n", new CsvOptions { LabelColumn = "z" }).Message);
        Assert.Contains("cannot be dropped", Fails("1,2,a\n", new CsvOptions { DropColumns = ["2"] }).Message);
        Assert.Contains("no feature columns", Fails("1,a\n", new CsvOptions { DropColumns = ["0"] }).Message);
    }

    [Fact]
    public void UnlabelledDataForPrediction()
    {
        var d = CsvDataset.Parse("1,2\n3,4\n", new CsvOptions { LabelColumn = "none" });
        Assert.Equal(2, d.Inputs);
        Assert.False(d.HasTargets);
        Assert.Empty(d.Labels.ToArray());
    }

    [Fact]
    public void FilesWithByteOrderMarkAndCrLfAreReadLikeText()
    {
        using var dir = new TempDirectory();
        string path = dir.File("bom.tsv");
        File.WriteAllText(path, "x\ty\tkind\r\n1\t2\ta\r\n\r\n3\t4\tb\r\n", new System.Text.UTF8Encoding(true));
        var d = CsvDataset.Read(path, new CsvOptions { LabelColumn = "kind" });
        Assert.Equal(["x", "y"], d.FeatureNames!);
        Assert.Equal([1.0, 2, 3, 4], d.Features.ToArray());
        Assert.Equal(path, d.Name);
        File.WriteAllText(path, "x\ty\tkind\r\n1\t2\ta\r\n\r\n3\tq\tb\r\n");
        var e = Assert.Throws<BackpropException>(() => CsvDataset.Read(path));
        Assert.Equal($"{path}: line 4, column 1 (\"y\"): the feature \"q\" is not a number.", e.Message);
    }

    [Fact]
    public void MissingFileIsReported()
    {
        using var dir = new TempDirectory();
        string path = dir.File("nope.csv");
        var e = Assert.Throws<BackpropException>(() => CsvDataset.Read(path));
        Assert.Contains("nope.csv", e.Message);
    }

    // ---- the real datasets, with ../shared/datasets/README.md as the oracle ----

    [Fact]
    public void Iris()
    {
        var d = CsvDataset.Read(TestData.Require("iris", "iris.data"));
        Assert.Equal(150, d.Rows);
        Assert.Equal(4, d.Inputs);
        Assert.Equal(["Iris-setosa", "Iris-versicolor", "Iris-virginica"], d.ClassNames);
        Assert.Equal([50, 50, 50], d.ClassCounts());
        Assert.Equal([5.1, 3.5, 1.4, 0.2], d.Features[..4]);
    }

    [Fact]
    public void WineLabelFirst()
    {
        var d = CsvDataset.Read(TestData.Require("wine", "wine.data"), new CsvOptions { LabelColumn = "first" });
        Assert.Equal(178, d.Rows);
        Assert.Equal(13, d.Inputs);
        Assert.Equal(["1", "2", "3"], d.ClassNames);
        Assert.Equal([59, 71, 48], d.ClassCounts());
    }

    [Fact]
    public void WdbcIdDroppedLabelMB()
    {
        var d = CsvDataset.Read(TestData.Require("wdbc", "wdbc.data"), new CsvOptions { LabelColumn = "1", DropColumns = ["0"] });
        Assert.Equal(569, d.Rows);
        Assert.Equal(30, d.Inputs);
        Assert.Equal(["B", "M"], d.ClassNames);
        Assert.Equal([357, 212], d.ClassCounts());
    }

    [Fact]
    public void Optdigits()
    {
        var tra = CsvDataset.Read(TestData.Require("optdigits", "optdigits.tra"));
        Assert.Equal(3823, tra.Rows);
        Assert.Equal(64, tra.Inputs);
        Assert.Equal([376, 389, 380, 389, 387, 376, 377, 387, 380, 382], tra.ClassCounts());
        Assert.All(tra.Features.ToArray(), v => Assert.InRange(v, 0, 16));
        var tes = CsvDataset.Read(TestData.Require("optdigits", "optdigits.tes"), new CsvOptions { Classes = tra.ClassNames });
        Assert.Equal(1797, tes.Rows);
        Assert.Equal([178, 182, 177, 183, 181, 182, 181, 179, 174, 180], tes.ClassCounts());
    }
}
