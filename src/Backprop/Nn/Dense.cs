using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Backprop.Numerics;

namespace Backprop.Nn;

/// <summary>
/// A fully connected layer over a batch (rows = samples): z = a_prev * W^T + b, a = f(z).
/// Weights are stored <c>[unit][input]</c> row-major, so the seed's Vij is <c>Weight(j-1, i-1)</c> of the hidden layer.
/// </summary>
public sealed class Dense<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _weights;
    private readonly T[] _biases;
    private readonly T[] _weightGradients;
    private readonly T[] _biasGradients;

    /// <summary>A layer of <paramref name="units"/> units on <paramref name="inputs"/> inputs, its weights and biases zero.</summary>
    /// <param name="inputs">Inputs per sample (the previous layer's units), at least 1.</param>
    /// <param name="units">Units (outputs per sample), at least 1; units x inputs must fit one array.</param>
    /// <param name="activation">f in a = f(z).</param>
    /// <param name="bias">One bias per unit, one shared by the layer (the seed document's), or none.</param>
    /// <param name="trainableBias">False freezes the bias at its value.</param>
    public Dense(int inputs, int units, Activation activation, BiasMode bias = BiasMode.PerUnit, bool trainableBias = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(units, 1);
        if (!Enum.IsDefined(activation))
            throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");
        if (!Enum.IsDefined(bias))
            throw new ArgumentOutOfRangeException(nameof(bias), bias, "Unknown bias mode.");
        // In 64 bits: units x inputs wraps around in 32 (46341 x 46341 is negative, 100000 x 100000 a wrong 1.4 billion).
        long weights = (long)units * inputs;
        if (weights > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(units), units,
                $"A layer of {units:N0} units on {inputs:N0} inputs has {weights:N0} weights, more than the {Array.MaxLength:N0} one array holds.");
        Inputs = inputs;
        Units = units;
        Activation = activation;
        Kernel = ActivationKernel<T>.For(activation);
        Bias = bias;
        TrainableBias = trainableBias && bias != BiasMode.None;
        _weights = new T[units * inputs];
        _weightGradients = new T[units * inputs];
        int biasCount = BiasCount(bias, units);
        _biases = new T[biasCount];
        _biasGradients = new T[biasCount];
    }

    /// <summary>Inputs per sample.</summary>
    public int Inputs { get; }
    /// <summary>Units, the layer's outputs per sample.</summary>
    public int Units { get; }
    /// <summary>The activation f in a = f(z).</summary>
    public Activation Activation { get; }
    /// <summary>How the layer's bias is shared.</summary>
    public BiasMode Bias { get; }

    /// <summary>The passes of <see cref="Activation"/>, bound to its operator type.</summary>
    internal ActivationKernel<T> Kernel { get; }

    /// <summary>False when the bias is frozen (kept at its value by every update) or absent.</summary>
    public bool TrainableBias { get; }

    /// <summary>The weights, <c>[unit * Inputs + input]</c>.</summary>
    /// <remarks>
    /// Getting the span counts as a possible write: the forward pass then packs the weights afresh instead of reusing
    /// the panels it packed before (writes through a span kept from earlier are caught too, by a content check).
    /// </remarks>
    public Span<T> Weights
    {
        get
        {
            _version++;
            return _weights;
        }
    }

    /// <summary>The weights to read: unlike <see cref="Weights"/>, not counted as a write (the packed weights stay valid).</summary>
    internal ReadOnlySpan<T> WeightsForReading => _weights;

    /// <summary>1 value for <see cref="BiasMode.Shared"/>, <see cref="Units"/> for per-unit, none for none.</summary>
    public Span<T> Biases => _biases;

    /// <summary>dE/dW of the last backward pass, same layout as <see cref="Weights"/>.</summary>
    public Span<T> WeightGradients => _weightGradients;

    /// <summary>dE/db of the last backward pass, same layout as <see cref="Biases"/> (computed even when the bias is frozen).</summary>
    public Span<T> BiasGradients => _biasGradients;

    /// <summary>Weights plus biases.</summary>
    public int ParameterCount => _weights.Length + _biases.Length;

    // The arrays behind the spans, for the network's fused seed-sized step (which writes the weights).
    internal T[] WeightArray
    {
        get
        {
            _version++;
            return _weights;
        }
    }
    internal T[] BiasArray => _biases;
    internal T[] WeightGradientArray => _weightGradients;
    internal T[] BiasGradientArray => _biasGradients;

    /// <summary>Whether a one-sample pass through this layer takes the tiny (plain loop) path.</summary>
    internal bool IsTiny => (long)Units * Inputs <= TinyWork;

    /// <summary>One weight, by reference (counts as a possible write, as <see cref="Weights"/> does).</summary>
    public ref T Weight(int unit, int input)
    {
        _version++;
        return ref _weights[unit * Inputs + input];
    }

    /// <summary>
    /// The weights' write stamp: changed by every path that can write them (<see cref="Weights"/>,
    /// <see cref="Weight"/>, the gradient-descent update, the seed-sized step). The forward pass keeps the weights
    /// packed for the matrix product (<see cref="_panels"/>) and packs them again when the stamp moves.
    /// </summary>
    private int _version;

    private readonly WeightPanels<T> _panels = new();

    /// <summary>Tests: the packed weights of the forward product.</summary>
    internal WeightPanels<T> Panels => _panels;

    /// <summary>How many bias values a layer of <paramref name="units"/> units holds under <paramref name="bias"/>.</summary>
    public static int BiasCount(BiasMode bias, int units) => bias switch
    {
        BiasMode.PerUnit => units,
        BiasMode.Shared => 1,
        _ => 0,
    };

    /// <summary>Products up to this many multiply-adds run as plain loops here (no call into Gemm, no set-up).</summary>
    private const long TinyWork = 256;

    /// <summary>
    /// z = input * W^T + b and a = f(z), for <paramref name="rows"/> samples. <paramref name="concurrent"/>: other
    /// threads may run forward passes through this layer at the same time (they share its packed weights).
    /// </summary>
    internal void Forward(ReadOnlySpan<T> input, int rows, Span<T> z, Span<T> a, bool concurrent = false)
    {
        int units = Units, inputs = Inputs;
        z = z[..(rows * units)];
        if ((long)rows * units * inputs <= TinyWork)
        {
            // The seed network's path: the same sums as Gemm's small path (increasing input order, then
            // + b), fused with the bias so a step costs what a hand-written loop costs.
            ReadOnlySpan<T> w = _weights;
            ReadOnlySpan<T> bias = _biases;
            bool perUnit = Bias == BiasMode.PerUnit;
            T shared = Bias == BiasMode.Shared ? bias[0] : T.Zero;
            bool addShared = Bias == BiasMode.Shared;
            for (int r = 0; r < rows; r++)
            {
                var x = input.Slice(r * inputs, inputs);
                var zr = z.Slice(r * units, units);
                for (int u = 0; u < zr.Length; u++)
                {
                    var wu = w.Slice(u * inputs, inputs);
                    T sum = T.Zero;
                    for (int i = 0; i < wu.Length && i < x.Length; i++)
                        sum += x[i] * wu[i];
                    if (perUnit)
                        sum += bias[u];
                    else if (addShared)
                        sum += shared;
                    zr[u] = sum;
                }
            }
            Kernel.Forward(z, a, rows, units);
            return;
        }
        // A linear unit takes the bias in the same pass (one pass over z instead of two). Where that pass would run
        // on one thread (z below Elementwise.ParallelValues) it runs on each tile of the product as the tile is
        // stored; larger z keep the pass after the product, on all threads. Measured on an Intel Xeon (two threads,
        // in-process alternation, medians): in the tiles, W3's 128 x 256 and 128 x 128 layers took 4% and 18% less
        // time, W4's 256 x 1024 layers 2-4% more and W5's 1024 x 1024 ones 9-13% more.
        bool fused;
        unsafe
        {
            var tile = Bias == BiasMode.PerUnit && (long)rows * units < Numerics.Elementwise.ParallelValues ? Kernel.BiasTile : null;
            fused = Gemm.MultiplyByWeights(rows, units, inputs, input, _weights, z, _panels, _version, concurrent, tile, _biases, a);
        }
        if (fused || (Bias == BiasMode.PerUnit && Kernel.BiasForward(z, _biases, a, rows)))
            return;
        switch (Bias)
        {
            case BiasMode.PerUnit:
                for (int r = 0; r < rows; r++)
                {
                    var zr = z.Slice(r * units, units);
                    TensorPrimitives.Add(zr, _biases, zr);
                }
                break;
            case BiasMode.Shared:
                TensorPrimitives.Add(z, _biases[0], z);
                break;
        }
        Kernel.Forward(z, a, rows, units);
    }

    /// <summary>dE/dW = delta^T * input and dE/db (summed over the batch; for a shared bias over the units too).</summary>
    internal void ComputeGradients(ReadOnlySpan<T> input, ReadOnlySpan<T> delta, int rows)
    {
        int units = Units, inputs = Inputs;
        delta = delta[..(rows * units)];
        if ((long)rows * units * inputs <= TinyWork)
        {
            // dW[u, i] = sum over rows of delta[r, u] * input[r, i], summed as Gemm's small path sums it.
            Span<T> g = _weightGradients;
            if (rows == 1)
            {
                var x = input[..inputs];
                for (int u = 0; u < delta.Length; u++)
                {
                    var gu = g.Slice(u * inputs, inputs);
                    T du = delta[u];
                    for (int i = 0; i < gu.Length && i < x.Length; i++)
                        gu[i] = T.Zero + du * x[i];
                }
            }
            else
            for (int u = 0; u < units; u++)
            {
                var gu = g.Slice(u * inputs, inputs);
                for (int i = 0; i < gu.Length; i++)
                {
                    T sum = T.Zero;
                    for (int r = 0; r < rows; r++)
                        sum += delta[r * units + u] * input[r * inputs + i];
                    gu[i] = sum;
                }
            }
        }
        else
        {
            Gemm.Multiply(true, false, units, inputs, rows, delta, input, _weightGradients);
        }
        switch (Bias)
        {
            case BiasMode.PerUnit:
                {
                    Span<T> bg = _biasGradients;
                    bg.Clear();
                    for (int r = 0; r < rows; r++)
                    {
                        var dr = delta.Slice(r * units, units);
                        if (units < 16)
                        {
                            for (int u = 0; u < bg.Length && u < dr.Length; u++)
                                bg[u] += dr[u];
                        }
                        else
                        {
                            TensorPrimitives.Add(bg, dr, bg);
                        }
                    }
                    break;
                }
            case BiasMode.Shared:
                {
                    // Summed in the same order as per-unit then across units, so a shared bias's
                    // gradient is exactly the sum of the per-unit terms the seed's notation implies.
                    T sum = T.Zero;
                    if (rows == 1)
                    {
                        for (int u = 0; u < delta.Length; u++)
                            sum += T.Zero + delta[u];
                    }
                    else
                    {
                        for (int u = 0; u < units; u++)
                        {
                            T col = T.Zero;
                            for (int r = 0; r < rows; r++)
                                col += delta[r * units + u];
                            sum += col;
                        }
                    }
                    _biasGradients[0] = sum;
                    break;
                }
        }
    }

    /// <summary>dE/d(input) = delta * W, using the weights as they are now.</summary>
    internal void BackwardInput(ReadOnlySpan<T> delta, int rows, Span<T> inputGradient)
    {
        int units = Units, inputs = Inputs;
        if ((long)rows * units * inputs <= TinyWork)
        {
            ReadOnlySpan<T> w = _weights;
            for (int r = 0; r < rows; r++)
            {
                var dr = delta.Slice(r * units, units);
                var gr = inputGradient.Slice(r * inputs, inputs);
                for (int i = 0; i < gr.Length; i++)
                {
                    T sum = T.Zero;
                    for (int u = 0; u < dr.Length; u++)
                        sum += dr[u] * w[u * inputs + i];
                    gr[i] = sum;
                }
            }
            return;
        }
        Gemm.Multiply(false, false, rows, inputs, units, delta, _weights, inputGradient);
    }

    /// <summary>
    /// The seed-sized step's gradients and update of this (tiny) layer for one sample, in one pass: dW and db as
    /// <see cref="ComputeGradients"/>' one-row loops compute them, then w and b as <see cref="ApplyGradientDescent"/>
    /// updates them (w - lr * g, which rounds as the w + g * (-lr) of its vector path). Same bits as those two calls; no calls inside, so the
    /// loop keeps its values in registers.
    /// </summary>
    internal void SeedGradientStep(T[] input, T[] delta, T learningRate)
    {
        _version++;
        // References without bounds checks: this layer's own arrays (units x inputs) and the network's buffers of at
        // least inputs and units values.
        ref T x = ref MemoryMarshal.GetArrayDataReference(input);
        ref T d = ref MemoryMarshal.GetArrayDataReference(delta);
        ref T w = ref MemoryMarshal.GetArrayDataReference(_weights);
        ref T g = ref MemoryMarshal.GetArrayDataReference(_weightGradients);
        nint units = Units, inputs = Inputs;
        // One form for every size: w - lr * g rounds exactly as the vector path's w + g * (-lr) (see Descend).
        for (nint u = 0; u < units; u++, w = ref Unsafe.Add(ref w, inputs), g = ref Unsafe.Add(ref g, inputs))
        {
            T du = Unsafe.Add(ref d, u);
            for (nint i = 0; i < inputs; i++)
            {
                T gi = T.Zero + du * Unsafe.Add(ref x, i);
                Unsafe.Add(ref g, i) = gi;
                ref T wi = ref Unsafe.Add(ref w, i);
                wi -= learningRate * gi;
            }
        }
        T[] bg = _biasGradients;
        switch (Bias)
        {
            case BiasMode.PerUnit:
                for (int u = 0; u < bg.Length; u++)
                    bg[u] = T.Zero + Unsafe.Add(ref d, u);
                break;
            case BiasMode.Shared:
                {
                    T sum = T.Zero;
                    for (nint u = 0; u < units; u++)
                        sum += T.Zero + Unsafe.Add(ref d, u);
                    bg[0] = sum;
                    break;
                }
        }
        if (TrainableBias)
        {
            T[] b = _biases;
            for (int i = 0; i < b.Length && i < bg.Length; i++)
                b[i] -= learningRate * bg[i];
        }
    }

    /// <summary>w &lt;- w - lr * dE/dw for every weight, and for the bias unless it is frozen.</summary>
    public void ApplyGradientDescent(T learningRate)
    {
        _version++;
        if (_weights.Length >= ParallelDescent && Gemm.MaxThreads > 1)
        {
            // Each weight's update reads only its own gradient, so chunks on several threads give the same bits.
            var work = _descent ??= new DescentWork(this);
            work.LearningRate = learningRate;
            GemmPool.Shared.Run(work, (_weights.Length + DescentChunk - 1) / DescentChunk, Gemm.MaxThreads);
        }
        else
        {
            Descend(_weights, _weightGradients, learningRate);
        }
        if (TrainableBias)
            Descend(_biases, _biasGradients, learningRate);
    }

    /// <summary>Layers with at least this many weights update them on several threads; chunks of DescentChunk weights.</summary>
    private const int ParallelDescent = 1 << 16, DescentChunk = 1 << 14;

    private DescentWork? _descent;

    private sealed class DescentWork(Dense<T> layer) : IGemmWork
    {
        public T LearningRate;

        public void Run(int chunk)
        {
            int start = chunk * DescentChunk, length = Math.Min(DescentChunk, layer._weights.Length - start);
            Descend(layer._weights.AsSpan(start, length), layer._weightGradients.AsSpan(start, length), LearningRate);
        }
    }

    /// <summary>From this many values the update runs as <c>TensorPrimitives.MultiplyAdd</c> (w + g * (-lr)).</summary>
    internal const int VectorDescent = 32;

    private static void Descend(Span<T> w, ReadOnlySpan<T> g, T learningRate)
    {
        if (w.Length >= VectorDescent)
        {
            // w + g * (-lr) rounds exactly as w - lr * g (negation is exact; the product is not fused).
            TensorPrimitives.MultiplyAdd(g, -learningRate, w, w);
            return;
        }
        for (int i = 0; i < w.Length && i < g.Length; i++)
            w[i] -= learningRate * g[i];
    }

    /// <summary>A copy of this layer (parameters included, gradients not) in element type <typeparamref name="TOut"/>.</summary>
    public Dense<TOut> Convert<TOut>() where TOut : unmanaged, IFloatingPointIeee754<TOut>
    {
        var copy = new Dense<TOut>(Inputs, Units, Activation, Bias, TrainableBias || Bias == BiasMode.None);
        for (int i = 0; i < _weights.Length; i++)
            copy._weights[i] = TOut.CreateChecked(_weights[i]);
        for (int i = 0; i < _biases.Length; i++)
            copy._biases[i] = TOut.CreateChecked(_biases[i]);
        return copy;
    }
}
