using BenchmarkDotNet.Attributes;

namespace Backprop.Bench.Kernels;

/// <summary>Square float products C = A * B (n x n x n), odd sizes included, against the scalar reference.</summary>
public class SquareFloat : GemmBenchmarkWithBaseline<float>
{
    [Params(31, 64, 127, 255, 256, 257, 511)]
    public int Size { get; set; }

    protected override GemmShape Product => GemmShape.Square(Size);
}

/// <summary>Square float products too large for the scalar reference (vector kernels only).</summary>
public class SquareFloatLarge : GemmBenchmarkVectorOnly<float>
{
    [Params(1000, 1024)]
    public int Size { get; set; }

    protected override GemmShape Product => GemmShape.Square(Size);
}

/// <summary>Square double products on two sizes, one odd, against the scalar reference.</summary>
public class SquareDouble : GemmBenchmarkWithBaseline<double>
{
    [Params(127, 256)]
    public int Size { get; set; }

    protected override GemmShape Product => GemmShape.Square(Size);
}

/// <summary>
/// The three layouts backpropagation multiplies in, on a training-like shape M x N x K (C is M x N, the inner
/// dimension K): NN <c>A * B</c> (the back-propagated error <c>delta * W</c>), NT <c>A * B^T</c> (the forward pass
/// <c>X * W^T</c>) and TN <c>A^T * B</c> (the weight gradient <c>delta^T * X</c>). 256 x 1024 x 784 is a batch of 256
/// MNIST images into a 1024-unit layer. Vector kernels only: the reference takes about a second per product here.
/// </summary>
public class LayoutsFloat : GemmBenchmarkVectorOnly<float>
{
    [Params("256x1024x784")]
    public string Shape { get; set; } = "256x1024x784";

    [Params(GemmLayout.NN, GemmLayout.NT, GemmLayout.TN)]
    public GemmLayout Layout { get; set; }

    protected override GemmShape Product => GemmShape.Parse(Shape, Layout);
}
