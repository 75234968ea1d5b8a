namespace Backprop.Training;

/// <summary>A likely reason why training produced a non-finite loss or non-finite weights.</summary>
public enum DivergenceCause
{
    /// <summary>The steps were too large for the loss: the loss grew, or one step made the weights non-finite or moved them by more than their own size.</summary>
    LearningRateTooLarge,
    /// <summary>Inputs far outside [-1, 1]: the first layer's pre-activations scale with them.</summary>
    UnscaledInputs,
    /// <summary>Most sigmoid/tanh pre-activations are so large that the units' gradients vanish.</summary>
    SaturatedUnits,
    /// <summary>Most ReLU units are inactive on every sample, so they pass no gradient.</summary>
    DeadReluUnits,
    /// <summary>The loss was finite but back-propagation produced non-finite gradients: a numeric overflow in the element type.</summary>
    NonFiniteGradients,
}

/// <summary>
/// Training stopped because the loss or the weights stopped being finite numbers. The message says where,
/// what was measured on the model and what to change; the model keeps its last finite weights.
/// </summary>
public sealed class TrainingDivergedException : BackpropException
{
    /// <summary>A divergence at <paramref name="epoch"/> and <paramref name="batch"/>, with its measured causes and the finding behind each.</summary>
    public TrainingDivergedException(string message, int epoch, int batch, IReadOnlyList<DivergenceCause> causes,
        IReadOnlyList<string> findings) : base(message)
    {
        Epoch = epoch;
        Batch = batch;
        Causes = causes;
        Findings = findings;
    }

    /// <summary>The epoch (from 1) in which training stopped.</summary>
    public int Epoch { get; }

    /// <summary>The batch (from 1) in which training stopped.</summary>
    public int Batch { get; }

    /// <summary>The causes the measurements point to (may be empty when none stands out).</summary>
    public IReadOnlyList<DivergenceCause> Causes { get; }

    /// <summary>One sentence per measurement behind <see cref="Causes"/>.</summary>
    public IReadOnlyList<string> Findings { get; }
}
