using System.Text.Json.Serialization;

namespace Backprop.IO.Json;

// The --json records of the evaluation commands of issue 17 (cv, tune, importance), through the one context
// (BackpropJson, snake_case). Metric names are those of Evaluation.CrossValidation.Numbers: loss, accuracy,
// macro_precision, macro_recall, macro_f1 for a classifier; loss, mae, rmse, r2 for a regressor. A number that is
// not finite is written as null.

/// <summary><c>backprop cv --json</c>: one line per fold.</summary>
public sealed record CrossValidationFoldLine
{
    /// <summary>The fold, from 1.</summary>
    public int Fold { get; init; }

    /// <summary>Rows trained on (the other folds).</summary>
    public int TrainingRows { get; init; }

    /// <summary>Rows of this fold, measured.</summary>
    public int TestRows { get; init; }

    /// <summary>Epochs run.</summary>
    public int Epochs { get; init; }

    /// <summary>The epoch whose weights were kept (absent without validation).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? BestEpoch { get; init; }

    /// <summary>Each metric on this fold.</summary>
    public required IReadOnlyDictionary<string, double?> Metrics { get; init; }
}

/// <summary><c>backprop cv --json</c>: the last line.</summary>
public sealed record CrossValidationSummary
{
    /// <summary>Always true: this line is the summary.</summary>
    public bool Summary { get; init; } = true;

    /// <summary>K.</summary>
    public int Folds { get; init; }

    /// <summary>Rows of the data.</summary>
    public int Rows { get; init; }

    /// <summary>The seed of the folds and the models.</summary>
    public long Seed { get; init; }

    /// <summary>classification or regression.</summary>
    public required string Task { get; init; }

    /// <summary>Each metric's mean over the folds.</summary>
    public required IReadOnlyDictionary<string, double?> Mean { get; init; }

    /// <summary>Each metric's sample standard deviation over the folds.</summary>
    public required IReadOnlyDictionary<string, double?> Sd { get; init; }

    /// <summary>The file the fold of every row was written to (--folds-out).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? FoldsOut { get; init; }

    /// <summary>Seconds, training and measuring all folds.</summary>
    public double Seconds { get; init; }
}
