using System.Diagnostics;
using Backprop.Numerics;

namespace Backprop.Tests.Numerics;

/// <summary>
/// The GEMM tests again in child processes whose runtime has SIMD switched off, wholly or in part, with the
/// runtime's own environment switches: the kernel chosen at start-up must follow (scalar reference without
/// SIMD, Vector256 without AVX-512) and every product must still match the reference.
/// </summary>
public sealed class GemmSimdSwitchTests
{
    public static TheoryData<string, string> Switches => new()
    {
        { "DOTNET_EnableHWIntrinsic", "Reference" },  // no SIMD at all: vector kernels run emulated, the default is scalar
        { "DOTNET_EnableAVX2", "Reference" },          // AVX without AVX2/FMA: Vector256 is not accelerated
        // No AVX-512: Vector256 where AVX2 exists (a no-op on CPUs without AVX-512). .NET 10 reads EnableAVX512;
        // the older EnableAVX512F is ignored (it left Vector512 on, which the probe's independent check caught).
        { "DOTNET_EnableAVX512", "" },
    };

    [Theory]
    [MemberData(nameof(Switches))]
    public async Task GemmTestsPassWithSimdSwitchedOff(string variable, string expectedDefault)
    {
        string assembly = typeof(GemmTests).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
        };
        psi.ArgumentList.Add(assembly);
        // The whole GemmTests class plus the probe below; not this class (no recursion).
        psi.ArgumentList.Add("-class");
        psi.ArgumentList.Add(typeof(GemmTests).FullName!);
        psi.ArgumentList.Add("-class");
        psi.ArgumentList.Add(typeof(GemmSimdProbe).FullName!);
        psi.Environment[variable] = "0";
        psi.Environment["BACKPROP_EXPECT_DEFAULT_KERNEL"] = expectedDefault;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(4));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{variable}=0: the child test run did not finish in 4 minutes");
        }
        string output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"{variable}=0: child test run failed (exit {process.ExitCode}):\n{output}");
        // It really ran the tests (a filter that matched nothing would also exit 0).
        Assert.Matches(@"Total:\s*[1-9]\d*, Errors: 0, Failed: 0", output);
    }
}

/// <summary>
/// The start-up choice of kernel against the CPU's capabilities stated independently of <see cref="Gemm"/>: the
/// flags in /proc/cpuinfo and the runtime's documented switches (DOTNET_EnableHWIntrinsic, DOTNET_EnableAVX,
/// DOTNET_EnableAVX2, DOTNET_EnableAVX512, DOTNET_PreferredVectorBitWidth; .NET 10 has no separate FMA switch). Runs in the normal test run and inside
/// <see cref="GemmSimdSwitchTests"/>'s child processes, where the parent also states what it expects.
/// </summary>
public sealed class GemmSimdProbe
{
    [Fact]
    public void DefaultKernelFollowsTheSwitch()
    {
        var expected = CpuCapabilities.Expected();
        Assert.Equal(expected.Default, Gemm.DefaultKernel);
        Assert.Equal(expected.Available, Gemm.AvailableKernels);
        if (Environment.GetEnvironmentVariable("BACKPROP_EXPECT_DEFAULT_KERNEL") is { Length: > 0 } stated)
            Assert.Equal(Enum.Parse<GemmKernel>(stated), Gemm.DefaultKernel);
    }
}

/// <summary>What the kernels should be on this CPU, from /proc/cpuinfo and the environment (not from the runtime's answers).</summary>
internal static class CpuCapabilities
{
    public static (GemmKernel Default, GemmKernel[] Available) Expected()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture
            == System.Runtime.InteropServices.Architecture.X64 && File.Exists("/proc/cpuinfo"),
            "the CPU's capabilities are read from /proc/cpuinfo, which only x64 Linux has here");
        var info = File.ReadAllLines("/proc/cpuinfo");
        string Field(string name) => info.FirstOrDefault(l => l.Split(':')[0].Trim() == name)?.Split(':', 2)[1].Trim() ?? "";
        var flags = Field("flags").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        static bool Off(string name) => Environment.GetEnvironmentVariable("DOTNET_" + name) == "0";
        bool simd = !Off("EnableHWIntrinsic");
        bool avx2 = simd && !Off("EnableAVX") && !Off("EnableAVX2") && flags.Contains("avx2") && flags.Contains("fma");
        // Vector512 is accelerated with the x86-64-v4 set (F, BW, CD, DQ, VL), unless 512-bit vectors are not
        // preferred: by the switch, or by default on Intel's Skylake-SP generation (family 6, model 85), which
        // lowers its clock for them.
        bool skylakeSp = Field("vendor_id") == "GenuineIntel" && Field("cpu family") == "6" && Field("model") == "85";
        string? preferred = Environment.GetEnvironmentVariable("DOTNET_PreferredVectorBitWidth");
        bool prefers512 = preferred is { Length: > 0 } ? int.TryParse(preferred, out int bits) && bits >= 512 : !skylakeSp;
        bool avx512 = avx2 && !Off("EnableAVX512") && prefers512
            && new[] { "avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl" }.All(flags.Contains);
        var available = new List<GemmKernel> { GemmKernel.Reference };
        if (avx2)
            available.Add(GemmKernel.Vector256);
        if (avx512)
            available.Add(GemmKernel.Vector512);
        return (available[^1], [.. available]);
    }
}
