using System.Globalization;
using System.Text;

namespace Backprop.Training;

/// <summary>How well a model does on a dataset: the loss, plus classification or regression measures.</summary>
public abstract record Metrics(double Loss, int Rows);

/// <summary>
/// Classification measures. Rows of <see cref="ConfusionMatrix"/> are actual classes, columns predicted ones.
/// Precision, recall and F1 are per class; where a denominator is zero (a class never predicted or never
/// present) the value is defined as 0, as scikit-learn does.
/// </summary>
public sealed record ClassificationMetrics(double Loss, int Rows, double Accuracy, int[,] ConfusionMatrix,
    IReadOnlyList<double> Precision, IReadOnlyList<double> Recall, IReadOnlyList<double> F1,
    IReadOnlyList<int> Support, IReadOnlyList<string> ClassNames) : Metrics(Loss, Rows)
{
    /// <summary>Measures from actual and predicted labels (and the loss, computed by the caller).</summary>
    public static ClassificationMetrics From(ReadOnlySpan<int> actual, ReadOnlySpan<int> predicted, int classes, double loss,
        IReadOnlyList<string>? classNames = null)
    {
        if (actual.Length != predicted.Length)
            throw new ArgumentException($"{actual.Length} actual labels but {predicted.Length} predictions.", nameof(predicted));
        // The confusion matrix takes classes x classes: bounded by the classes a dataset or model may have.
        if (classes < 1 || classes > Data.Dataset.MaxClasses)
            throw new BackpropException($"Classification measures need 1 to {Data.Dataset.MaxClasses} classes, got {classes}.");
        for (int i = 0; i < actual.Length; i++)
            if ((uint)actual[i] >= (uint)classes || (uint)predicted[i] >= (uint)classes)
                throw new ArgumentException($"Row {i}: labels must be in 0..{classes - 1}, found {actual[i]} (actual) and {predicted[i]} (predicted).");
        var cm = new int[classes, classes];
        int correct = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            cm[actual[i], predicted[i]]++;
            if (actual[i] == predicted[i])
                correct++;
        }
        var precision = new double[classes];
        var recall = new double[classes];
        var f1 = new double[classes];
        var support = new int[classes];
        for (int c = 0; c < classes; c++)
        {
            int tp = cm[c, c], predictedC = 0, actualC = 0;
            for (int k = 0; k < classes; k++)
            {
                predictedC += cm[k, c];
                actualC += cm[c, k];
            }
            support[c] = actualC;
            precision[c] = predictedC == 0 ? 0 : (double)tp / predictedC;
            recall[c] = actualC == 0 ? 0 : (double)tp / actualC;
            f1[c] = precision[c] + recall[c] == 0 ? 0 : 2 * precision[c] * recall[c] / (precision[c] + recall[c]);
        }
        var names = classNames ?? Enumerable.Range(0, classes).Select(c => c.ToString(CultureInfo.InvariantCulture)).ToArray();
        return new ClassificationMetrics(loss, actual.Length, actual.Length == 0 ? 0 : (double)correct / actual.Length,
            cm, precision, recall, f1, support, names);
    }

    /// <summary>Number of correctly classified rows.</summary>
    public int Correct => (int)Math.Round(Accuracy * Rows);

    /// <summary>The loss, accuracy, a per-class table and the confusion matrix, as plain text.</summary>
    public override string ToString()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"loss {Loss:G4}, accuracy {100 * Accuracy:F2}% ({Correct}/{Rows})\n");
        int w = Math.Max(5, ClassNames.Max(n => n.Length));
        sb.Append("class".PadRight(w)).Append("  precision  recall     f1  support\n");
        for (int c = 0; c < ClassNames.Count; c++)
            sb.Append(ClassNames[c].PadRight(w)).Append(inv, $"  {Precision[c],9:F3}  {Recall[c],6:F3}  {F1[c],5:F3}  {Support[c],7}\n");
        sb.Append("confusion matrix (rows: actual, columns: predicted)\n");
        int cw = Math.Max(w, ConfusionMatrix.Cast<int>().Max().ToString(inv).Length);
        sb.Append(new string(' ', w));
        foreach (var n in ClassNames)
            sb.Append("  ").Append(n.PadLeft(cw));
        sb.Append('\n');
        for (int a = 0; a < ClassNames.Count; a++)
        {
            sb.Append(ClassNames[a].PadRight(w));
            for (int p = 0; p < ClassNames.Count; p++)
                sb.Append("  ").Append(ConfusionMatrix[a, p].ToString(inv).PadLeft(cw));
            sb.Append('\n');
        }
        return sb.ToString().TrimEnd('\n');
    }
}

/// <summary>
/// Regression measures over every output of every row: mean absolute error, root mean squared error and
/// R^2 = 1 - SS_res / SS_tot (SS_tot about each output's mean; R^2 is averaged over outputs, and is 0 for an
/// output whose targets are all equal).
/// </summary>
public sealed record RegressionMetrics(double Loss, int Rows, double MeanAbsoluteError, double RootMeanSquaredError,
    double RSquared) : Metrics(Loss, Rows)
{
    /// <summary>Measures from targets and predictions (rows x outputs each).</summary>
    public static RegressionMetrics From(ReadOnlySpan<double> targets, ReadOnlySpan<double> predictions, int outputs, double loss)
    {
        if (targets.Length != predictions.Length)
            throw new ArgumentException($"{targets.Length} targets but {predictions.Length} predictions.", nameof(predictions));
        int rows = targets.Length / outputs;
        double abs = 0, sq = 0, r2 = 0;
        for (int o = 0; o < outputs; o++)
        {
            double mean = 0;
            for (int r = 0; r < rows; r++)
                mean += targets[r * outputs + o];
            mean /= rows;
            double ssRes = 0, ssTot = 0;
            for (int r = 0; r < rows; r++)
            {
                double y = targets[r * outputs + o], d = y - predictions[r * outputs + o];
                abs += Math.Abs(d);
                ssRes += d * d;
                ssTot += (y - mean) * (y - mean);
            }
            sq += ssRes;
            r2 += ssTot == 0 ? 0 : 1 - ssRes / ssTot;
        }
        int n = targets.Length;
        return new RegressionMetrics(loss, rows, abs / n, Math.Sqrt(sq / n), r2 / outputs);
    }

    /// <summary>The loss, MAE, RMSE and R^2 on one line.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"loss {Loss:G4}, MAE {MeanAbsoluteError:G4}, RMSE {RootMeanSquaredError:G4}, R^2 {RSquared:F4} ({Rows} rows)");
}
