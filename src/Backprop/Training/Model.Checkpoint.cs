using System.Text.Json.Nodes;
using Backprop.IO;
using Backprop.Nn;

namespace Backprop.Training;

public sealed partial class Model<T>
{
    /// <summary>The name of the model-file section that makes a model file a checkpoint.</summary>
    public const string CheckpointSectionName = "checkpoint";

    /// <summary>
    /// Writes the checkpoint: the model file of the current weights (with every section <see cref="Save"/> writes)
    /// plus a <c>checkpoint</c> section with the run's state and the model's history. Atomic.
    /// </summary>
    private void WriteCheckpoint(string path, TrainingSession<T> session)
    {
        var sections = BuildSections();
        var state = session.SaveState();
        state["epochs_trained"] = EpochsTrained;
        state["history"] = new JsonArray(_history.Select(h => (JsonNode?)HistoryEntry(h)).ToArray());
        sections[CheckpointSectionName] = state;
        ModelFile.Save(Network, path, sections);
    }

    private static JsonObject HistoryEntry(EpochResult h) => new()
    {
        ["epoch"] = h.Epoch,
        ["training_loss"] = h.TrainingLoss,
        ["training_accuracy"] = h.TrainingAccuracy,
        ["validation_loss"] = h.ValidationLoss,
        ["validation_accuracy"] = h.ValidationAccuracy,
        ["learning_rate"] = h.LearningRate,
        ["batches"] = h.Batches,
        ["is_best"] = h.IsBest,
    };

    /// <summary>Checks a checkpoint against this model and run, then puts its weights, state and history back.</summary>
    private void Resume(string path, TrainingSession<T> session) => Resume(ModelFile.Read<T>(path), path, session);

    /// <summary>As <see cref="Resume(string, TrainingSession{T})"/> for a file already read; <paramref name="path"/> names it in errors.</summary>
    internal void Resume(SavedModel<T> saved, string path, TrainingSession<T> session)
    {
        if (saved.Sections[CheckpointSectionName] is not JsonObject section)
            throw new ModelFormatException($"{path}: not a checkpoint (no '{CheckpointSectionName}' section); a model file alone cannot resume a run exactly.");
        string mine = Shape(Network), theirs = Shape(saved.Network);
        if (mine != theirs)
            throw new BackpropException($"{path}: the checkpoint holds a network {theirs} but this model is {mine}.");
        var r = new CheckpointReader(path);
        int epochsTrained = r.Int(section, "epochs_trained", 0, int.MaxValue);
        var entries = r.Node(section, "history") as JsonArray ?? throw r.Error("history", "expected an array");
        if (entries.Count > epochsTrained)
            throw r.Error("history", $"holds {entries.Count} epochs but epochs_trained is {epochsTrained}");
        var history = new List<EpochResult>(entries.Count);
        for (int i = 0; i < entries.Count; i++)
        {
            string at = $"history[{i}]";
            if (entries[i] is not JsonObject e)
                throw r.Error(at, "expected an object");
            history.Add(new EpochResult(
                r.Int(e, "epoch", 1, int.MaxValue, at),
                r.Double(e["training_loss"], at + ".training_loss", allowNull: false),
                Optional(r.Double(e["training_accuracy"], at + ".training_accuracy", allowNull: true)),
                Optional(r.Double(e["validation_loss"], at + ".validation_loss", allowNull: true)),
                Optional(r.Double(e["validation_accuracy"], at + ".validation_accuracy", allowNull: true)),
                r.Double(e["learning_rate"], at + ".learning_rate", allowNull: false),
                r.Int(e, "batches", 1, int.MaxValue, at),
                e["is_best"] is JsonValue b && b.TryGetValue(out bool isBest) ? isBest : throw r.Error(at + ".is_best", "expected true or false")));
        }
        int completed = session.RestoreState(section, path, history.Count);
        session.RestoreHistory(history.Skip(history.Count - completed));

        var weights = new T[Network.ParameterCount];
        Parameters.CopyTo(saved.Network, weights);
        Parameters.CopyFrom(weights, Network);
        _history.Clear();
        _history.AddRange(history);
        EpochsTrained = epochsTrained;
    }

    private static double? Optional(double v) => double.IsNaN(v) ? null : v;

    private static string Shape(Network<T> n) =>
        $"{n.Inputs} -> " + string.Join(" -> ", n.Layers.Select(l =>
            $"{l.Units} {Names.Of(l.Activation)} (bias {Names.Of(l.Bias)}{(l.TrainableBias ? "" : ", frozen")})")) + $", loss {Names.Of(n.Loss)}";
}
