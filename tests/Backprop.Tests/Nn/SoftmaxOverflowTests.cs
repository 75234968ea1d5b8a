using Backprop.Nn;

namespace Backprop.Tests.Nn;

/// <summary>
/// Large logits must not overflow softmax: float32 exp overflows above about 88.7, which once turned a
/// finite-loss optdigits batch (a logit of 106.5) into NaN gradients. Oracle: softmax is shift-invariant, so
/// softmax(c + 1, c + 0, c - 1) = (e, 1, 1/e) / (e + 1 + 1/e) for every c.
/// </summary>
public sealed class SoftmaxOverflowTests
{
    private static readonly double[] Expected = Exact();

    private static double[] Exact()
    {
        double e = Math.E, sum = e + 1 + 1 / e;
        return [e / sum, 1 / sum, 1 / e / sum];
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(106.5)]
    [InlineData(1000.0)]
    [InlineData(-1000.0)]
    public void FloatSoftmaxOfLargeLogitsIsFiniteAndShiftInvariant(double shift)
    {
        float c = (float)shift;
        float[] z = [c + 1, c, c - 1, c + 1, c, c - 1], a = new float[6];
        Activations.Forward(Activation.Softmax, z, a, rows: 2, units: 3);
        for (int i = 0; i < 6; i++)
            Assert.Equal(Expected[i % 3], a[i], 1e-5);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(800.0)]
    [InlineData(-800.0)]
    public void DoubleSoftmaxOfLargeLogitsIsFiniteAndShiftInvariant(double c)
    {
        double[] z = [c + 1, c, c - 1, c + 1, c, c - 1], a = new double[6];
        Activations.Forward(Activation.Softmax, z, a, rows: 2, units: 3);
        for (int i = 0; i < 6; i++)
            Assert.Equal(Expected[i % 3], a[i], 1e-12);
    }
}
