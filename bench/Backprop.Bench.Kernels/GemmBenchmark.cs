using System.Numerics;
using BenchmarkDotNet.Attributes;
using Backprop.Numerics;

namespace Backprop.Bench.Kernels;

/// <summary>
/// One product <c>C = op(A) * op(B)</c> through the public entry point
/// <see cref="Gemm.Multiply{T}(in GemmOptions, bool, bool, int, int, int, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, bool)"/>,
/// timed once per kernel. Each kernel is one benchmark method named after its <see cref="GemmKernel"/> value, so that
/// the scalar <see cref="GemmKernel.Reference"/> can be BenchmarkDotNet's baseline (a parameter value cannot be one);
/// <see cref="KernelConfig"/> drops the methods of kernels this CPU does not accelerate.
/// </summary>
[Config(typeof(KernelConfig))]
public abstract class GemmBenchmark<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private T[] _a = [];
    private T[] _b = [];
    private T[] _c = [];
    private GemmShape _shape;

    /// <summary>Threads one product may use (<see cref="GemmOptions.MaxThreads"/>): 1 and every core.</summary>
    [ParamsSource(nameof(ThreadCounts))]
    public int MaxThreads { get; set; }

    /// <summary>The values of <see cref="MaxThreads"/>.</summary>
    public static IEnumerable<int> ThreadCounts => new[] { 1, Environment.ProcessorCount }.Distinct();

    /// <summary>The product to time, from the benchmark's parameters.</summary>
    protected abstract GemmShape Product { get; }

    [GlobalSetup]
    public void Setup()
    {
        _shape = Product;
        var random = new Random(42);
        _a = Fill(random, _shape.M * _shape.K);
        _b = Fill(random, _shape.K * _shape.N);
        _c = new T[_shape.M * _shape.N];
    }

    /// <summary>Runs the product on one kernel with <see cref="MaxThreads"/> threads at most.</summary>
    protected void Run(GemmKernel kernel)
    {
        var options = new GemmOptions { Kernel = kernel, MaxThreads = MaxThreads };
        Gemm.Multiply<T>(options, _shape.TransA, _shape.TransB, _shape.M, _shape.N, _shape.K, _a, _b, _c);
    }

    private static T[] Fill(Random random, int length)
    {
        var values = new T[length];
        for (int i = 0; i < values.Length; i++)
            values[i] = T.CreateTruncating(random.NextDouble() * 2 - 1);
        return values;
    }
}

/// <summary>
/// <see cref="GemmBenchmark{T}"/> with the scalar reference as the baseline, so the summary's Ratio column says how
/// many times faster each vector kernel is. Only for products small enough for the reference (up to about 512^3).
/// </summary>
public abstract class GemmBenchmarkWithBaseline<T> : GemmBenchmark<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    [Benchmark(Baseline = true)]
    public void Reference() => Run(GemmKernel.Reference);

    [Benchmark]
    public void Vector256() => Run(GemmKernel.Vector256);

    [Benchmark]
    public void Vector512() => Run(GemmKernel.Vector512);
}

/// <summary><see cref="GemmBenchmark{T}"/> on the vector kernels only: products too large for the scalar reference.</summary>
public abstract class GemmBenchmarkVectorOnly<T> : GemmBenchmark<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    [Benchmark]
    public void Vector256() => Run(GemmKernel.Vector256);

    [Benchmark]
    public void Vector512() => Run(GemmKernel.Vector512);
}
