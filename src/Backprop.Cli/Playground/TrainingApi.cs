using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Backprop.Data;
using Backprop.IO.Json;
using Backprop.Nn;
using Backprop.Numerics;
using Backprop.Training;

namespace Backprop.Cli.Playground;

/// <summary>
/// Tab 2: a classifier trained on a 2-D synthetic dataset. Runs live server-side (the optimizer has state),
/// at most <see cref="MaxRuns"/> at once; the least recently used is dropped when a new one starts.
/// </summary>
internal sealed class TrainingApi
{
    public const int MaxRuns = 16, MaxSamples = 1000, MaxLayers = 4, MaxUnits = 32, MaxStepsPerRequest = 1000,
        MaxGrid = 100, DefaultGrid = 60;

    public static readonly string[] Datasets = ["xor", "moons", "circles", "spirals", "blobs"];
    public static readonly string[] ActivationNames = ["relu", "tanh", "sigmoid", "leaky-relu"];
    public static readonly string[] Optimizers = ["sgd", "adam", "rmsprop", "adamw"];

    /// <summary>The values of a new run's text fields.</summary>
    private static readonly Dictionary<string, string[]> Choices = new()
    {
        ["dataset"] = Datasets,
        ["activation"] = ActivationNames,
        ["optimizer"] = Optimizers,
    };

    private readonly ConcurrentDictionary<string, Run> _runs = new();
    private long _clock;
    private readonly Lock _admission = new();

    private sealed class Run(Model<double> model, ModelTrainer<double> trainer, Optimizer optimizer, Dataset data)
    {
        public readonly Lock Gate = new();
        public readonly Model<double> Model = model;
        public readonly Optimizer Optimizer = optimizer;
        public readonly ModelTrainer<double> Trainer = trainer;
        public readonly Dataset Data = data;
        public readonly double[] Bounds = BoundsOf(data);
        public long Steps;
        public long LastUsed;
        /// <summary>Why the run cannot go on, once its loss or weights stopped being finite numbers.</summary>
        public string? Diverged;
    }

    public PlaygroundTrainCreated Create(JsonElement body)
    {
        var request = Json.Read(body, BackpropJson.Default.PlaygroundTrainRequest, "the run's settings", Choices);
        string name = Json.Choice(request.Dataset, "dataset", "spirals", Datasets);
        int samples = Json.Integer(request.Samples, "samples", name == "xor" ? 200 : 300, 4, MaxSamples);
        double? noise = request.Noise is { } n ? Json.Check("noise", n, 0, 1) : null;
        int[] hidden = Hidden(request.Hidden);
        var activation = Names.Parse<Activation>(Json.Choice(request.Activation, "activation", TrainingDefaults.PlaygroundActivationName, ActivationNames), "activation");
        string optimizerName = Json.Choice(request.Optimizer, "optimizer", TrainingDefaults.PlaygroundOptimizerName, Optimizers);
        double lr = Json.Number(request.LearningRate, "learning_rate", TrainingDefaults.PlaygroundLearningRate(optimizerName), 0, 10, exclusiveMin: true);
        int batch = Json.Integer(request.BatchSize, "batch_size", TrainingDefaults.PlaygroundBatchSize, 1, MaxSamples);
        long seed = Json.Integer(request.Seed, "seed", 1, 0, int.MaxValue);

        var data = SyntheticData.Create(name, samples, noise, seed);
        batch = Math.Min(batch, data.Rows);
        var builder = Model.For(data);
        foreach (int units in hidden)
            builder.Dense(units, activation);
        var model = builder.Build<double>(seed);
        // The library's one training loop, driven batch by batch; the run never ends on its own.
        var optimizer = Optimizer.Create(optimizerName, lr);
        var trainer = model.StartTraining(data, new TrainingOptions
        {
            Epochs = int.MaxValue,
            BatchSize = batch,
            Optimizer = optimizer,
            Seed = seed,
        });
        var run = new Run(model, trainer, optimizer, data) { LastUsed = Interlocked.Increment(ref _clock) };

        string id = Guid.NewGuid().ToString("N");
        // One creation at a time drops the oldest and adds: concurrent ones could otherwise each see room (more
        // than MaxRuns kept) or all drop at once (First() of an emptied dictionary).
        lock (_admission)
        {
            while (_runs.Count >= MaxRuns && !_runs.IsEmpty)
                _runs.TryRemove(_runs.MinBy(p => p.Value.LastUsed).Key, out _);
            _runs[id] = run;
        }
        var points = new double[data.Rows][];
        for (int r = 0; r < data.Rows; r++)
            points[r] = [data.FeatureRow(r)[0], data.FeatureRow(r)[1], data.Labels[r]];
        lock (run.Gate)
            return new PlaygroundTrainCreated
            {
                Id = id,
                Dataset = name,
                ClassCount = data.ClassCount,
                ParameterCount = model.Network.ParameterCount,
                Bounds = run.Bounds,
                Points = points,
                Status = Status(run, DefaultGrid, 0, 0),
            };
    }

    /// <summary>Runs the requested steps on a run; stops between steps when <paramref name="cancel"/> is set.</summary>
    public PlaygroundTrainStatus Step(string id, JsonElement body, CancellationToken cancel = default)
    {
        if (!_runs.TryGetValue(id, out var run))
            throw new PlaygroundNotFoundException($"no training run '{Truncate(id)}'; start one with POST /api/train (runs are dropped after {MaxRuns} newer ones).");
        var r = Json.Read(body, BackpropJson.Default.PlaygroundStepRequest, "the steps to run");
        int steps = Json.Integer(r.Steps, "steps", 10, 0, MaxStepsPerRequest);
        int grid = Json.Integer(r.Grid, "grid", DefaultGrid, 2, MaxGrid);
        lock (run.Gate)
        {
            run.LastUsed = Interlocked.Increment(ref _clock);
            if (run.Diverged is { } why)
                throw new PlaygroundDivergedException(why);
            var watch = Stopwatch.StartNew();
            for (int k = 0; k < steps; k++)
            {
                cancel.ThrowIfCancellationRequested();
                try
                {
                    run.Trainer.Step(1, cancel);
                }
                catch (TrainingDivergedException e)
                {
                    // The library's loop undid the failing step; this run stops here for good, naming the causes it measured.
                    throw Diverge(run, e.Causes.Count == 0 ? null : "Measured: " + string.Join(", ", e.Causes.Select(Describe)) + ".");
                }
                run.Steps++;
            }
            double seconds = watch.Elapsed.TotalSeconds;
            return Status(run, grid, steps, seconds);
        }
    }

    public bool Delete(string id) => _runs.TryRemove(id, out _);

    private static string Describe(DivergenceCause cause) => cause switch
    {
        DivergenceCause.LearningRateTooLarge => "the learning rate is too large",
        DivergenceCause.UnscaledInputs => "the inputs are not scaled",
        DivergenceCause.SaturatedUnits => "saturated units",
        DivergenceCause.DeadReluUnits => "dead ReLU units",
        _ => "the gradients overflowed",
    };

    /// <summary>Marks the run as diverged, for this request and every later one.</summary>
    private static PlaygroundDivergedException Diverge(Run run, string? diagnosis = null)
    {
        double lower = run.Optimizer.LearningRate / 10;
        run.Diverged = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"this training run diverged at step {run.Steps + 1}: its loss or weights stopped being finite numbers " +
            $"({run.Optimizer.Name} with learning rate {run.Optimizer.LearningRate:G4} takes steps too large for this network). " +
            $"It cannot go on: start a new run (New run, or POST /api/train) with a lower learning rate, e.g. {lower:G4}.")
            + (diagnosis is null ? "" : " " + diagnosis);
        return new PlaygroundDivergedException(run.Diverged);
    }

    private static PlaygroundTrainStatus Status(Run run, int grid, int steps, double seconds)
    {
        var data = run.Data;
        var metrics = (ClassificationMetrics)run.Model.Evaluate(data);
        double loss = metrics.Loss;
        int correct = metrics.Correct;
        if (!double.IsFinite(loss))
            throw Diverge(run);

        var b = run.Bounds;
        var xs = new double[grid * grid * 2];
        for (int gy = 0; gy < grid; gy++)
            for (int gx = 0; gx < grid; gx++)
            {
                int i = gy * grid + gx;
                xs[2 * i] = b[0] + (b[1] - b[0]) * (gx + 0.5) / grid;
                xs[2 * i + 1] = b[3] - (b[3] - b[2]) * (gy + 0.5) / grid; // row 0 at the top
            }
        var outputs = run.Model.PredictAll(Dataset.Unlabelled(xs, 2, "grid"));
        int outs = run.Model.Network.Outputs;
        var cls = new int[grid * grid];
        var conf = new double[grid * grid];
        var p = new double[run.Model.ClassCount];
        for (int i = 0; i < grid * grid; i++)
        {
            var row = outputs.AsSpan(i * outs, outs);
            foreach (double pr in row)
                if (!double.IsFinite(pr))
                    throw Diverge(run);
            cls[i] = ClassRule.Predict<double>(row);
            ClassRule.Probabilities<double>(row, p);
            conf[i] = Math.Round(p[cls[i]], 3);
        }
        return new PlaygroundTrainStatus
        {
            StepsTrained = run.Steps,
            Loss = loss,
            Accuracy = (double)correct / data.Rows,
            Steps = steps,
            Seconds = seconds,
            StepsPerSecond = steps > 0 && seconds > 0 ? steps / seconds : null,
            Grid = new PlaygroundGrid { Size = grid, PredictedClass = cls, Confidence = conf },
        };
    }

    private static int[] Hidden(int[]? sizes)
    {
        if (sizes is null)
            return [8, 8];
        if (sizes.Length > MaxLayers)
            throw new PlaygroundInputException($"hidden: expected an array of 0 to {MaxLayers} layer sizes, e.g. [8, 8]; got {sizes.Length}.");
        for (int k = 0; k < sizes.Length; k++)
            if (sizes[k] < 1 || sizes[k] > MaxUnits)
                throw new PlaygroundInputException($"hidden[{k}]: expected a whole number of units from 1 to {MaxUnits}, got {sizes[k]}.");
        return sizes;
    }

    /// <summary>xmin, xmax, ymin, ymax of the data with a 10% margin, square so the picture is not stretched.</summary>
    private static double[] BoundsOf(Dataset data)
    {
        double x0 = double.MaxValue, x1 = double.MinValue, y0 = double.MaxValue, y1 = double.MinValue;
        for (int r = 0; r < data.Rows; r++)
        {
            var f = data.FeatureRow(r);
            (x0, x1, y0, y1) = (Math.Min(x0, f[0]), Math.Max(x1, f[0]), Math.Min(y0, f[1]), Math.Max(y1, f[1]));
        }
        double cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, half = Math.Max(Math.Max(x1 - x0, y1 - y0) / 2 * 1.1, 0.5);
        return [cx - half, cx + half, cy - half, cy + half];
    }

    private static string Truncate(string s) => s.Length > 40 ? s[..40] + "..." : s;
}

/// <summary>A training run whose numbers stopped being finite: answered with 409 and this message.</summary>
public sealed class PlaygroundDivergedException(string message) : Exception(message);

/// <summary>An id that names nothing: answered with 404 and this message.</summary>
public sealed class PlaygroundNotFoundException(string message) : Exception(message);
