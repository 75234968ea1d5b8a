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

/// <summary><c>backprop tune --json</c>: one line per configuration and rung, as measured.</summary>
public sealed record TuneTrialLine
{
    /// <summary>The configuration's number, from 1.</summary>
    public int Trial { get; init; }

    /// <summary>Its bracket, from 1.</summary>
    public int Bracket { get; init; }

    /// <summary>The rung, from 1.</summary>
    public int Rung { get; init; }

    /// <summary>Epochs trained (those of the kept weights).</summary>
    public int Epochs { get; init; }

    /// <summary>The score: minus the validation loss (higher is better).</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public double? Score { get; init; }

    /// <summary>The validation loss.</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public double? ValidationLoss { get; init; }

    /// <summary>The validation accuracy (classification).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public double? ValidationAccuracy { get; init; }

    /// <summary>The configuration as `train` options.</summary>
    public required string Settings { get; init; }

    /// <summary>True when this is the best so far.</summary>
    public bool Best { get; init; }

    /// <summary>Seconds since the search started.</summary>
    public double Seconds { get; init; }
}

/// <summary><c>backprop tune --json</c>: the last line; also the model file's <c>tune</c> section (without the leaderboard).</summary>
public sealed record TuneSummary
{
    /// <summary>Always true: this line is the summary.</summary>
    public bool Summary { get; init; } = true;

    /// <summary>The search's seed.</summary>
    public long Seed { get; init; }

    /// <summary>Configurations of the brackets that finished: `--trials` with this count replays the search.</summary>
    public int Trials { get; init; }

    /// <summary>Why it ended: trials, time or cancelled.</summary>
    public required string StoppedBy { get; init; }

    /// <summary>How it was scored: "validation 0.2" or "cv 5".</summary>
    public required string ScoredBy { get; init; }

    /// <summary>The best configuration's number.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? BestTrial { get; init; }

    /// <summary>The best configuration as `train` options, with its epochs.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? BestSettings { get; init; }

    /// <summary>The best score.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public double? BestScore { get; init; }

    /// <summary>True when the saved model is the best configuration trained again on every row of --data.</summary>
    public bool Refit { get; init; }

    /// <summary>Rows of the --test file measured (0: none).</summary>
    public int TestRows { get; init; }

    /// <summary>The best model's accuracy on --test.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public double? TestAccuracy { get; init; }

    /// <summary>The best model's loss on --test.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public double? TestLoss { get; init; }

    /// <summary>The model file written (--save).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Saved { get; init; }

    /// <summary>Seconds the search took.</summary>
    public double Seconds { get; init; }
}

/// <summary><c>backprop importance --json</c>: one object.</summary>
public sealed record ImportanceReport
{
    /// <summary>Rows measured.</summary>
    public int Rows { get; init; }

    /// <summary>The score whose drop is the importance: accuracy or r2.</summary>
    public required string Score { get; init; }

    /// <summary>The score on the unshuffled rows.</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public double? Baseline { get; init; }

    /// <summary>Shuffles per column.</summary>
    public int Repeats { get; init; }

    /// <summary>The shuffles' seed.</summary>
    public ulong Seed { get; init; }

    /// <summary>Every column, most important first.</summary>
    public required IReadOnlyList<ImportanceColumn> Columns { get; init; }

    /// <summary>The bar chart written (--plot).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Plot { get; init; }
}

/// <summary>One column of <see cref="ImportanceReport"/>.</summary>
public sealed record ImportanceColumn
{
    /// <summary>The column's name.</summary>
    public required string Column { get; init; }

    /// <summary>Its position among the model's columns, from 0.</summary>
    public int Index { get; init; }

    /// <summary>The mean drop of the score.</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public double? Mean { get; init; }

    /// <summary>The sample standard deviation of the drop over the repeats.</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public double? Sd { get; init; }

    /// <summary>The mean increase of the loss.</summary>
    [JsonConverter(typeof(NullIfNotFiniteConverter))]
    public double? LossIncrease { get; init; }
}
