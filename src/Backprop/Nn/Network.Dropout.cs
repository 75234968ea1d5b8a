using System.Numerics;

namespace Backprop.Nn;

/// <summary>The training forward pass with dropout (<see cref="Dropout"/>) and its backward pass.</summary>
public sealed partial class Network<T>
{
    // The masks of the last forward pass: [0] the inputs', [l + 1] hidden layer l's (0 or 1 / (1 - rate)); the dropped
    // outputs of each hidden layer (what the next layer took); whether the last pass dropped hidden outputs.
    private T[][] _masks = [];
    private T[][] _dropped = [];
    private int _maskCapacity;
    private bool _hiddenDropped;

    /// <summary>
    /// As <see cref="Forward"/>, for training with <paramref name="dropout"/> (null or zero rates:
    /// exactly that pass): the inputs and every hidden layer's outputs are multiplied by their masks, the next layer
    /// takes the dropped values, and <see cref="Backward"/> goes back through the same masks.
    /// <see cref="Activations"/> gives the values before dropout, <see cref="Input"/> the inputs after it.
    /// Set <see cref="Dropout.RowIds"/> and <see cref="Dropout.Key"/> first.
    /// </summary>
    public ReadOnlySpan<T> ForwardTraining(ReadOnlySpan<T> x, int rows, Dropout? dropout)
    {
        _dropout = dropout is { InputRate: > 0 } or { HiddenRate: > 0 } ? dropout : null;
        try
        {
            return Forward(x, rows);
        }
        finally
        {
            _dropout = null;
        }
    }

    private Dropout? _dropout;

    private void EnsureMasks(int rows)
    {
        if (rows <= _maskCapacity)
            return;
        _masks = new T[_layers.Length][];
        _dropped = new T[_layers.Length][];
        _masks[0] = new T[rows * Inputs];
        for (int l = 0; l < _layers.Length - 1; l++)
        {
            _masks[l + 1] = new T[rows * _layers[l].Units];
            _dropped[l] = new T[rows * _layers[l].Units];
        }
        _maskCapacity = rows;
    }

    /// <summary>Called by <see cref="Forward"/> once the input is in place.</summary>
    private void DropInputs(int rows)
    {
        _hiddenDropped = false;
        if (_dropout is not { } d)
            return;
        EnsureMasks(rows);
        _hiddenDropped = d.HiddenRate > 0;
        if (d.InputRate <= 0)
            return;
        var mask = _masks[0].AsSpan(0, rows * Inputs);
        d.FillMask(-1, rows, Inputs, d.InputRate, mask);
        var x = _input.AsSpan(0, rows * Inputs);
        for (int i = 0; i < x.Length; i++)
            x[i] *= mask[i];
    }

    /// <summary>What layer <paramref name="l"/> + 1 takes from hidden layer <paramref name="l"/>: its outputs, dropped when dropout is on.</summary>
    private ReadOnlySpan<T> DropHidden(int l, int rows)
    {
        int n = rows * _layers[l].Units;
        var a = _a[l].AsSpan(0, n);
        if (_dropout is not { HiddenRate: > 0 } d || l == _layers.Length - 1)
            return a;
        var mask = _masks[l + 1].AsSpan(0, n);
        d.FillMask(l, rows, _layers[l].Units, d.HiddenRate, mask);
        var dropped = _dropped[l].AsSpan(0, n);
        for (int i = 0; i < n; i++)
            dropped[i] = a[i] * mask[i];
        return dropped;
    }

    /// <summary>The input layer <paramref name="l"/> took in the last forward pass (after dropout).</summary>
    private ReadOnlySpan<T> LayerInput(int l) =>
        l == 0 ? _input.AsSpan(0, Rows * Inputs)
        : (_hiddenDropped ? _dropped[l - 1] : _a[l - 1]).AsSpan(0, Rows * _layers[l - 1].Units);

    /// <summary>dE/d(outputs of hidden layer <paramref name="l"/>) from dE/d(dropped outputs): times the same mask.</summary>
    private void MaskGradient(int l, Span<T> gradient)
    {
        if (!_hiddenDropped)
            return;
        var mask = _masks[l + 1].AsSpan(0, gradient.Length);
        for (int i = 0; i < gradient.Length; i++)
            gradient[i] *= mask[i];
    }
}
