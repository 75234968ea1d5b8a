using System.Reflection;
using System.Text.RegularExpressions;

namespace Backprop.Tests;

/// <summary>
/// The library's rooms depend on each other one way only: Numerics &lt; Nn &lt; Data &lt; Training &lt; Distributed &lt; Evaluation &lt; Explain &lt; IO, and
/// the command line (Backprop.Cli) and the plotting adapter above all of them. Two checks that fail on any edge against
/// that order: every type's signatures (fields, properties, methods, base types, generic arguments) by reflection, and
/// every source file's using directives and namespace-qualified type names (which also cover method bodies).
/// </summary>
public sealed partial class LayeringTests
{
    /// <summary>The rooms of src/Backprop in order: each may use only the ones before it.</summary>
    public static readonly string[] Rooms = ["Numerics", "Nn", "Data", "Training", "Distributed", "Evaluation", "Explain", "IO"];

    private static readonly Assembly Core = typeof(BackpropException).Assembly;

    /// <summary>The room of a type of the core library (the root namespace Backprop counts as below every room).</summary>
    private static int RoomOf(Type t)
    {
        string ns = t.Namespace ?? "";
        if (ns == "Backprop")
            return -1;
        foreach (var (room, i) in Rooms.Select((r, i) => (r, i)))
            if (ns == "Backprop." + room || ns.StartsWith("Backprop." + room + ".", StringComparison.Ordinal))
                return i;
        throw new InvalidOperationException($"{t.FullName}: namespace {ns} is not a room of {string.Join(", ", Rooms)}.");
    }

    private static IEnumerable<Type> Mentioned(Type t)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        if (t.BaseType is { } b)
            yield return b;
        foreach (var i in t.GetInterfaces())
            yield return i;
        foreach (var f in t.GetFields(all))
            yield return f.FieldType;
        foreach (var p in t.GetProperties(all))
            yield return p.PropertyType;
        foreach (var m in t.GetMethods(all))
        {
            yield return m.ReturnType;
            foreach (var p in m.GetParameters())
                yield return p.ParameterType;
        }
        foreach (var c in t.GetConstructors(all))
            foreach (var p in c.GetParameters())
                yield return p.ParameterType;
    }

    /// <summary>A type and every type inside it (element types, generic arguments), from the core library only.</summary>
    private static IEnumerable<Type> Unwrap(Type t)
    {
        if (t.HasElementType)
        {
            foreach (var e in Unwrap(t.GetElementType()!))
                yield return e;
            yield break;
        }
        if (t.IsGenericType)
            foreach (var a in t.GetGenericArguments())
                foreach (var e in Unwrap(a))
                    yield return e;
        if (t.IsGenericParameter)
            yield break;
        var definition = t.IsGenericType ? t.GetGenericTypeDefinition() : t;
        if (definition.Assembly == Core)
            yield return definition;
    }

    [Fact]
    public void NoSignatureReachesIntoAHigherRoom()
    {
        var violations = new List<string>();
        foreach (var t in Core.GetTypes().Where(t => !t.Name.StartsWith('<') && t.Namespace is not null))
        {
            int room = RoomOf(t);
            foreach (var used in Mentioned(t).SelectMany(Unwrap).Distinct())
                if (RoomOf(used) > room)
                    violations.Add($"{t.FullName} ({Rooms[Math.Max(room, 0)]}) uses {used.FullName} ({Rooms[RoomOf(used)]})");
        }
        Assert.True(violations.Count == 0, string.Join("\n", violations.Distinct()));
    }

    [GeneratedRegex(@"//.*?$|/\*.*?\*/|""(?:[^""\\]|\\.)*""|@""(?:[^""]|"""")*""", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex CommentsAndStrings();

    [GeneratedRegex(@"\busing\s+(?:static\s+)?Backprop\.(\w+)")]
    private static partial Regex UsingRoom();

    [GeneratedRegex(@"(?<![\w.])(?:Backprop\.)?(Numerics|Nn|Data|Training|Explain|IO)\.([A-Z]\w*)")]
    private static partial Regex QualifiedName();

    [Fact]
    public void NoSourceFileUsesAHigherRoom()
    {
        string src = Path.Combine(Explain.CliRunner.RepoRoot(), "src", "Backprop");
        // Type names per room (and the rooms' sub-namespaces), so a property that happens to be named like a room
        // (model.Training.Seed) is not taken for a namespace.
        var typesOf = Rooms.ToDictionary(r => r, r => Core.GetTypes()
            .Where(t => t.Namespace is { } ns && (ns == "Backprop." + r || ns.StartsWith("Backprop." + r + ".", StringComparison.Ordinal)))
            .SelectMany(t => new[] { t.Name.Split('`')[0], t.Namespace!.Split('.').ElementAtOrDefault(2) ?? "" }).ToHashSet());
        var violations = new List<string>();
        int files = 0;
        foreach (string file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(src, file);
            if (relative.StartsWith("obj", StringComparison.Ordinal) || relative.StartsWith("bin", StringComparison.Ordinal))
                continue;
            string folder = relative.Split(Path.DirectorySeparatorChar)[0];
            int room = Array.IndexOf(Rooms, folder);
            if (room < 0)
            {
                Assert.True(!relative.Contains(Path.DirectorySeparatorChar), $"{relative}: a folder that is not a room");
                continue; // files at the root (BackpropException.cs) belong below every room
            }
            files++;
            string code = CommentsAndStrings().Replace(File.ReadAllText(file), " ");
            foreach (Match m in UsingRoom().Matches(code))
                if (Array.IndexOf(Rooms, m.Groups[1].Value) > room)
                    violations.Add($"{relative}: using Backprop.{m.Groups[1].Value}");
            foreach (Match m in QualifiedName().Matches(code))
            {
                string target = m.Groups[1].Value;
                if (Array.IndexOf(Rooms, target) > room && typesOf[target].Contains(m.Groups[2].Value))
                    violations.Add($"{relative}: {m.Value}");
            }
        }
        Assert.True(files > 50, $"only {files} source files found under {src}");
        Assert.True(violations.Count == 0, string.Join("\n", violations.Distinct()));
    }

    [Fact]
    public void TheCoreLibraryDoesNotReferenceTheToolOrThePlots()
    {
        var names = Core.GetReferencedAssemblies().Select(a => a.Name).ToArray();
        Assert.DoesNotContain("Backprop.Cli", names);
        Assert.DoesNotContain("Backprop.Plotting", names);
        Assert.DoesNotContain("Microsoft.AspNetCore", names.Select(n => n![..Math.Min(n!.Length, 20)]));
        Assert.DoesNotContain(typeof(Backprop.Plotting.TrainingPlot).Assembly.GetReferencedAssemblies(), a => a.Name == "Backprop.Cli");
    }
}
