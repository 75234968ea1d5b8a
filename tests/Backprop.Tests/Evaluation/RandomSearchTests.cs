using System.Globalization;
using System.Text;
using System.Text.Json;
using Backprop.Cli.Commands;
using Backprop.Data;
using Backprop.Evaluation;
using Backprop.IO;
using Backprop.Nn;
using Backprop.Tests.Cli;
using Backprop.Tests.IO;
using Backprop.Training;

namespace Backprop.Tests.Evaluation;

public sealed class RandomSearchTests : IDisposable
{
    private readonly string _dir = TestData.TempFolder();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly SearchSpace Small = new() { Hidden = [[4], [8], [8, 4]], BatchSizes = [16, 32] };

    private static Model<float> Build(TrialSettings settings, Dataset train, long seed)
    {
        var builder = Model.For(train).Preprocess(PreprocessingKind.Standardize);
        foreach (int units in settings.Hidden)
            builder.Dense(units, settings.Activation);
        return builder.Build<float>(seed);
    }

    private static SearchResult Search(int trials, long seed = 3, bool cancelled = false, TimeSpan? time = null)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        if (cancelled)
            cts.Cancel();
        return RandomSearch.Run(SyntheticData.Create("blobs", seed: 1), new SearchOptions
        {
            Seed = seed, Trials = trials, Time = time, BracketSize = 4, Eta = 2, FirstRungEpochs = 2, Space = Small,
        }, Build, cancellationToken: cts.Token);
    }

    [Fact]
    public void SuccessiveHalvingKeepsTheBetterHalfAndTrainsItTwiceAsLong()
    {
        var result = Search(4);
        // Bracket of 4: rung 1 has 4 configurations at 2 epochs, rung 2 the best 2 at 4, rung 3 the best at up to 8.
        Assert.Equal([4, 2, 1], result.Results.GroupBy(r => r.Rung).Select(g => g.Count()));
        var rung1 = result.Results.Where(r => r.Rung == 1).ToList();
        var kept = rung1.OrderByDescending(r => r.Score).Take(2).Select(r => r.Trial).Order();
        Assert.Equal(kept, result.Results.Where(r => r.Rung == 2).Select(r => r.Trial).Order());
        Assert.All(rung1, r => Assert.Equal(2, r.Epochs));
        Assert.All(result.Results.Where(r => r.Rung == 2), r => Assert.Equal(4, r.Epochs));
        Assert.Equal(4, result.CompleteTrials);
        Assert.Equal("trials", result.StoppedBy);
        Assert.Same(result.Results[^1], result.Best);
        Assert.Equal(result.Best!.Trial, result.Leaderboard[0].Trial);
        Assert.True(result.Best.ValidationAccuracy > 0.8, result.Best.ToString());
    }

    [Fact]
    public void ABaselineIsTrialOneInABracketOfItsOwnAndLeavesTheDrawsAsTheyWere()
    {
        var baseline = new TrialSettings([6], Activation.Tanh, "adam", 0.01, 0, 16);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var data = SyntheticData.Create("blobs", seed: 1);
        var with = RandomSearch.Run(data, new SearchOptions
        {
            Seed = 3, Trials = 5, BracketSize = 4, Eta = 2, FirstRungEpochs = 2, Space = Small, Baseline = baseline, BaselineEpochs = 7,
        }, Build, cancellationToken: cts.Token);
        var without = Search(4);
        // Trial 1 is the baseline, alone in bracket 1, one rung (a last rung: at most its 7 epochs, early-stopped).
        var first = Assert.Single(with.Results, r => r.Bracket == 1);
        Assert.Equal((1, 1, baseline.ToString()), (first.Trial, first.Rung, first.Settings.ToString()));
        Assert.InRange(first.Epochs, 1, 7);
        // The drawn configurations are those of the search without it, one trial number later (their seeds differ, so
        // only the first rung, where every drawn configuration runs, is compared).
        Assert.Equal(without.Results.Where(r => r.Rung == 1).Select(r => (r.Trial + 1, r.Settings.ToString(), r.Epochs)),
            with.Results.Where(r => r.Bracket == 2 && r.Rung == 1).Select(r => (r.Trial, r.Settings.ToString(), r.Epochs)));
        Assert.Equal(5, with.CompleteTrials);
        // The best is never worse than the baseline's score.
        Assert.True(with.Best!.Score >= first.Score, $"{with.Best} against {first}");
        // train's defaults for a file: L2 0.001 from 1,000 training rows, 0.01 below.
        Assert.Equal("--hidden 256 --activation relu --optimizer adam --lr 0.001 --l2 0.001 --batch 32 --dropout 0.3 --input-dropout 0.2",
            TrialSettings.DefaultsFor(1000).ToCommandLine());
        Assert.Equal(0.01, TrialSettings.DefaultsFor(999).L2);
    }

    [Fact]
    public void TheSameSeedAndTrialCountGiveTheSameLeaderboard()
    {
        var a = Search(6);
        var b = Search(6);
        Assert.Equal(a.Results.Select(r => (r.Trial, r.Rung, r.Settings.ToString(), r.Epochs, r.Score)),
            b.Results.Select(r => (r.Trial, r.Rung, r.Settings.ToString(), r.Epochs, r.Score)));
        // 6 trials: a bracket of 4 and one of 2.
        Assert.Equal(6, a.CompleteTrials);
        Assert.NotEqual(a.Results.Select(r => r.Settings.ToString()), Search(6, seed: 4).Results.Select(r => r.Settings.ToString()));
        // The first bracket of a longer search is the same bracket.
        Assert.Equal(a.Results.Where(r => r.Bracket == 1).Select(r => r.Score), Search(8).Results.Where(r => r.Bracket == 1).Select(r => r.Score));
    }

    [Fact]
    public void ACancelledOrTimedOutSearchEndsWithWhatItFinished()
    {
        var cancelled = Search(4, cancelled: true);
        Assert.Equal("cancelled", cancelled.StoppedBy);
        Assert.Empty(cancelled.Results);
        Assert.Null(cancelled.Best);
        Assert.Equal(0, cancelled.CompleteTrials);

        var timedOut = Search(100, time: TimeSpan.FromTicks(1));
        Assert.Equal("time", timedOut.StoppedBy);
        Assert.Equal(0, timedOut.CompleteTrials);
    }

    [Fact]
    public void ATrialTrainsWithItsDropoutAndTheRestOfADrawIsWhatItWasBeforeDropoutWasSearched()
    {
        var space = Small with { DropoutRates = [0.5], InputDropoutRates = [0.25] };
        var models = new List<Model<float>>();
        RandomSearch.Run(SyntheticData.Create("blobs", seed: 1), new SearchOptions
        {
            Seed = 3, Trials = 2, BracketSize = 2, Eta = 2, FirstRungEpochs = 2, Space = space,
        }, (settings, train, seed) =>
        {
            var m = Build(settings, train, seed);
            models.Add(m);
            return m;
        }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.All(models, m => Assert.Equal((0.5, 0.25), (m.Training.Dropout, m.Training.InputDropout)));
        // The dropout rates are drawn last: the other settings of a draw do not depend on them.
        var a = space.Draw(new Backprop.Numerics.SplitMix64(9UL));
        var b = (Small with { DropoutRates = [], InputDropoutRates = [] }).Draw(new Backprop.Numerics.SplitMix64(9UL));
        Assert.Equal(b with { Dropout = 0.5, InputDropout = 0.25, Hidden = a.Hidden }, a);
        Assert.Equal(b.Hidden, a.Hidden);
    }

    [Fact]
    public void DrawnSettingsAreInTheSpace()
    {
        var rng = new Backprop.Numerics.SplitMix64(5UL);
        for (int i = 0; i < 200; i++)
        {
            var t = SearchSpace.Default.Draw(rng);
            Assert.Contains(SearchSpace.Default.Hidden, h => h.SequenceEqual(t.Hidden));
            Assert.Contains(t.BatchSize, SearchSpace.Default.BatchSizes);
            double def = TrainingDefaults.LearningRate(t.Optimizer);
            Assert.InRange(t.LearningRate, def * 0.0999, def * 5.02);
            Assert.True(t.L2 == 0 || t.L2 is >= 9.9e-7 and <= 0.0101, t.ToString());
            Assert.Contains(t.Dropout, SearchSpace.Default.DropoutRates);
            Assert.Contains(t.InputDropout, SearchSpace.Default.InputDropoutRates);
        }
        // Both are searched: over 200 draws each rate of the space comes up.
        rng = new Backprop.Numerics.SplitMix64(5UL);
        var draws = Enumerable.Range(0, 200).Select(_ => SearchSpace.Default.Draw(rng)).ToList();
        Assert.Equal(SearchSpace.Default.DropoutRates.Order(), draws.Select(d => d.Dropout).Distinct().Order());
        Assert.Equal(SearchSpace.Default.InputDropoutRates.Order(), draws.Select(d => d.InputDropout).Distinct().Order());
        Assert.Equal("--hidden 8,4 --activation relu --optimizer adam --lr 0.001 --l2 0 --batch 32 --dropout 0 --input-dropout 0 --epochs 7",
            new TrialSettings([8, 4], Activation.Relu, "adam", 0.001, 0, 32).ToCommandLine(7));
    }

    [Theory]
    [InlineData("60s", 60)]
    [InlineData("90", 90)]
    [InlineData("2m", 120)]
    [InlineData("1m30s", 90)]
    [InlineData("1h", 3600)]
    [InlineData("0.5s", 0.5)]
    public void DurationsAreRead(string text, double seconds) => Assert.Equal(seconds, TuneCommand.ParseDuration(text).TotalSeconds);

    [Theory]
    [InlineData("0s")]
    [InlineData("soon")]
    [InlineData("")]
    [InlineData("5ms")]
    public void BadDurationsAreRefused(string text) =>
        Assert.StartsWith("--time: '", Assert.Throws<BackpropException>(() => TuneCommand.ParseDuration(text)).Message);

    private string Csv(int rows)
    {
        var inv = CultureInfo.InvariantCulture;
        var rng = new Random(8);
        var csv = new StringBuilder("x1,x2,label\n");
        for (int i = 0; i < rows; i++)
        {
            int c = i % 2;
            csv.Append(inv, $"{(c == 1 ? 0.8 : -0.8) + rng.NextDouble() - 0.5:F4},{rng.NextDouble():F4},{(c == 1 ? "b" : "a")}\n");
        }
        string path = Path.Combine(_dir, "d.csv");
        File.WriteAllText(path, csv.ToString());
        return path;
    }

    [Fact]
    public void TheCommandPrintsEveryRungSavesTheBestWithItsSettingsAndReplays()
    {
        string data = Csv(100);
        string model = Path.Combine(_dir, "best.json");
        var (code, output, err) = CliTests.Run("tune", "--data", data, "--trials", "3", "--seed", "5", "--save", model, "--json");
        Assert.True(code == 0, err);
        var lines = output.Trim().Split('\n').Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var summary = lines[^1];
        Assert.True(summary.GetProperty("summary").GetBoolean());
        Assert.Equal(3, summary.GetProperty("trials").GetInt32());
        Assert.Equal("trials", summary.GetProperty("stopped_by").GetString());
        Assert.True(summary.GetProperty("refit").GetBoolean());
        // Trial 1 is train's defaults, alone; then a bracket of 2: both at rung 1, the better one at rung 2.
        Assert.Equal(4, lines.Count - 1);
        Assert.Equal(TrialSettings.DefaultsFor(100).ToString(), lines[0].GetProperty("settings").GetString());
        Assert.Equal(1, lines[0].GetProperty("trial").GetInt32());
        Assert.Contains(lines.Take(4), l => l.GetProperty("best").GetBoolean());
        var saved = ModelFile.Load(model);
        Assert.True(saved.ExtraSections.ContainsKey("tune"));
        var tune = JsonDocument.Parse(saved.ExtraSections["tune"]).RootElement;
        Assert.Equal(summary.GetProperty("best_settings").GetString(), tune.GetProperty("best_settings").GetString());
        Assert.StartsWith("--hidden ", tune.GetProperty("best_settings").GetString());

        var (code2, again, _) = CliTests.Run("tune", "--data", data, "--trials", "3", "--seed", "5", "--json");
        Assert.Equal(0, code2);
        var summary2 = JsonDocument.Parse(again.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal(summary.GetProperty("best_settings").GetString(), summary2.GetProperty("best_settings").GetString());
        Assert.Equal(summary.GetProperty("best_score").GetDouble(), summary2.GetProperty("best_score").GetDouble());
    }

    [Fact]
    public void BadOptionsAreOneErrorLineAndExit2()
    {
        string data = Csv(30);
        foreach (var (args, expected) in new (string[], string)[]
                 {
                     ([], "error: Give --time DURATION"),
                     (["--time", "soon"], "error: --time: 'soon' is not a duration"),
                     (["--trials", "0"], "error: --trials must be at least 1"),
                     (["--trials", "2", "--folds", "1"], "error: --folds must be 0"),
                     (["--trials", "2", "--save", data], "error: --save"),
                 })
        {
            var (code, _, err) = CliTests.Run(["tune", "--data", data, .. args]);
            Assert.True(code == 2, string.Join(" ", args) + ": " + err);
            Assert.StartsWith(expected, err);
            Assert.Single(err.Trim().Split('\n'));
        }
        Assert.Equal(31, File.ReadAllLines(data).Length);
    }
}
