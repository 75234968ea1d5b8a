using Backprop.Numerics;

namespace Backprop.Tests.Numerics;

public sealed class GemmReferenceTests
{
    [Fact]
    public void SmallProductsMatchHandComputedValues()
    {
        // A = [[1,2,3],[4,5,6]] (2x3), B = [[7,8],[9,10],[11,12]] (3x2): A*B = [[58,64],[139,154]].
        double[] a = [1, 2, 3, 4, 5, 6], b = [7, 8, 9, 10, 11, 12];
        var c = new double[4];
        Gemm.Multiply(false, false, 2, 2, 3, a, b, c);
        Assert.Equal([58.0, 64, 139, 154], c);

        // A^T stored (3x2): the same product with transA.
        double[] at = [1, 4, 2, 5, 3, 6];
        Gemm.Multiply(true, false, 2, 2, 3, at, b, c);
        Assert.Equal([58.0, 64, 139, 154], c);

        // B^T stored (2x3): transB; and accumulate adds to C.
        double[] bt = [7, 9, 11, 8, 10, 12];
        Gemm.Multiply(false, true, 2, 2, 3, a, bt, c, accumulate: true);
        Assert.Equal([116.0, 128, 278, 308], c);
    }

    [Fact]
    public void TooShortOperandsAreRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 2, 2, 3, new double[5], new double[6], new double[4]));
        Assert.Contains("2x3", e.Message);
    }
}
