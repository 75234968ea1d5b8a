using System.Numerics;
using Backprop.Nn;
using Backprop.Numerics;

namespace Backprop.Tests.Numerics;

/// <summary>
/// The bias + linear-unit pass run on each tile of the forward product as it is stored gives the bits of the two
/// passes it replaces: the plain product, then the row pass over z (itself checked against the scalar rules in
/// VectorPathTests). Every kernel, one and two threads, shapes with edge strips on both sides and several k blocks,
/// every path of the kept panels (skipped, packed, packed and hashed, reused), every element-wise width.
/// </summary>
[Collection(nameof(GemmThreadingTests))]
public sealed unsafe class GemmEpilogueTests
{
    /// <summary>(m, n, k): one-thread size; private panels; edges on both sides with k above every KC; a thin M.</summary>
    private static readonly (int M, int N, int K)[] Shapes = [(24, 37, 40), (100, 33, 300), (130, 520, 800), (13, 65, 2100)];

    private static readonly int[] Widths = [512, 256, -1];

    private static float[] Values(int n, int seed, bool special)
    {
        var rng = new Random(seed);
        float[] odd = [0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 1e-40f];
        var v = new float[n];
        for (int i = 0; i < n; i++)
            v[i] = special && rng.Next(5) == 0 ? odd[rng.Next(odd.Length)] : (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    private static void Same(float[] expected, float[] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            bool same = float.IsNaN(expected[i]) ? float.IsNaN(actual[i]) : BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]);
            Assert.True(same, $"{what}: [{i} of {expected.Length}] expected {expected[i]}, got {actual[i]}");
        }
    }

    private static void Check<TOp>(delegate*<float*, float*, float*, int, int, nint, int, void> tile, string name)
        where TOp : struct, ILinearUnit
    {
        var kernels = Gemm.AvailableKernels.Where(k => k != GemmKernel.Reference).ToArray();
        Assert.NotEmpty(kernels);
        foreach (var kernel in kernels)
            foreach (int threads in new[] { 1, 2 })
                foreach (var (m, n, k) in Shapes)
                {
                    var x = Values(m * k, m + k, false);
                    var w = Values(n * k, n + 7 * k, false);
                    var bias = Values(n, 3 * n, true);
                    var panels = new WeightPanels<float>();
                    // Four products at one stamp: panels skipped, packed, packed and hashed, reused.
                    for (int call = 0; call < 4; call++)
                    {
                        int width = Widths[call % Widths.Length];
                        string what = $"{name} {kernel} {threads} threads {m}x{n}x{k} call {call} width {width}";
                        var expectedZ = new float[m * n];
                        var expectedA = new float[m * n];
                        var z = new float[m * n];
                        var a = new float[m * n];
                        bool fused;
                        var savedKernel = Gemm.ForcedKernel;
                        int savedThreads = Gemm.MaxThreads, savedWidth = Elementwise.ForcedWidth;
                        try
                        {
                            Gemm.ForcedKernel = kernel;
                            Gemm.MaxThreads = threads;
                            Elementwise.ForcedWidth = width;
                            Gemm.Multiply(new GemmOptions { Kernel = kernel, MaxThreads = threads }, false, true, m, n, k, x, w, expectedZ);
                            Elementwise.BiasForward<float, TOp>(expectedZ, bias, expectedA, m);
                            fused = Gemm.MultiplyByWeights(m, n, k, x, w, z, panels, 1, false, tile, bias, a);
                        }
                        finally
                        {
                            Gemm.ForcedKernel = savedKernel;
                            Gemm.MaxThreads = savedThreads;
                            Elementwise.ForcedWidth = savedWidth;
                        }
                        Assert.True(fused, what + ": the pass did not run in the product");
                        Same(expectedZ, z, what + " z");
                        Same(expectedA, a, what + " a");
                    }
                    Assert.Equal(2, panels.Packs);
                }
    }

    [Fact]
    public void TheBiasPassInTheProductGivesTheTwoPassBitsForIdentity() => Check<Activations.Identity>(&Elementwise.BiasTile<float, Activations.Identity>, "identity");

    [Fact]
    public void TheBiasPassInTheProductGivesTheTwoPassBitsForRelu() => Check<Activations.Relu>(&Elementwise.BiasTile<float, Activations.Relu>, "relu");

    [Fact]
    public void TheBiasPassInTheProductGivesTheTwoPassBitsForLeakyRelu() => Check<Activations.LeakyRelu>(&Elementwise.BiasTile<float, Activations.LeakyRelu>, "leaky relu");

    [Fact]
    public void AProductThatIsNotPackedLeavesThePassToTheCaller()
    {
        // Four rows or fewer take the row path: no tiles, so z is the plain product and a is untouched.
        const int m = 3, n = 40, k = 50;
        var x = Values(m * k, 1, false);
        var w = Values(n * k, 2, false);
        var bias = Values(n, 3, false);
        var expected = new float[m * n];
        Gemm.Multiply(false, true, m, n, k, x, w, expected);
        var z = new float[m * n];
        var a = new float[m * n];
        bool fused = Gemm.MultiplyByWeights(m, n, k, x, w, z, new WeightPanels<float>(), 1, false, &Elementwise.BiasTile<float, Activations.Relu>, bias, a);
        Assert.False(fused);
        Same(expected, z, "z");
        Assert.All(a, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void ANetworkForwardPassGivesTheSameBitsAsItsLayersTwoPasses()
    {
        // Through Dense: a ReLU layer (the pass in the product) and a softmax layer (no such pass), batch 40.
        var net = Network<float>.Create(300, [new LayerSpec(70, Activation.Relu), new LayerSpec(9, Activation.Softmax)], Loss.CrossEntropy, seed: 4);
        var x = Values(40 * 300, 8, false);
        var layer = net.Layers[0];
        var z = new float[40 * 70];
        var a = new float[40 * 70];
        Gemm.Multiply(false, true, 40, 70, 300, x, layer.Weights, z);
        Elementwise.BiasForward<float, Activations.Relu>(z, layer.Biases, a, 40);
        for (int call = 0; call < 4; call++)
        {
            net.Forward(x, 40);
            Same(z, net.PreActivations(0).ToArray(), $"layer 0 z, call {call}");
            Same(a, net.Activations(0).ToArray(), $"layer 0 a, call {call}");
        }
    }
}
