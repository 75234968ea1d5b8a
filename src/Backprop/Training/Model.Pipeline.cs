using System.Globalization;
using System.Numerics;
using Backprop.Data;
using Backprop.Nn;

namespace Backprop.Training;

// The pipeline from raw rows to the network's inputs, and prediction and evaluation on raw data (the type's documentation is in Model.cs).
public sealed partial class Model<T>
{
    // ---- The pipeline ----------------------------------------------------------------------------------------

    /// <summary>
    /// <paramref name="data"/>'s columns in the model's input order: matched by name when both the data and the model
    /// know the column names (any order, extra columns ignored, a missing one is an error naming it), by position
    /// otherwise (then the count must match).
    /// </summary>
    public Dataset Align(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var want = Schema.FeatureNames;
        var have = data.FeatureNames;
        if (want is not null && have is not null)
        {
            if (have.Count == want.Count && have.SequenceEqual(want, StringComparer.Ordinal))
                return data;
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < have.Count; i++)
                index.TryAdd(have[i], i);
            var columns = new int[want.Count];
            for (int j = 0; j < want.Count; j++)
                if (!index.TryGetValue(want[j], out columns[j]))
                    throw new BackpropException(
                        $"{data.Name}: has no column \"{want[j]}\", which the model was trained on (it takes {string.Join(", ", want.Select(n => $"\"{n}\""))}).");
            return data.SelectColumns(columns, want);
        }
        if (data.Inputs != Schema.Features)
            throw new BackpropException($"{data.Name}: rows have {data.Inputs} feature(s), but the model takes {Schema.Features}"
                + (want is null ? "." : $" ({string.Join(", ", want.Select(n => $"\"{n}\""))})."));
        return data;
    }

    /// <summary>The data through the model's preprocessing (columns aligned first); the network's inputs.</summary>
    public Dataset Prepare(Dataset data) => RequirePreprocessing().Apply(Align(data));

    /// <summary>One raw row (in the model's input order) through the preprocessing: the network's inputs.</summary>
    public double[] Prepare(ReadOnlySpan<double> raw)
    {
        var pre = RequirePreprocessing();
        if (raw.Length != Schema.Features)
            throw new BackpropException($"The model takes {Schema.Features} input(s) per sample, got {raw.Length}.");
        for (int i = 0; i < raw.Length; i++)
            if (!double.IsFinite(raw[i]))
                throw new BackpropException($"Input {i} ({Schema.FeatureName(i)}) is {raw[i].ToString(CultureInfo.InvariantCulture)}; inputs must be finite numbers.");
        var x = raw.ToArray();
        pre.Transform(x);
        return x;
    }

    /// <summary>A raw row given by column name, in the model's input order (every column the model takes must be there; others are ignored).</summary>
    public double[] RowFrom(IReadOnlyDictionary<string, double> row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var names = Schema.FeatureNames
            ?? throw new BackpropException("The model was trained on data without column names; give the values by position.");
        var x = new double[names.Count];
        for (int j = 0; j < names.Count; j++)
            if (!row.TryGetValue(names[j], out x[j]))
                throw new BackpropException($"The row has no value for \"{names[j]}\", which the model takes.");
        return x;
    }

    private Preprocessing RequirePreprocessing() =>
        _preprocessing ?? (_preprocessingKind == PreprocessingKind.None
            ? _preprocessing = Preprocessing.Identity(Schema.Features)
            : throw new BackpropException($"The model's {Data.Preprocessing.NameOf(_preprocessingKind)} preprocessing is not fitted yet: train the model first."));

    // ---- Prediction ------------------------------------------------------------------------------------------

    /// <summary>The network's outputs for one raw sample (class probabilities for a softmax classifier, P(class 1) for one sigmoid output).</summary>
    public double[] Predict(params ReadOnlySpan<double> features)
    {
        var x = Prepare(features);
        var result = new double[Network.Outputs];
        Forward(x, 1, result);
        return result;
    }

    /// <summary>The network's outputs for one raw sample given by column name.</summary>
    public double[] Predict(IReadOnlyDictionary<string, double> row) => Predict(RowFrom(row));

    /// <summary>
    /// A table model's outputs for one row of raw values: the values of <see cref="Table"/>'s columns in its order, or
    /// a whole row of the training file's columns (the label's value, if there, is not used). A missing value (null or
    /// a missing spelling), an unseen category or a value that will not parse is treated as missing and counted in
    /// <paramref name="counts"/>; never an error.
    /// </summary>
    public double[] Predict(IReadOnlyList<string?> values, EncodeCounts? counts = null) => Predict(EncodeRow(values, counts));

    /// <summary>A table model's outputs for one row given by column name (text values; an absent column is missing).</summary>
    public double[] Predict(IReadOnlyDictionary<string, string> row, EncodeCounts? counts = null) => Predict(EncodeRow(row, counts));

    /// <summary>A table model's predicted class for one row of raw values (see <see cref="Predict(IReadOnlyList{string}, EncodeCounts)"/>).</summary>
    public int PredictClass(IReadOnlyList<string?> values, EncodeCounts? counts = null) => PredictClass(EncodeRow(values, counts));

    /// <summary>A table model's predicted class for one row given by column name.</summary>
    public int PredictClass(IReadOnlyDictionary<string, string> row, EncodeCounts? counts = null) => PredictClass(EncodeRow(row, counts));

    /// <summary>One row of raw values through <see cref="Table"/>: the model's numeric inputs (before scaling).</summary>
    public double[] EncodeRow(IReadOnlyList<string?> values, EncodeCounts? counts = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        var table = RequireTable();
        var x = new double[table.Width];
        if (values.Count == table.Columns.Count)
            table.Encode(j => values[j], x, counts);
        else if (Schema.FileColumns is { } width && values.Count == width && table.Columns.All(c => c.Position < width))
            table.Encode(j => values[table.Columns[j].Position], x, counts);
        else
            throw new BackpropException($"The model reads {table.Columns.Count} raw column(s) ({string.Join(", ", table.Columns.Select(c => $"\"{c.Name}\""))})"
                + (Schema.FileColumns is { } w ? $", or a whole row of the training file's {w}" : "") + $"; got {values.Count} value(s).");
        return x;
    }

    /// <summary>One row given by column name through <see cref="Table"/> (an absent column is a missing value).</summary>
    public double[] EncodeRow(IReadOnlyDictionary<string, string> row, EncodeCounts? counts = null)
    {
        ArgumentNullException.ThrowIfNull(row);
        var table = RequireTable();
        var x = new double[table.Width];
        table.Encode(j => row.TryGetValue(table.Columns[j].Name, out var v) ? v : null, x, counts);
        return x;
    }

    /// <summary>
    /// Maps a regressor trained on standardised targets back to the targets' own scale, exactly in the weights: the
    /// output layer's weights are multiplied by <paramref name="scale"/> and its biases become b x scale + mean, so every
    /// entry point (Predict, the model file, ONNX) gives targets in their units. Needs identity outputs with biases.
    /// </summary>
    public void UnscaleOutputs(IReadOnlyList<double> mean, IReadOnlyList<double> scale)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(scale);
        var output = Network.Layers[^1];
        if (!CanUnscaleOutputs || mean.Count != output.Units || scale.Count != output.Units)
            throw new BackpropException("Only a regressor with identity outputs, a bias per output and one mean and scale per output can have its outputs unscaled.");
        _weights.EnterWriteLock();
        try
        {
            for (int u = 0; u < output.Units; u++)
            {
                T s = T.CreateChecked(scale[u]);
                for (int i = 0; i < output.Inputs; i++)
                    output.Weight(u, i) *= s;
                output.Biases[u] = output.Biases[u] * s + T.CreateChecked(mean[u]);
            }
        }
        finally
        {
            _weights.ExitWriteLock();
        }
    }

    /// <summary>True when <see cref="UnscaleOutputs"/> applies: a regressor with identity outputs and a bias per output.</summary>
    public bool CanUnscaleOutputs => Task == TaskKind.Regression && Network.Layers[^1] is { Activation: Activation.Identity, Bias: BiasMode.PerUnit };

    private TablePipeline RequireTable() => _table
        ?? throw new BackpropException("The model takes numeric inputs only (it has no table pipeline); give the values as numbers.");

    /// <summary>
    /// Outputs for <paramref name="rows"/> raw samples (row-major, rows x <see cref="DataSchema.Features"/>) into
    /// <paramref name="outputs"/> (rows x <c>Network.Outputs</c>), in chunks.
    /// </summary>
    public void Predict(ReadOnlySpan<double> features, int rows, Span<double> outputs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        int inputs = Schema.Features, outs = Network.Outputs;
        if (features.Length != (long)rows * inputs)
            throw new BackpropException($"{features.Length} values are not {rows} rows of the model's {inputs} inputs.");
        if (outputs.Length < (long)rows * outs)
            throw new ArgumentException($"The output holds {outputs.Length} values; {rows} rows of {outs} outputs need {(long)rows * outs}.", nameof(outputs));
        var pre = RequirePreprocessing();
        var x = new double[Math.Min(rows, Chunk) * inputs];
        for (int start = 0; start < rows; start += Chunk)
        {
            int n = Math.Min(Chunk, rows - start);
            var chunk = x.AsSpan(0, n * inputs);
            features.Slice(start * inputs, n * inputs).CopyTo(chunk);
            for (int i = 0; i < chunk.Length; i++)
                if (!double.IsFinite(chunk[i]))
                    throw new BackpropException($"Row {start + i / inputs}, input {i % inputs} ({Schema.FeatureName(i % inputs)}) is not a finite number.");
            pre.Transform(chunk);
            Forward(chunk, n, outputs.Slice(start * outs, n * outs));
        }
    }

    /// <summary>The class probabilities for one raw sample (one per class: (1 - p, p) for a single sigmoid output).</summary>
    public double[] PredictProbabilities(params ReadOnlySpan<double> features)
    {
        RequireClassifier(nameof(PredictProbabilities));
        var o = Predict(features);
        var p = new double[ClassCount];
        ClassRule.Probabilities<double>(o, p);
        return p;
    }

    /// <summary>The most likely class for one raw sample (<see cref="ClassRule"/>).</summary>
    public int PredictClass(params ReadOnlySpan<double> features)
    {
        RequireClassifier(nameof(PredictClass));
        return ClassRule.Predict<double>(Predict(features));
    }

    /// <summary>The most likely class for one raw sample given by column name.</summary>
    public int PredictClass(IReadOnlyDictionary<string, double> row) => PredictClass(RowFrom(row));

    /// <summary>The outputs for every row of RAW <paramref name="data"/> (rows x outputs, row-major).</summary>
    public double[] PredictAll(Dataset data)
    {
        var aligned = Align(data);
        var result = new double[(long)aligned.Rows * Network.Outputs];
        int inputs = Schema.Features, outs = Network.Outputs, rows = aligned.Rows;
        var pre = RequirePreprocessing();
        // Chunk by chunk from the dataset's rows (a split's part is never gathered whole).
        var x = new double[Math.Min(rows, Chunk) * inputs];
        for (int start = 0; start < rows; start += Chunk)
        {
            int n = Math.Min(Chunk, rows - start);
            var chunk = x.AsSpan(0, n * inputs);
            aligned.CopyFeatures(start, n, chunk);
            pre.Transform(chunk);
            Forward(chunk, n, result.AsSpan(start * outs, n * outs));
        }
        return result;
    }

    /// <summary>The most likely class of every row of RAW <paramref name="data"/>.</summary>
    public int[] PredictClasses(Dataset data)
    {
        RequireClassifier(nameof(PredictClasses));
        var o = PredictAll(data);
        int outputs = Network.Outputs;
        var classes = new int[o.Length / outputs];
        for (int r = 0; r < classes.Length; r++)
            classes[r] = ClassRule.Predict<double>(o.AsSpan(r * outputs, outputs));
        return classes;
    }

    /// <summary>
    /// Loss and classification (accuracy, per-class precision/recall/F1, confusion matrix) or regression (MAE, RMSE,
    /// R^2) measures on RAW labelled data.
    /// </summary>
    public Metrics Evaluate(Dataset data)
    {
        CheckTask(data);
        var aligned = MatchClasses(Align(data));
        var pre = RequirePreprocessing();
        if (aligned.Inputs != pre.Features)
            throw new BackpropException($"{aligned.Name}: {aligned.Inputs} feature column(s), but the model was trained on {pre.Features}.");
        var y = new TrainingRun<T>.Targets(Network, aligned);
        int inputs = Network.Inputs, outs = Network.Outputs, rows = aligned.Rows;
        bool regression = Task == TaskKind.Regression;
        // Chunk by chunk: the rows are read, scaled and converted 256 at a time, never copied whole.
        var predictions = regression ? new double[(long)rows * outs] : [];
        var predicted = regression ? [] : new int[rows];
        var pool = System.Buffers.ArrayPool<T>.Shared;
        T[] x = pool.Rent(Chunk * inputs), o = pool.Rent(Chunk * outs), z = pool.Rent(Chunk * outs), t = pool.Rent(Chunk * outs);
        var raw = new double[Math.Min(rows, Chunk) * inputs];
        var output = new double[outs];
        double loss = 0;
        try
        {
            for (int start = 0; start < rows; start += Chunk)
            {
                int n = Math.Min(Chunk, rows - start);
                var chunk = raw.AsSpan(0, n * inputs);
                aligned.CopyFeatures(start, n, chunk);
                pre.Transform(chunk);
                for (int i = 0; i < chunk.Length; i++)
                    x[i] = T.CreateChecked(chunk[i]);
                y.Write(start, n, t);
                _weights.EnterReadLock();
                try
                {
                    Network.Predict(x.AsSpan(0, n * inputs), n, o, z);
                }
                finally
                {
                    _weights.ExitReadLock();
                }
                loss += Losses.Value<T>(Network.Loss, z.AsSpan(0, n * outs), o.AsSpan(0, n * outs), t.AsSpan(0, n * outs), n, outs) * n;
                for (int r = 0; r < n; r++)
                {
                    var target = regression ? predictions.AsSpan((start + r) * outs, outs) : output;
                    for (int k = 0; k < outs; k++)
                        target[k] = double.CreateChecked(o[r * outs + k]);
                    if (!regression)
                        predicted[start + r] = ClassRule.Predict<double>(output);
                }
            }
        }
        finally
        {
            pool.Return(x);
            pool.Return(o);
            pool.Return(z);
            pool.Return(t);
        }
        loss = rows == 0 ? 0 : loss / rows;
        if (regression)
            return RegressionMetrics.From(aligned.Targets, predictions, outs, loss);
        return ClassificationMetrics.From(aligned.Labels, predicted, ClassCount, loss, ClassNames);
    }

    /// <summary>The network on prepared inputs (double), under the read lock; outputs as double.</summary>
    private void Forward(ReadOnlySpan<double> x, int rows, Span<double> output)
    {
        int outs = Network.Outputs;
        var pool = System.Buffers.ArrayPool<T>.Shared;
        T[] xt = pool.Rent(x.Length), o = pool.Rent(rows * outs);
        try
        {
            for (int i = 0; i < x.Length; i++)
                xt[i] = T.CreateChecked(x[i]);
            _weights.EnterReadLock();
            try
            {
                Network.Predict(xt.AsSpan(0, x.Length), rows, o);
            }
            finally
            {
                _weights.ExitReadLock();
            }
            for (int i = 0; i < rows * outs; i++)
                output[i] = double.CreateChecked(o[i]);
        }
        finally
        {
            pool.Return(xt);
            pool.Return(o);
        }
    }

    private void RequireClassifier(string method)
    {
        if (Task != TaskKind.Classification)
            throw new BackpropException($"{method} needs a classifier; this model is a regressor (use Predict or PredictAll).");
    }

    private void CheckTask(Dataset data)
    {
        if (!data.HasTargets)
            throw new BackpropException($"{data.Name}: the data has no targets (no label column), so it cannot be trained or evaluated on.");
        if (Task == TaskKind.Classification && !data.IsClassification)
            throw new BackpropException($"{data.Name}: this model is a classifier but the data has real-valued targets; use Dataset.Classification (labels) or a regressor.");
        if (Task == TaskKind.Regression && data.IsClassification)
            throw new BackpropException($"{data.Name}: this model is a regressor but the data has class labels; use Model.Classifier.");
    }

    /// <summary>
    /// Classification data labelled with the model's classes: labels re-indexed by class name when the data names its
    /// classes otherwise ("0", "1", ... are indices and kept), an error naming a class the model does not know.
    /// </summary>
    private Dataset MatchClasses(Dataset data)
    {
        if (!data.IsClassification)
            return data;
        var mine = ClassNames;
        var theirs = data.ClassNames;
        if (theirs.SequenceEqual(mine, StringComparer.Ordinal))
            return data;
        if (IsDefault(theirs))
        {
            if (theirs.Count > mine.Count)
                throw new BackpropException($"{data.Name}: {theirs.Count} classes but the model was built for {mine.Count}.");
            return theirs.Count == mine.Count ? data.WithClassNames(mine) : Relabel(data, Enumerable.Range(0, theirs.Count).ToArray());
        }
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < mine.Count; i++)
            index[mine[i]] = i;
        var map = new int[theirs.Count];
        for (int c = 0; c < theirs.Count; c++)
            if (!index.TryGetValue(theirs[c], out map[c]))
                throw new BackpropException(
                    $"{data.Name}: class \"{theirs[c]}\" is not one of the model's classes ({string.Join(", ", mine)}).");
        return Relabel(data, map);
    }

    private Dataset Relabel(Dataset data, int[] map)
    {
        var labels = new int[data.Rows];
        var from = data.Labels;
        for (int r = 0; r < labels.Length; r++)
            labels[r] = map[from[r]];
        return data.WithLabels(labels, ClassNames);
    }
}
