using Backprop.Explain;

namespace Backprop.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void SeedNetworkForwardGivesSigmoidOutputsInRange()
    {
        var net = SeedNetwork.Create<double>();
        var o = net.Forward([0.05, 0.10], 1).ToArray();
        Assert.Equal(2, o.Length);
        Assert.All(o, v => Assert.InRange(v, 0.0, 1.0));
    }
}
