using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

// Every argument goes to BenchmarkDotNet: --filter, --job, --list, --memory, --exporters, --artifacts, ...
// e.g. dotnet run -c Release --project bench/Backprop.Bench.Kernels -- --filter '*Square*' --job short
IConfig config = DefaultConfig.Instance;
// Reports go next to this project (BenchmarkDotNet.Artifacts/, git-ignored) rather than into whatever directory the
// command ran from, unless --artifacts says otherwise.
if (!args.Contains("--artifacts") && FindProjectDirectory() is { } projectDirectory)
    config = config.WithArtifactsPath(Path.Combine(projectDirectory, "BenchmarkDotNet.Artifacts"));
var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
return summaries.Any(s => s.HasCriticalValidationErrors) ? 1 : 0;

// The directory of Backprop.Bench.Kernels.csproj, found upwards from the build output; null when run elsewhere.
static string? FindProjectDirectory()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Backprop.Bench.Kernels.csproj")))
            return dir.FullName;
    }
    return null;
}
