using System.Text.Json.Serialization;
using Backprop.Data;
using Backprop.IO;

namespace Backprop.AspNetCore;

// The JSON the endpoints answer, as types: serialized through ServingJson, and described by the OpenAPI document
// from the same types. Every property names its JSON field, so no naming policy of the host app can change them.

/// <summary><c>POST /predict</c>'s answer (written by hand for speed in <see cref="BackpropEndpoints"/>, in this shape).</summary>
internal sealed record PredictResponse(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("model_version")] int ModelVersion,
    [property: JsonPropertyName("predictions")] IReadOnlyList<PredictionDoc> Predictions);

/// <summary>One record's prediction in <see cref="PredictResponse"/> (without the model version, which the response gives once).</summary>
internal sealed record PredictionDoc(
    [property: JsonPropertyName("class"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Class,
    [property: JsonPropertyName("probabilities"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, double>? Probabilities,
    [property: JsonPropertyName("values"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<double>? Values);

/// <summary>Every error: what is wrong and what was expected, and the field it is about when there is one.</summary>
internal sealed record ErrorResponse(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("field"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Field = null);

/// <summary><c>GET /health</c>, <c>/health/live</c>, <c>/health/ready</c>.</summary>
internal sealed record HealthResponse(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("live")] bool Live,
    [property: JsonPropertyName("ready")] bool Ready,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("model_version"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? ModelVersion,
    [property: JsonPropertyName("last_error"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? LastError);

/// <summary><c>GET /model</c>: what is served, from which file, how it was trained and how it did, and the limits.</summary>
internal sealed record ModelInfoResponse(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("model_version")] int ModelVersion,
    [property: JsonPropertyName("sha256")] string Sha256,
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("file_bytes")] long FileBytes,
    [property: JsonPropertyName("loaded_at")] DateTimeOffset LoadedAt,
    [property: JsonPropertyName("task")] string Task,
    [property: JsonPropertyName("inputs")] int Inputs,
    [property: JsonPropertyName("columns"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Columns,
    [property: JsonPropertyName("ignored_columns")] IReadOnlyList<string> IgnoredColumns,
    [property: JsonPropertyName("target"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Target,
    [property: JsonPropertyName("classes")] IReadOnlyList<string> Classes,
    [property: JsonPropertyName("outputs")] int Outputs,
    [property: JsonPropertyName("preprocessing")] string Preprocessing,
    [property: JsonPropertyName("network")] string Network,
    [property: JsonPropertyName("parameters")] int Parameters,
    [property: JsonPropertyName("training")] TrainingDoc Training,
    [property: JsonPropertyName("metrics"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] MetricsDoc? Metrics,
    [property: JsonPropertyName("reloads")] ReloadsDoc Reloads,
    [property: JsonPropertyName("limits")] LimitsDoc Limits)
{
    public static ModelInfoResponse From(BackpropPredictor predictor, ModelVersion v)
    {
        var m = v.Model;
        var s = m.Schema;
        var t = m.Training;
        var o = predictor.Options;
        return new ModelInfoResponse(predictor.Name, v.Number, v.Sha256, v.FileName, v.FileBytes, v.LoadedAt,
            s.Task == TaskKind.Classification ? "classification" : "regression", s.Features, s.FeatureNames,
            [.. (s.Target is null ? Array.Empty<string>() : [s.Target]), .. s.DroppedColumns],
            s.Target, m.ClassNames, m.Network.Outputs, Data.Preprocessing.NameOf(m.PreprocessingKind), m.ToString(), m.Network.ParameterCount,
            new TrainingDoc(t.Seed, t.EpochsTrained, t.Optimizer, t.LearningRate, t.BatchSize),
            m.Metrics is { } x ? new MetricsDoc(x.TrainingRows, x.TrainingLoss, x.TrainingAccuracy, x.TestRows, x.TestLoss, x.TestAccuracy, x.TestRmse, x.TestR2) : null,
            new ReloadsDoc(predictor.Watching, predictor.Reloads, predictor.RefusedReloads, predictor.LastError, predictor.LastErrorAt),
            new LimitsDoc(o.MaxRecordsPerRequest, o.MaxBodyBytes, o.MaxBatchRows, o.MaxBatchDelay.TotalMilliseconds));
    }
}

/// <summary>The model file's training record.</summary>
internal sealed record TrainingDoc(
    [property: JsonPropertyName("seed")] long Seed,
    [property: JsonPropertyName("epochs")] int Epochs,
    [property: JsonPropertyName("optimizer"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Optimizer,
    [property: JsonPropertyName("learning_rate"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? LearningRate,
    [property: JsonPropertyName("batch_size"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? BatchSize);

/// <summary>The model file's metrics (how the model did on its training and test rows).</summary>
internal sealed record MetricsDoc(
    [property: JsonPropertyName("training_rows")] int TrainingRows,
    [property: JsonPropertyName("training_loss")] double TrainingLoss,
    [property: JsonPropertyName("training_accuracy"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? TrainingAccuracy,
    [property: JsonPropertyName("test_rows")] int TestRows,
    [property: JsonPropertyName("test_loss"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? TestLoss,
    [property: JsonPropertyName("test_accuracy"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? TestAccuracy,
    [property: JsonPropertyName("test_rmse"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? TestRmse,
    [property: JsonPropertyName("test_r2"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? TestR2);

/// <summary>The hot-reload record.</summary>
internal sealed record ReloadsDoc(
    [property: JsonPropertyName("watching")] bool Watching,
    [property: JsonPropertyName("loaded")] long Loaded,
    [property: JsonPropertyName("refused")] long Refused,
    [property: JsonPropertyName("last_error"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? LastError,
    [property: JsonPropertyName("last_error_at"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? LastErrorAt);

/// <summary>The limits a request must keep to.</summary>
internal sealed record LimitsDoc(
    [property: JsonPropertyName("max_records_per_request")] int MaxRecordsPerRequest,
    [property: JsonPropertyName("max_body_bytes")] int MaxBodyBytes,
    [property: JsonPropertyName("max_batch_rows")] int MaxBatchRows,
    [property: JsonPropertyName("max_batch_delay_ms")] double MaxBatchDelayMs);

/// <summary>The serializer for the endpoints' answers (source-generated; no reflection).</summary>
[JsonSerializable(typeof(PredictResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(ModelInfoResponse))]
[JsonSerializable(typeof(Prediction))]
[JsonSourceGenerationOptions(WriteIndented = false)]
internal sealed partial class ServingJson : JsonSerializerContext;
