using System.Globalization;
using System.Text;
using System.Text.Json;
using Backprop.Data;
using Backprop.Evaluation;
using Backprop.Nn;
using Backprop.Tests.Cli;
using Backprop.Tests.IO;
using Backprop.Training;

namespace Backprop.Tests.Evaluation;

public sealed class CrossValidationTests : IDisposable
{
    private readonly string _dir = TestData.TempFolder();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Dataset Classes(int[] counts)
    {
        var features = new List<double>();
        var labels = new List<int>();
        for (int c = 0; c < counts.Length; c++)
            for (int i = 0; i < counts[c]; i++)
            {
                features.AddRange([c + 0.01 * i, -c]);
                labels.Add(c);
            }
        return Dataset.Classification([.. features], 2, [.. labels], counts.Length);
    }

    [Fact]
    public void FoldsAreStratifiedBalancedSeededAndCoverEveryRow()
    {
        var data = Classes([10, 7, 3]);
        var folds = CrossValidation.Folds(data, 5, 42);
        Assert.Equal(20, folds.Length);
        Assert.All(Enumerable.Range(0, 5), k => Assert.Equal(4, folds.Count(f => f == k)));
        // Each class over the folds as evenly as it can be: 10 -> 2 each; 7 -> 1 or 2; 3 -> 0 or 1.
        for (int c = 0; c < 3; c++)
        {
            var perFold = Enumerable.Range(0, 5).Select(k => folds.Where((f, r) => f == k && data.Labels[r] == c).Count()).ToArray();
            Assert.True(perFold.Max() - perFold.Min() <= 1, $"class {c}: {string.Join(",", perFold)}");
        }
        Assert.Equal(folds, CrossValidation.Folds(data, 5, 42));
        Assert.NotEqual(folds, CrossValidation.Folds(data, 5, 43));
    }

    [Fact]
    public void TheFoldRuleIsTheDocumentedOne()
    {
        // The documented rule, rebuilt by hand: each class's rows shuffled by one SplitMix64 stream, then dealt in turn.
        var data = Classes([4, 5]);
        var rng = new Backprop.Numerics.SplitMix64(7UL);
        int[] a = [0, 1, 2, 3], b = [4, 5, 6, 7, 8];
        rng.Shuffle<int>(a);
        rng.Shuffle<int>(b);
        var expected = new int[9];
        int i = 0;
        foreach (int r in a.Concat(b))
            expected[r] = i++ % 3;
        Assert.Equal(expected, CrossValidation.Folds(data, 3, 7));
    }

    [Fact]
    public void BadFoldCountsAreRefused()
    {
        var data = Classes([3, 3]);
        Assert.Contains("2 to", Assert.Throws<BackpropException>(() => CrossValidation.Folds(data, 1, 1)).Message);
        Assert.Contains("cannot make 7 folds", Assert.Throws<BackpropException>(() => CrossValidation.Folds(data, 7, 1)).Message);
    }

    [Fact]
    public void EveryRowIsTestedOnceByAModelThatDidNotSeeIt()
    {
        var data = SyntheticData.Create("blobs", seed: 2);
        var seen = new List<(int Fold, int Train, int Test)>();
        var result = CrossValidation.Run(data, 4, 9,
            (k, train) => Model.For(train).Preprocess(PreprocessingKind.Standardize).Dense(8, Activation.Relu).Build<float>(k + 1),
            k => new TrainingOptions { Epochs = 5, Optimizer = Optimizer.Create("adam", 0.01) },
            new Collect(seen), TestContext.Current.CancellationToken);
        Assert.Equal(4, result.Folds.Count);
        Assert.Equal(data.Rows, result.Folds.Sum(f => f.TestRows));
        Assert.All(result.Folds, f => Assert.Equal(data.Rows, f.TrainingRows + f.TestRows));
        Assert.Equal([1, 2, 3, 4], seen.Select(s => s.Fold));
        var accuracy = result["accuracy"]!;
        Assert.Equal(result.Folds.Select(f => ((ClassificationMetrics)f.Metrics).Accuracy), accuracy.Values);
        Assert.Equal(accuracy.Values.Average(), accuracy.Mean, 12);
        double sd = Math.Sqrt(accuracy.Values.Sum(v => (v - accuracy.Mean) * (v - accuracy.Mean)) / 3);
        Assert.Equal(sd, accuracy.StandardDeviation, 12);
        Assert.True(accuracy.Mean > 0.9, result.ToString());
        Assert.Equal(["loss", "accuracy", "macro_precision", "macro_recall", "macro_f1"], result.Summary.Select(m => m.Name));
    }

    private sealed class Collect(List<(int, int, int)> into) : IProgress<FoldResult>
    {
        public void Report(FoldResult value) => into.Add((value.Fold, value.TrainingRows, value.TestRows));
    }

    private string Csv(int rows)
    {
        var inv = CultureInfo.InvariantCulture;
        var rng = new Random(5);
        var csv = new StringBuilder("x1,x2,label\n");
        for (int i = 0; i < rows; i++)
        {
            int c = i % 3;
            csv.Append(inv, $"{c + rng.NextDouble() * 0.6:F4},{rng.NextDouble():F4},k{c}\n");
        }
        string path = Path.Combine(_dir, "three.csv");
        File.WriteAllText(path, csv.ToString());
        return path;
    }

    [Fact]
    public void TheCommandPrintsEachFoldTheMeanAndSdAndWritesTheFolds()
    {
        string data = Csv(90);
        string foldsOut = Path.Combine(_dir, "folds.csv");
        var (code, output, err) = CliTests.Run("cv", "--data", data, "--folds", "3", "--hidden", "8", "--epochs", "20", "--lr", "0.01",
            "--folds-out", foldsOut, "--json");
        Assert.True(code == 0, err);
        var lines = output.Trim().Split('\n').Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(4, lines.Count);
        Assert.Equal([1, 2, 3], lines.Take(3).Select(l => l.GetProperty("fold").GetInt32()));
        Assert.All(lines.Take(3), l => Assert.Equal(30, l.GetProperty("test_rows").GetInt32()));
        var summary = lines[^1];
        Assert.True(summary.GetProperty("summary").GetBoolean());
        double mean = lines.Take(3).Average(l => l.GetProperty("metrics").GetProperty("accuracy").GetDouble());
        Assert.Equal(mean, summary.GetProperty("mean").GetProperty("accuracy").GetDouble(), 12);
        Assert.True(summary.GetProperty("sd").GetProperty("accuracy").GetDouble() >= 0);
        var rows = File.ReadAllLines(foldsOut);
        Assert.Equal("row,fold", rows[0]);
        Assert.Equal(91, rows.Length);
        Assert.Equal(30, rows.Skip(1).Count(r => r.EndsWith(",2", StringComparison.Ordinal)));

        // The same seed gives the same numbers; the text report has a line per fold, the mean and the sd.
        var (code2, text, _) = CliTests.Run("cv", "--data", data, "--folds", "3", "--hidden", "8", "--epochs", "20", "--lr", "0.01");
        Assert.Equal(0, code2);
        Assert.Contains("3-fold cross-validation", text);
        Assert.Contains("stratified by class", text);
        Assert.Matches(@"(?m)^mean\s", text);
        Assert.Matches(@"(?m)^sd\s", text);
        var (_, again, _) = CliTests.Run("cv", "--data", data, "--folds", "3", "--hidden", "8", "--epochs", "20", "--lr", "0.01", "--json");
        Assert.Equal(lines[^1].GetProperty("mean").GetRawText(), JsonDocument.Parse(again.Trim().Split('\n')[^1]).RootElement.GetProperty("mean").GetRawText());
    }

    [Fact]
    public void BadOptionsAreOneErrorLineAndExit2()
    {
        string data = Csv(30);
        var (code, _, err) = CliTests.Run("cv", "--data", data, "--folds", "1");
        Assert.Equal(2, code);
        Assert.StartsWith("error: --folds must be a whole number from 2 to", err);
        (code, _, err) = CliTests.Run("cv", "--data", data, "--folds", "31");
        Assert.Equal(2, code);
        Assert.Contains("--folds 31", err);
        (code, _, err) = CliTests.Run("cv", "--data", data, "--folds-out", data);
        Assert.Equal(2, code);
        Assert.Contains("--folds-out", err);
        Assert.Equal(31, File.ReadAllLines(data).Length); // the input is untouched
    }
}
