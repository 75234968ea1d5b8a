namespace Backprop.Tests.Explain;

/// <summary>
/// The default seed trace in each format and language, compared with files that a person has read through
/// (the text goldens here, and docs/derivation*.md, which the README links to). A difference means the trace
/// changed: read the new output, and if it is right regenerate the file with the command in the message.
/// </summary>
public sealed class GoldenTests
{
    public static TheoryData<string, string[]> Cases => new()
    {
        { "tests/Backprop.Tests/Explain/Golden/seed.en.txt", ["explain"] },
        { "tests/Backprop.Tests/Explain/Golden/seed.zh.txt", ["explain", "--lang", "zh"] },
        { "tests/Backprop.Tests/Explain/Golden/seed.sequential.en.txt", ["explain", "--update-order", "sequential", "--steps", "3"] },
        { "docs/derivation.md", ["explain", "--format", "markdown"] },
        { "docs/derivation.zh.md", ["explain", "--format", "markdown", "--lang", "zh"] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void OutputMatchesTheReviewedFile(string file, string[] args)
    {
        var (code, output, error) = CliRunner.Run(args);
        Assert.True(code == 0, error);
        string path = Path.Combine(CliRunner.RepoRoot(), file);
        Assert.True(File.Exists(path), $"{file} is missing; create it with: dotnet run --project src/Backprop.Cli -- {string.Join(' ', args)} --out {file}");
        string expected = File.ReadAllText(path).Replace("\r\n", "\n");
        Assert.True(expected == output,
            $"{file} differs from `backprop {string.Join(' ', args)}` (first difference at character {FirstDifference(expected, output)}). " +
            $"If the new output is right, regenerate it with: dotnet run --project src/Backprop.Cli -- {string.Join(' ', args)} --out {file}");
    }

    private static int FirstDifference(string a, string b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
            if (a[i] != b[i])
                return i;
        return n;
    }
}
