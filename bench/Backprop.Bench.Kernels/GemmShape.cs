using System.Globalization;

namespace Backprop.Bench.Kernels;

/// <summary>How A and B are stored: N as the product reads them, T transposed.</summary>
public enum GemmLayout
{
    /// <summary><c>C = A * B</c>: A is M x K, B is K x N.</summary>
    NN,
    /// <summary><c>C = A * B^T</c>: B is stored N x K (the forward pass <c>X * W^T</c>).</summary>
    NT,
    /// <summary><c>C = A^T * B</c>: A is stored K x M (the weight gradient <c>delta^T * X</c>).</summary>
    TN,
}

/// <summary>One product: C is M x N, the inner dimension is K.</summary>
public readonly record struct GemmShape(int M, int N, int K, bool TransA, bool TransB)
{
    /// <summary>Floating-point operations of one product, a multiply-add counting as two.</summary>
    public double Flops => 2.0 * M * N * K;

    /// <summary>The n x n x n product without transposes.</summary>
    public static GemmShape Square(int n) => new(n, n, n, false, false);

    /// <summary>Parses <c>"MxNxK"</c> (e.g. <c>"256x1024x784"</c>) with the given layout.</summary>
    public static GemmShape Parse(string dims, GemmLayout layout)
    {
        if (!TryParse(dims, layout, out var shape))
            throw new FormatException($"'{dims}' is not M x N x K, e.g. 256x1024x784");
        return shape;
    }

    /// <summary>Parses <c>"MxNxK"</c>; false when it is not three positive integers separated by 'x'.</summary>
    public static bool TryParse(string dims, GemmLayout layout, out GemmShape shape)
    {
        shape = default;
        var parts = dims.Split('x');
        if (parts.Length != 3)
            return false;
        var values = new int[3];
        for (int i = 0; i < 3; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]) || values[i] <= 0)
                return false;
        }
        shape = new GemmShape(values[0], values[1], values[2], layout == GemmLayout.TN, layout == GemmLayout.NT);
        return true;
    }
}
