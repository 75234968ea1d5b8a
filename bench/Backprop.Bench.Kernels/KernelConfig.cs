using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Backprop.Numerics;

namespace Backprop.Bench.Kernels;

/// <summary>
/// The configuration every kernel benchmark shares: the GFLOP/s column, the ratio to the scalar baseline written
/// as "N.NNx faster", and a filter that keeps only the kernels this CPU accelerates (<see cref="Gemm.AvailableKernels"/>).
/// Command-line options (--job, --filter, ...) add to it.
/// </summary>
public sealed class KernelConfig : ManualConfig
{
    public KernelConfig()
    {
        AddColumn(GflopsColumn.Instance);
        AddFilter(new SimpleFilter(IsAvailable));
        SummaryStyle = SummaryStyle.Default.WithRatioStyle(RatioStyle.Trend);
    }

    /// <summary>
    /// True when the benchmark's kernel (the method's name, a <see cref="GemmKernel"/> value) runs accelerated on this
    /// CPU: Vector512 on a CPU without AVX-512 would time the runtime's emulation, not the kernel.
    /// </summary>
    public static bool IsAvailable(BenchmarkCase benchmarkCase) =>
        !Enum.TryParse<GemmKernel>(benchmarkCase.Descriptor.WorkloadMethod.Name, out var kernel)
        || Gemm.AvailableKernels.Contains(kernel);
}

/// <summary>
/// Billions of floating-point operations per second: <c>2 * M * N * K</c> over the mean time of one product. The
/// shape comes from the benchmark's parameters: <c>Size</c> (n x n x n) or <c>Shape</c> ("MxNxK").
/// </summary>
public sealed class GflopsColumn : IColumn
{
    public static readonly GflopsColumn Instance = new();

    public string Id => nameof(GflopsColumn);
    public string ColumnName => "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Statistics;
    public int PriorityInCategory => 100;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Billions of floating-point operations per second: 2*M*N*K / Mean (a multiply-add counts as 2)";

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        double? flops = Flops(benchmarkCase);
        if (meanNs is not > 0 || flops is null)
            return "NA";
        // Operations per nanosecond are billions of operations per second.
        return (flops.Value / meanNs.Value).ToString("N1", style.CultureInfo);
    }

    /// <summary>The operations of one product of this benchmark case, or null when its parameters do not say.</summary>
    public static double? Flops(BenchmarkCase benchmarkCase)
    {
        string? dims = null;
        var layout = GemmLayout.NN;
        foreach (var parameter in benchmarkCase.Parameters.Items)
        {
            switch (parameter.Name, parameter.Value)
            {
                case ("Size", int n):
                    return GemmShape.Square(n).Flops;
                case ("Shape", string s):
                    dims = s;
                    break;
                case ("Layout", GemmLayout l):
                    layout = l;
                    break;
            }
        }
        return dims is not null && GemmShape.TryParse(dims, layout, out var shape) ? shape.Flops : null;
    }

    public override string ToString() => ColumnName;
}
