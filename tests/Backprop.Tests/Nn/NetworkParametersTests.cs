using Backprop.Nn;

namespace Backprop.Tests.Nn;

/// <summary>The one walk over a network's parameters: its order, lengths, names and flat copies.</summary>
public sealed class NetworkParametersTests
{
    private static Network<double> Build() => Network<double>.Create(3,
        [new LayerSpec(4, Activation.Tanh), new LayerSpec(2, Activation.Relu, BiasMode.Shared), new LayerSpec(2, Activation.Identity, BiasMode.None),
         new LayerSpec(1, Activation.Sigmoid, BiasMode.PerUnit, TrainableBias: false)], Loss.Mse, seed: 5);

    [Fact]
    public void TheTensorsAreEachLayersWeightsThenItsBiasesInOrder()
    {
        var net = Build();
        var p = net.Parameters;
        Assert.Equal(8, p.Count);
        Assert.Equal([12, 4, 8, 1, 4, 0, 2, 1], p.Select(t => t.Length).ToArray());
        Assert.Equal([true, true, true, true, true, false, true, false], p.Select(t => t.Trainable).ToArray());
        Assert.Equal(Enumerable.Range(0, 8).ToArray(), p.Select(t => t.Index).ToArray());
        Assert.Equal(net.ParameterCount, p.TotalLength);
        for (int l = 0; l < net.Layers.Count; l++)
        {
            Assert.Same(net.Layers[l], p.Of(l, false).Layer);
            Assert.False(p.Of(l, false).IsBias);
            Assert.True(p.Of(l, true).IsBias);
            Assert.True(p.Of(l, false).ReadValues.SequenceEqual(net.Layers[l].Weights));
            Assert.True(p.Of(l, true).ReadValues.SequenceEqual(net.Layers[l].Biases));
        }
        Assert.Equal("layers[0].weights[2][1]", p[0].ElementName(7));
        Assert.Equal("layers[1].biases[0]", p[3].ElementName(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => p[8]);
    }

    [Fact]
    public void FlatCopiesRoundTripAndWriteThroughToTheLayers()
    {
        var net = Build();
        var flat = new double[net.ParameterCount];
        net.Parameters.CopyTo(flat);
        Assert.Equal(net.Layers.SelectMany(l => l.Weights.ToArray().Concat(l.Biases.ToArray())), flat);
        var changed = flat.Select((v, i) => v + i).ToArray();
        net.Parameters.CopyFrom(changed);
        var back = new double[flat.Length];
        net.Parameters.CopyTo(back);
        Assert.Equal(changed, back);
        Assert.Equal(changed[12], net.Layers[0].Biases[0]);
        Assert.True(net.Parameters.AllFinite());
        net.Parameters[6].Values[1] = double.NaN;
        Assert.False(net.Parameters.AllFinite());
        Assert.True(double.IsNaN(net.Layers[3].Weights[1]));
    }
}
