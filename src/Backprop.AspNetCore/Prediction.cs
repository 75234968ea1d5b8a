using System.Text.Json.Serialization;

namespace Backprop.AspNetCore;

/// <summary>
/// One record's prediction, with the model version that computed it. A classifier fills <see cref="Class"/> and
/// <see cref="Probabilities"/>; a regressor fills <see cref="Values"/> (one per output). Serializes to the same
/// JSON as one element of <c>/predict</c>'s <c>predictions</c>.
/// </summary>
public sealed class Prediction
{
    internal Prediction(int modelVersion, string? @class, IReadOnlyDictionary<string, double>? probabilities, IReadOnlyList<double>? values)
    {
        ModelVersion = modelVersion;
        Class = @class;
        Probabilities = probabilities;
        Values = values;
    }

    /// <summary>The most likely class (classifiers; the library's one class rule, <c>ClassRule.Predict</c>).</summary>
    [JsonPropertyName("class")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Class { get; }

    /// <summary>Each class's probability, by class name (classifiers).</summary>
    [JsonPropertyName("probabilities")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, double>? Probabilities { get; }

    /// <summary>The predicted value of each output (regressors).</summary>
    [JsonPropertyName("values")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<double>? Values { get; }

    /// <summary>The <see cref="AspNetCore.ModelVersion.Number"/> of the model that computed this prediction.</summary>
    [JsonPropertyName("model_version")]
    public int ModelVersion { get; }
}
