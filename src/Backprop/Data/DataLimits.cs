using System.Globalization;

namespace Backprop.Data;

/// <summary>
/// The bound the readers hold a dataset to, so that no input file can make a command take more memory than
/// docs/reliability.md states: at most <see cref="MaxValues"/> feature values (rows x features) per dataset,
/// checked from an IDX header before anything is read, and counted row by row in a CSV file.
/// </summary>
public static class DataLimits
{
    /// <summary>The default limit: 2^27 = 134,217,728 feature values (1 GiB as doubles; MNIST's 60,000 x 784 images are 47 million).</summary>
    public const long DefaultMaxValues = 1L << 27;

    /// <summary>The environment variable that raises (or lowers) <see cref="MaxValues"/>: a whole number of values.</summary>
    public const string MaxValuesVariable = "BACKPROP_MAX_VALUES";

    /// <summary>The largest limit <see cref="MaxValuesVariable"/> may set: the most elements one array may hold.</summary>
    public static long LargestMaxValues => Array.MaxLength;

    /// <summary>
    /// The limit in effect: <see cref="MaxValuesVariable"/> when it is set (a whole number from 1 to
    /// <see cref="LargestMaxValues"/>), else <see cref="DefaultMaxValues"/>. Read on every call, so a process that sets
    /// the variable sees it at its next read.
    /// </summary>
    public static long MaxValues
    {
        get
        {
            string? text = Environment.GetEnvironmentVariable(MaxValuesVariable);
            if (string.IsNullOrWhiteSpace(text))
                return DefaultMaxValues;
            if (!long.TryParse(text.Trim().Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out long v)
                || v < 1 || v > LargestMaxValues)
                throw new BackpropException(
                    $"{MaxValuesVariable}: '{text}' is not a number of values from 1 to {LargestMaxValues:N0} (the default is {DefaultMaxValues:N0}).");
            return v;
        }
    }

    /// <summary>Throws unless <paramref name="limit"/> is a limit <see cref="MaxValues"/> could be.</summary>
    internal static long Check(long? limit)
    {
        long v = limit ?? MaxValues;
        if (v < 1 || v > LargestMaxValues)
            throw new BackpropException($"A dataset's value limit must be from 1 to {LargestMaxValues:N0}, got {v:N0}.");
        return v;
    }

    /// <summary>
    /// The message for a dataset of <paramref name="what"/> (e.g. "60,000 rows x 784 features = 47,040,000 values")
    /// over <paramref name="limit"/>: the limit, the memory it stands for, and how to avoid or raise it.
    /// </summary>
    internal static string TooMany(string source, string what, long limit) =>
        $"{source}: {what}, more than the {limit:N0} feature values a dataset may hold ({Bytes(limit * 8)} as doubles; "
        + $"a training run needs about 1.5 times that, docs/reliability.md); use fewer rows or columns, "
        + $"or raise the limit with the environment variable {MaxValuesVariable}=N if the machine has the memory.";

    /// <summary>A byte count for messages: "512 MiB", "1.5 GiB".</summary>
    internal static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.#", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("0.#", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " bytes",
    };
}
