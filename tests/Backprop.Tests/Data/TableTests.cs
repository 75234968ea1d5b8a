using System.Text;
using Backprop.Data;
using Backprop.IO;
using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Tests.Data;

/// <summary>Tables: kind inference, the fitted encoding, the model that owns it, its file, the JSON reader.</summary>
public sealed class TableTests
{
    private static RawTable Csv(string text, CsvOptions? options = null)
    {
        using var s = new MemoryStream(Encoding.UTF8.GetBytes(text));
        return TableFiles.ReadRaw(s, "t.csv", options ?? new CsvOptions());
    }

    private static RawTable Json(string text)
    {
        using var s = new MemoryStream(Encoding.UTF8.GetBytes(text));
        return TableFiles.ReadRaw(s, "t.json", new CsvOptions());
    }

    private static string Column(Func<int, string> value, int rows = 40) =>
        string.Concat(Enumerable.Range(0, rows).Select(i => value(i) + "\n"));

    private static ColumnProfile ProfileOf(Func<int, string> value, int rows = 40)
    {
        var table = Csv("h,y\n" + string.Concat(Enumerable.Range(0, rows).Select(i => $"{value(i)},{i % 2}\n")));
        return TableInference.Profile(table, new TableSettings(), label: 1)[0];
    }

    [Fact]
    public void Inference_FollowsTheWrittenRules()
    {
        Assert.Equal(ColumnKind.Numeric, ProfileOf(i => (i * 0.5).ToString(System.Globalization.CultureInfo.InvariantCulture)).Kind);
        // 3 or 4 distinct whole numbers are codes; 5 are a number.
        Assert.Equal(ColumnKind.Categorical, ProfileOf(i => (1 + i % 3).ToString()).Kind);
        Assert.Equal(ColumnKind.Numeric, ProfileOf(i => (1 + i % 5).ToString()).Kind);
        Assert.Equal(ColumnKind.Date, ProfileOf(i => $"2001-01-{1 + i % 28:00}").Kind);
        Assert.Equal(ColumnKind.Boolean, ProfileOf(i => i % 2 == 0 ? "yes" : "No").Kind);
        Assert.Equal(ColumnKind.Text, ProfileOf(i => $"name {i}").Kind);
        Assert.Equal(ColumnKind.Categorical, ProfileOf(i => i % 2 == 0 ? "left" : "right").Kind);
        Assert.Equal(ColumnKind.Ignored, ProfileOf(_ => "NA").Kind);
        // One value in 40 that is not a number: still numeric (at least 95%), that value counted.
        var mostly = ProfileOf(i => i == 3 ? "oops" : (i * 1.5).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(ColumnKind.Numeric, mostly.Kind);
        Assert.Equal(1, mostly.Unparsable);
        // The usual missing spellings.
        var missing = ProfileOf(i => (i % 8) switch { 0 => "", 1 => "NA", 2 => "n/a", 3 => "NaN", 4 => "null", 5 => "?", 6 => ".", _ => "1.5" });
        Assert.Equal(35, missing.Missing);
    }

    [Fact]
    public void Pipeline_IsFittedOnTheTrainingRowsOnly()
    {
        var table = Csv("x,c,y\n1,a,0\n2,a,1\n3,b,0\nNA,a,1\n100,z,0\n");
        var profiles = new[]
        {
            new ColumnProfile(0, "x", ColumnKind.Numeric, 0, 0, 0, false, ""),
            new ColumnProfile(1, "c", ColumnKind.Categorical, 0, 0, 0, false, ""),
        };
        var p = TablePipeline.Fit(table, profiles, [0, 1, 2, 3], new TableSettings { MinCategoryRows = 2 });
        Assert.Equal(2, p.Columns[0].Median); // of 1, 2, 3 (row 4's 100 is not a training row)
        Assert.True(p.Columns[0].Indicator);
        Assert.Equal(["a"], p.Columns[1].Categories); // b is rare: other
        Assert.True(p.Columns[1].Other);
        Assert.Equal(["x", "x (missing)", "c=a", "c=(other)"], p.FeatureNames);
        var counts = new EncodeCounts();
        var row = new double[p.Width];
        p.Encode(j => j == 0 ? "?" : "never seen", row, counts);
        Assert.Equal([2, 1, 0, 1], row);
        Assert.Equal(1, counts.Unseen["c"]);
        p.Encode(j => j == 0 ? "seven" : "a", row, counts);
        Assert.Equal([2, 1, 1, 0], row);
        Assert.Equal(1, counts.Unparsable["x"]);
    }

    [Fact]
    public void Json_ArrayAndLines_ReadAsTheCsv()
    {
        var csv = Csv("name,n,when,ok\nab,1.5,2001-02-03,true\n,2,,false\n");
        var array = Json("[{\"name\":\"ab\",\"n\":1.5,\"when\":\"2001-02-03\",\"ok\":true},{\"name\":null,\"n\":2,\"ok\":false}]");
        var lines = Json("{\"name\":\"ab\",\"n\":1.5,\"when\":\"2001-02-03\",\"ok\":true}\n\n{\"n\":2,\"ok\":false,\"name\":null}\n");
        foreach (var t in new[] { array, lines })
        {
            Assert.Equal(csv.ColumnNames, t.ColumnNames);
            for (int r = 0; r < 2; r++)
                for (int c = 0; c < 4; c++)
                    Assert.Equal(TableInference.IsMissing(csv[r, c], TableSettings.DefaultMissing) ? null : csv[r, c], t[r, c]);
        }
    }

    [Theory]
    [InlineData("[1, 2]", "record 1: expected an object")]
    [InlineData("[{\"a\":1,\"a\":2}]", "the key \"a\" appears twice")]
    [InlineData("[{\"a\":1}", "not valid JSON")]
    [InlineData("{\"a\":1}\n{oops}\n", "line 2: not a JSON record")]
    [InlineData("[]", "no records")]
    public void Json_BadFiles_OneClearError(string text, string expected)
    {
        var e = Assert.Throws<BackpropException>(() => Json(text));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("t.json: ", e.Message);
    }

    [Fact]
    public void Json_Fuzzed_OnlyClearErrorsAndBoundedMemory()
    {
        string seed = "[{\"a\":1.5,\"b\":\"x\",\"c\":null},{\"a\":-2,\"b\":\"y\",\"c\":[1,{\"d\":2}]},{\"b\":true}]";
        var rng = new Random(16);
        for (int i = 0; i < 3000; i++)
        {
            var bytes = Encoding.UTF8.GetBytes(seed).ToList();
            for (int k = rng.Next(1, 6); k > 0; k--)
            {
                int at = rng.Next(bytes.Count);
                switch (rng.Next(3))
                {
                    case 0: bytes[at] = (byte)rng.Next(256); break;
                    case 1: bytes.RemoveAt(at); break;
                    default: bytes.Insert(at, "[{}\":,0\n"u8[rng.Next(8)]); break;
                }
            }
            using var s = new MemoryStream([.. bytes]);
            try
            {
                TableFiles.ReadRaw(s, "f.json", new CsvOptions { MaxValues = 8 });
            }
            catch (BackpropException)
            {
            }
        }
        // A file past the limit stops at the limit.
        string big = "[" + string.Join(",", Enumerable.Range(0, 100).Select(i => $"{{\"a\":{i}}}")) + "]";
        var e = Assert.Throws<BackpropException>(() => TableFiles.ReadRaw(new MemoryStream(Encoding.UTF8.GetBytes(big)), "big.json", new CsvOptions { MaxValues = 50 }));
        Assert.Contains("more than the 50 feature values", e.Message);
    }

    [Fact]
    public void CsvTable_Fuzzed_OnlyClearErrorsAndBoundedMemory()
    {
        string seed = "name,n,when,ok\nab,1.5,2001-02-03,true\n\"c,d\",NA,,false\n x ,2,2001-02-04,yes\n";
        var rng = new Random(61);
        for (int i = 0; i < 3000; i++)
        {
            var chars = seed.ToList();
            for (int k = rng.Next(1, 6); k > 0; k--)
            {
                int at = rng.Next(chars.Count);
                switch (rng.Next(3))
                {
                    case 0: chars[at] = (char)rng.Next(1, 256); break;
                    case 1: chars.RemoveAt(at); break;
                    default: chars.Insert(at, ",\n\";\t\0 "[rng.Next(7)]); break;
                }
            }
            using var s = new MemoryStream(Encoding.UTF8.GetBytes(new string([.. chars])));
            try
            {
                var table = TableFiles.ReadRaw(s, "f.csv", new CsvOptions { MaxValues = 12 });
                Assert.True((long)table.Rows * table.Columns <= 12);
                TableFiles.Profile(table, new CsvOptions());
            }
            catch (BackpropException)
            {
            }
        }
    }

    [Fact]
    public void NumericCsv_TakesTheNumericReader_SameDatasetAsBefore()
    {
        using var dir = new Backprop.Tests.IO.TempDirectory();
        string path = Path.Combine(dir.Path, "n.csv");
        File.WriteAllText(path, "a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n");
        var (numeric, table) = TableFiles.Read(path, null, new CsvOptions());
        Assert.Null(table);
        var before = DataFiles.Read(path);
        Assert.Equal(before.Data.Features.ToArray(), numeric!.Data.Features.ToArray());
        Assert.Equivalent(before.Schema, numeric.Schema, strict: true);
        // Kinds given: read as a table.
        var (n2, t2) = TableFiles.Read(path, null, new CsvOptions { Categorical = ["a"] });
        Assert.Null(n2);
        Assert.Equal(ColumnKind.Categorical, t2!.Profiles[0].Kind);
    }

    internal static (Model<float> Model, PreparedTable Prepared) TrainOnTable()
    {
        var sb = new StringBuilder("color,size,when,y\n");
        for (int i = 0; i < 60; i++)
            sb.Append($"{(i % 3 == 0 ? "red" : i % 3 == 1 ? "green" : "blue")},{(i % 7 == 0 ? "" : (i % 10).ToString())},{2000 + i % 5}-0{1 + i % 9}-1{i % 10},{(i % 3 == 0 ? "A" : "B")}\n");
        var table = Csv(sb.ToString());
        var options = new CsvOptions { LabelColumn = "y" };
        var file = TableFiles.Profile(table, options);
        var prepared = TableFiles.Prepare(file, options, 0.25, 1);
        var (train, _) = prepared.Data.Split(0.25, 1);
        var model = Model.For(train).WithSchema(prepared.Schema).WithTable(prepared.Pipeline).Preprocess(PreprocessingKind.Standardize)
            .Dense(8).Build(seed: 1);
        model.Fit(train, new TrainingOptions { Epochs = 20 });
        return (model, prepared);
    }

    [Fact]
    public void Model_PredictsRawStringsAndByName_TheSameAfterSaving()
    {
        var (model, _) = TrainOnTable();
        string?[] row = ["green", null, "2003-04-15"];
        var byName = new Dictionary<string, string> { ["when"] = "2003-04-15", ["color"] = "green", ["unused"] = "x" };
        var a = model.Predict(row);
        Assert.Equal(a, model.Predict(byName));
        using var dir = new Backprop.Tests.IO.TempDirectory();
        string path = Path.Combine(dir.Path, "m.json");
        model.Save(path);
        var loaded = ModelFile.Load(path);
        Assert.NotNull(loaded.Table);
        Assert.Equal(a, loaded.Predict(row));
        Assert.Equal(model.PredictClass(byName), loaded.PredictClass(byName));
        // An unseen category never throws: it is counted.
        var counts = new EncodeCounts();
        loaded.Predict(["purple", "x", "never"], counts);
        Assert.Equal(1, counts.Unseen["color"]);
        Assert.Equal(2, counts.Unparsable.Count);
        Assert.Throws<BackpropException>(() => loaded.Predict(["only one"]));
    }

    [Fact]
    public void ModelFile_TableSection_IsChecked()
    {
        var (model, _) = TrainOnTable();
        string text = ModelFile.Serialize(model);
        Assert.Contains("\"version\": 3", text);
        var bad = text.Replace("\"kind\": \"date\"", "\"kind\": \"colour\"");
        var e = Assert.Throws<ModelFormatException>(() => ModelFile.Deserialize<float>(bad, "m.json"));
        Assert.Contains("pipeline.table.columns[2].kind", e.Message);
    }

    [Fact]
    public void UnscaleOutputs_MapsStandardisedPredictionsBack()
    {
        var model = Model.Regressor(2).Dense(3).Build(seed: 2);
        var before = model.Predict(0.5, -1)[0];
        model.UnscaleOutputs([10], [4]);
        Assert.Equal(before * 4 + 10, model.Predict(0.5, -1)[0], 4);
    }

    [Fact]
    public void Prepare_SkipsRowsWithoutALabel_AndRefusesOneClass()
    {
        var options = new CsvOptions { LabelColumn = "y" };
        var file = TableFiles.Profile(Csv("c,y\na,1\nb,\nc,2\na,NA\nb,1\n"), options with { Task = TaskKind.Classification });
        var prepared = TableFiles.Prepare(file, options with { Task = TaskKind.Classification }, 0, 1);
        Assert.Equal(3, prepared.Data.Rows);
        Assert.Equal(2, prepared.Counts.SkippedRows);
        var one = TableFiles.Profile(Csv("c,y\na,k\nb,k\n", new CsvOptions { Header = HeaderMode.Yes }), options);
        var e = Assert.Throws<BackpropException>(() => TableFiles.Prepare(one, options, 0, 1));
        Assert.Contains("has one class", e.Message);
    }
}
