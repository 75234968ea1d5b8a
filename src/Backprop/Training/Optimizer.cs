using System.Numerics;
using Backprop.Nn;
using Backprop.Numerics;

namespace Backprop.Training;

/// <summary>
/// An update rule applied to every parameter of a <see cref="Network{T}"/> from the gradients of its last
/// backward pass (<see cref="Dense{T}.WeightGradients"/>, <see cref="Dense{T}.BiasGradients"/>).
/// A frozen bias (<see cref="Dense{T}.TrainableBias"/> false) is never changed.
/// </summary>
/// <remarks>
/// Each subclass implements one rule exactly as torch.optim documents it. The per-parameter state
/// (momentum, moment estimates) is kept in double, allocated on the first <see cref="Step{T}"/> and reused;
/// the arithmetic of an update is done in double and rounded once to the network's element type.
/// An optimizer belongs to one network shape; use a new one (or <see cref="Reset"/>) for another model.
/// </remarks>
public abstract class Optimizer
{
    private double[][][] _state = [];
    private int[] _shape = [];

    /// <summary>An update rule with base learning rate gamma and weight decay lambda, both finite and >= 0.</summary>
    protected Optimizer(double learningRate, double weightDecay)
    {
        RequireNonNegativeFinite(learningRate, "learning rate");
        RequireNonNegativeFinite(weightDecay, "weight decay");
        LearningRate = learningRate;
        WeightDecay = weightDecay;
    }

    /// <summary>The base learning rate gamma (a schedule may scale it per epoch).</summary>
    public double LearningRate { get; }

    /// <summary>lambda: for SGD, Adam and RMSprop an L2 term lambda * theta added to the gradient (torch's weight_decay); AdamW decouples it.</summary>
    public double WeightDecay { get; }

    /// <summary>How many steps have been taken (torch's t, 1 during the first step).</summary>
    public int Steps { get; private set; }

    /// <summary>Short name for files and the command line: sgd, adam, adamw, rmsprop.</summary>
    public abstract string Name { get; }

    /// <summary>How many state arrays one parameter tensor needs.</summary>
    protected abstract int StateSlots { get; }

    /// <summary>The hyper-parameters, for the saved model and for messages.</summary>
    public abstract IReadOnlyDictionary<string, double> Settings { get; }

    /// <summary>Forgets the state (momentum, moments, step count).</summary>
    public void Reset()
    {
        _work = null;
        _parameters = 0;
        _state = [];
        _shape = [];
        Steps = 0;
    }

    /// <summary>
    /// One update of every trainable parameter of <paramref name="network"/> with learning rate
    /// <paramref name="learningRate"/> (the base rate when null).
    /// </summary>
    public void Step<T>(Network<T> network, double? learningRate = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        double lr = learningRate ?? LearningRate;
        RequireNonNegativeFinite(lr, "learning rate");
        Bind(network);
        Steps++;
        if (!UpdatesElementWise || _parameters < ParallelParameters || Gemm.MaxThreads < 2)
        {
            foreach (var p in network.Parameters)
                if (p.Trainable)
                    Update(p.Values, p.Gradients, new OptimizerState(_state[p.Index], 0, p.Length), lr, Steps);
            return;
        }
        // Every parameter's update reads and writes only that parameter's state, so cutting the tensors into
        // chunks and running them on several threads gives the same bits as one pass.
        var work = _work as ChunkedStep<T>;
        if (work is null || !work.IsFor(network))
            _work = work = new ChunkedStep<T>(this, network);
        work.Lr = lr;
        work.StepNumber = Steps;
        GemmPool.Shared.Run(work, work.Count, Gemm.MaxThreads);
    }

    /// <summary>
    /// True when each element's update depends only on that element's parameter, gradient and state, so the tensors
    /// may be cut into parts updated on several threads. False (the default, for rules such as LARS or LAMB that
    /// use a whole tensor's norm): <see cref="Update{T}"/> always sees whole tensors.
    /// </summary>
    protected virtual bool UpdatesElementWise => false;

    /// <summary>Networks with at least this many parameters update on several threads.</summary>
    private const int ParallelParameters = 1 << 16;

    /// <summary>Elements per chunk of a threaded update.</summary>
    private const int ChunkElements = 1 << 14;

    private object? _work;
    private long _parameters;

    /// <summary>One optimizer step cut into chunks of parameters, for the fork-join pool; built once per network.</summary>
    private sealed class ChunkedStep<T> : IGemmWork where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Optimizer _optimizer;
        private readonly Network<T> _network;
        private readonly (int Tensor, int Offset, int Length)[] _chunks;

        public ChunkedStep(Optimizer optimizer, Network<T> network)
        {
            _optimizer = optimizer;
            _network = network;
            var chunks = new List<(int, int, int)>();
            foreach (var p in network.Parameters)
            {
                if (!p.Trainable)
                    continue;
                // A bias tensor is one chunk; a weight tensor is cut into chunks.
                int chunk = p.IsBias ? Math.Max(p.Length, 1) : ChunkElements;
                for (int o = 0; o < p.Length; o += chunk)
                    chunks.Add((p.Index, o, Math.Min(chunk, p.Length - o)));
            }
            _chunks = [.. chunks];
        }

        public double Lr;
        public int StepNumber;

        public int Count => _chunks.Length;

        public bool IsFor(Network<T> network) => ReferenceEquals(network, _network);

        public void Run(int index)
        {
            var (tensor, offset, length) = _chunks[index];
            var p = _network.Parameters[tensor];
            _optimizer.Update(p.Values.Slice(offset, length), p.Gradients.Slice(offset, length),
                new OptimizerState(_optimizer._state[tensor], offset, length), Lr, StepNumber);
        }
    }

    /// <summary>
    /// Updates one parameter tensor (or a contiguous part of one) <paramref name="p"/> in place from its gradient
    /// <paramref name="g"/>. <paramref name="state"/> holds <see cref="StateSlots"/> arrays of p's length, zero before
    /// the first step; <paramref name="t"/> is the step number (1 at the first step). When
    /// <see cref="UpdatesElementWise"/> is true, p may be a contiguous part of a tensor (the tensors are cut into
    /// parts for threads) and state the matching part of its state.
    /// </summary>
    protected abstract void Update<T>(Span<T> p, ReadOnlySpan<T> g, OptimizerState state, double lr, int t)
        where T : unmanaged, IFloatingPointIeee754<T>;

    private void Bind<T>(Network<T> network) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var parameters = network.Parameters;
        int n = parameters.Count;
        if (_shape.Length == n)
        {
            bool same = true;
            foreach (var p in parameters)
                same &= _shape[p.Index] == p.Length;
            if (same)
                return;
        }
        if (_shape.Length != 0)
            throw new BackpropException(
                $"This {Name} optimizer holds state for a network of another shape; use a new optimizer (or call Reset) for each model.");
        _shape = new int[n];
        _state = new double[n][][];
        _parameters = network.ParameterCount;
        foreach (var p in parameters)
            _shape[p.Index] = p.Length;
        for (int i = 0; i < n; i++)
        {
            _state[i] = new double[StateSlots][];
            for (int s = 0; s < StateSlots; s++)
                _state[i][s] = new double[_shape[i]];
        }
    }

    /// <summary>
    /// Checks state restored from a checkpoint: <paramref name="values"/> is slot <paramref name="slot"/> of one tensor,
    /// every value already known finite. Returns what is wrong (e.g. a negative second moment), or null when it is valid.
    /// </summary>
    protected internal virtual string? CheckState(int slot, ReadOnlySpan<double> values) => null;

    /// <summary>Index of the first negative value, or -1.</summary>
    private protected static int FirstNegative(ReadOnlySpan<double> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (values[i] < 0)
                return i;
        return -1;
    }

    /// <summary>How many state arrays one parameter tensor needs (checkpoints).</summary>
    internal int SlotCount => StateSlots;

    /// <summary>The bound shape (one length per tensor: weights, biases, layer by layer; empty before the first step) (checkpoints).</summary>
    internal ReadOnlySpan<int> BoundShape => _shape;

    /// <summary>State array <paramref name="slot"/> of tensor <paramref name="tensor"/> (checkpoints).</summary>
    internal double[] StateArray(int tensor, int slot) => _state[tensor][slot];

    /// <summary>
    /// Puts saved state back (checkpoints): binds to <paramref name="network"/>'s shape, sets the step count,
    /// and lets <paramref name="fill"/> write every state array (tensor, slot, array of the tensor's length).
    /// With zero steps the optimizer is simply reset.
    /// </summary>
    internal void RestoreState<T>(Network<T> network, int steps, Action<int, int, double[]> fill) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Reset();
        if (steps == 0)
            return;
        Bind(network);
        for (int tensor = 0; tensor < _state.Length; tensor++)
            for (int slot = 0; slot < StateSlots; slot++)
                fill(tensor, slot, _state[tensor][slot]);
        Steps = steps;
    }

    private protected static void RequireNonNegativeFinite(double value, string what)
    {
        if (!(value >= 0) || !double.IsFinite(value))
            throw new BackpropException($"The {what} must be a finite number >= 0, got {value}.");
    }

    private protected static void RequireFraction(double value, string what)
    {
        if (!(value >= 0 && value < 1))
            throw new BackpropException($"{what} must be in [0, 1), got {value}.");
    }

    /// <summary>A one-line description, e.g. <c>adam(learning-rate=0.001, beta1=0.9, ...)</c>.</summary>
    public override string ToString() =>
        $"{Name}({string.Join(", ", Settings.Select(kv => FormattableString.Invariant($"{kv.Key}={kv.Value:G6}")))})";

    /// <summary>
    /// Creates an optimizer by name (sgd, momentum = SGD with momentum 0.9, nesterov = SGD with Nesterov momentum 0.9,
    /// adam, adamw, rmsprop) with its default settings and <paramref name="learningRate"/>
    /// (<see cref="TrainingDefaults.LearningRate"/> when null).
    /// </summary>
    public static Optimizer Create(string name, double? learningRate = null)
    {
        string key = (name ?? "").Trim().ToLowerInvariant();
        double lr = learningRate ?? TrainingDefaults.LearningRate(key);
        return key switch
        {
            "sgd" => new Sgd(lr),
            "momentum" => new Sgd(lr, momentum: TrainingDefaults.Momentum),
            "nesterov" => new Sgd(lr, momentum: TrainingDefaults.Momentum, nesterov: true),
            "adam" => new Adam(lr),
            "adamw" => new AdamW(lr),
            "rmsprop" => new RmsProp(lr),
            _ => throw new BackpropException($"Unknown optimizer '{name}'; expected one of: {string.Join(", ", TrainingDefaults.OptimizerNames)}."),
        };
    }
}

/// <summary>
/// The state arrays an optimizer keeps for the part of a parameter tensor that one <c>Update</c> call sees:
/// slot s is <c>state[s][offset .. offset + length]</c>.
/// </summary>
public readonly ref struct OptimizerState
{
    private readonly double[][] _slots;
    private readonly int _offset;
    private readonly int _length;

    internal OptimizerState(double[][] slots, int offset, int length)
    {
        _slots = slots;
        _offset = offset;
        _length = length;
    }

    /// <summary>How many state arrays there are.</summary>
    public int Slots => _slots.Length;

    /// <summary>State array <paramref name="slot"/>, one value per parameter of the part being updated.</summary>
    public Span<double> this[int slot] => _slots[slot].AsSpan(_offset, _length);
}
