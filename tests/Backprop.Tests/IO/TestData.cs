namespace Backprop.Tests.IO;

/// <summary>Where the shared datasets are (env BACKPROP_DATASETS overrides), and a skip when they are absent.</summary>
internal static class TestData
{
    public static string DatasetsFolder
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("BACKPROP_DATASETS");
            if (!string.IsNullOrWhiteSpace(env))
                return env;
            // The repository's ../shared/datasets, found by walking up from the test binaries.
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null)
            {
                string candidate = Path.Combine(dir.FullName, "..", "shared", "datasets");
                if (Directory.Exists(candidate))
                    return Path.GetFullPath(candidate);
                if (File.Exists(Path.Combine(dir.FullName, "Backprop.slnx")))
                    return Path.GetFullPath(candidate);
                dir = dir.Parent;
            }
            return Path.GetFullPath(Path.Combine("..", "shared", "datasets"));
        }
    }

    /// <summary>The full path of a dataset file, or a skipped test saying which file is missing and how to point to it.</summary>
    public static string Require(params string[] parts)
    {
        string path = Path.Combine([DatasetsFolder, .. parts]);
        Assert.SkipUnless(File.Exists(path),
            $"dataset file {path} is absent (set BACKPROP_DATASETS to the datasets folder to run this test)");
        return path;
    }

    /// <summary>
    /// A fresh temporary folder for a test's files, directly under the temporary folder (no shared parent is left
    /// behind). The caller deletes it; <see cref="TempDirectory"/> does that itself.
    /// </summary>
    public static string TempFolder() => Directory.CreateTempSubdirectory("backprop-tests-").FullName;
}

/// <summary>A fresh temporary folder that is deleted, with everything in it, on Dispose: <c>using var dir = new TempDirectory();</c>.</summary>
internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } = TestData.TempFolder();

    /// <summary>The path of <paramref name="name"/> inside the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }
}
