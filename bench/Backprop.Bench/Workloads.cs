using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Backprop.Bench;

/// <summary>Timing and output shared by every workload: warm-up, repetitions, median, one JSON line per figure.</summary>
internal static class Measure
{
    /// <summary>Seconds one repetition should last (benchmarks.md asks 3-10 s; the quick run uses less).</summary>
    public static double Seconds { get; set; } = 1.0;

    public static int Repetitions { get; set; } = 3;

    /// <summary>
    /// `--cpu-time`: rates per second of the process's CPU time instead of wall-clock time. Only meaningful with one
    /// thread (both engines then run one thread, and time another tenant takes from the machine is not counted); with
    /// more, waiting threads that spin would count as work.
    /// </summary>
    public static bool CpuTime { get; set; }

    /// <summary>The process's CPU time (CLOCK_PROCESS_CPUTIME_ID, nanosecond resolution on Linux), seconds.</summary>
    private static double CpuSeconds()
    {
        if (!CpuTime)
            return 0;
        if (OperatingSystem.IsLinux() && ClockGetTime(2, out var ts) == 0)
            return ts.Seconds + ts.Nanoseconds * 1e-9;
        return Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    /// <summary>
    /// Warm-up before any timing: at least a second and at least one repetition's length. A shorter warm-up times
    /// the JIT's first tiers instead of the code (the W2 step ran at a third of its speed for its first second).
    /// </summary>
    public static double WarmUpSeconds => Math.Max(1.0, Seconds);

    /// <summary>
    /// Runs <paramref name="body"/> (one unit of work per call) enough times to last <see cref="Seconds"/>,
    /// <see cref="Repetitions"/> times, and returns the median rate in units per second.
    /// </summary>
    public static double Rate(Action body)
    {
        // Warm-up (JIT tiers, buffers, the pool's threads), then find how many calls fill the time.
        var sw = Stopwatch.StartNew();
        long calls = 0;
        while (sw.Elapsed.TotalSeconds < WarmUpSeconds || calls < 3)
        {
            body();
            calls++;
        }
        double perCall = sw.Elapsed.TotalSeconds / calls;
        long n = Math.Max(1, (long)(Seconds / perCall));
        var rates = new List<double>();
        for (int r = 0; r < Repetitions; r++)
        {
            sw.Restart();
            double cpu0 = CpuSeconds();
            for (long i = 0; i < n; i++)
                body();
            double seconds = CpuTime ? CpuSeconds() - cpu0 : sw.Elapsed.TotalSeconds;
            rates.Add(n / seconds);
            if (Environment.GetEnvironmentVariable("BENCH_TRACE") == "1") Console.Error.WriteLine($"# rep {r}: {n / seconds:F0}/s");
        }
        rates.Sort();
        return rates[rates.Count / 2];
    }

    /// <summary>Median latency in microseconds of single calls (each timed on its own).</summary>
    public static double MedianLatencyMicroseconds(Action body)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < WarmUpSeconds)
            body();
        var medians = new List<double>();
        for (int r = 0; r < Repetitions; r++)
        {
            var samples = new List<double>();
            var total = Stopwatch.StartNew();
            while (total.Elapsed.TotalSeconds < Seconds || samples.Count < 10)
            {
                long t0 = Stopwatch.GetTimestamp();
                double cpu0 = CpuSeconds();
                body();
                samples.Add(CpuTime ? (CpuSeconds() - cpu0) * 1e6 : (Stopwatch.GetTimestamp() - t0) * 1e6 / Stopwatch.Frequency);
            }
            samples.Sort();
            medians.Add(samples[samples.Count / 2]);
        }
        medians.Sort();
        return medians[medians.Count / 2];
    }

    public static void Emit(string workload, string metric, double value, int threads, int? n = null, string? extra = null)
    {
        var sb = new System.Text.StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{{\"workload\":\"{workload}\",\"metric\":\"{metric}\",\"value\":{value.ToString("R", CultureInfo.InvariantCulture)}");
        if (n is { } nn)
            sb.Append(CultureInfo.InvariantCulture, $",\"n\":{nn}");
        sb.Append(CultureInfo.InvariantCulture, $",\"threads\":{threads}");
        if (extra != null)
            sb.Append(',').Append(extra);
        sb.Append('}');
        Console.WriteLine(sb.ToString());
        Console.Out.Flush();
    }
}

/// <summary>Pre-generated data: uniform inputs in [0, 1) and one-hot targets, fixed seed.</summary>
internal sealed class Data
{
    public Data(int inputs, int outputs, int rows, int batches, int seed = 42)
    {
        var rng = new Random(seed);
        X = new float[batches][];
        Y = new float[batches][];
        for (int b = 0; b < batches; b++)
        {
            X[b] = new float[rows * inputs];
            Y[b] = new float[rows * outputs];
            for (int i = 0; i < X[b].Length; i++)
                X[b][i] = (float)rng.NextDouble();
            for (int r = 0; r < rows; r++)
                Y[b][r * outputs + rng.Next(outputs)] = 1;
        }
        Rows = rows;
    }

    public float[][] X { get; }
    public float[][] Y { get; }
    public int Rows { get; }
}

/// <summary>The arguments both bench programs take, parsed once for both.</summary>
internal sealed class BenchArgs
{
    public HashSet<string> Only { get; } = new(StringComparer.OrdinalIgnoreCase);
    public int Threads { get; private set; } = Environment.ProcessorCount;
    public bool RssChild { get; private set; }

    public bool Want(string workload) => Only.Count == 0 || Only.Contains(workload);

    /// <summary>
    /// Parses --only, --seconds, --reps, --threads, --cpu-time and --rss-child; any other argument goes to
    /// <paramref name="other"/> (given the arguments and the index, it returns how many it used, 0 if unknown).
    /// Null, with a message on stderr, for an unknown argument.
    /// </summary>
    public static BenchArgs? Parse(string[] args, Func<string[], int, int>? other = null)
    {
        var parsed = new BenchArgs();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--only": foreach (var w in args[++i].Split(',')) parsed.Only.Add(w); break;
                case "--seconds": Measure.Seconds = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--reps": Measure.Repetitions = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--threads": parsed.Threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--cpu-time": Measure.CpuTime = true; break;
                case "--rss-child": parsed.RssChild = true; break;
                default:
                    int used = other?.Invoke(args, i) ?? 0;
                    if (used == 0)
                    {
                        Console.Error.WriteLine($"unknown argument {args[i]}");
                        return null;
                    }
                    i += used - 1;
                    break;
            }
        }
        return parsed;
    }
}

/// <summary>The memory figure: a child process runs W2 for 2,000 steps and reports its own peak RSS.</summary>
internal static class PeakMemory
{
    /// <summary>This process's peak resident set (VmHWM), MiB.</summary>
    public static double PeakRssMiB()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
        return double.NaN;
    }

    /// <summary>Runs this program again with --rss-child and copies its JSON line to stdout.</summary>
    public static void RunChild(int threads)
    {
        string self = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            psi.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        foreach (var a in new[] { "--rss-child", "--threads", threads.ToString(CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        Console.Write(p.StandardOutput.ReadToEnd());
        p.WaitForExit();
    }
}
