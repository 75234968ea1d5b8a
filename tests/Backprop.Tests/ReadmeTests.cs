using System.Text.RegularExpressions;
using Backprop.Explain;
using Backprop.Nn;

namespace Backprop.Tests;

/// <summary>The README's C# examples are code that runs: each block appears, line for line, in a test.</summary>
public sealed partial class ReadmeTests
{
    private static string RepoFile(params string[] parts)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Backprop.slnx")))
            dir = dir.Parent;
        Assert.NotNull(dir);
        return Path.Combine([dir!.FullName, .. parts]);
    }

    [GeneratedRegex("```csharp\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    private static IEnumerable<string> CodeLines(string text) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("using ", StringComparison.Ordinal));

    [Fact]
    public void EveryCSharpBlockOfTheReadmeIsInATest()
    {
        string readme = File.ReadAllText(RepoFile("README.md"));
        var blocks = CSharpBlock().Matches(readme).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(2, blocks.Length);
        string tests = string.Join("\n", Directory.GetFiles(RepoFile("tests", "Backprop.Tests"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .Select(File.ReadAllText));
        // "moons.json" and Console are the two things the tests swap for a temporary path and a writer.
        var testLines = CodeLines(tests).Select(l => l.Replace("console.", "Console.").Replace("(path)", "(\"moons.json\")")).ToHashSet();
        foreach (var block in blocks)
            foreach (var line in CodeLines(block))
                Assert.True(testLines.Contains(line), $"README line not found in any test: {line}");
    }

    [Theory]
    [InlineData("src/Backprop/README.md", 1)]
    [InlineData("src/Backprop.Plotting/README.md", 1)]
    public void EveryCSharpBlockOfAPackageReadmeIsInATest(string readmePath, int expectedBlocks)
    {
        string readme = File.ReadAllText(RepoFile(readmePath.Split('/')));
        var blocks = CSharpBlock().Matches(readme).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(expectedBlocks, blocks.Length);
        string tests = File.ReadAllText(RepoFile("tests", "Backprop.Tests", "PackageReadmeTests.cs"));
        var testLines = CodeLines(tests).ToHashSet();
        foreach (var line in blocks.SelectMany(CodeLines))
            Assert.True(testLines.Contains(line), $"{readmePath} line not found in PackageReadmeTests.cs: {line}");
    }

    [Fact]
    public void EngineExampleLearnsXorAndItsGradientsCheckOut()
    {
        var net = Network<double>.Create(inputs: 2,
            [new LayerSpec(8, Activation.Tanh), new LayerSpec(1, Activation.Sigmoid)],
            Loss.BinaryCrossEntropy, seed: 1);
        double[] x = [0, 0, 0, 1, 1, 0, 1, 1], y = [0, 1, 1, 0];
        for (int step = 0; step < 2000; step++)
            net.TrainStep(x, y, rows: 4, learningRate: 0.5);
        var check = GradientCheck.Run(net, x, y, rows: 4);   // analytic vs finite differences, per layer

        Assert.True(check.MaxRelativeError < 1e-5, $"gradient check {check.MaxRelativeError}");
        var o = net.Forward(x, 4);
        for (int i = 0; i < 4; i++)
            Assert.Equal(y[i], Math.Round(o[i]));
    }
}
