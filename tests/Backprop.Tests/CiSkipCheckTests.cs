using System.Diagnostics;
using Backprop.Tests.Explain;
using Backprop.Tests.IO;

namespace Backprop.Tests;

/// <summary>
/// <c>.ci/check-skips</c>, the step of <c>.ci/run</c> that makes a skipped test fail CI unless <c>.ci/allowed-skips</c>
/// lists it, run on test outputs written here in the form <c>dotnet test</c> prints, and on the real allowed list.
/// </summary>
public sealed class CiSkipCheckTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private const string Header = "Test run for /repo/tests/Backprop.Tests/bin/Debug/net10.0/Backprop.Tests.dll (.NETCoreApp,Version=v10.0)\n" +
        "A total of 1 test files matched the specified pattern.\n";

    /// <summary>A test output with the given skipped tests and a summary that counts <paramref name="summarySkips"/> (default: as many).</summary>
    private static string Output(string[] skipped, int? summarySkips = null)
    {
        var lines = skipped.Select(s => $"[xUnit.net 00:00:01.32]     {s} [SKIP]\n  Skipped {s} [1 ms]\n");
        int n = summarySkips ?? skipped.Length;
        return Header + string.Concat(lines) +
            $"\nPassed!  - Failed:     0, Passed:   600, Skipped:    {n,2}, Total:   {600 + n}, Duration: 28 s - Backprop.Tests.dll (net10.0)\n";
    }

    private (int Code, string Out) Check(string output, string allowed, bool ci)
    {
        string outputPath = _dir.File("test.txt"), allowedPath = _dir.File("allowed");
        File.WriteAllText(outputPath, output);
        File.WriteAllText(allowedPath, allowed);
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(CliRunner.RepoRoot(), ".ci", "check-skips"));
        psi.ArgumentList.Add(outputPath);
        psi.ArgumentList.Add(allowedPath);
        psi.Environment["CI"] = ci ? "true" : "";
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "check-skips did not finish");
        return (process.ExitCode, stdout + stderr.Result);
    }

    private const string Iris = "Backprop.Tests.IO.CsvDatasetTests.Iris";
    private const string Theory = "Backprop.Tests.Cli.OptdigitsEndToEndTests.CorruptedModelFile(how: \"cut\")";
    private const string Brackets = "Backprop.Tests.Nn.GradientCheckTests.AWrongGradientIsCaught(fault: \"x\", flagged: [0, 1])";
    private const string Browser = "Backprop.Tests.Playground.PlaygroundBrowserTests.Spirals_train_to_at_least_95_percent_and_the_page_fits_a_phone";

    [Fact]
    public void NoSkipPasses()
    {
        var (code, output) = Check(Output([]), "# nothing allowed\n", ci: true);
        Assert.True(code == 0, output);
    }

    [Fact]
    public void ASkipThatIsNotAllowedFailsInCiAndNamesTheTest()
    {
        var (code, output) = Check(Output([Iris, Browser]), "", ci: true);
        Assert.Equal(1, code);
        Assert.Contains("2 test(s) skipped", output);
        Assert.Contains("  " + Iris + "\n", output);
        Assert.Contains("  " + Browser + "\n", output);
    }

    [Fact]
    public void OutsideCiSkipsAreListedButPass()
    {
        var (code, output) = Check(Output([Iris]), "", ci: false);
        Assert.Equal(0, code);
        Assert.Contains(Iris, output);
        Assert.Contains("with CI=true they fail the run", output);
    }

    [Fact]
    public void AnAllowedSkipPassesByFullNameOrPrefix()
    {
        string allowed = $"# comment\n\n{Theory} -- the reason\n  {Brackets} -- a name with brackets\nBackprop.Tests.Playground.* -- another reason\n";
        var (code, output) = Check(Output([Theory, Brackets, Browser]), allowed, ci: true);
        Assert.True(code == 0, output);
        Assert.Contains("skipped (allowed by", output);
        // The full name must match exactly: the same method with other arguments is another test.
        (code, output) = Check(Output([Theory.Replace("cut", "garbage")]), allowed, ci: true);
        Assert.Equal(1, code);
        Assert.Contains("CorruptedModelFile(how: \"garbage\")", output);
    }

    [Fact]
    public void AnEntryWithoutAReasonFails()
    {
        var (code, output) = Check(Output([Iris]), Iris + "\n", ci: true);
        Assert.Equal(1, code);
        Assert.Contains("has no reason", output);
        (code, _) = Check(Output([Iris]), Iris + " -- \n", ci: true);
        Assert.Equal(1, code);
    }

    [Fact]
    public void SkipsThatCannotBeNamedFail()
    {
        // The summary counts a skip whose name line is missing (another output format, say): never pass unread.
        var (code, output) = Check(Output([Iris], summarySkips: 3), Iris + " -- allowed\n", ci: true);
        Assert.Equal(1, code);
        Assert.Contains("report 3 skipped test(s), but 1 name(s) were read", output);
    }

    [Fact]
    public void TheRealListIsWellFormedAndAllowsNeitherTheDatasetNorTheBrowserTests()
    {
        string allowed = File.ReadAllText(Path.Combine(CliRunner.RepoRoot(), ".ci", "allowed-skips"));
        var (code, output) = Check(Output([]), allowed, ci: true);
        Assert.True(code == 0, output);
        (code, _) = Check(Output([Iris]), allowed, ci: true);
        Assert.Equal(1, code);
        (code, _) = Check(Output([Browser]), allowed, ci: true);
        Assert.Equal(1, code);
    }
}
