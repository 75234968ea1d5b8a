namespace Backprop.Nn;

/// <summary>
/// The short names used in model files and on the command line (<c>half-sse</c>, <c>leaky-relu</c>, ...),
/// one table per enum so parsing and printing cannot drift apart.
/// </summary>
public static class Names
{
    private static readonly (Activation Value, string Name)[] ActivationNames =
    [
        (Activation.Identity, "identity"), (Activation.Sigmoid, "sigmoid"), (Activation.Tanh, "tanh"),
        (Activation.Relu, "relu"), (Activation.LeakyRelu, "leaky-relu"), (Activation.Softmax, "softmax"),
    ];

    private static readonly (Loss Value, string Name)[] LossNames =
    [
        (Loss.HalfSse, "half-sse"), (Loss.Mse, "mse"), (Loss.CrossEntropy, "cross-entropy"),
        (Loss.BinaryCrossEntropy, "binary-cross-entropy"),
    ];

    private static readonly (BiasMode Value, string Name)[] BiasNames =
    [
        (BiasMode.PerUnit, "per-unit"), (BiasMode.Shared, "shared"), (BiasMode.None, "none"),
    ];

    private static readonly (UpdateOrder Value, string Name)[] OrderNames =
    [
        (UpdateOrder.Simultaneous, "simultaneous"), (UpdateOrder.Sequential, "sequential"),
    ];

    /// <summary>The short name of an activation (<c>leaky-relu</c>).</summary>
    public static string Of(Activation a) => Lookup(ActivationNames, a);

    /// <summary>The short name of a loss (<c>half-sse</c>).</summary>
    public static string Of(Loss l) => Lookup(LossNames, l);

    /// <summary>The short name of a bias mode (<c>per-unit</c>).</summary>
    public static string Of(BiasMode b) => Lookup(BiasNames, b);

    /// <summary>The short name of an update order (<c>simultaneous</c>).</summary>
    public static string Of(UpdateOrder o) => Lookup(OrderNames, o);

    /// <summary>Every short name of <typeparamref name="TEnum"/>, in declaration order.</summary>
    public static IEnumerable<string> All<TEnum>() where TEnum : struct, Enum => Table<TEnum>().Select(p => p.Name);

    /// <summary>The value named <paramref name="text"/> (case-insensitive, trimmed); false when no value has that name.</summary>
    public static bool TryParse<TEnum>(string? text, out TEnum value) where TEnum : struct, Enum
    {
        foreach (var (v, name) in Table<TEnum>())
        {
            if (string.Equals(name, text?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                value = v;
                return true;
            }
        }
        value = default;
        return false;
    }

    /// <summary>Parses a name or throws <see cref="FormatException"/> listing the accepted names.</summary>
    public static TEnum Parse<TEnum>(string? text, string what) where TEnum : struct, Enum =>
        TryParse<TEnum>(text, out var v)
            ? v
            : throw new FormatException($"Unknown {what} '{text}'; expected one of: {string.Join(", ", All<TEnum>())}.");

    private static (TEnum Value, string Name)[] Table<TEnum>() where TEnum : struct, Enum
    {
        object table = typeof(TEnum) == typeof(Activation) ? ActivationNames
            : typeof(TEnum) == typeof(Loss) ? LossNames
            : typeof(TEnum) == typeof(BiasMode) ? BiasNames
            : typeof(TEnum) == typeof(UpdateOrder) ? OrderNames
            : throw new ArgumentException($"No names for {typeof(TEnum).Name}.");
        return ((TEnum Value, string Name)[])table;
    }

    private static string Lookup<TEnum>((TEnum Value, string Name)[] table, TEnum v) where TEnum : struct, Enum
    {
        foreach (var (value, name) in table)
            if (EqualityComparer<TEnum>.Default.Equals(value, v))
                return name;
        throw new ArgumentOutOfRangeException(nameof(v), v, $"No name for {typeof(TEnum).Name}.{v}.");
    }
}
