using System.Text.Json.Nodes;

namespace Backprop.IO;

/// <summary>
/// What a model expects of its data and what its outputs mean: the task, the classes in output order, the
/// number (and names) of the features, the target's name. Stored in the model file as the section
/// <see cref="SectionName"/> so <c>predict</c> can read a raw file and print class names.
/// </summary>
public sealed record DataSchema
{
    /// <summary>The model file section that holds it.</summary>
    public const string SectionName = "data";

    /// <summary>Bounds on what a stored schema may claim (loading allocates no more).</summary>
    public const int MaxClasses = 1 << 16;

    public required TaskKind Task { get; init; }

    /// <summary>Class names in the order of the network's outputs (empty for regression).</summary>
    public IReadOnlyList<string> Classes { get; init; } = [];

    /// <summary>Number of feature columns the model takes.</summary>
    public required int Features { get; init; }

    /// <summary>Names of the feature columns when the training file had a header.</summary>
    public IReadOnlyList<string>? FeatureNames { get; init; }

    /// <summary>Name of the target column, when known.</summary>
    public string? Target { get; init; }

    /// <summary>The schema of a (training) dataset.</summary>
    public static DataSchema Of(DataTable data) => new()
    {
        Task = data.Task,
        Classes = data.Classes.ToArray(),
        Features = data.Columns,
        FeatureNames = data.FeatureNames?.ToArray(),
        Target = data.TargetName,
    };

    /// <summary><c>{"task": "classification", "features": 4, "classes": [...], "feature_names": [...], "target": "..."}</c>.</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["task"] = Task == TaskKind.Classification ? "classification" : "regression",
            ["features"] = Features,
        };
        if (Task == TaskKind.Classification)
            o["classes"] = new JsonArray(Classes.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray());
        if (FeatureNames is not null)
            o["feature_names"] = new JsonArray(FeatureNames.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray());
        if (Target is not null)
            o["target"] = Target;
        return o;
    }

    /// <summary>Stores it in a model file's sections under <see cref="SectionName"/>.</summary>
    public void WriteTo(JsonObject sections) => sections[SectionName] = ToJson();

    /// <summary>The schema stored in <paramref name="sections"/>, or null when there is none.</summary>
    public static DataSchema? ReadFrom(JsonObject sections, string source = "model") =>
        sections.TryGetPropertyValue(SectionName, out var node) ? FromJson(node, source) : null;

    /// <summary>Reads the section's JSON strictly; <paramref name="source"/> names the file in errors.</summary>
    public static DataSchema FromJson(JsonNode? node, string source = "model")
    {
        string at = $"{source}: field '{SectionName}";
        if (node is not JsonObject o)
            throw new ModelFormatException($"{at}': expected an object.");
        var task = Str(o, "task", at) switch
        {
            "classification" => TaskKind.Classification,
            "regression" => TaskKind.Regression,
            _ => throw new ModelFormatException($"{at}.task': expected \"classification\" or \"regression\"."),
        };
        if (!o.TryGetPropertyValue("features", out var fNode) || fNode is not JsonValue fv
            || !fv.TryGetValue(out int features) || features < 1 || features > Preprocessing.MaxFeatures)
            throw new ModelFormatException($"{at}.features': expected a whole number from 1 to {Preprocessing.MaxFeatures}.");
        IReadOnlyList<string> classes = [];
        if (task == TaskKind.Classification)
        {
            classes = Strings(o, "classes", at, MaxClasses) ?? throw new ModelFormatException($"{at}.classes': missing; expected an array of class names.");
            if (classes.Count == 0)
                throw new ModelFormatException($"{at}.classes': expected at least one class.");
            if (classes.Distinct(StringComparer.Ordinal).Count() != classes.Count)
                throw new ModelFormatException($"{at}.classes': the class names must be distinct.");
        }
        var names = Strings(o, "feature_names", at, Preprocessing.MaxFeatures);
        if (names is not null && names.Length != features)
            throw new ModelFormatException($"{at}.feature_names': expected {features} names (one per feature), found {names.Length}.");
        string? target = o.ContainsKey("target") ? Str(o, "target", at) : null;
        return new DataSchema { Task = task, Classes = classes, Features = features, FeatureNames = names, Target = target };
    }

    private static string Str(JsonObject o, string name, string at) =>
        o.TryGetPropertyValue(name, out var n) && n is JsonValue v && v.TryGetValue(out string? s) && s is not null
            ? s
            : throw new ModelFormatException($"{at}.{name}': expected a string.");

    private static string[]? Strings(JsonObject o, string name, string at, int max)
    {
        if (!o.TryGetPropertyValue(name, out var node))
            return null;
        if (node is not JsonArray a || a.Count > max)
            throw new ModelFormatException($"{at}.{name}': expected an array of at most {max} strings.");
        var result = new string[a.Count];
        for (int i = 0; i < a.Count; i++)
            result[i] = a[i] is JsonValue v && v.TryGetValue(out string? s) && s is not null
                ? s
                : throw new ModelFormatException($"{at}.{name}[{i}]': expected a string.");
        return result;
    }
}
