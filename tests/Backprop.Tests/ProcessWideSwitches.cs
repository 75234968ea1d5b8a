using System.Reflection;
using Backprop.Nn;
using Backprop.Numerics;
using Backprop.Training;

namespace Backprop.Tests;

/// <summary>
/// The tests that flip a process-wide switch of the engine while they run (<see cref="ProcessWideSwitchesTests.Switches"/>:
/// <c>Network&lt;T&gt;.DisableSeedSizedStep</c>, <c>GemmBlocking.Override</c>). xunit runs test classes in parallel, so
/// while one class has such a switch flipped, any other class that trains or updates would take another path than the
/// one it means to test. The classes of this collection run on their own, after every parallel collection has finished.
/// (<c>Gemm.MaxThreads</c> has a collection of the same kind, <c>Numerics/GemmThreadingTests</c>.)
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideSwitches
{
    public const string Name = "Process-wide switches (run alone)";
}

/// <summary>
/// Keeps the rule above true: every test class whose code sets a process-wide switch belongs to a collection that does
/// not run in parallel, and every static settable property of the library is known to be either process-wide (listed
/// here) or per thread / per async flow (so a new switch has to be classified when it is added).
/// </summary>
public sealed class ProcessWideSwitchesTests
{
    /// <summary>Setters of switches that every thread of the process sees.</summary>
    internal static readonly (Type Type, string Property)[] Switches =
    [
        (typeof(Network<>), nameof(Network<double>.DisableSeedSizedStep)),
        (typeof(Gemm), nameof(Gemm.MaxThreads)),
        // Set only by the benchmarks' block-size override (GemmBlocking.Override); results never depend on them.
        (typeof(GemmBlocking<,>), "KC"),
        (typeof(GemmBlocking<,>), "MC"),
    ];

    /// <summary>Static settable properties that only reach the thread (or async flow) that sets them.</summary>
    private static readonly (Type Type, string Property)[] PerThread =
    [
        (typeof(Gemm), nameof(Gemm.ForcedKernel)),
        (typeof(Gemm), nameof(Gemm.SharedPanelsOnly)),
        (typeof(DoubleLanes), nameof(DoubleLanes.ForceScalar)),
        (typeof(Elementwise), nameof(Elementwise.ForcedWidth)),
        (typeof(DoubleLanes), nameof(DoubleLanes.ForcedWidth)),
    ];

    private static readonly Assembly[] Library =
        [typeof(Network<>).Assembly, typeof(Backprop.Cli.App).Assembly, typeof(Backprop.Plotting.TrainingPlot).Assembly];

    [Fact]
    public void EveryStaticSettablePropertyOfTheLibraryIsClassified()
    {
        var known = Switches.Concat(PerThread).Select(s => (s.Type, s.Property)).ToHashSet();
        var found = Library.SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetProperties(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                .Where(p => p.SetMethod is not null && !t.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute)))
                .Select(p => (t, p.Name)))
            .ToList();
        Assert.NotEmpty(found);
        var unknown = found.Where(f => !known.Contains(f)).Select(f => $"{f.t.FullName}.{f.Name}").ToList();
        Assert.True(unknown.Count == 0,
            "static settable properties not classified as process-wide or per-thread in ProcessWideSwitchesTests: " + string.Join(", ", unknown));
        // And the lists name real properties.
        foreach (var (type, property) in known)
            Assert.Contains((type, property), found);
    }

    [Fact]
    public void EveryTestClassThatSetsASwitchRunsAlone()
    {
        var setters = Switches.Select(s => (s.Type, "set_" + s.Property)).ToHashSet();
        var serial = typeof(ProcessWideSwitchesTests).Assembly.GetTypes()
            .Select(t => t.GetCustomAttribute<CollectionDefinitionAttribute>() is { DisableParallelization: true } d ? d.Name : null)
            .Where(n => n is not null)
            .ToHashSet();
        var setting = typeof(ProcessWideSwitchesTests).Assembly.GetTypes()
            .Where(t => !t.IsNested)
            .Where(t => AllTypes(t).Any(n => CallsAny(n, setters)))
            .ToList();
        // The scan finds the classes known to flip switches (it would find nothing if it could not read calls).
        Assert.Contains(typeof(Backprop.Tests.Nn.TinyPathTests), setting);
        Assert.Contains(typeof(Backprop.Tests.Numerics.GemmThreadingTests), setting);
        var parallel = setting.Where(t => t.GetCustomAttribute<CollectionAttribute>() is not { } c || !serial.Contains(c.Name))
            .Select(t => t.FullName).ToList();
        Assert.True(parallel.Count == 0,
            $"these classes set a process-wide switch but run in parallel with others; add [Collection(ProcessWideSwitches.Name)]: {string.Join(", ", parallel)}");
    }

    private static IEnumerable<Type> AllTypes(Type t) => t.GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic).SelectMany(AllTypes).Prepend(t);

    /// <summary>Whether any method of <paramref name="type"/> (lambdas and state machines are nested types) calls one of the setters.</summary>
    private static bool CallsAny(Type type, HashSet<(Type, string)> setters)
    {
        const BindingFlags all = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        var methods = type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all));
        foreach (var method in methods)
        {
            var il = method.GetMethodBody()?.GetILAsByteArray();
            if (il is null)
                continue;
            // call (0x28) and callvirt (0x6F) take a 4-byte method token; a stray byte that looks like one resolves to
            // nothing (or to an unrelated method), so scanning every position is safe.
            for (int i = 0; i + 4 < il.Length; i++)
            {
                if (il[i] != 0x28 && il[i] != 0x6F)
                    continue;
                int token = BitConverter.ToInt32(il, i + 1);
                MethodBase? callee;
                try
                {
                    callee = type.Module.ResolveMethod(token,
                        type.IsGenericType ? type.GetGenericArguments() : null,
                        method.IsGenericMethod ? method.GetGenericArguments() : null);
                }
                catch (Exception e) when (e is ArgumentException or BadImageFormatException)
                {
                    continue;
                }
                var declaring = callee?.DeclaringType;
                if (declaring is null)
                    continue;
                var definition = declaring.IsGenericType ? declaring.GetGenericTypeDefinition() : declaring;
                if (setters.Contains((definition, callee!.Name)))
                    return true;
            }
        }
        return false;
    }
}
