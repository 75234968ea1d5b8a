using Backprop.Cli;

namespace Backprop.Tests.Cli;

public sealed class CliTests
{
    internal static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = App.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void NoArgumentsRunsTheDemoToTheEnd()
    {
        var (code, output, err) = Run("--steps", "200");
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.Contains("H1 = 0.3775", output); // 0.15*0.05 + 0.20*0.10 + 0.35, by hand
        Assert.Contains("E_total (eq. 10) =", output);
        Assert.Contains("dE/dV23 =", output);
        Assert.Contains("dE/db2 =", output);
        Assert.Contains("after    200 updates", output);
        Assert.Contains("Final outputs against the targets", output);
    }

    [Fact]
    public void DemoLossFallsOverTraining()
    {
        var (_, output, _) = Run("demo", "--steps", "2000");
        var losses = output.Split('\n')
            .Where(l => l.Contains("updates: E_total = "))
            .Select(l => double.Parse(l[(l.LastIndexOf('=') + 1)..], System.Globalization.CultureInfo.InvariantCulture))
            .ToArray();
        Assert.True(losses.Length >= 4);
        for (int i = 1; i < losses.Length; i++)
            Assert.True(losses[i] < losses[i - 1]);
        Assert.True(losses[^1] < 1e-3);
    }

    [Fact]
    public void HelpAndVersionWork()
    {
        var (code, output, _) = Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("backprop", output);
        Assert.Contains("demo", output);
        (code, output, _) = Run("--version");
        Assert.Equal(0, code);
        Assert.Matches(@"^\d+\.\d+\.\d+", output.Trim());
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("--steps", "many")]
    [InlineData("demo", "--lr", "-1")]
    [InlineData("demo", "--steps", "-5")]
    public void BadOptionsGiveOneClearLineAndExitCode2(params string[] args)
    {
        var (code, output, err) = Run(args);
        Assert.Equal(2, code);
        Assert.StartsWith("error: ", err);
        Assert.DoesNotContain("   at ", err);
        Assert.DoesNotContain("Final outputs", output);
    }
}
