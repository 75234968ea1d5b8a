using System.Text.Json;
using Backprop.IO;
using Backprop.Tests.Explain;

namespace Backprop.Tests.Cli.Process;

/// <summary>
/// The tool as users get it: the project packed into its .nupkg (from this test run's build), installed with
/// `dotnet tool install --tool-path` from that package alone, and run as `backprop`: the version, a train that saves,
/// an evaluate of the saved model, a refused output and an exit code, from an unrelated working folder.
/// </summary>
[Collection(CliProcessCollection.Name)]
public sealed class PackedToolTests(CliProcessFixture fx)
{
    [Fact]
    public void ThePackedToolInstallsAndRuns()
    {
        using var work = fx.Scratch();
        string repo = CliRunner.RepoRoot();
        // The configuration this test assembly was built in (bin/<Configuration>/net10.0).
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        string packages = work.Path("nupkg"), tools = work.Path("tools");
        var pack = ToolProcess.Start(ToolProcess.Dotnet, ["pack", Path.Combine(repo, "src", "Backprop.Cli"), "-c", configuration, "--no-build",
            "-o", packages, "-v", "quiet", "-nologo"], repo, null, 300);
        Assert.True(pack.Code == 0, pack.ToString());
        Assert.Single(Directory.GetFiles(packages, "backprop.*.nupkg"), f => !f.EndsWith(".snupkg", StringComparison.Ordinal));
        // Only the package just made: a private package cache (no stale copy of the same version) and no other source.
        File.WriteAllText(work.Path("nuget.config"),
            $"<configuration><packageSources><clear /><add key=\"here\" value=\"{packages}\" /></packageSources></configuration>");
        var install = ToolProcess.Start(ToolProcess.Dotnet, ["tool", "install", "--tool-path", tools, "--configfile", work.Path("nuget.config"), "backprop"],
            work.Dir, new Dictionary<string, string?> { ["NUGET_PACKAGES"] = work.Path("packages-cache") }, 300);
        Assert.True(install.Code == 0, install.ToString());
        string backprop = Path.Combine(tools, "backprop");
        Assert.True(File.Exists(backprop), install.ToString());

        var version = ToolProcess.Run(work.Dir, ["--version"], tool: backprop);
        Assert.True(version.Code == 0, version.ToString());
        Assert.Matches(@"^\d+\.\d+\.\d+", version.Out.Trim());
        var train = ToolProcess.Run(work.Dir, ["train", "--data", "two.csv", "--hidden", "4", "--epochs", "3", "--save", "m.json", "--json"], tool: backprop);
        Assert.True(train.Code == 0, train.ToString());
        Assert.Equal(3, ModelFile.Load(work.Path("m.json")).Training.EpochsTrained);
        var evaluate = ToolProcess.Run(work.Dir, ["evaluate", "--model", "m.json", "--data", "two.csv", "--json"], tool: backprop);
        Assert.True(evaluate.Code == 0, evaluate.ToString());
        Assert.Equal(80, JsonDocument.Parse(evaluate.Out).RootElement.GetProperty("rows").GetInt32());
        byte[] data = work.Bytes("two.csv");
        var refused = ToolProcess.Run(work.Dir, ["train", "--data", "two.csv", "--save", "./two.csv"], tool: backprop);
        Assert.Equal(2, refused.Code);
        Assert.Equal(data, work.Bytes("two.csv"));
        var help = ToolProcess.Run(work.Dir, ["--help"], tool: backprop);
        Assert.Contains("Exit codes:", help.Out);
    }
}
