using System.Numerics;
using Backprop.Nn;

namespace Backprop.Training;

/// <summary>What the training loop measures when the loss or the weights stop being finite.</summary>
internal sealed partial class TrainingRun<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static string Describe(double loss) => double.IsNaN(loss) ? "NaN" : loss > 0 ? "+Infinity" : "-Infinity";

    /// <summary>Measures the (finite) model and builds the exception that names the likely causes.</summary>
    private TrainingDivergedException Diverged(int epoch, int batch, double lr, string what, bool stepFailed, bool gradientsFailed = false)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var causes = new List<DivergenceCause>();
        var findings = new List<string>();
        if (gradientsFailed)
        {
            // Not the step size: the backward pass itself overflowed, so a smaller learning rate would not help.
            causes.Add(DivergenceCause.NonFiniteGradients);
            findings.Add($"the gradients overflowed in {typeof(T).Name} while the loss was finite (clipping cannot repair NaN); " +
                         "train in double precision, scale the inputs, or lower the initial weights");
            stepFailed = false;
        }

        // 1. Step size against the loss: did the loss grow, and how large was the last step?
        double relStep = stepFailed ? double.PositiveInfinity : RelativeLastStep();
        bool lossGrew = double.IsFinite(_firstBatchLoss) && double.IsFinite(_lastBatchLoss)
            && _lastBatchLoss > 10 * Math.Max(_firstBatchLoss, 1e-12);
        if (stepFailed || relStep > 0.5 || lossGrew)
        {
            causes.Add(DivergenceCause.LearningRateTooLarge);
            string evidence = stepFailed
                ? "one step of the optimizer turned finite weights into non-finite ones"
                : double.IsFinite(relStep) && relStep > 0.5
                    ? relStep >= 2
                        ? string.Create(inv, $"the last step changed the weights by {relStep:G3} times their own size")
                        : string.Create(inv, $"the last step changed the weights by {relStep:P0} of their size")
                    : "";
            if (lossGrew)
                evidence += (evidence.Length > 0 ? ", and " : "")
                    + string.Create(inv, $"the loss rose from {_firstBatchLoss:G4} (first batch) to {_lastBatchLoss:G4} (last finite batch)");
            findings.Add(string.Create(inv,
                $"learning rate {lr:G4} is too large for this loss: {evidence}; try {lr / 10:G3} or smaller, or set ClipNorm"));
        }

        // 2. Input scale.
        int worst = 0;
        for (int i = 1; i < _maxAbsInput.Length; i++)
            if (_maxAbsInput[i] > _maxAbsInput[worst])
                worst = i;
        if (_maxAbsInput[worst] > 5)
        {
            causes.Add(DivergenceCause.UnscaledInputs);
            findings.Add(string.Create(inv,
                $"inputs are far from [-1, 1]: input {worst} reaches |x| = {_maxAbsInput[worst]:G4}; standardise each input (subtract its mean, divide by its standard deviation)"));
        }

        // 3-4. Saturated and dead units, measured on up to 256 training rows with the current (finite) weights.
        int rows = Math.Min(_rows, 256);
        _net.Forward(_x.AsSpan(0, rows * _net.Inputs), rows);
        bool saturated = false, dead = false;
        for (int l = 0; l < _net.Layers.Count; l++)
        {
            var layer = _net.Layers[l];
            var z = _net.PreActivations(l);
            if (layer.Activation is Activation.Sigmoid or Activation.Tanh)
            {
                double threshold = layer.Activation == Activation.Sigmoid ? 6 : 3;
                int count = 0;
                foreach (var v in z)
                {
                    double d = double.CreateChecked(v);
                    if (!(Math.Abs(d) <= threshold))
                        count++;
                }
                double frac = (double)count / z.Length;
                if (frac >= 0.5)
                {
                    saturated = true;
                    findings.Add(string.Create(inv,
                        $"layer {l} ({Names.Of(layer.Activation)}) is saturated: {frac:P0} of its pre-activations have |z| > {threshold}, where its slope is below {(layer.Activation == Activation.Sigmoid ? "0.0025" : "0.01")}; scale the inputs or lower the learning rate or the initial weights"));
                }
            }
            else if (layer.Activation == Activation.Relu)
            {
                int deadUnits = 0;
                for (int u = 0; u < layer.Units; u++)
                {
                    bool active = false;
                    for (int r = 0; r < rows && !active; r++)
                        active = z[r * layer.Units + u] > T.Zero;
                    if (!active)
                        deadUnits++;
                }
                if (deadUnits * 2 >= layer.Units)
                {
                    dead = true;
                    findings.Add(string.Create(inv,
                        $"layer {l} (relu): {deadUnits} of {layer.Units} units are dead (never active on {rows} training rows); lower the learning rate or use leaky-relu"));
                }
            }
        }
        if (saturated)
            causes.Add(DivergenceCause.SaturatedUnits);
        if (dead)
            causes.Add(DivergenceCause.DeadReluUnits);

        string message = $"Training stopped at epoch {epoch}, batch {batch}: {what}. The model keeps its last finite weights"
            + (stepFailed ? " (from before that step)" : "") + ". ";
        message += findings.Count == 0
            ? "No single cause stood out in the measurements; lower the learning rate or set ClipNorm."
            : "Likely cause" + (findings.Count > 1 ? "s" : "") + ", measured on the model: " + string.Join("; ", findings) + ".";
        return new TrainingDivergedException(message, epoch, batch, causes, findings);
    }

    /// <summary>|theta_now - theta_before_last_step| / |theta_before_last_step|, from the backup of the last step.</summary>
    private double RelativeLastStep()
    {
        if (double.IsNaN(_lastBatchLoss))
            return 0;
        double diff = 0, norm = 0;
        int k = 0;
        foreach (var p in _net.Parameters)
            foreach (var w in p.ReadValues)
                Accumulate(w, _backup[k++]);
        return Math.Sqrt(diff) / Math.Max(Math.Sqrt(norm), 1e-12);

        void Accumulate(T now, T before)
        {
            double a = double.CreateChecked(now), b = double.CreateChecked(before);
            diff += (a - b) * (a - b);
            norm += b * b;
        }
    }
}
