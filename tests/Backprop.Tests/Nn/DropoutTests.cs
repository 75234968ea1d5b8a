using Backprop.Data;
using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Tests.Nn;

/// <summary>
/// Inverted dropout (<see cref="Dropout"/>, <see cref="Network{T}.ForwardTraining"/>): the gradient through a fixed
/// mask is the finite differences' gradient, the mask of a row depends on the row and not on where it is computed,
/// zero rates are the plain pass, and prediction never drops.
/// </summary>
public sealed class DropoutTests
{
    private static Dropout Masks(double input, double hidden, long[] rows, ulong key = 12345)
    {
        var d = new Dropout(input, hidden) { Key = key };
        rows.CopyTo(d.RowIds(rows.Length), 0);
        return d;
    }

    private static double LossWith(Network<double> net, double[] x, double[] y, int rows, Dropout d)
    {
        net.ForwardTraining(x, rows, d);
        return net.ComputeLoss(y);
    }

    [Theory]
    [InlineData(Activation.Relu, 0.0, 0.5)]
    [InlineData(Activation.Tanh, 0.3, 0.4)]
    [InlineData(Activation.Sigmoid, 0.2, 0.0)]
    public void TheGradientThroughAFixedMaskIsTheFiniteDifferencesGradient(Activation hidden, double inputRate, double hiddenRate)
    {
        const int inputs = 5, rows = 6;
        var net = Network<double>.Create(inputs,
            [new LayerSpec(7, hidden), new LayerSpec(6, hidden), new LayerSpec(3, Activation.Softmax)], Loss.CrossEntropy, seed: 3);
        var rng = new Random(4);
        // Non-zero biases: a relu unit whose inputs are all dropped would sit at z = 0 exactly, on its kink, where
        // finite differences see half a slope.
        foreach (var layer in net.Layers)
            for (int i = 0; i < layer.BiasArray.Length; i++)
                layer.BiasArray[i] = rng.NextDouble() - 0.5;
        var x = Enumerable.Range(0, rows * inputs).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var y = new double[rows * 3];
        for (int r = 0; r < rows; r++)
            y[r * 3 + r % 3] = 1;
        var d = Masks(inputRate, hiddenRate, [40, 3, 17, 8, 99, 21]);

        net.ForwardTraining(x, rows, d);
        // The masks really drop something (else the test would check the plain pass only).
        if (inputRate > 0)
            Assert.Contains(0.0, net.Input.ToArray());
        net.Backward(y);
        var analytic = net.Layers.SelectMany(l => l.WeightGradients.ToArray().Concat(l.BiasGradients.ToArray())).ToArray();

        var numeric = new List<double>();
        const double h = 1e-6;
        foreach (var layer in net.Layers)
            foreach (var values in new[] { layer.WeightArray, layer.BiasArray })
                for (int i = 0; i < values.Length; i++)
                {
                    double w = values[i];
                    values[i] = w + h;
                    double up = LossWith(net, x, y, rows, d);
                    values[i] = w - h;
                    double down = LossWith(net, x, y, rows, d);
                    values[i] = w;
                    numeric.Add((up - down) / (2 * h));
                }
        Assert.Equal(numeric.Count, analytic.Length);
        for (int i = 0; i < analytic.Length; i++)
            Assert.True(Math.Abs(analytic[i] - numeric[i]) <= 1e-6 + 1e-5 * Math.Abs(numeric[i]),
                $"parameter {i}: back-propagation {analytic[i]:G9}, finite differences {numeric[i]:G9}");
        // With the dropped units the gradient differs from the plain pass's (the mask is in the backward pass too).
        net.Forward(x, rows);
        net.Backward(y);
        var plain = net.Layers.SelectMany(l => l.WeightGradients.ToArray().Concat(l.BiasGradients.ToArray())).ToArray();
        Assert.NotEqual(plain, analytic);
    }

    [Fact]
    public void ARowsMaskDependsOnTheRowNotOnItsPlaceInTheBatch()
    {
        var net = Network<double>.Create(4, [new LayerSpec(32, Activation.Relu), new LayerSpec(2, Activation.Softmax)], Loss.CrossEntropy, seed: 1);
        var rng = new Random(2);
        var x = Enumerable.Range(0, 3 * 4).Select(_ => rng.NextDouble() + 0.5).ToArray();
        long[] ids = [7, 1000003, 42];
        net.ForwardTraining(x, 3, Masks(0.5, 0.5, ids));
        var input = net.Input.ToArray();
        var output = net.Output.ToArray();

        // The same rows in the opposite order: each row keeps its own mask, so each row's values are its own.
        var reversed = new double[x.Length];
        for (int r = 0; r < 3; r++)
            x.AsSpan((2 - r) * 4, 4).CopyTo(reversed.AsSpan(r * 4));
        net.ForwardTraining(reversed, 3, Masks(0.5, 0.5, [42, 1000003, 7]));
        for (int r = 0; r < 3; r++)
        {
            Assert.Equal(input.AsSpan(r * 4, 4).ToArray(), net.Input.Slice((2 - r) * 4, 4).ToArray());
            Assert.Equal(output.AsSpan(r * 2, 2).ToArray(), net.Output.Slice((2 - r) * 2, 2).ToArray());
        }
        // Another key (epoch) gives other masks.
        net.ForwardTraining(x, 3, Masks(0.5, 0.5, ids, key: 54321));
        Assert.NotEqual(input, net.Input.ToArray());
    }

    [Fact]
    public void TheDroppedFractionIsTheRateAndKeptValuesAreScaled()
    {
        const int rows = 200, units = 50;
        var net = Network<double>.Create(units, [new LayerSpec(2, Activation.Softmax)], Loss.CrossEntropy, seed: 1);
        var x = Enumerable.Repeat(1.0, rows * units).ToArray();
        net.ForwardTraining(x, rows, Masks(0.3, 0, Enumerable.Range(0, rows).Select(i => (long)i).ToArray()));
        var input = net.Input.ToArray();
        double dropped = input.Count(v => v == 0) / (double)input.Length;
        Assert.InRange(dropped, 0.28, 0.32);
        Assert.All(input.Where(v => v != 0), v => Assert.Equal(1 / 0.7, v, 12));
        Assert.Equal(dropped, Enumerable.Range(0, rows * units).Count(i => !Dropout.Keeps(12345, i / units, -1, i % units, 0.3)) / (double)(rows * units));
    }

    [Fact]
    public void ZeroRatesAreThePlainPassBitForBitAndPredictionNeverDrops()
    {
        var net = Network<float>.Create(6, [new LayerSpec(16, Activation.Relu), new LayerSpec(3, Activation.Softmax)], Loss.CrossEntropy, seed: 5);
        var rng = new Random(3);
        var x = Enumerable.Range(0, 4 * 6).Select(_ => (float)rng.NextDouble()).ToArray();
        var plain = net.Forward(x, 4).ToArray();
        Assert.Equal(plain, net.ForwardTraining(x, 4, Masks(0, 0, [0, 1, 2, 3])).ToArray());
        Assert.Equal(plain, net.ForwardTraining(x, 4, null).ToArray());
        Assert.NotEqual(plain, net.ForwardTraining(x, 4, Masks(0.2, 0.5, [0, 1, 2, 3])).ToArray());
        // After a dropped pass, the plain pass and the thread-safe prediction are the network's own.
        Assert.Equal(plain, net.Forward(x, 4).ToArray());
        var predicted = new float[4 * 3];
        net.Predict(x, 4, predicted);
        Assert.Equal(plain, predicted);
    }

    [Fact]
    public void RatesOutsideZeroToOneAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(0, -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(0, double.NaN));
        var data = SyntheticData.TwoMoons(40, 0.1, seed: 1);
        var model = Model.Classifier(2, 2).Dense(4, Activation.Tanh).Build(1);
        var e = Assert.Throws<BackpropException>(() => model.Fit(data, new TrainingOptions { Epochs = 1, Dropout = 1 }, TestContext.Current.CancellationToken));
        Assert.Contains("dropout rate must be in [0, 1)", e.Message);
        e = Assert.Throws<BackpropException>(() => model.Fit(data, new TrainingOptions { Epochs = 1, InputDropout = -0.5 }, TestContext.Current.CancellationToken));
        Assert.Contains("input dropout rate", e.Message);
    }

    [Fact]
    public void TrainingWithDropoutRecordsItAndDiffersFromTrainingWithout()
    {
        var data = SyntheticData.TwoMoons(120, 0.15, seed: 2);
        Model<float> Train(double rate)
        {
            var m = Model.Classifier(2, 2).Dense(16, Activation.Relu).Build(3);
            m.Fit(data, new TrainingOptions { Epochs = 3, BatchSize = 16, Optimizer = new Adam(0.01), Dropout = rate, InputDropout = rate / 2 },
                TestContext.Current.CancellationToken);
            return m;
        }
        var with = Train(0.4);
        var again = Train(0.4);
        var without = Train(0);
        Assert.Equal(with.Network.Layers[0].Weights.ToArray(), again.Network.Layers[0].Weights.ToArray());
        Assert.NotEqual(with.Network.Layers[0].Weights.ToArray(), without.Network.Layers[0].Weights.ToArray());
        Assert.Equal(0.4, with.Training.Dropout);
        Assert.Equal(0.2, with.Training.InputDropout);
        Assert.Null(without.Training.Dropout);
        Assert.Null(without.Training.InputDropout);
    }
}

/// <summary>The model file's training section records dropout as optional fields (no format version change).</summary>
public sealed class DropoutModelFileTests
{
    [Fact]
    public void TheRatesRoundTripAndAreAbsentWithoutDropoutAndOutOfRangeIsRefused()
    {
        var data = SyntheticData.TwoMoons(60, 0.15, seed: 2);
        Model<float> Train(double rate, double input)
        {
            var m = Model.Classifier(2, 2).Dense(8, Activation.Relu).Build(3);
            m.Fit(data, new TrainingOptions { Epochs = 2, Optimizer = new Adam(0.01), Dropout = rate, InputDropout = input }, TestContext.Current.CancellationToken);
            return m;
        }
        string with = Backprop.IO.ModelFile.Serialize(Train(0.25, 0.125));
        Assert.Contains("\"dropout\": 0.25", with);
        Assert.Contains("\"input_dropout\": 0.125", with);
        var loaded = Backprop.IO.ModelFile.Deserialize<float>(with, "m.json");
        Assert.Equal(0.25, loaded.Training.Dropout);
        Assert.Equal(0.125, loaded.Training.InputDropout);
        Assert.Equal(with, Backprop.IO.ModelFile.Serialize(loaded));

        string without = Backprop.IO.ModelFile.Serialize(Train(0, 0));
        Assert.DoesNotContain("dropout", without);
        Assert.Null(Backprop.IO.ModelFile.Deserialize<float>(without, "m.json").Training.Dropout);

        foreach (var bad in new[] { "1", "0", "-0.5", "1.5" })
        {
            var e = Assert.Throws<ModelFormatException>(() =>
                Backprop.IO.ModelFile.Deserialize<float>(with.Replace("\"dropout\": 0.25", "\"dropout\": " + bad), "bad.json"));
            Assert.Contains("bad.json: field 'training.dropout': expected a number greater than 0 and less than 1", e.Message);
        }
        var i = Assert.Throws<ModelFormatException>(() =>
            Backprop.IO.ModelFile.Deserialize<float>(with.Replace("\"input_dropout\": 0.125", "\"input_dropout\": 2"), "bad.json"));
        Assert.Contains("field 'training.input_dropout'", i.Message);
    }
}
