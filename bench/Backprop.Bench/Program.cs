using System.Diagnostics;
using System.Numerics;
using System.Runtime.Intrinsics;
using Backprop.Bench;
using Backprop.Explain;
using Backprop.Nn;
using Backprop.Training;
using Backprop.Numerics;

// The standard workloads of shared/design/benchmarks.md on the Backprop engine, one JSON line per figure.
// Usage: Backprop.Bench [--only G,W1,...] [--seconds S] [--reps R] [--threads T] [--kernel Vector256|...]
//                       [--kc K] [--mc M]   (block sizes of the chosen kernel instead of the cache-derived ones)
//        Backprop.Bench --rss-child   (runs W2 for 2000 steps and prints its peak RSS; used by the parent)
// Diagnostics, not standard figures: --only probe (each product of W2/W4/W5), --only kernel (the micro-kernels
// alone on cache-resident panels, one thread), --only replay (the one-thread product's loops on the kernel alone, no
// packing, with B kept in L2 or C's rows padded as variants), --only machine (the CPU, its vector width and caches).
var kernel = GemmKernel.Auto;
bool verify = false;
int kc = 0, mc = 0;
var parsed = BenchArgs.Parse(args, (a, i) =>
{
    switch (a[i])
    {
        case "--kernel": kernel = Enum.Parse<GemmKernel>(a[i + 1], ignoreCase: true); return 2;
        case "--kc": kc = int.Parse(a[i + 1], System.Globalization.CultureInfo.InvariantCulture); return 2;
        case "--mc": mc = int.Parse(a[i + 1], System.Globalization.CultureInfo.InvariantCulture); return 2;
        case "--verify": verify = true; return 1;
        default: return 0;
    }
});
if (parsed is null)
    return 2;
if (verify)
    return Verify.Run();
int threads = parsed.Threads;
Gemm.MaxThreads = threads;
bool Want(string w) => parsed.Want(w);
var chosen = kernel == GemmKernel.Auto ? Gemm.DefaultKernel : kernel;
if (kc > 0 || mc > 0)
    KernelProbe.OverrideBlocks(chosen, kc, mc);

if (parsed.RssChild)
{
    var (net, data) = Workloads.W2Setup();
    for (int s = 0; s < 2000; s++)
        net.TrainStep(data.X[s % data.X.Length], data.Y[s % data.Y.Length], data.Rows, 0.1f);
    Measure.Emit("memory", "peak_rss_mib", PeakMemory.PeakRssMiB(), threads, extra: "\"steps\":2000");
    return 0;
}

Console.Error.WriteLine($"# Backprop.Bench: kernel {chosen}, threads {threads}, {Machine.Describe()}");

if (Want("peak") || parsed.Only.Contains("machine"))
    Machine.Emit(threads, chosen);
if (Want("peak"))
    Peak.Run(threads);
if (Want("G"))
    foreach (int n in new[] { 128, 256, 512, 1024, 2048 })
        Workloads.Sgemm(n, threads, kernel);
if (Want("W1"))
    Workloads.W1(threads);
if (Want("W2"))
    Workloads.W2(threads);
if (Want("W3"))
    Workloads.W3(threads);
if (Want("W4"))
    Workloads.W4(threads);
if (Want("W5"))
    Workloads.W5(threads);
if (Want("memory"))
    PeakMemory.RunChild(threads);
if (parsed.Only.Contains("probe"))
    Workloads.Probe(threads, kernel);
if (parsed.Only.Contains("kernel"))
    KernelProbe.Run();
if (parsed.Only.Contains("replay"))
    ReplayProbe.Run(chosen);
return 0;

internal static class Workloads
{
    public static void Sgemm(int n, int threads, GemmKernel kernel)
    {
        var rng = new Random(1);
        var a = new float[n * n];
        var b = new float[n * n];
        var c = new float[n * n];
        for (int i = 0; i < a.Length; i++) { a[i] = (float)rng.NextDouble(); b[i] = (float)rng.NextDouble(); }
        var options = new GemmOptions { Kernel = kernel, MaxThreads = threads };
        double rate = Measure.Rate(() => Gemm.Multiply(options, false, false, n, n, n, a, b, c));
        Measure.Emit("G", "gflop_per_s", 2.0 * n * n * n * rate / 1e9, threads, n);
    }

    public static void W1(int threads)
    {
        var net = SeedNetwork.Create<float>();
        float[] x = [0.05f, 0.10f], y = [0.01f, 0.99f];
        double rate = Measure.Rate(() =>
        {
            for (int i = 0; i < 1000; i++)
                net.TrainStep(x, y, 1, 0.5f);
        }) * 1000;
        Measure.Emit("W1", "steps_per_s", rate, threads);
    }

    public static (Network<float>, Data) W2Setup() =>
        (Network<float>.Create(784, [new LayerSpec(128, Activation.Sigmoid), new LayerSpec(10, Activation.Sigmoid)], Loss.Mse, seed: 1),
         new Data(784, 10, 64, 16));

    public static void W2(int threads)
    {
        var (net, data) = W2Setup();
        int step = 0;
        double rate = Measure.Rate(() =>
        {
            int s = step++ % data.X.Length;
            net.TrainStep(data.X[s], data.Y[s], data.Rows, 0.1f);
        });
        Measure.Emit("W2", "samples_per_s", rate * data.Rows, threads);
    }

    public static void W3(int threads)
    {
        var net = Network<float>.Create(784, [new LayerSpec(256, Activation.Relu), new LayerSpec(128, Activation.Relu), new LayerSpec(10, Activation.Softmax)], Loss.CrossEntropy, seed: 1);
        var data = new Data(784, 10, 128, 8);
        var adam = new Adam(1e-3);
        int step = 0;
        double rate = Measure.Rate(() =>
        {
            int s = step++ % data.X.Length;
            net.Forward(data.X[s], data.Rows);
            net.Backward(data.Y[s]);
            adam.Step(net);
        });
        Measure.Emit("W3", "samples_per_s", rate * data.Rows, threads, extra: "\"optimizer\":\"adam\"");
    }

    private static Network<float> W4Network() =>
        Network<float>.Create(784, [new LayerSpec(1024, Activation.Relu), new LayerSpec(1024, Activation.Relu), new LayerSpec(10, Activation.Softmax)], Loss.CrossEntropy, seed: 1);

    private const double W4Weights = 784 * 1024 + 1024 * 1024 + 1024 * 10;

    public static void W4(int threads)
    {
        var net = W4Network();
        var data = new Data(784, 10, 256, 4);
        var sgd = new Sgd(0.01, momentum: 0.9);
        int step = 0;
        double rate = Measure.Rate(() =>
        {
            int s = step++ % data.X.Length;
            net.Forward(data.X[s], data.Rows);
            net.Backward(data.Y[s]);
            sgd.Step(net);
        }) * data.Rows;
        Measure.Emit("W4", "samples_per_s", rate, threads, extra: "\"optimizer\":\"sgd-momentum\"");
        Measure.Emit("W4", "gflop_per_s", 6 * W4Weights * rate / 1e9, threads);
    }

    public static void W5(int threads)
    {
        var net = W4Network();
        var one = new Data(784, 10, 1, 16);
        int i = 0;
        double us = Measure.MedianLatencyMicroseconds(() => net.Forward(one.X[i++ % one.X.Length], 1));
        Measure.Emit("W5", "batch1_latency_us", us, threads);
        var big = new Data(784, 10, 1024, 2);
        double rate = Measure.Rate(() => net.Forward(big.X[i++ % big.X.Length], big.Rows)) * big.Rows;
        Measure.Emit("W5", "samples_per_s", rate, threads);
    }

    /// <summary>`--only probe`: GFLOP/s of each product the W2/W4/W5 steps make (diagnostics, not a standard figure).</summary>
    public static void Probe(int threads, GemmKernel kernel)
    {
        (string name, bool ta, bool tb, int m, int n, int k)[] shapes =
        [
            ("W2-fwd1", false, true, 64, 128, 784), ("W2-dW1", true, false, 128, 784, 64),
            ("W2-fwd2", false, true, 64, 10, 128), ("W2-dW2", true, false, 10, 128, 64), ("W2-dA2", false, false, 64, 128, 10),
            ("W4-fwd1", false, true, 256, 1024, 784), ("W4-fwd2", false, true, 256, 1024, 1024), ("W4-dW2", true, false, 1024, 1024, 256),
            ("W4-dA2", false, false, 256, 1024, 1024), ("W4-dW1", true, false, 1024, 784, 256),
            ("W5-b1-l1", false, true, 1, 1024, 784), ("W5-b1-l2", false, true, 1, 1024, 1024),
        ];
        foreach (var (name, ta, tb, m, n, k) in shapes)
        {
            var a = new float[m * k];
            var b = new float[k * n];
            var c = new float[m * n];
            new Random(1).NextBytes(new byte[1]);
            for (int i = 0; i < a.Length; i++) a[i] = (i % 7) * 0.1f;
            for (int i = 0; i < b.Length; i++) b[i] = (i % 5) * 0.1f;
            var options = new GemmOptions { Kernel = kernel, MaxThreads = threads };
            double rate = Measure.Rate(() => Gemm.Multiply(options, ta, tb, m, n, k, a, b, c));
            Measure.Emit("probe", "gflop_per_s", 2.0 * m * n * k * rate / 1e9, threads, extra: $"\"shape\":\"{name}\",\"us\":{1e6 / rate:F1}");
        }
    }
}

