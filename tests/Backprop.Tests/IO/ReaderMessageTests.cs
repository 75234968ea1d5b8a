using Backprop.Data;
using Backprop.IO;

namespace Backprop.Tests.IO;

/// <summary>Issue 14 item 15, the readers' part: each error names its real cause and the file it is in.</summary>
public sealed class ReaderMessageTests
{
    private static BackpropException Fails(string text, CsvOptions? options = null) =>
        Assert.ThrowsAny<BackpropException>(() => CsvDataset.Parse(text, options, "t.csv"));

    [Theory]
    [InlineData("a,b,c\n1,2,x\n3,\"4,y\n5,6,x\n7,8,y\n", 3)]   // was: "found 2 fields, expected 3 (ragged rows)"
    [InlineData("a,b,c\n1,2,\"x\n3,4,y\n5,6,z\n", 2)]         // was: "1 row(s) cannot be split", the rest of the file one label
    [InlineData("\"a,b,c\n1,2,x\n", 1)]
    [InlineData("a,b,c\n1,2,x\n3,4,ab\"c\n", 3)]
    public void AnUnclosedQuoteIsNamedWithItsLine(string text, int line)
    {
        var e = Fails(text);
        Assert.Equal($"t.csv: line {line}: a quote (\") opens a field that is never closed, so everything after it to the end of the file "
            + "would be one field; close the quote (a quote inside a quoted field is written twice: \"\").", e.Message);
    }

    [Fact]
    public void OneClassIsRefusedNotTrainedAsTwo()
    {
        // Issue 14 item 15: a CSV whose labels are all one class trained a classifier of a phantom second class.
        var data = CsvDataset.Parse("1,2,yes\n3,4,yes\n5,6,yes\n", null, "one.csv");
        var e = Assert.Throws<BackpropException>(() => Backprop.Training.Model.For(data));
        Assert.Equal("one.csv: every label is \"yes\" (one class); a classifier needs examples of at least two classes.", e.Message);
    }

    [Fact]
    public void ClosedQuotesStillRead()
    {
        var d = CsvDataset.Parse("a,b,name\n1,2,\"x \"\"big\"\" one\"\n3,4,\"two\nlines\"\n5,6,plain\n", null, "t.csv");
        Assert.Equal(["plain", "two\nlines", "x \"big\" one"], d.ClassNames);
        Assert.Equal(3, d.Rows);
    }

    [Theory]
    [InlineData("a,b,c\n")]
    [InlineData("\n  a , b ,label\n\n")]
    [InlineData("sepal length;petal width;species\n")]
    public void AHeaderWithNoRowsIsCalledThat(string text)
    {
        var e = Fails(text);
        Assert.Matches(@"^t\.csv: the file has a header \(.+\) and no data rows\.$", e.Message);
        Assert.DoesNotContain("not a number", e.Message);
        // Told it has a header, the same; told it has none, the line is data and its text is not a number.
        Assert.Matches(@"^t\.csv: the file has a header \(.+\) and no data rows\.$", Fails(text, new CsvOptions { Header = HeaderMode.Yes }).Message);
        Assert.Contains("is not a number", Fails(text, new CsvOptions { Header = HeaderMode.No }).Message);
    }

    [Fact]
    public void OneNumericLineIsStillARow()
    {
        var d = CsvDataset.Parse("1,2,3\n", new CsvOptions { LabelColumn = "none" }, "t.csv");
        Assert.Equal(1, d.Rows);
    }

    [Fact]
    public void AFailedStratifiedSplitNamesTheClassesOfOneRow()
    {
        var d = CsvDataset.Parse("a,b,c\n1,2,x\n3,4,y\n5,6,z\n7,8,w\n", null, "t.csv");
        var e = Assert.Throws<BackpropException>(() => d.Split(0.2, 1));
        Assert.Equal("t.csv: 4 row(s) cannot be split into two non-empty parts with fraction 0.2: every class has a single row "
            + "(\"w\", \"x\", \"y\", \"z\"), and the split is stratified: a class's only row is never split off. "
            + "Give each class at least two rows, or do not split this data.", e.Message);
        // Regression data that is too small is not about classes.
        var r = Dataset.Regression([1.0], 1, [2.0], 1, "r");
        Assert.Equal("r: 1 row(s) cannot be split into two non-empty parts with fraction 0.5.", Assert.Throws<BackpropException>(() => r.Split(0.5, 1)).Message);
        // With one class of two rows among single ones, the split works: the single ones stay on the first side.
        var mixed = CsvDataset.Parse("a,c\n1,x\n2,x\n3,y\n4,z\n", null, "t.csv");
        var (rest, part) = mixed.Split(0.2, 1);
        Assert.Equal(3, rest.Rows);
        Assert.Equal(1, part.Rows);
    }
}

/// <summary>Problems inside a model file's sections are reported as the model file's, not blamed on the data read for it.</summary>
public sealed class ModelSectionMessageTests
{
    private static string Iris()
    {
        var data = Dataset.Classification([1, 2, 3, 4, 5, 6], 1, [0, 1, 2, 0, 1, 2], 3, ["1", "2", "3"], "d");
        return ModelFile.Serialize(Backprop.Training.Model.For(data).Build(1));
    }

    [Fact]
    public void ClassesThatAreOneLabelTwiceAreTheModelFilesFault()
    {
        string text = Iris().Replace("\"2\"", "\"1.0\"");
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Deserialize<float>(text, "m.json"));
        Assert.Equal("m.json: field 'pipeline.classes': the classes \"1\" and \"1.0\" are the same label "
            + "(labels are compared as whole numbers where they are ones: 01, 1.0 and 1 are all 1).", e.Message);
        // The CSV reader refuses such given classes too, saying whose they are.
        var c = Assert.Throws<BackpropException>(() => CsvDataset.Parse("1,1\n2,3\n", new CsvOptions { Classes = ["1", "01", "3"] }, "d.csv"));
        Assert.StartsWith("d.csv: the classes given name one label twice: \"1\" and \"01\"", c.Message);
    }

    [Fact]
    public void AClassifierWithAnEmptyClassListIsTheModelFilesFault()
    {
        string text = System.Text.RegularExpressions.Regex.Replace(Iris(), "\"classes\": \\[[^\\]]*\\]", "\"classes\": []");
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Deserialize<float>(text, "m.json"));
        Assert.Equal("m.json: field 'pipeline.classes': a classifier lists its classes, found none.", e.Message);
    }

    [Fact]
    public void AWrongTypeInASectionSaysWhatWasExpected()
    {
        string text = Iris();
        int end = text.LastIndexOf('}');
        text = text[..end].TrimEnd() + ",\n  \"metrics\": {\"training_rows\": \"many\", \"training_loss\": 1}\n}\n";
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Deserialize<float>(text, "m.json"));
        Assert.Equal("m.json: field 'metrics.training_rows': expected a number, found a string.", e.Message);
        var big = Assert.Throws<ModelFormatException>(() => ModelFile.Deserialize<float>(text.Replace("\"many\"", "99999999999"), "m.json"));
        Assert.Equal("m.json: field 'metrics.training_rows': expected a whole number in range.", big.Message);
        var list = Assert.Throws<ModelFormatException>(() => ModelFile.Deserialize<float>(text.Replace("\"many\"", "[1]"), "m.json"));
        Assert.Equal("m.json: field 'metrics.training_rows': expected a number, found an array.", list.Message);
    }

    [Theory]
    [InlineData("\"format\": \"backprop-model\"", "\"format\": \"{0}\"", "format")]
    [InlineData("\"task\": \"classification\"", "\"task\": \"{0}\"", "pipeline.task")]
    [InlineData("\"loss\": \"cross-entropy\"", "\"loss\": \"{0}\"", "loss")]
    [InlineData("\"activation\": \"softmax\"", "\"activation\": \"{0}\"", "layers[0].activation")]
    public void AValueQuotedInAMessageIsShortenedNotEchoedWhole(string from, string to, string field)
    {
        // A 300 MB string as the format used to come back whole in the error line (300 MB on standard error) and took
        // 3.2 GB while the message was built; a message quotes at most the start and the end of what it found.
        string text = Iris();
        Assert.Contains(from, text);
        string hostile = text.Replace(from, string.Format(System.Globalization.CultureInfo.InvariantCulture, to, new string('a', 100_000)));
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Deserialize<float>(hostile, "m.json"));
        Assert.StartsWith($"m.json: field '{field}': ", e.Message);
        Assert.True(e.Message.Length < 400, $"{e.Message.Length} characters: {e.Message[..Math.Min(200, e.Message.Length)]}");
    }
}
