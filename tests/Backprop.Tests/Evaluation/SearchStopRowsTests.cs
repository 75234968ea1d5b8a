using Backprop.Data;
using Backprop.Evaluation;
using Backprop.Training;

namespace Backprop.Tests.Evaluation;

/// <summary>
/// The last rung of a bracket chooses its epoch (early stopping) on rows of its own, not on the rows that score it: a
/// score taken on the rows that picked the epoch is the best of many looks at them, biased low.
/// </summary>
public sealed class SearchStopRowsTests
{
    [Fact]
    public void TheLastRungStopsOnItsOwnRows_AndIsScoredOnTheValidationRows()
    {
        var data = SyntheticData.Create("moons", 240, seed: 2);
        SearchPart? part = null;
        Model<float>? best = null;
        var options = new SearchOptions
        {
            Seed = 5, Trials = 1, BracketSize = 1, FirstRungEpochs = 30,
            Space = new SearchSpace { Hidden = [[8]], BatchSizes = [32] },
        };
        var result = RandomSearch.Run(data, options,
            (train, stop, validation) =>
            {
                // Three disjoint sets of rows, together every row.
                Assert.Empty(train.Intersect(stop));
                Assert.Empty(train.Intersect(validation));
                Assert.Empty(stop.Intersect(validation));
                Assert.Equal(data.Rows, train.Count + stop.Count + validation.Count);
                Assert.NotEmpty(stop);
                part = new SearchPart(data.Subset([.. train]), data.Subset([.. stop]), data.Subset([.. validation]));
                return part;
            },
            (settings, train, seed) =>
            {
                var builder = Model.For(train).Preprocess(PreprocessingKind.Standardize);
                foreach (int units in settings.Hidden)
                    builder.Dense(units, settings.Activation);
                return builder.Build<float>(seed);
            },
            newBest: (_, model) => best = model, cancellationToken: TestContext.Current.CancellationToken);
        Assert.NotNull(result.Best);
        Assert.NotNull(best);
        Assert.NotNull(part);
        // The one configuration's only rung is its last: it early-stopped with the best epoch's weights kept. The
        // validation loss its history recorded is the loss on the stop rows (the weights it kept are that epoch's) ...
        double watched = best.History.Where(h => h.ValidationLoss is not null).Min(h => h.ValidationLoss!.Value);
        Assert.Equal(best.Evaluate(part.Stop).Loss, watched, 1e-5);
        // ... and the score is the loss on the validation rows, which are another set of rows.
        Assert.Equal(-best.Evaluate(part.Validation).Loss, result.Best.Score, 1e-9);
        Assert.NotEqual(best.Evaluate(part.Validation).Loss, watched, 1e-5);
    }
}
