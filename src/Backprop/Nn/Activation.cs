using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop.Nn;

/// <summary>The activation function applied element-wise (softmax: row-wise) after a layer's affine map.</summary>
public enum Activation
{
    /// <summary>f(z) = z.</summary>
    Identity,
    /// <summary>f(z) = 1 / (1 + e^-z); f'(z) = f(z)(1 - f(z)) (the seed's eqs. 2-3).</summary>
    Sigmoid,
    /// <summary>f(z) = tanh(z); f'(z) = 1 - f(z)^2. Computed without overflow for large |z|.</summary>
    Tanh,
    /// <summary>f(z) = max(0, z); f'(z) = 1 for z &gt; 0, else 0.</summary>
    Relu,
    /// <summary>f(z) = z for z &gt; 0, else 0.01 z (torch's default slope).</summary>
    LeakyRelu,
    /// <summary>Row-wise softmax; meant for the last layer with cross-entropy.</summary>
    Softmax,
}

/// <summary>Forward and backward rules of each <see cref="Activation"/>, side by side.</summary>
public static class Activations
{
    /// <summary>The negative slope of <see cref="Activation.LeakyRelu"/>.</summary>
    public const double LeakySlope = 0.01;

    /// <summary>Below this many values the element-wise functions run as scalar loops.</summary>
    private const int ScalarLimit = 16;

    /// <summary>a = f(z) for a batch of <paramref name="rows"/> rows of <paramref name="units"/> values.</summary>
    public static void Forward<T>(Activation f, ReadOnlySpan<T> z, Span<T> a, int rows, int units)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = rows * units;
        z = z[..n];
        a = a[..n];
        if (n < ScalarLimit && f is Activation.Sigmoid or Activation.Tanh or Activation.Relu)
        {
            // A few values (the seed network): the literal formulas cost less than a vector call's set-up.
            if (f == Activation.Sigmoid)
                for (int i = 0; i < z.Length && i < a.Length; i++)
                    a[i] = T.One / (T.One + T.Exp(-z[i]));
            else if (f == Activation.Tanh)
                for (int i = 0; i < z.Length && i < a.Length; i++)
                    a[i] = T.Tanh(z[i]);
            else
                for (int i = 0; i < z.Length && i < a.Length; i++)
                    a[i] = T.Max(z[i], T.Zero);
            return;
        }
        switch (f)
        {
            case Activation.Identity:
                z.CopyTo(a);
                break;
            case Activation.Sigmoid:
                TensorPrimitives.Sigmoid(z, a);
                break;
            case Activation.Tanh:
                TensorPrimitives.Tanh(z, a);
                break;
            case Activation.Relu:
                TensorPrimitives.Max(z, T.Zero, a);
                break;
            case Activation.LeakyRelu:
                Numerics.Elementwise.LeakyReluForward(z, a, T.CreateChecked(LeakySlope));
                break;
            case Activation.Softmax:
                for (int r = 0; r < rows; r++)
                {
                    // TensorPrimitives.SoftMax does not subtract the maximum: exp overflows for logits above
                    // ~88 in float32 and gives Inf/Inf = NaN. Softmax is shift-invariant, so shift first.
                    var zr = z.Slice(r * units, units);
                    var ar = a.Slice(r * units, units);
                    TensorPrimitives.Subtract(zr, TensorPrimitives.Max(zr), ar);
                    TensorPrimitives.SoftMax(ar, ar);
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(f), f, "Unknown activation.");
        }
    }

    /// <summary>
    /// dZ = dA * f'(z), given the forward pass's z and a = f(z). For softmax, the full
    /// Jacobian-vector product per row: dZ_i = a_i (dA_i - sum_j dA_j a_j).
    /// </summary>
    public static void Backward<T>(Activation f, ReadOnlySpan<T> z, ReadOnlySpan<T> a, ReadOnlySpan<T> dA, Span<T> dZ, int rows, int units)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = rows * units;
        switch (f)
        {
            case Activation.Identity:
                dA[..n].CopyTo(dZ);
                break;
            case Activation.Sigmoid:
                Numerics.Elementwise.SigmoidBackward(a[..n], dA[..n], dZ[..n]);
                break;
            case Activation.Tanh:
                Numerics.Elementwise.TanhBackward(a[..n], dA[..n], dZ[..n]);
                break;
            case Activation.Relu:
                Numerics.Elementwise.ReluBackward(z[..n], dA[..n], dZ[..n], T.Zero);
                break;
            case Activation.LeakyRelu:
                Numerics.Elementwise.ReluBackward(z[..n], dA[..n], dZ[..n], T.CreateChecked(LeakySlope));
                break;
            case Activation.Softmax:
                for (int r = 0; r < rows; r++)
                {
                    var ar = a.Slice(r * units, units);
                    var gr = dA.Slice(r * units, units);
                    var dr = dZ.Slice(r * units, units);
                    T dot = TensorPrimitives.Dot(gr, ar);
                    for (int j = 0; j < units; j++)
                        dr[j] = ar[j] * (gr[j] - dot);
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(f), f, "Unknown activation.");
        }
    }
}
