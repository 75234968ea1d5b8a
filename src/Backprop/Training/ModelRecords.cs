using System.Globalization;
using System.Numerics;
using Backprop.Data;
using Backprop.Nn;

namespace Backprop.Training;

/// <summary>What a model records about its training (the model file's <c>training</c> section).</summary>
public sealed record ModelTraining
{
    /// <summary>The seed the weights were drawn from; training uses it too unless <see cref="TrainingOptions.Seed"/> is set.</summary>
    public long Seed { get; init; }

    /// <summary>Epochs trained in total, including those before the model was saved and loaded.</summary>
    public int EpochsTrained { get; init; }

    /// <summary>The weight initialiser of each layer (empty when unknown).</summary>
    public IReadOnlyList<string> Init { get; init; } = [];

    /// <summary>The last optimizer that trained the model, e.g. <c>adam(learning-rate=0.001, ...)</c>.</summary>
    public string? Optimizer { get; init; }

    /// <summary>The last optimizer's base learning rate.</summary>
    public double? LearningRate { get; init; }

    /// <summary>The last batch size trained with.</summary>
    public int? BatchSize { get; init; }

    /// <summary>The last run's hidden-layer dropout rate (<see cref="TrainingOptions.Dropout"/>; null: none).</summary>
    public double? Dropout { get; init; }

    /// <summary>The last run's input dropout rate (<see cref="TrainingOptions.InputDropout"/>; null: none).</summary>
    public double? InputDropout { get; init; }

    /// <summary>The rows of its data file the model was not trained on (null: not recorded; see <see cref="HeldOutSplit"/>).</summary>
    public HeldOutSplit? HeldOut { get; init; }
}

/// <summary>How well a model did on the data it was trained and tested on, as recorded by whoever trained it (the model file's <c>metrics</c> section).</summary>
public sealed record ModelMetrics
{
    /// <summary>Rows trained on.</summary>
    public int TrainingRows { get; init; }

    /// <summary>The loss on the training rows after training.</summary>
    public double TrainingLoss { get; init; }

    /// <summary>Accuracy on the training rows (classification).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? TrainingAccuracy { get; init; }

    /// <summary>Held-out rows measured (0: none).</summary>
    public int TestRows { get; init; }

    /// <summary>The loss on the held-out rows.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? TestLoss { get; init; }

    /// <summary>Accuracy on the held-out rows (classification).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? TestAccuracy { get; init; }

    /// <summary>Root mean squared error on the held-out rows (regression).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? TestRmse { get; init; }

    /// <summary>R^2 on the held-out rows (regression).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? TestR2 { get; init; }
}
