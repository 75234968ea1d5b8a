using System.Numerics;
using System.Runtime.Intrinsics;

namespace Backprop.Numerics;

/// <summary>
/// An element-wise activation a = f(z) as an operator type: one struct per activation, passed as a type argument
/// (<c>where TOp : struct, IActivation</c>) so every pass over it dispatches statically. Its scalar rules
/// (<see cref="Forward{T}(T)"/>, <see cref="Backward{T}(T, T, T)"/>) are the definition; the vector forms do the same
/// operations lane by lane (IEEE multiply, add, compare and select round the same in a lane as in a scalar), so they
/// give the same bits, and the tests hold them to that.
/// </summary>
public interface IActivation
{
    /// <summary>a = f(z): the forward rule.</summary>
    static abstract T Forward<T>(T z) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>dE/dz = g * f'(z) from the forward pass's z and a = f(z), with g = dE/da: the backward rule.</summary>
    static abstract T Backward<T>(T z, T a, T g) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The backward rule on 512-bit vectors: the scalar rule's operations in each lane.</summary>
    static abstract Vector512<T> Backward<T>(Vector512<T> z, Vector512<T> a, Vector512<T> g) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The backward rule on 256-bit vectors: the scalar rule's operations in each lane.</summary>
    static abstract Vector256<T> Backward<T>(Vector256<T> z, Vector256<T> a, Vector256<T> g) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Whether the backward rule reads z (false: only a and g), so a pass loads z only when it is used.</summary>
    static abstract bool BackwardReadsZ { get; }

    /// <summary>
    /// a = f(z) over many values at once. For a <see cref="ILinearUnit"/> it gives the scalar rule's bits; for the
    /// exponential ones (sigmoid, tanh) it is System.Numerics.Tensors' vector function, within a few units in the
    /// last place of the scalar rule.
    /// </summary>
    static abstract void Forward<T>(ReadOnlySpan<T> z, Span<T> a) where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>
/// A piecewise-linear activation (identity, ReLU, leaky ReLU), whose forward rule also has exact vector forms: the
/// bias can be added in the same pass (<see cref="Elementwise.BiasForward{T, TOp}"/>).
/// </summary>
public interface ILinearUnit : IActivation
{
    /// <summary>The forward rule on 512-bit vectors: the scalar rule's operations in each lane.</summary>
    static abstract Vector512<T> Forward<T>(Vector512<T> z) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The forward rule on 256-bit vectors: the scalar rule's operations in each lane.</summary>
    static abstract Vector256<T> Forward<T>(Vector256<T> z) where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>
/// A loss's gradient with respect to the last layer's outputs, element by element: dLoss/da for output a and target
/// y, times <c>scale</c> (the batch mean's 1/rows or 1/count and any constant factor). The scalar rule is the
/// definition; the vector forms do its operations lane by lane.
/// </summary>
public interface ILossGradient
{
    /// <summary>scale * dLoss/da for one output: the gradient rule.</summary>
    static abstract T Gradient<T>(T a, T y, T scale) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The gradient rule on 512-bit vectors.</summary>
    static abstract Vector512<T> Gradient<T>(Vector512<T> a, Vector512<T> y, Vector512<T> scale) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The gradient rule on 256-bit vectors.</summary>
    static abstract Vector256<T> Gradient<T>(Vector256<T> a, Vector256<T> y, Vector256<T> scale) where T : unmanaged, IFloatingPointIeee754<T>;
}
