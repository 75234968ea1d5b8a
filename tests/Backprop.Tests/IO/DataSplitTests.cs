using Backprop.Data;
using Backprop.Numerics;
using Backprop.IO;

namespace Backprop.Tests.IO;

public sealed class DataSplitTests
{
    [Fact]
    public void SplitMix64MatchesTheReferenceStream()
    {
        // splitmix64.c (Vigna) from state 0: the published first outputs.
        var rng = new SplitMix64(0UL);
        Assert.Equal(0xE220A8397B1DCDAFUL, rng.NextUInt64());
        Assert.Equal(0x6E789E6AA1B965F4UL, rng.NextUInt64());
        Assert.Equal(0x06C45D188009454FUL, rng.NextUInt64());
    }

    [Fact]
    public void NextIntStaysInRangeAndCoversIt()
    {
        var rng = new SplitMix64(42UL);
        var seen = new int[7];
        for (int i = 0; i < 7000; i++)
            seen[rng.NextInt(7)]++;
        // Each count is binomial(7000, 1/7): mean 1000, sd ~29; 850..1150 is > 5 sd.
        Assert.All(seen, c => Assert.InRange(c, 850, 1150));
        Assert.Equal(0, new SplitMix64(1).NextInt(1));
    }

    private static Dataset Labelled(int[] labels, int classes) =>
        Dataset.Classification(labels.Select(l => (double)l).ToArray(), 1, labels, classes);

    [Fact]
    public void StratifiedSplitKeepsClassProportions()
    {
        // 50 / 30 / 20 rows of classes 0 / 1 / 2, interleaved.
        var labels = Enumerable.Range(0, 100).Select(i => i % 10 < 5 ? 0 : i % 10 < 8 ? 1 : 2).ToArray();
        var data = Labelled(labels, 3);
        var (train, test) = DataSplit.StratifiedIndices(data, 0.3, seed: 7);
        // round(50*0.3)=15, round(30*0.3)=9, round(20*0.3)=6.
        Assert.Equal([15, 9, 6], data.Subset(test).ClassCounts());
        Assert.Equal([35, 21, 14], data.Subset(train).ClassCounts());
        Assert.Equal(Enumerable.Range(0, 100), train.Concat(test).Order());
        Assert.True(train.SequenceEqual(train.Order()) && test.SequenceEqual(test.Order()));
    }

    [Fact]
    public void SeedDecidesTheSplit()
    {
        var data = Labelled(Enumerable.Range(0, 200).Select(i => i % 4).ToArray(), 4);
        var a = DataSplit.StratifiedIndices(data, 0.25, 1);
        var b = DataSplit.StratifiedIndices(data, 0.25, 1);
        var c = DataSplit.StratifiedIndices(data, 0.25, 2);
        Assert.Equal(a.HeldOut, b.HeldOut);
        Assert.NotEqual(a.HeldOut, c.HeldOut);
    }

    [Fact]
    public void SmallClassesKeepARowOnEachSide()
    {
        var data = Labelled([0, 0, 1, 1, 1, 1, 1, 1, 1, 1], 2);
        var (train, test) = data.Split(0.1, 3);
        Assert.Equal([1, 1], test.ClassCounts());
        Assert.Equal([1, 7], train.ClassCounts());
    }

    [Fact]
    public void RegressionSplitsTheWholeSet()
    {
        var data = Dataset.Regression(new double[10], 1, Enumerable.Range(0, 10).Select(i => (double)i).ToArray());
        var (train, test) = data.Split(0.2, 9);
        Assert.Equal(2, test.Rows);
        Assert.Equal(8, train.Rows);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (double)i), train.Targets.ToArray().Concat(test.Targets.ToArray()).Order());
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void BadFractionsAreRejected(double f) =>
        Assert.StartsWith("The fraction to split off must be between 0 and 1",
            Assert.Throws<BackpropException>(() => Labelled([0, 1, 0, 1], 2).Split(f, 1)).Message);

    [Fact]
    public void IrisSplit7030()
    {
        var iris = CsvDataset.Read(TestData.Require("iris", "iris.data"));
        var (train, test) = iris.Split(0.3, 42);
        Assert.Equal([15, 15, 15], test.ClassCounts());
        Assert.Equal([35, 35, 35], train.ClassCounts());
    }
}
