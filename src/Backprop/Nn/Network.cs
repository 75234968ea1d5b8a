using System.Numerics;

namespace Backprop.Nn;

/// <summary>
/// A feed-forward network of dense layers and a loss, with the buffers for one batch size.
/// Forward, backward and the plain gradient-descent update; optimizers and training loops build on it.
/// </summary>
/// <remarks>
/// An instance is not thread-safe: it owns the activation and delta buffers of its last pass, which is
/// what lets <c>Explain</c> print the numbers the engine actually computed.
/// </remarks>
public sealed partial class Network<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Dense<T>[] _layers;
    private T[] _input = [];
    private T[][] _z = [];
    private T[][] _a = [];
    private T[][] _delta = [];
    private T[] _scratch = [];
    private int _capacity;

    /// <summary>A network of <paramref name="layers"/> in order, each taking the previous one's units as its inputs.</summary>
    /// <param name="inputs">Features per sample, at least 1: the first layer's inputs.</param>
    /// <param name="layers">At least one layer.</param>
    /// <param name="loss">The loss minimized by training.</param>
    public Network(int inputs, IEnumerable<Dense<T>> layers, Loss loss)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputs, 1);
        _layers = layers.ToArray();
        if (_layers.Length == 0)
            throw new ArgumentException("A network needs at least one layer.", nameof(layers));
        int expected = inputs;
        long parameters = 0;
        for (int i = 0; i < _layers.Length; i++)
        {
            parameters += _layers[i].ParameterCount;
            if (_layers[i].Inputs != expected)
                throw new ArgumentException($"Layer {i} takes {_layers[i].Inputs} inputs but the previous layer gives {expected}.", nameof(layers));
            if (i < _layers.Length - 1 && _layers[i].Activation == Activation.Softmax)
                throw new ArgumentException($"Layer {i}: softmax is only supported on the last layer.", nameof(layers));
            expected = _layers[i].Units;
        }
        // ParameterCount is an int: the sum is taken in 64 bits and bounded.
        if (parameters > int.MaxValue)
            throw new ArgumentException($"The layers have {parameters:N0} parameters in all, more than the {int.MaxValue:N0} a network may have.", nameof(layers));
        if (!Enum.IsDefined(loss))
            throw new ArgumentOutOfRangeException(nameof(loss), loss, "Unknown loss.");
        Losses.RequireActivation(loss, _layers[^1].Activation);
        Inputs = inputs;
        Loss = loss;
        _seedSized = loss is Loss.HalfSse or Loss.Mse && _layers.All(l => l.IsTiny && l.Units < 16 && l.Kernel.IsElementwise);
        _seedScale = loss == Loss.HalfSse ? Losses.HalfSse.Scale<T>(1, Outputs) : Losses.Mse.Scale<T>(1, Outputs);
    }

    /// <summary>The squared loss's gradient scale for one sample (<see cref="SeedSizedStep"/>), taken once.</summary>
    private readonly T _seedScale;

    /// <summary>
    /// True when a one-sample simultaneous step can take <see cref="SeedSizedStep"/>: squared loss, every layer on
    /// the tiny path with fewer than 16 units and an element-wise activation (every one but softmax).
    /// </summary>
    private readonly bool _seedSized;

    /// <summary>Tests: send every step through the general path.</summary>
    internal static bool DisableSeedSizedStep { get; set; }

    /// <summary>
    /// Builds a network from layer shapes, with weights drawn by each activation's default <see cref="WeightInit"/>
    /// (<see cref="WeightInit.For"/>) from <paramref name="seed"/>, and zero biases.
    /// </summary>
    public static Network<T> Create(int inputs, IEnumerable<LayerSpec> layers, Loss loss, int seed = 0)
    {
        var list = new List<Dense<T>>();
        int fanIn = inputs;
        foreach (var s in layers)
        {
            list.Add(new Dense<T>(fanIn, s.Units, s.Activation, s.Bias, s.TrainableBias));
            fanIn = s.Units;
        }
        var net = new Network<T>(inputs, list, loss);
        WeightInit.Apply(net, seed);
        return net;
    }

    /// <summary>Features per sample.</summary>
    public int Inputs { get; }
    /// <summary>The last layer's units.</summary>
    public int Outputs => _layers[^1].Units;
    /// <summary>The loss training minimizes.</summary>
    public Loss Loss { get; }
    /// <summary>The layers, input side first.</summary>
    public IReadOnlyList<Dense<T>> Layers => _layers;
    /// <summary>Every weight and bias of every layer.</summary>
    public int ParameterCount => _layers.Sum(l => l.ParameterCount);

    /// <summary>The parameter tensors, layer by layer, weights then biases: the one walk over them.</summary>
    public NetworkParameters<T> Parameters => new(_layers);

    /// <summary>Number of samples in the last forward pass.</summary>
    public int Rows { get; private set; }

    /// <summary>The input of the last forward pass (rows x inputs).</summary>
    public ReadOnlySpan<T> Input => _input.AsSpan(0, Rows * Inputs);

    /// <summary>Pre-activations z of layer <paramref name="layer"/> in the last forward pass.</summary>
    public ReadOnlySpan<T> PreActivations(int layer) => _z[layer].AsSpan(0, Rows * _layers[layer].Units);

    /// <summary>Outputs a = f(z) of layer <paramref name="layer"/> in the last forward pass.</summary>
    public ReadOnlySpan<T> Activations(int layer) => _a[layer].AsSpan(0, Rows * _layers[layer].Units);

    /// <summary>delta = dE/dz of layer <paramref name="layer"/> in the last backward pass.</summary>
    public ReadOnlySpan<T> Deltas(int layer) => _delta[layer].AsSpan(0, Rows * _layers[layer].Units);

    /// <summary>The network's output of the last forward pass (rows x outputs).</summary>
    public ReadOnlySpan<T> Output => Activations(_layers.Length - 1);

    /// <summary>Runs the batch <paramref name="x"/> (rows x inputs, row-major) forward and returns the output.</summary>
    public ReadOnlySpan<T> Forward(ReadOnlySpan<T> x, int rows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        if (x.Length != rows * Inputs)
            throw new ArgumentException($"Input holds {x.Length} values; {rows} rows of {Inputs} inputs need {rows * Inputs}.", nameof(x));
        EnsureCapacity(rows);
        Rows = rows;
        x.CopyTo(_input);
        DropInputs(rows);
        ReadOnlySpan<T> current = _input.AsSpan(0, rows * Inputs);
        for (int l = 0; l < _layers.Length; l++)
        {
            _layers[l].Forward(current, rows, _z[l], _a[l]);
            current = DropHidden(l, rows);
        }
        return current;
    }

    /// <summary>
    /// Runs <paramref name="rows"/> samples forward into <paramref name="output"/> (rows x outputs) without touching
    /// this network's buffers: every call works in pooled scratch of its own. Safe to call from many threads at
    /// once on one network, as long as nothing changes the parameters meanwhile (no training step, no optimizer,
    /// no writes to <see cref="Dense{T}.Weights"/>). <see cref="Forward"/> is the single-threaded version that
    /// keeps every layer's values for inspection.
    /// </summary>
    public void Predict(ReadOnlySpan<T> x, int rows, Span<T> output) => Predict(x, rows, output, []);

    /// <summary>
    /// As <see cref="Predict(ReadOnlySpan{T}, int, Span{T})"/>, and also copies the last layer's pre-activations z
    /// (rows x outputs) into <paramref name="lastPreActivations"/> when it is not empty (what the loss needs).
    /// </summary>
    public void Predict(ReadOnlySpan<T> x, int rows, Span<T> output, Span<T> lastPreActivations)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        if (!lastPreActivations.IsEmpty && lastPreActivations.Length < rows * Outputs)
            throw new ArgumentException($"The pre-activation buffer holds {lastPreActivations.Length} values; {rows} rows of {Outputs} outputs need {rows * Outputs}.", nameof(lastPreActivations));
        if (x.Length != rows * Inputs)
            throw new ArgumentException($"Input holds {x.Length} values; {rows} rows of {Inputs} inputs need {rows * Inputs}.", nameof(x));
        if (output.Length < rows * Outputs)
            throw new ArgumentException($"Output holds {output.Length} values; {rows} rows of {Outputs} outputs need {rows * Outputs}.", nameof(output));
        int width = rows * _layers.Max(l => l.Units);
        var pool = System.Buffers.ArrayPool<T>.Shared;
        T[] z = pool.Rent(width), a = pool.Rent(width), b = pool.Rent(width);
        try
        {
            ReadOnlySpan<T> current = x;
            for (int l = 0; l < _layers.Length; l++)
            {
                var dest = l % 2 == 0 ? a : b;
                _layers[l].Forward(current, rows, z, dest, concurrent: true);
                current = dest.AsSpan(0, rows * _layers[l].Units);
            }
            current.CopyTo(output);
            if (!lastPreActivations.IsEmpty)
                z.AsSpan(0, rows * Outputs).CopyTo(lastPreActivations);
        }
        finally
        {
            pool.Return(z);
            pool.Return(a);
            pool.Return(b);
        }
    }

    /// <summary>The loss of the last forward pass against <paramref name="targets"/> (rows x outputs).</summary>
    public double ComputeLoss(ReadOnlySpan<T> targets)
    {
        RequireForward(targets);
        int last = _layers.Length - 1;
        return Losses.Value(Loss, PreActivations(last), Activations(last), targets, Rows, Outputs);
    }

    /// <summary>
    /// Back-propagates from the last forward pass: every layer's delta, dE/dW and dE/db, all from the
    /// forward pass's weights. Parameters are not changed.
    /// </summary>
    public void Backward(ReadOnlySpan<T> targets)
    {
        RequireForward(targets);
        OutputDelta(targets);
        for (int l = _layers.Length - 1; l >= 0; l--)
        {
            _layers[l].ComputeGradients(LayerInput(l), _delta[l], Rows);
            if (l > 0)
                PropagateDelta(l);
        }
    }

    /// <summary>Plain gradient descent on every layer with the gradients of the last backward pass.</summary>
    public void ApplyGradientDescent(T learningRate)
    {
        foreach (var layer in _layers)
            layer.ApplyGradientDescent(learningRate);
    }

    /// <summary>
    /// One gradient-descent step on a batch; returns the loss before the update.
    /// <see cref="UpdateOrder.Simultaneous"/>: backward, then update every layer.
    /// <see cref="UpdateOrder.Sequential"/>: update the last layer, then back-propagate through its
    /// updated weights to the layer before, and so on (the seed's order).
    /// </summary>
    public double TrainStep(ReadOnlySpan<T> x, ReadOnlySpan<T> targets, int rows, T learningRate,
        UpdateOrder order = UpdateOrder.Simultaneous)
    {
        if (rows == 1 && order == UpdateOrder.Simultaneous && _seedSized && !DisableSeedSizedStep
            && x.Length == Inputs && targets.Length == Outputs)
            return SeedSizedStep(x, targets, learningRate);
        Forward(x, rows);
        double loss = ComputeLoss(targets);
        if (order == UpdateOrder.Simultaneous)
        {
            Backward(targets);
            ApplyGradientDescent(learningRate);
            return loss;
        }
        OutputDelta(targets);
        for (int l = _layers.Length - 1; l >= 0; l--)
        {
            _layers[l].ComputeGradients(LayerInput(l), _delta[l], Rows);
            _layers[l].ApplyGradientDescent(learningRate);
            if (l > 0)
                PropagateDelta(l);
        }
        return loss;
    }

    /// <summary>
    /// <see cref="TrainStep"/> for one sample through seed-sized layers (the seed network, W1 of the benchmarks) as
    /// one loop nest per layer: forward, loss, deltas, gradients and update with no span slicing, size checks or vector
    /// set-up per layer. The activation and loss rules are the operators' own (each layer's kernel runs its
    /// operator's scalar rules, <see cref="ActivationKernel{T}.SeedForward"/>, <see cref="ActivationKernel{T}.SeedDelta"/>;
    /// the losses' <see cref="Losses.HalfSse"/> and <see cref="Losses.Mse"/>), the sums are <see cref="Dense{T}"/>'s
    /// tiny-path sums in the same order, and every value is written to the same buffers, so the two paths give
    /// identical bits (tested).
    /// </summary>
    private double SeedSizedStep(ReadOnlySpan<T> x, ReadOnlySpan<T> y, T lr)
    {
        if (_capacity < 1)
            EnsureCapacity(1);
        Rows = 1;
        T[] input = _input;
        // x holds Inputs values (checked by the caller): a loop, not a call into Memmove, for a handful of values.
        for (int i = 0; i < x.Length && i < input.Length; i++)
            input[i] = x[i];
        int last = _layers.Length - 1;
        for (int l = 0; l <= last; l++)
        {
            var layer = _layers[l];
            layer.Kernel.SeedForward(input, layer.WeightArray, layer.BiasArray, layer.Bias, layer.Inputs, layer.Units, _z[l], _a[l]);
            input = _a[l];
        }

        // Loss and output delta by the loss's rules (as Losses.Value and Losses.OutputDelta).
        int outputs = Outputs;
        T[] oa = _a[last];
        bool half = Loss == Loss.HalfSse;
        double loss = half ? Losses.HalfSse.Value<T>(oa, y, 1, outputs) : Losses.Mse.Value<T>(oa, y, 1, outputs);
        _layers[last].Kernel.SeedSquaredErrorDelta(_z[last], oa, y, _delta[last], _seedScale, outputs);

        // Layer by layer from the top: the delta one layer down through this layer's weights as they were in the
        // forward pass (as Dense.BackwardInput and the activation's backward pass), then this layer's gradients and
        // update in one pass (Dense.SeedGradientStep). The update comes after the delta below has read the weights,
        // so every value is the general path's.
        for (int l = last; l >= 0; l--)
        {
            var layer = _layers[l];
            if (l > 0)
                _layers[l - 1].Kernel.SeedDelta(_delta[l], layer.WeightArray, layer.Units, layer.Inputs, _z[l - 1], _a[l - 1], _scratch, _delta[l - 1]);
            layer.SeedGradientStep(l == 0 ? _input : _a[l - 1], _delta[l], lr);
        }
        return loss;
    }

    /// <summary>An independent copy (parameters only) in element type <typeparamref name="TOut"/>.</summary>
    public Network<TOut> Convert<TOut>() where TOut : unmanaged, IFloatingPointIeee754<TOut> =>
        new(Inputs, _layers.Select(l => l.Convert<TOut>()), Loss);

    /// <summary>An independent copy of the parameters.</summary>
    public Network<T> Clone() => Convert<T>();

    private void OutputDelta(ReadOnlySpan<T> targets)
    {
        int last = _layers.Length - 1;
        Losses.OutputDelta(Loss, _layers[last].Kernel, PreActivations(last), Activations(last), targets,
            _delta[last], Rows, Outputs);
    }

    /// <summary>delta[l-1] = (delta[l] * W[l]) .* f'(z[l-1]), with layer l's weights as they are now.</summary>
    private void PropagateDelta(int l)
    {
        var prev = _layers[l - 1];
        int n = Rows * prev.Units;
        var dA = _scratch.AsSpan(0, n);
        _layers[l].BackwardInput(_delta[l], Rows, dA);
        MaskGradient(l - 1, dA);
        prev.Kernel.Backward(PreActivations(l - 1), Activations(l - 1), dA, _delta[l - 1], Rows, prev.Units);
    }

    private void RequireForward(ReadOnlySpan<T> targets)
    {
        if (Rows == 0)
            throw new InvalidOperationException("Run Forward before asking for the loss or gradients.");
        if (targets.Length != Rows * Outputs)
            throw new ArgumentException($"Targets hold {targets.Length} values; {Rows} rows of {Outputs} outputs need {Rows * Outputs}.", nameof(targets));
    }

    private void EnsureCapacity(int rows)
    {
        if (rows <= _capacity)
            return;
        // Plain loops: a lambda capturing rows would allocate its closure on every call, early return or not.
        _input = new T[rows * Inputs];
        _z = new T[_layers.Length][];
        _a = new T[_layers.Length][];
        _delta = new T[_layers.Length][];
        int widest = 0;
        for (int l = 0; l < _layers.Length; l++)
        {
            int n = rows * _layers[l].Units;
            _z[l] = new T[n];
            _a[l] = new T[n];
            _delta[l] = new T[n];
            widest = Math.Max(widest, _layers[l].Units);
        }
        _scratch = new T[rows * widest];
        _capacity = rows;
    }
}
