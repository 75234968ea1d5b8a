using System.Globalization;
using System.Text;
using Backprop.Cli.Commands;
using Backprop.Cli.Options;
using Backprop.Data;
using Backprop.Evaluation;
using Backprop.IO;

namespace Backprop.Tests.Cli;

/// <summary>
/// cv and tune fit a table's encoding on each fold's (part's) training rows only: the held-out rows' values never reach
/// the medians, categories or missing indicators that encode them. The data is made so that a leak shows: "violet" is
/// on exactly 5 rows (the least a category needs to be kept), so every fold whose test rows hold one of them must fold
/// it into "other", and the sizes' median and missing values differ between the folds.
/// </summary>
public sealed class TableFoldLeakTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("backprop-leak-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private TrainingSource Source()
    {
        var sb = new StringBuilder("color,size,label\n");
        string[] colors = ["red", "green", "blue"];
        for (int i = 0; i < 60; i++)
        {
            string color = i % 12 == 5 ? "violet" : colors[i % 3];
            string size = i % 9 == 4 ? "NA" : (i * 7 % 23).ToString(CultureInfo.InvariantCulture);
            sb.Append(CultureInfo.InvariantCulture, $"{color},{size},{(i % 2 == 0 ? "A" : "B")}\n");
        }
        string path = Path.Combine(_dir, "leak.csv");
        File.WriteAllText(path, sb.ToString());
        return TrainingSource.Read(new DataSettings(path, null, new CsvOptions { LabelColumn = "label" }));
    }

    /// <summary>The encoding a fold's training rows alone give, checked column by column against <paramref name="pipeline"/>.</summary>
    private static void FittedOn(TrainingSource source, IReadOnlyList<int> trainRows, TablePipeline pipeline)
    {
        var table = source.Table!.File.Table;
        var rows = trainRows.Select(i => source.Table.Rows[i]).ToArray();
        string?[] colors = [.. rows.Select(r => table[r, table.IndexOf("color")])];
        string?[] sizes = [.. rows.Select(r => table[r, table.IndexOf("size")])];
        var color = pipeline.Columns.Single(c => c.Name == "color");
        var size = pipeline.Columns.Single(c => c.Name == "size");
        bool violetKept = colors.Count(c => c == "violet") >= 5;
        Assert.Equal(violetKept, color.Categories.Contains("violet"));
        Assert.All(color.Categories, c => Assert.Contains(c, colors));
        var present = sizes.Where(v => v != "NA").Select(v => double.Parse(v!, CultureInfo.InvariantCulture)).Order().ToArray();
        double median = present.Length % 2 == 1 ? present[present.Length / 2] : (present[present.Length / 2 - 1] + present[present.Length / 2]) / 2;
        Assert.Equal(median, size.Median);
        Assert.Equal(sizes.Contains("NA"), size.Indicator);
    }

    [Fact]
    public void Cv_FitsEachFoldsEncodingOnItsTrainingRowsOnly()
    {
        var source = Source();
        var settings = new TrainCommand.Settings { Data = new DataSettings("leak.csv", null, new CsvOptions()), Hidden = "4", Epochs = 2 };
        settings.Validate(checkFiles: false);
        var folds = CrossValidation.Folds(source.Labels, 3, 1);
        var all = source.Table!.Fit(Enumerable.Range(0, source.Rows).ToArray()).Pipeline;
        Assert.Contains("violet", all.Columns.Single(c => c.Name == "color").Categories);
        int differs = 0;
        for (int k = 0; k < 3; k++)
        {
            var (train, test) = CrossValidation.Rows(folds, k);
            var (result, model) = CvCommand.FoldModel(settings, source,
                PreprocessingKind.Standardize, k, train, test);
            Assert.Equal(test.Length, result.TestRows);
            FittedOn(source, train, model.Table!);
            if (!model.Table!.Columns.Single(c => c.Name == "color").Categories.SequenceEqual(all.Columns.Single(c => c.Name == "color").Categories))
                differs++;
        }
        // The check above can tell: some fold's encoding is not the one fitted on every row.
        Assert.True(differs > 0);
    }

    [Fact]
    public void Tune_FitsEachPartsEncodingOnItsTrainingRowsOnly_NotOnItsStopOrValidationRows()
    {
        var source = Source();
        var folds = CrossValidation.Folds(source.Labels, 3, 7);
        var parts = new Dictionary<Dataset, TuneCommand.Part>(ReferenceEqualityComparer.Instance);
        for (int k = 0; k < 3; k++)
        {
            var (rest, validation) = CrossValidation.Rows(folds, k);
            int[] stop = [.. rest.Where((_, i) => i % 10 == 0)];
            int[] train = [.. rest.Where((_, i) => i % 10 != 0)];
            var part = TuneCommand.Prepare(source, parts, train, stop, validation);
            Assert.Equal((train.Length, stop.Length, validation.Length), (part.Train.Rows, part.Stop.Rows, part.Validation.Rows));
            FittedOn(source, train, parts[part.Train].Pipeline!);
        }
    }
}
