using Backprop.Explain;
using Backprop.IO;
using Backprop.Nn;

namespace Backprop.Tests.Cli;

public sealed class InfoAndGradcheckTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("backprop-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void InfoDescribesTheLayers()
    {
        string path = Path.Combine(_dir, "seed.json");
        ModelFile.Save(SeedNetwork.Create<double>(trainableBiases: false), path);
        var (code, output, _) = CliTests.Run("info", "--model", path);
        Assert.Equal(0, code);
        Assert.Contains("inputs 2, outputs 2, loss half-sse, 14 parameters", output);
        Assert.Contains("frozen", output);
    }

    [Fact]
    public void GradcheckPassesOnACorrectModelWithSeveralSamples()
    {
        string path = Path.Combine(_dir, "m.json");
        ModelFile.Save(Network<double>.Create(3, [new LayerSpec(4, Activation.Tanh), new LayerSpec(3, Activation.Softmax)], Loss.CrossEntropy, 4), path);
        var (code, output, _) = CliTests.Run("gradcheck", "--model", path, "--input", "0.1,0.2,0.3; -1,0.5,2", "--target", "0,1,0;1,0,0");
        Assert.Equal(0, code);
        Assert.Contains("2 sample(s)", output);
        Assert.Equal(2, output.Split('\n').Count(l => l.Contains("PASS")));
    }

    [Fact]
    public void GradcheckFailsWhenTheToleranceCannotBeMet()
    {
        // A step of 0.5 makes the finite differences themselves inaccurate, so the check must report FAIL.
        var (code, output, _) = CliTests.Run("gradcheck", "--epsilon", "0.5", "--tolerance", "1e-9");
        Assert.Equal(1, code);
        Assert.Contains("FAIL", output);
    }

    [Theory]
    [InlineData("info", "--model", "/definitely/not/here.json")]
    [InlineData("gradcheck", "--input", "1,2,3")]
    [InlineData("gradcheck", "--input", "1,x", "--target", "1,1")]
    [InlineData("gradcheck", "--input", "1,2;3,4", "--target", "1,1")]
    public void BadInputGivesAClearError(params string[] args)
    {
        var (code, _, err) = CliTests.Run(args);
        Assert.Equal(2, code);
        Assert.StartsWith("error: ", err);
        Assert.DoesNotContain("   at ", err);
    }
}
