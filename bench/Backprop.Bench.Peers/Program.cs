using System.Diagnostics;
using Backprop.Bench;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

// The standard workloads of shared/design/benchmarks.md on TorchSharp-cpu 0.107.0 (libtorch 2.10), written the
// idiomatic way (nn.Linear modules, torch.optim, torch.nn losses), one JSON line per figure, same keys as
// Backprop.Bench. Usage: Backprop.Bench.Peers [--only G,W1,...] [--seconds S] [--reps R] [--threads T] | --rss-child
var parsed = BenchArgs.Parse(args);
if (parsed is null)
    return 2;
int threads = parsed.Threads;
torch.set_num_threads(threads);
bool Want(string w) => parsed.Want(w);

if (parsed.RssChild)
{
    var (model, opt, loss, xs, ys) = Peer.W2Setup();
    for (int s = 0; s < 2000; s++)
        Peer.Step(model, opt, loss, xs[s % xs.Length], ys[s % ys.Length]);
    Measure.Emit("memory", "peak_rss_mib", PeakMemory.PeakRssMiB(), threads, extra: "\"steps\":2000");
    return 0;
}
Console.Error.WriteLine($"# Backprop.Bench.Peers: TorchSharp {typeof(torch).Assembly.GetName().Version}, threads {torch.get_num_threads()}");

if (Want("G"))
    foreach (int n in new[] { 128, 256, 512, 1024, 2048 })
        Peer.Sgemm(n, threads);
if (Want("W1"))
    Peer.W1(threads);
if (Want("W2"))
{
    var (model, opt, loss, xs, ys) = Peer.W2Setup();
    int step = 0;
    double rate = Measure.Rate(() => { int s = step++ % xs.Length; Peer.Step(model, opt, loss, xs[s], ys[s]); }) * 64;
    Measure.Emit("W2", "samples_per_s", rate, threads);
}
if (Want("W3"))
{
    var model = Sequential(("fc1", Linear(784, 256)), ("r1", ReLU()), ("fc2", Linear(256, 128)), ("r2", ReLU()), ("fc3", Linear(128, 10)));
    var opt = torch.optim.Adam(model.parameters(), lr: 1e-3);
    var (xs, ys) = Peer.ClassData(128, 8);
    var loss = CrossEntropyLoss();
    int step = 0;
    double rate = Measure.Rate(() => { int s = step++ % xs.Length; Peer.Step(model, opt, loss, xs[s], ys[s]); }) * 128;
    Measure.Emit("W3", "samples_per_s", rate, threads);
}
if (Want("W4"))
{
    var model = Peer.W4Model();
    var opt = torch.optim.SGD(model.parameters(), 0.01, momentum: 0.9);
    var (xs, ys) = Peer.ClassData(256, 4);
    var loss = CrossEntropyLoss();
    int step = 0;
    double rate = Measure.Rate(() => { int s = step++ % xs.Length; Peer.Step(model, opt, loss, xs[s], ys[s]); }) * 256;
    Measure.Emit("W4", "samples_per_s", rate, threads);
    Measure.Emit("W4", "gflop_per_s", 6 * Peer.W4Weights * rate / 1e9, threads);
}
if (Want("W5"))
{
    var model = Peer.W4Model();
    model.eval();
    var (one, _) = Peer.ClassData(1, 16);
    var (big, _) = Peer.ClassData(1024, 2);
    int i = 0;
    using (torch.no_grad())
    {
        double us = Measure.MedianLatencyMicroseconds(() => { using var scope = torch.NewDisposeScope(); model.forward(one[i++ % one.Length]); });
        Measure.Emit("W5", "batch1_latency_us", us, threads);
        double rate = Measure.Rate(() => { using var scope = torch.NewDisposeScope(); model.forward(big[i++ % big.Length]); }) * 1024;
        Measure.Emit("W5", "samples_per_s", rate, threads);
    }
}
if (Want("memory"))
    PeakMemory.RunChild(threads);
return 0;

internal static class Peer
{
    public const double W4Weights = 784 * 1024 + 1024 * 1024 + 1024 * 10;

    public static Module<Tensor, Tensor> W4Model() =>
        Sequential(("fc1", Linear(784, 1024)), ("r1", ReLU()), ("fc2", Linear(1024, 1024)), ("r2", ReLU()), ("fc3", Linear(1024, 10)));

    public static void Step(Module<Tensor, Tensor> model, torch.optim.Optimizer opt, Loss<Tensor, Tensor, Tensor> loss, Tensor x, Tensor y)
    {
        using var scope = torch.NewDisposeScope();
        opt.zero_grad();
        var l = loss.forward(model.forward(x), y);
        l.backward();
        opt.step();
    }

    public static void Sgemm(int n, int threads)
    {
        var a = torch.rand(n, n);
        var b = torch.rand(n, n);
        double rate = Measure.Rate(() => { using var scope = torch.NewDisposeScope(); torch.mm(a, b); });
        Measure.Emit("G", "gflop_per_s", 2.0 * n * n * n * rate / 1e9, threads, n);
    }

    public static void W1(int threads)
    {
        // The seed network 2 -> 3 sigmoid -> 2 sigmoid, 1/2 sum of squares, SGD lr 0.5, one sample per step.
        var model = Sequential(("hidden", Linear(2, 3)), ("s1", Sigmoid()), ("output", Linear(3, 2)), ("s2", Sigmoid()));
        var opt = torch.optim.SGD(model.parameters(), 0.5);
        var mse = MSELoss(reduction: Reduction.Sum);
        var x = torch.tensor(new float[] { 0.05f, 0.10f }, new long[] { 1, 2 });
        var y = torch.tensor(new float[] { 0.01f, 0.99f }, new long[] { 1, 2 });
        double rate = Measure.Rate(() =>
        {
            for (int i = 0; i < 100; i++)
            {
                using var scope = torch.NewDisposeScope();
                opt.zero_grad();
                var l = mse.forward(model.forward(x), y) * 0.5;
                l.backward();
                opt.step();
            }
        }) * 100;
        Measure.Emit("W1", "steps_per_s", rate, threads);
    }

    public static (Module<Tensor, Tensor>, torch.optim.Optimizer, Loss<Tensor, Tensor, Tensor>, Tensor[], Tensor[]) W2Setup()
    {
        var model = Sequential(("fc1", Linear(784, 128)), ("s1", Sigmoid()), ("fc2", Linear(128, 10)), ("s2", Sigmoid()));
        var opt = torch.optim.SGD(model.parameters(), 0.1);
        var data = new Data(784, 10, 64, 16);
        var xs = data.X.Select(x => torch.tensor(x, new long[] { 64, 784 })).ToArray();
        var ys = data.Y.Select(y => torch.tensor(y, new long[] { 64, 10 })).ToArray();
        return (model, opt, MSELoss(), xs, ys);
    }

    /// <summary>Inputs and class-index targets (CrossEntropyLoss's idiomatic form) from the same generator.</summary>
    public static (Tensor[] X, Tensor[] Y) ClassData(int rows, int batches)
    {
        var data = new Data(784, 10, rows, batches);
        var xs = data.X.Select(x => torch.tensor(x, new long[] { rows, 784 })).ToArray();
        var ys = data.Y.Select(y =>
        {
            var idx = new long[rows];
            for (int r = 0; r < rows; r++)
                for (int k = 0; k < 10; k++)
                    if (y[r * 10 + k] == 1) idx[r] = k;
            return torch.tensor(idx);
        }).ToArray();
        return (xs, ys);
    }
}
