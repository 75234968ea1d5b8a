using System.Text.Json.Nodes;

namespace Backprop.IO;

/// <summary>How features are scaled before they reach the network.</summary>
public enum PreprocessingKind
{
    /// <summary>Features are used as they are.</summary>
    None,
    /// <summary>(x - mean) / standard deviation per feature, fitted on the training data (the default for tabular data).</summary>
    Standardize,
    /// <summary>(x - min) / (max - min) per feature, fitted on the training data: training features land in [0, 1].</summary>
    MinMax,
    /// <summary>x / 255 for every feature: image pixels 0..255 to [0, 1] (the default for IDX images). Nothing is fitted.</summary>
    Pixels,
}

/// <summary>
/// A per-feature affine map x' = (x - Offset[j]) / Scale[j], fitted on training data only and stored in the model
/// file as the section <see cref="SectionName"/>, so new data is scaled exactly as the training data was.
/// A constant feature (zero spread) gets scale 1, so it maps to 0 instead of dividing by zero.
/// </summary>
public sealed class Preprocessing
{
    /// <summary>The model file section that holds it.</summary>
    public const string SectionName = "preprocessing";

    /// <summary>The most features a stored preprocessing may claim (bounds what loading allocates).</summary>
    public const int MaxFeatures = 1 << 20;

    private readonly double[] _offset;
    private readonly double[] _scale;

    private Preprocessing(PreprocessingKind kind, double[] offset, double[] scale)
    {
        Kind = kind;
        _offset = offset;
        _scale = scale;
    }

    public PreprocessingKind Kind { get; }

    /// <summary>Number of features it applies to.</summary>
    public int Features => _offset.Length;

    /// <summary>Subtracted from each feature.</summary>
    public IReadOnlyList<double> Offset => _offset;

    /// <summary>Each feature is divided by it (never 0).</summary>
    public IReadOnlyList<double> Scale => _scale;

    /// <summary>The CLI and file names: none, standardize, min-max, pixels.</summary>
    public static string NameOf(PreprocessingKind kind) => kind switch
    {
        PreprocessingKind.None => "none",
        PreprocessingKind.Standardize => "standardize",
        PreprocessingKind.MinMax => "min-max",
        PreprocessingKind.Pixels => "pixels",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown preprocessing."),
    };

    /// <summary>Parses a name from <see cref="NameOf"/>; null when unknown.</summary>
    public static PreprocessingKind? Parse(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "none" => PreprocessingKind.None,
        "standardize" or "standardise" or "standard" => PreprocessingKind.Standardize,
        "min-max" or "minmax" => PreprocessingKind.MinMax,
        "pixels" => PreprocessingKind.Pixels,
        _ => null,
    };

    /// <summary>Fits <paramref name="kind"/> on <paramref name="train"/> (the training data only).</summary>
    public static Preprocessing Fit(DataTable train, PreprocessingKind kind)
    {
        int m = train.Columns;
        int n = train.Rows;
        var offset = new double[m];
        var scale = new double[m];
        Array.Fill(scale, 1.0);
        var x = train.Features;
        switch (kind)
        {
            case PreprocessingKind.None:
                break;
            case PreprocessingKind.Pixels:
                Array.Fill(scale, 255.0);
                break;
            case PreprocessingKind.Standardize:
                if (n == 0)
                    throw new BackpropException($"{train.Source}: cannot fit standardisation on no rows.");
                for (int j = 0; j < m; j++)
                {
                    // Two passes: the mean, then the mean squared deviation (population standard deviation).
                    double sum = 0;
                    for (int r = 0; r < n; r++)
                        sum += x[(long)r * m + j];
                    double mean = sum / n;
                    double ss = 0;
                    for (int r = 0; r < n; r++)
                    {
                        double d = x[(long)r * m + j] - mean;
                        ss += d * d;
                    }
                    double sd = Math.Sqrt(ss / n);
                    offset[j] = mean;
                    scale[j] = sd > 0 && double.IsFinite(sd) ? sd : 1.0;
                }
                break;
            case PreprocessingKind.MinMax:
                if (n == 0)
                    throw new BackpropException($"{train.Source}: cannot fit min-max scaling on no rows.");
                for (int j = 0; j < m; j++)
                {
                    double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
                    for (int r = 0; r < n; r++)
                    {
                        double v = x[(long)r * m + j];
                        lo = Math.Min(lo, v);
                        hi = Math.Max(hi, v);
                    }
                    offset[j] = lo;
                    double range = hi - lo;
                    scale[j] = range > 0 && double.IsFinite(range) ? range : 1.0;
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown preprocessing.");
        }
        return new Preprocessing(kind, offset, scale);
    }

    /// <summary>Scales <paramref name="data"/>'s features; targets and names are kept.</summary>
    public DataTable Apply(DataTable data)
    {
        if (data.Columns != Features)
            throw new BackpropException(
                $"{data.Source}: {data.Columns} feature column(s), but the model was trained on {Features}.");
        var f = (double[])data.Features.Clone();
        Transform(f);
        return data.WithFeatures(f);
    }

    /// <summary>Scales row-major features in place (any number of rows of <see cref="Features"/> values).</summary>
    public void Transform(Span<double> features)
    {
        if (features.Length % Features != 0)
            throw new ArgumentException($"{features.Length} values are not whole rows of {Features}.", nameof(features));
        if (Kind == PreprocessingKind.None)
            return;
        for (int i = 0; i < features.Length; i += Features)
        {
            var row = features.Slice(i, Features);
            for (int j = 0; j < row.Length; j++)
                row[j] = (row[j] - _offset[j]) / _scale[j];
        }
    }

    /// <summary>The section's JSON: <c>{"kind": "standardize", "features": 4, "offset": [...], "scale": [...]}</c>.</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["kind"] = NameOf(Kind),
            ["features"] = Features,
        };
        if (Kind != PreprocessingKind.None)
        {
            var off = new JsonArray();
            var sc = new JsonArray();
            for (int j = 0; j < Features; j++)
            {
                off.Add(JsonValue.Create(_offset[j]));
                sc.Add(JsonValue.Create(_scale[j]));
            }
            o["offset"] = off;
            o["scale"] = sc;
        }
        return o;
    }

    /// <summary>Stores it in a model file's sections under <see cref="SectionName"/>.</summary>
    public void WriteTo(JsonObject sections) => sections[SectionName] = ToJson();

    /// <summary>The preprocessing stored in <paramref name="sections"/>, or null when there is none.</summary>
    public static Preprocessing? ReadFrom(JsonObject sections, string source = "model") =>
        sections.TryGetPropertyValue(SectionName, out var node) ? FromJson(node, source) : null;

    /// <summary>Reads the section's JSON strictly; <paramref name="source"/> names the file in errors.</summary>
    public static Preprocessing FromJson(JsonNode? node, string source = "model")
    {
        string at = $"{source}: field '{SectionName}";
        if (node is not JsonObject o)
            throw new ModelFormatException($"{at}': expected an object.");
        if (!o.TryGetPropertyValue("kind", out var kindNode) || kindNode is not JsonValue kv
            || !kv.TryGetValue(out string? kindName) || Parse(kindName) is not { } kind)
            throw new ModelFormatException($"{at}.kind': expected one of none, standardize, min-max, pixels.");
        if (!o.TryGetPropertyValue("features", out var fNode) || fNode is not JsonValue fv
            || !fv.TryGetValue(out int features) || features < 1 || features > MaxFeatures)
            throw new ModelFormatException($"{at}.features': expected a whole number from 1 to {MaxFeatures}.");
        var offset = new double[0];
        var scale = new double[0];
        if (kind == PreprocessingKind.None)
        {
            offset = new double[features];
            scale = new double[features];
            Array.Fill(scale, 1.0);
        }
        else
        {
            offset = Numbers(o, "offset", features, at, allowZero: true);
            scale = Numbers(o, "scale", features, at, allowZero: false);
        }
        return new Preprocessing(kind, offset, scale);
    }

    private static double[] Numbers(JsonObject o, string name, int count, string at, bool allowZero)
    {
        if (!o.TryGetPropertyValue(name, out var node) || node is not JsonArray a)
            throw new ModelFormatException($"{at}.{name}': expected an array of {count} numbers.");
        if (a.Count != count)
            throw new ModelFormatException($"{at}.{name}': expected {count} numbers (one per feature), found {a.Count}.");
        var result = new double[count];
        for (int i = 0; i < count; i++)
        {
            if (a[i] is not JsonValue v || !v.TryGetValue(out double d) || !double.IsFinite(d) || (!allowZero && d == 0))
                throw new ModelFormatException(
                    $"{at}.{name}[{i}]': expected a finite number{(allowZero ? "" : " other than 0")}.");
            result[i] = d;
        }
        return result;
    }
}
