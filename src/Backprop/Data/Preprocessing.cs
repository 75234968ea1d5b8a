namespace Backprop.Data;

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
/// file with the model (its pipeline), so new data is scaled exactly as the training data was.
/// A constant feature (zero spread) gets scale 1, so it maps to 0 instead of dividing by zero.
/// </summary>
public sealed class Preprocessing
{
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

    /// <summary>Which transformation this is (standardize, min-max, pixels or none).</summary>
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
    public static Preprocessing Fit(Dataset train, PreprocessingKind kind)
    {
        int m = train.Inputs;
        int n = train.Rows;
        var offset = new double[m];
        var scale = new double[m];
        Array.Fill(scale, 1.0);
        // Row by row (a split's part is read through its row indices, never gathered); each column's sums are taken
        // in row order, as a column-by-column loop would.
        switch (kind)
        {
            case PreprocessingKind.None:
                break;
            case PreprocessingKind.Pixels:
                Array.Fill(scale, 255.0);
                break;
            case PreprocessingKind.Standardize:
            {
                if (n == 0)
                    throw new BackpropException($"{train.Name}: cannot fit standardisation on no rows.");
                // Two passes: the mean, then the mean squared deviation (population standard deviation).
                var sum = new double[m];
                for (int r = 0; r < n; r++)
                {
                    var row = train.FeatureRow(r);
                    for (int j = 0; j < m; j++)
                        sum[j] += row[j];
                }
                var mean = new double[m];
                for (int j = 0; j < m; j++)
                    mean[j] = sum[j] / n;
                var ss = new double[m];
                for (int r = 0; r < n; r++)
                {
                    var row = train.FeatureRow(r);
                    for (int j = 0; j < m; j++)
                    {
                        double d = row[j] - mean[j];
                        ss[j] += d * d;
                    }
                }
                for (int j = 0; j < m; j++)
                {
                    double sd = Math.Sqrt(ss[j] / n);
                    offset[j] = mean[j];
                    scale[j] = sd > 0 && double.IsFinite(sd) ? sd : 1.0;
                }
                break;
            }
            case PreprocessingKind.MinMax:
            {
                if (n == 0)
                    throw new BackpropException($"{train.Name}: cannot fit min-max scaling on no rows.");
                var lo = new double[m];
                var hi = new double[m];
                Array.Fill(lo, double.PositiveInfinity);
                Array.Fill(hi, double.NegativeInfinity);
                for (int r = 0; r < n; r++)
                {
                    var row = train.FeatureRow(r);
                    for (int j = 0; j < m; j++)
                    {
                        lo[j] = Math.Min(lo[j], row[j]);
                        hi[j] = Math.Max(hi[j], row[j]);
                    }
                }
                for (int j = 0; j < m; j++)
                {
                    offset[j] = lo[j];
                    double range = hi[j] - lo[j];
                    scale[j] = range > 0 && double.IsFinite(range) ? range : 1.0;
                }
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown preprocessing.");
        }
        return new Preprocessing(kind, offset, scale);
    }

    /// <summary>Scales <paramref name="data"/>'s features; targets and names are kept.</summary>
    public Dataset Apply(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Inputs != Features)
            throw new BackpropException(
                $"{data.Name}: {data.Inputs} feature column(s), but the model was trained on {Features}.");
        if (IsIdentity)
            return data;
        var f = new double[(long)data.Rows * data.Inputs];
        data.CopyFeatures(0, data.Rows, f);
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

    /// <summary>
    /// A preprocessing from stored numbers (a model file): <paramref name="offset"/> and <paramref name="scale"/> hold one
    /// finite value per feature, every scale non-zero. Throws <see cref="BackpropException"/> naming what is wrong.
    /// </summary>
    public static Preprocessing Create(PreprocessingKind kind, double[] offset, double[] scale)
    {
        ArgumentNullException.ThrowIfNull(offset);
        ArgumentNullException.ThrowIfNull(scale);
        if (!Enum.IsDefined(kind))
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown preprocessing.");
        if (offset.Length == 0 || offset.Length != scale.Length || offset.Length > MaxFeatures)
            throw new BackpropException($"A preprocessing needs 1 to {MaxFeatures} features with one offset and one scale each, got {offset.Length} and {scale.Length}.");
        for (int j = 0; j < offset.Length; j++)
        {
            if (!double.IsFinite(offset[j]))
                throw new BackpropException($"offset[{j}] is {offset[j]}; expected a finite number.");
            if (!double.IsFinite(scale[j]) || scale[j] == 0)
                throw new BackpropException($"scale[{j}] is {scale[j]}; expected a finite number other than 0.");
        }
        return new Preprocessing(kind, [.. offset], [.. scale]);
    }

    /// <summary>No preprocessing: every one of <paramref name="features"/> features is used as it is.</summary>
    public static Preprocessing Identity(int features)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        var scale = new double[features];
        Array.Fill(scale, 1.0);
        return new Preprocessing(PreprocessingKind.None, new double[features], scale);
    }

    /// <summary>True when it changes nothing (<see cref="PreprocessingKind.None"/>).</summary>
    public bool IsIdentity => Kind == PreprocessingKind.None;
}
