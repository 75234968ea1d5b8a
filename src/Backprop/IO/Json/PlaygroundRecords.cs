namespace Backprop.IO.Json;

// The playground's JSON API (`backprop playground`, docs/playground.md): every request and answer as a record, read
// and written through BackpropJson like every other JSON of Backprop, with the same names for the same quantities
// (learning_rate, update_order, trainable_bias, batch_size, loss_history, the explain JSON's errata). The server
// (Backprop.Cli.Playground) checks each request's ranges; reading is strict (unknown and repeated fields refused).

/// <summary>The seed network's whole state as the page holds it: <c>GET /api/seed/default</c>, and <c>state</c> in an answer.</summary>
public sealed record PlaygroundSeedState
{
    /// <summary>Input to hidden weights, 2 x 3: <c>v[i-1][j-1]</c> is Vij.</summary>
    public required double[][] V { get; init; }

    /// <summary>Hidden to output weights, 3 x 2: <c>w[i-1][j-1]</c> is Wij.</summary>
    public required double[][] W { get; init; }

    /// <summary>The hidden layer's shared bias.</summary>
    public required double B1 { get; init; }

    /// <summary>The output layer's shared bias.</summary>
    public required double B2 { get; init; }

    /// <summary>X1, X2.</summary>
    public required double[] Input { get; init; }

    /// <summary>Y1, Y2.</summary>
    public required double[] Target { get; init; }

    /// <summary>eta.</summary>
    public required double LearningRate { get; init; }

    /// <summary><c>simultaneous</c> or <c>sequential</c>.</summary>
    public required string UpdateOrder { get; init; }

    /// <summary>False: b1 and b2 keep their values.</summary>
    public required bool TrainableBias { get; init; }
}

/// <summary><c>POST /api/seed</c>: a state (any field left out takes the document's value), the updates to run first and the trace's language.</summary>
public sealed record PlaygroundSeedRequest
{
    /// <summary>See <see cref="PlaygroundSeedState.V"/>.</summary>
    public double[][]? V { get; init; }

    /// <summary>See <see cref="PlaygroundSeedState.W"/>.</summary>
    public double[][]? W { get; init; }

    /// <summary>See <see cref="PlaygroundSeedState.B1"/>.</summary>
    public double? B1 { get; init; }

    /// <summary>See <see cref="PlaygroundSeedState.B2"/>.</summary>
    public double? B2 { get; init; }

    /// <summary>See <see cref="PlaygroundSeedState.Input"/>.</summary>
    public double[]? Input { get; init; }

    /// <summary>See <see cref="PlaygroundSeedState.Target"/>.</summary>
    public double[]? Target { get; init; }

    /// <summary>See <see cref="PlaygroundSeedState.LearningRate"/>.</summary>
    public double? LearningRate { get; init; }

    /// <summary>See <see cref="PlaygroundSeedState.UpdateOrder"/>.</summary>
    public string? UpdateOrder { get; init; }

    /// <summary>See <see cref="PlaygroundSeedState.TrainableBias"/>.</summary>
    public bool? TrainableBias { get; init; }

    /// <summary>Updates to run before the pass that is shown (default 0).</summary>
    public int? Steps { get; init; }

    /// <summary><c>en</c> or <c>zh</c>.</summary>
    public string? Lang { get; init; }
}

/// <summary>The seed's parameters (or their gradients) in the page's layout.</summary>
public sealed record PlaygroundSeedValues
{
    /// <summary>2 x 3, <c>[i-1][j-1]</c> for Vij.</summary>
    public required double[][] V { get; init; }

    /// <summary>3 x 2, <c>[i-1][j-1]</c> for Wij.</summary>
    public required double[][] W { get; init; }

    /// <summary>b1 (or dE/db1).</summary>
    public required double B1 { get; init; }

    /// <summary>b2 (or dE/db2).</summary>
    public required double B2 { get; init; }
}

/// <summary>The forward pass of the seed network.</summary>
public sealed record PlaygroundSeedForward
{
    /// <summary>H1..H3, the hidden pre-activations.</summary>
    public required double[] H { get; init; }

    /// <summary>P1..P3, the hidden outputs.</summary>
    public required double[] P { get; init; }

    /// <summary>Q1, Q2, the output pre-activations.</summary>
    public required double[] Q { get; init; }

    /// <summary>O1, O2, the outputs.</summary>
    public required double[] O { get; init; }
}

/// <summary>The answer to <c>POST /api/seed</c>.</summary>
public sealed record PlaygroundSeedAnswer
{
    /// <summary>The state after the updates.</summary>
    public required PlaygroundSeedState State { get; init; }

    /// <summary>Updates run.</summary>
    public required int Steps { get; init; }

    /// <summary>The forward pass at <see cref="State"/>.</summary>
    public required PlaygroundSeedForward Forward { get; init; }

    /// <summary>E at <see cref="State"/>.</summary>
    public required double Loss { get; init; }

    /// <summary>Every gradient at <see cref="State"/>.</summary>
    public required PlaygroundSeedValues Gradients { get; init; }

    /// <summary>The parameters after one more update.</summary>
    public required PlaygroundSeedValues Updated { get; init; }

    /// <summary>E before each update and at the end (empty for 0 steps).</summary>
    public required double[] LossHistory { get; init; }

    /// <summary><c>backprop explain</c>'s text for <see cref="State"/>.</summary>
    public required string Trace { get; init; }

    /// <summary>The word that marks a slip in <see cref="Trace"/>.</summary>
    public required string SlipMarker { get; init; }

    /// <summary>The document's slips, as in the explain JSON.</summary>
    public IReadOnlyList<ExplainErratumEntry>? Errata { get; init; }
}

/// <summary>The answer to <c>GET /api/train/options</c>: the choices and the limits.</summary>
public sealed record PlaygroundTrainOptions
{
    /// <summary>The synthetic datasets.</summary>
    public required IReadOnlyList<string> Datasets { get; init; }

    /// <summary>The hidden layers' activations.</summary>
    public required IReadOnlyList<string> Activations { get; init; }

    /// <summary>The optimizers.</summary>
    public required IReadOnlyList<string> Optimizers { get; init; }

    /// <summary>The most hidden layers.</summary>
    public required int MaxLayers { get; init; }

    /// <summary>The most units in a hidden layer.</summary>
    public required int MaxUnits { get; init; }

    /// <summary>The most points in a dataset.</summary>
    public required int MaxSamples { get; init; }

    /// <summary>The most training steps one request runs.</summary>
    public required int MaxStepsPerRequest { get; init; }

    /// <summary>The largest grid side.</summary>
    public required int MaxGrid { get; init; }

    /// <summary>Each optimizer's learning rate when a new run gives none (<c>TrainingDefaults.PlaygroundLearningRate</c>).</summary>
    public required IReadOnlyDictionary<string, double> LearningRates { get; init; }

    /// <summary>The rows per batch when a new run gives none.</summary>
    public required int BatchSize { get; init; }
}

/// <summary><c>POST /api/train</c>: a new training run (any field left out takes its default).</summary>
public sealed record PlaygroundTrainRequest
{
    /// <summary>xor, moons, circles, spirals or blobs.</summary>
    public string? Dataset { get; init; }

    /// <summary>Points to draw.</summary>
    public int? Samples { get; init; }

    /// <summary>The dataset's noise, 0 to 1.</summary>
    public double? Noise { get; init; }

    /// <summary>Units of each hidden layer.</summary>
    public int[]? Hidden { get; init; }

    /// <summary>The hidden layers' activation.</summary>
    public string? Activation { get; init; }

    /// <summary>sgd, adam, rmsprop or adamw.</summary>
    public string? Optimizer { get; init; }

    /// <summary>eta.</summary>
    public double? LearningRate { get; init; }

    /// <summary>Rows per training step.</summary>
    public int? BatchSize { get; init; }

    /// <summary>Seeds the data, the weights and the shuffling.</summary>
    public long? Seed { get; init; }
}

/// <summary><c>POST /api/train/{id}/step</c>: steps to run and the grid to answer with.</summary>
public sealed record PlaygroundStepRequest
{
    /// <summary>Training steps (minibatches) to run (default 10).</summary>
    public int? Steps { get; init; }

    /// <summary>The side of the grid of predictions (default 60).</summary>
    public int? Grid { get; init; }
}

/// <summary>The answer to <c>POST /api/train</c>.</summary>
public sealed record PlaygroundTrainCreated
{
    /// <summary>Names the run in later requests.</summary>
    public required string Id { get; init; }

    /// <summary>The dataset drawn.</summary>
    public required string Dataset { get; init; }

    /// <summary>The number of classes.</summary>
    public required int ClassCount { get; init; }

    /// <summary>Weights and biases of the network.</summary>
    public required int ParameterCount { get; init; }

    /// <summary>xmin, xmax, ymin, ymax of the picture.</summary>
    public required double[] Bounds { get; init; }

    /// <summary>Every point as <c>[x, y, label]</c>.</summary>
    public required double[][] Points { get; init; }

    /// <summary>The untrained network's loss, accuracy and grid.</summary>
    public required PlaygroundTrainStatus Status { get; init; }
}

/// <summary>Where a training run stands: the answer to <c>POST /api/train/{id}/step</c>.</summary>
public sealed record PlaygroundTrainStatus
{
    /// <summary>Training steps the run has taken in total.</summary>
    public required long StepsTrained { get; init; }

    /// <summary>The loss on every point.</summary>
    public required double Loss { get; init; }

    /// <summary>The share of points classified right.</summary>
    public required double Accuracy { get; init; }

    /// <summary>Steps this request ran.</summary>
    public required int Steps { get; init; }

    /// <summary>How long they took.</summary>
    public required double Seconds { get; init; }

    /// <summary>Steps per second (null when none ran).</summary>
    public required double? StepsPerSecond { get; init; }

    /// <summary>The predictions over the picture.</summary>
    public required PlaygroundGrid Grid { get; init; }
}

/// <summary>A <c>size</c> x <c>size</c> grid of predictions over the picture, row 0 at the top.</summary>
public sealed record PlaygroundGrid
{
    /// <summary>Cells per side.</summary>
    public required int Size { get; init; }

    /// <summary>Each cell's predicted class.</summary>
    public required int[] PredictedClass { get; init; }

    /// <summary>Each cell's probability of that class, to 3 decimals.</summary>
    public required double[] Confidence { get; init; }
}

/// <summary>The answer to <c>DELETE /api/train/{id}</c>.</summary>
/// <param name="Deleted">The run's id.</param>
public sealed record PlaygroundDeleted(string Deleted);

/// <summary>Every answer that is not a success: what went wrong and what to do.</summary>
/// <param name="Error">The message.</param>
public sealed record PlaygroundError(string Error);
