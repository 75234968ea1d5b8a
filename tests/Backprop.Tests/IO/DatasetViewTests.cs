using Backprop.Data;
using Backprop.Training;

namespace Backprop.Tests.IO;

/// <summary>
/// Subsets and split parts share their parent's rows (a row index each, no copy of the values), and everything that
/// reads them (features, preprocessing, training, evaluation, prediction) sees exactly what a copy would hold.
/// </summary>
public sealed class DatasetViewTests
{
    private static Dataset Data(int rows = 60)
    {
        var rng = new Random(5);
        var x = new double[rows * 3];
        for (int i = 0; i < x.Length; i++)
            x[i] = rng.NextDouble() * 10 - 3;
        var y = Enumerable.Range(0, rows).Select(i => i % 3).ToArray();
        return Dataset.Classification(x, 3, y, 3, ["a", "b", "c"], "d", ["f0", "f1", "f2"], "label");
    }

    /// <summary>The same rows as a dataset of its own (a copy of the values).</summary>
    private static Dataset Copy(Dataset d) =>
        Dataset.Classification(d.Features.ToArray(), d.Inputs, d.Labels.ToArray(), d.ClassCount, d.ClassNames, d.Name, d.FeatureNames, d.TargetName);

    [Fact]
    public void SplitPartsShareTheRowsAndReadAsCopies()
    {
        var all = Data();
        var (train, test) = all.Split(0.25, 9);
        Assert.False(all.IsView);
        Assert.True(train.IsView);
        Assert.True(test.IsView);
        var (ti, hi) = DataSplit.StratifiedIndices(all, 0.25, 9);
        Assert.Equal(ti.Length, train.Rows);
        for (int i = 0; i < ti.Length; i++)
            Assert.Equal(all.FeatureRow(ti[i]).ToArray(), train.FeatureRow(i).ToArray());
        Assert.Equal(ti.SelectMany(r => all.FeatureRow(r).ToArray()), train.Features.ToArray());
        Assert.Equal(hi.Select(r => all.Labels[r]), test.Labels.ToArray());
        // A subset of a subset maps to the parent's rows.
        var sub = train.Subset([2, 0]);
        Assert.Equal(all.FeatureRow(ti[2]).ToArray(), sub.FeatureRow(0).ToArray());
        var buffer = new double[6];
        sub.CopyFeatures(0, 2, buffer);
        Assert.Equal(all.FeatureRow(ti[2]).ToArray().Concat(all.FeatureRow(ti[0]).ToArray()), buffer);
        Assert.Throws<ArgumentOutOfRangeException>(() => sub.FeatureRow(2));
    }

    [Theory]
    [InlineData(PreprocessingKind.Standardize)]
    [InlineData(PreprocessingKind.MinMax)]
    [InlineData(PreprocessingKind.Pixels)]
    public void PreprocessingOfAViewIsThatOfACopyBitForBit(PreprocessingKind kind)
    {
        var (train, test) = Data().Split(0.3, 4);
        var onView = Preprocessing.Fit(train, kind);
        var onCopy = Preprocessing.Fit(Copy(train), kind);
        Assert.Equal(onCopy.Offset, onView.Offset);
        Assert.Equal(onCopy.Scale, onView.Scale);
        Assert.Equal(onCopy.Apply(Copy(test)).Features.ToArray(), onView.Apply(test).Features.ToArray());
    }

    [Fact]
    public void TrainingEvaluationAndPredictionOnViewsEqualThoseOnCopies()
    {
        var (train, test) = Data(90).Split(0.2, 11);
        Model<float> Build() => Model.For(train).Preprocess(PreprocessingKind.Standardize).Dense(8, Backprop.Nn.Activation.Tanh).Build(3);
        var options = new TrainingOptions { Epochs = 4, BatchSize = 8, ValidationFraction = 0.25 };
        var onViews = Build();
        var onCopies = Build();
        onViews.Fit(train, options, TestContext.Current.CancellationToken);
        onCopies.Fit(Copy(train), options, TestContext.Current.CancellationToken);
        Assert.Equal(onCopies.History.Select(h => (h.TrainingLoss, h.ValidationLoss)), onViews.History.Select(h => (h.TrainingLoss, h.ValidationLoss)));
        for (int l = 0; l < onViews.Network.Layers.Count; l++)
            Assert.Equal(onCopies.Network.Layers[l].Weights.ToArray(), onViews.Network.Layers[l].Weights.ToArray());
        Assert.Equal(onCopies.Evaluate(Copy(test)).Loss, onViews.Evaluate(test).Loss);
        Assert.Equal(onCopies.PredictAll(Copy(test)), onViews.PredictAll(test));
        Assert.Equal(onCopies.PredictClasses(Copy(test)), onViews.PredictClasses(test));
    }
}
