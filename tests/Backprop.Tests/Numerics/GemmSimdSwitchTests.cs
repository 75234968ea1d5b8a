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
        { "DOTNET_EnableAVX512F", "" },                // no AVX-512: Vector256 where AVX2 exists (a no-op on CPUs without AVX-512)
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

/// <summary>Runs only inside <see cref="GemmSimdSwitchTests"/>'s child processes: checks the start-up choice of kernel.</summary>
public sealed class GemmSimdProbe
{
    [Fact]
    public void DefaultKernelFollowsTheSwitch()
    {
        if (Environment.GetEnvironmentVariable("BACKPROP_EXPECT_DEFAULT_KERNEL") == "Reference")
        {
            Assert.Equal(GemmKernel.Reference, Gemm.DefaultKernel);
            Assert.Equal([GemmKernel.Reference], Gemm.AvailableKernels);
            return;
        }
        var expected = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? GemmKernel.Vector512
            : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported ? GemmKernel.Vector256
            : GemmKernel.Reference;
        Assert.Equal(expected, Gemm.DefaultKernel);
    }
}
