namespace Backprop.Numerics;

/// <summary>The inner loops a matrix product runs on.</summary>
public enum GemmKernel
{
    /// <summary>The fastest kernel this CPU accelerates (<see cref="Gemm.DefaultKernel"/>).</summary>
    Auto,
    /// <summary>The scalar reference loops (<see cref="GemmReference"/>): the oracle and the last-resort fallback.</summary>
    Reference,
    /// <summary>Packed panels and a 6 x (2 vectors) register-blocked micro-kernel on <c>Vector256</c> with fused multiply-add.</summary>
    Vector256,
    /// <summary>Packed panels and a 12 x (2 vectors) register-blocked micro-kernel on <c>Vector512</c> with fused multiply-add (24 of the 32 AVX-512 registers hold C).</summary>
    Vector512,
}

/// <summary>Which algorithm a product takes; <see cref="Auto"/> chooses by shape. Forcing one is for tests and benchmarks.</summary>
internal enum GemmPath
{
    Auto,
    /// <summary>Scalar loops with no set-up, for tiny products (the seed network).</summary>
    Small,
    /// <summary>Row-at-a-time vector loops without packing, for products with few rows (batch-1 inference).</summary>
    Rows,
    /// <summary>Packed panels and the register-blocked micro-kernel.</summary>
    Packed,
}

/// <summary>
/// Forces a kernel and a thread count for one product (tests and benchmarks); the default value means
/// "fastest kernel, <see cref="Gemm.MaxThreads"/> threads". The result never depends on the thread count.
/// </summary>
public readonly record struct GemmOptions
{
    /// <summary>The kernel to run; <see cref="GemmKernel.Auto"/> picks <see cref="Gemm.DefaultKernel"/>.</summary>
    public GemmKernel Kernel { get; init; }

    /// <summary>The most threads to use; 0 means <see cref="Gemm.MaxThreads"/>.</summary>
    public int MaxThreads { get; init; }

    /// <summary>Forces an algorithm regardless of shape (tests only).</summary>
    internal GemmPath Path { get; init; }
}
