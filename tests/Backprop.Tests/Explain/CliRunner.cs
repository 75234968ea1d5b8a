using Backprop.Cli;

namespace Backprop.Tests.Explain;

/// <summary>Runs the `backprop` command line in-process and captures what it writes.</summary>
internal static class CliRunner
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter { NewLine = "\n" };
        var e = new StringWriter { NewLine = "\n" };
        int code = App.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>The repository root (the folder holding Backprop.slnx), found from the test binaries upwards.</summary>
    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Backprop.slnx")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Backprop.slnx not found above " + AppContext.BaseDirectory);
    }
}
