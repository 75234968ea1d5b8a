using System.CommandLine;
using System.Globalization;
using Backprop.Cli.Commands;
using Backprop.Training;

namespace Backprop.Cli.Options;

/// <summary>
/// The options that describe a model and how to train it (--preprocess, --hidden, --activation, --loss, --optimizer,
/// --lr, --schedule, --epochs, --batch, --seed, --validation-fraction, --patience, --l2, --dropout, --input-dropout, --clip-norm), declared once
/// here and shared by <c>train</c> and <c>cv</c>; every default comes from <see cref="TrainingDefaults"/>.
/// </summary>
public sealed class TrainingOptionSet
{
    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>--preprocess KIND.</summary>
    public Option<string?> Preprocess { get; } = new("--preprocess") { Description = "standardize (default for tabular data), min-max, pixels (default for IDX images) or none; fitted on the training rows only and stored in the model.", HelpName = "KIND" };

    /// <summary>--hidden N,N,...</summary>
    public Option<string> Hidden { get; } = new("--hidden") { Description = "Hidden layer sizes, comma-separated; 'none' for no hidden layer.", HelpName = "N,N,...", DefaultValueFactory = _ => TrainingDefaults.HiddenLayers };

    /// <summary>--activation NAME.</summary>
    public Option<string> Activation { get; } = new("--activation") { Description = "Hidden activation: relu, leaky-relu, tanh, sigmoid, identity.", HelpName = "NAME", DefaultValueFactory = _ => TrainingDefaults.ActivationName };

    /// <summary>--loss NAME.</summary>
    public Option<string?> Loss { get; } = new("--loss") { Description = "Loss: cross-entropy (default for classification, softmax outputs), binary-cross-entropy, mse (default for regression), half-sse.", HelpName = "NAME" };

    /// <summary>--optimizer NAME.</summary>
    public Option<string> Optimizer { get; } = new("--optimizer") { Description = "sgd, momentum (SGD, momentum 0.9), nesterov, adam (default), adamw, rmsprop.", HelpName = "NAME", DefaultValueFactory = _ => TrainingDefaults.OptimizerName };

    /// <summary>--lr ETA.</summary>
    public Option<double?> LearningRate { get; } = CommonOptions.LearningRate(Inv($"Learning rate (default: {TrainingDefaults.AdamLearningRate} for adam/adamw, {TrainingDefaults.RmsPropLearningRate} for rmsprop, {TrainingDefaults.SgdLearningRate} for sgd, {TrainingDefaults.MomentumLearningRate} for momentum/nesterov)."));

    /// <summary>--schedule SCHEDULE.</summary>
    public Option<string> Schedule { get; } = new("--schedule") { Description = "constant, step:EVERY[:GAMMA], exponential:GAMMA or cosine:PERIOD[:MINIMUM].", HelpName = "SCHEDULE", DefaultValueFactory = _ => "constant" };

    /// <summary>--epochs N.</summary>
    public Option<int?> Epochs { get; } = new("--epochs") { Description = Inv($"Passes over the training data; with early stopping an upper bound (default {TrainingDefaults.MaxEpochs}); without it, default enough for about 2,000 updates, between 10 and 200 epochs."), HelpName = "N" };

    /// <summary>--batch N.</summary>
    public Option<int> Batch { get; } = new("--batch") { Description = "Mini-batch size.", HelpName = "N", DefaultValueFactory = _ => TrainingDefaults.BatchSize };

    /// <summary>--seed N.</summary>
    public Option<long> Seed { get; } = new("--seed") { Description = "Seed for the weights, shuffling and splits; the same seed gives the same model.", HelpName = "N", DefaultValueFactory = _ => 1 };

    /// <summary>--validation-fraction F.</summary>
    public Option<double?> Validation { get; } = new("--validation-fraction") { Description = Inv($"Hold out this fraction of the training rows for validation and early stopping (default {TrainingDefaults.ValidationFraction} for a --data file of at least {TrainingDefaults.MinRowsForEarlyStopping} training rows, after any test split, else 0; 0 turns early stopping off)."), HelpName = "F" };

    /// <summary>--patience N.</summary>
    public Option<int?> Patience { get; } = new("--patience") { Description = Inv($"Early stopping: stop after N epochs without a better validation loss and keep the best epoch's weights (default {TrainingDefaults.Patience} whenever a --data file has a validation split)."), HelpName = "N" };

    /// <summary>--l2 LAMBDA.</summary>
    public Option<double?> L2 { get; } = new("--l2") { Description = Inv($"L2 regularisation strength (weights only; default {TrainingDefaults.CommandLineL2}; {TrainingDefaults.SmallTableL2} for a --data file of fewer than {TrainingDefaults.MinRowsForEarlyStopping} training rows trained in memory)."), HelpName = "LAMBDA" };

    /// <summary>--clip-norm NORM.</summary>
    public Option<double?> ClipNorm { get; } = new("--clip-norm") { Description = "Clip gradients to this global L2 norm.", HelpName = "NORM" };

    /// <summary>--dropout P.</summary>
    public Option<double?> Dropout { get; } = new("--dropout") { Description = Inv($"Inverted dropout on every hidden layer's outputs while training: each is zeroed with probability P (default {TrainingDefaults.Dropout} for a --data file, 0 for a built-in dataset; 0 for none). Prediction is unchanged."), HelpName = "P" };

    /// <summary>--input-dropout P.</summary>
    public Option<double?> InputDropout { get; } = new("--input-dropout") { Description = Inv($"Inverted dropout on the network's inputs while training (default {TrainingDefaults.InputDropout} for a --data file, 0 for a built-in dataset; 0 for none)."), HelpName = "P" };

    /// <summary>The options, in the order --help lists them.</summary>
    public IEnumerable<Option> All => [Preprocess, Hidden, Activation, Loss, Optimizer, LearningRate, Schedule, Epochs, Batch, Seed, Validation, Patience, L2, Dropout, InputDropout, ClipNorm];

    /// <summary>Adds every option to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var o in All)
            command.Options.Add(o);
    }

    /// <summary>
    /// A <c>train</c> settings record with these options from <paramref name="parse"/> and the given data; the rest
    /// (test set, outputs) are the caller's to add (<c>with { ... }</c>).
    /// </summary>
    public TrainCommand.Settings Bind(ParseResult parse, DataSettings data) => new()
        {
        Data = data,
        Preprocess = parse.GetValue(Preprocess),
        Hidden = parse.GetValue(Hidden)!,
        Activation = parse.GetValue(Activation)!,
        Loss = parse.GetValue(Loss),
        Optimizer = parse.GetValue(Optimizer)!,
        LearningRate = parse.GetValue(LearningRate),
        Schedule = parse.GetValue(Schedule)!,
        Epochs = parse.GetValue(Epochs),
        Batch = parse.GetValue(Batch),
        Seed = parse.GetValue(Seed),
        Validation = parse.GetValue(Validation),
        Patience = parse.GetValue(Patience),
        L2 = parse.GetValue(L2),
        Dropout = parse.GetValue(Dropout),
        InputDropout = parse.GetValue(InputDropout),
        ClipNorm = parse.GetValue(ClipNorm),
    };
}
