using System.Collections;
using System.Numerics;

namespace Backprop.Nn;

/// <summary>
/// One parameter tensor of a network: one layer's weights or its biases, with the gradients of the last backward
/// pass. Its <see cref="Index"/> is its place in <see cref="NetworkParameters{T}"/>: layer by layer, weights then
/// biases, the order of every flat copy, of the optimizers' state and of checkpoints.
/// </summary>
public readonly struct ParameterTensor<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    internal ParameterTensor(Dense<T> layer, int layerIndex, bool isBias)
    {
        Layer = layer;
        LayerIndex = layerIndex;
        IsBias = isBias;
    }

    /// <summary>The layer that holds this tensor.</summary>
    public Dense<T> Layer { get; }

    /// <summary>The layer's place in the network, input side first.</summary>
    public int LayerIndex { get; }

    /// <summary>True for the biases, false for the weights.</summary>
    public bool IsBias { get; }

    /// <summary>2 x <see cref="LayerIndex"/> for the weights, + 1 for the biases.</summary>
    public int Index => 2 * LayerIndex + (IsBias ? 1 : 0);

    /// <summary>The values, to write (getting the weights counts as a write: see <see cref="Dense{T}.Weights"/>).</summary>
    public Span<T> Values => IsBias ? Layer.Biases : Layer.Weights;

    /// <summary>The values, to read (the layer's packed weights stay valid).</summary>
    public ReadOnlySpan<T> ReadValues => IsBias ? Layer.Biases : Layer.WeightsForReading;

    /// <summary>dE/d(values) of the last backward pass, same layout.</summary>
    public Span<T> Gradients => IsBias ? Layer.BiasGradients : Layer.WeightGradients;

    /// <summary>How many values the tensor holds (a bias tensor may hold none).</summary>
    public int Length => IsBias ? Layer.Biases.Length : Layer.Inputs * Layer.Units;

    /// <summary>False for a frozen (or absent) bias: updates leave it as it is.</summary>
    public bool Trainable => !IsBias || Layer.TrainableBias;

    /// <summary>Value <paramref name="i"/>'s name as model files and messages write it: <c>layers[l].weights[unit][input]</c> or <c>layers[l].biases[b]</c>.</summary>
    public string ElementName(int i) => IsBias
        ? $"layers[{LayerIndex}].biases[{i}]"
        : $"layers[{LayerIndex}].weights[{i / Layer.Inputs}][{i % Layer.Inputs}]";
}

/// <summary>
/// The one walk over a network's parameters: every layer's weights, then its biases, input side first
/// (<see cref="ParameterTensor{T}.Index"/> = 2 x layer + bias). Optimizers, gradient clipping, checkpoints, the
/// divergence checks, the gradient check and the model file go through it instead of re-deriving the layout.
/// </summary>
public readonly struct NetworkParameters<T> : IReadOnlyList<ParameterTensor<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly IReadOnlyList<Dense<T>> _layers;

    internal NetworkParameters(IReadOnlyList<Dense<T>> layers) => _layers = layers;

    /// <summary>Two tensors per layer.</summary>
    public int Count => 2 * _layers.Count;

    /// <summary>Tensor <paramref name="index"/>: layer index / 2, the biases when the index is odd.</summary>
    public ParameterTensor<T> this[int index] =>
        (uint)index < (uint)Count
            ? new ParameterTensor<T>(_layers[index >> 1], index >> 1, (index & 1) == 1)
            : throw new ArgumentOutOfRangeException(nameof(index), index, $"A network of {_layers.Count} layers has {Count} parameter tensors.");

    /// <summary>Layer <paramref name="layer"/>'s weights, or its biases when <paramref name="bias"/> is true.</summary>
    public ParameterTensor<T> Of(int layer, bool bias) => this[2 * layer + (bias ? 1 : 0)];

    /// <summary>Every value of every tensor (the network's parameter count).</summary>
    public int TotalLength
    {
        get
        {
            int n = 0;
            foreach (var p in this)
                n += p.Length;
            return n;
        }
    }

    /// <summary>Copies every value into <paramref name="destination"/>, tensor after tensor.</summary>
    public void CopyTo(Span<T> destination)
    {
        int k = 0;
        foreach (var p in this)
        {
            p.ReadValues.CopyTo(destination[k..]);
            k += p.Length;
        }
    }

    /// <summary>Sets every value from <paramref name="source"/>, laid out as <see cref="CopyTo"/> writes it.</summary>
    public void CopyFrom(ReadOnlySpan<T> source)
    {
        int k = 0;
        foreach (var p in this)
        {
            source.Slice(k, p.Length).CopyTo(p.Values);
            k += p.Length;
        }
    }

    /// <summary>True when every value is finite.</summary>
    public bool AllFinite()
    {
        foreach (var p in this)
            if (FirstNonFinite(p.ReadValues) >= 0)
                return false;
        return true;
    }

    /// <summary>True when every gradient of the last backward pass is finite.</summary>
    public bool GradientsFinite()
    {
        foreach (var p in this)
            if (FirstNonFinite(p.Gradients) >= 0)
                return false;
        return true;
    }

    /// <summary>The index of the first value of <paramref name="values"/> that is NaN or infinite, or -1.</summary>
    public static int FirstNonFinite(ReadOnlySpan<T> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!T.IsFinite(values[i]))
                return i;
        return -1;
    }

    /// <summary>Walks the tensors in order without allocating.</summary>
    public Enumerator GetEnumerator() => new(this);

    IEnumerator<ParameterTensor<T>> IEnumerable<ParameterTensor<T>>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The tensors in order: layer 0's weights, its biases, layer 1's weights, ...</summary>
    public struct Enumerator : IEnumerator<ParameterTensor<T>>
    {
        private readonly NetworkParameters<T> _parameters;
        private int _index;

        internal Enumerator(NetworkParameters<T> parameters)
        {
            _parameters = parameters;
            _index = -1;
        }

        /// <summary>The tensor at the walk's position.</summary>
        public readonly ParameterTensor<T> Current => _parameters[_index];

        readonly object IEnumerator.Current => Current;

        /// <summary>Steps to the next tensor; false after the last.</summary>
        public bool MoveNext() => ++_index < _parameters.Count;

        /// <summary>Back to before the first tensor.</summary>
        public void Reset() => _index = -1;

        /// <summary>Nothing to release.</summary>
        public readonly void Dispose()
        {
        }
    }
}
