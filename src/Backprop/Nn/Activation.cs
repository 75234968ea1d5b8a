using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Backprop.Numerics;

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

/// <summary>
/// The activations as operator types, each one's forward and backward rule side by side (the scalar rule is the
/// definition; <see cref="IActivation"/> says what the vector forms must keep), and the passes over a batch that
/// take an <see cref="Activation"/> by name. The enum is the name users, model files and the command line use;
/// a layer maps it to its operator once (<see cref="ActivationKernel{T}.For"/>) and dispatches statically after.
/// </summary>
public static class Activations
{
    /// <summary>The negative slope of <see cref="Activation.LeakyRelu"/>.</summary>
    public const double LeakySlope = 0.01;

    /// <summary>Below this many values the forward pass runs the scalar rule (cheaper than a vector call's set-up).</summary>
    internal const int ScalarLimit = 16;

    /// <summary>f(z) = z; f'(z) = 1.</summary>
    public readonly struct Identity : ILinearUnit
    {
        /// <summary>z.</summary>
        public static T Forward<T>(T z) where T : unmanaged, IFloatingPointIeee754<T> => z;
        /// <summary>g.</summary>
        public static T Backward<T>(T z, T a, T g) where T : unmanaged, IFloatingPointIeee754<T> => g;
        /// <inheritdoc/>
        public static Vector512<T> Backward<T>(Vector512<T> z, Vector512<T> a, Vector512<T> g) where T : unmanaged, IFloatingPointIeee754<T> => g;
        /// <inheritdoc/>
        public static Vector256<T> Backward<T>(Vector256<T> z, Vector256<T> a, Vector256<T> g) where T : unmanaged, IFloatingPointIeee754<T> => g;
        /// <inheritdoc/>
        public static bool BackwardReadsZ => false;
        /// <inheritdoc/>
        public static void Forward<T>(ReadOnlySpan<T> z, Span<T> a) where T : unmanaged, IFloatingPointIeee754<T> => z[..a.Length].CopyTo(a);
        /// <inheritdoc/>
        public static Vector512<T> Forward<T>(Vector512<T> z) where T : unmanaged, IFloatingPointIeee754<T> => z;
        /// <inheritdoc/>
        public static Vector256<T> Forward<T>(Vector256<T> z) where T : unmanaged, IFloatingPointIeee754<T> => z;
    }

    /// <summary>f(z) = 1 / (1 + e^-z); f'(z) = f(z)(1 - f(z)) (the seed's eqs. 2-3), taken from the output a.</summary>
    public readonly struct Sigmoid : IActivation
    {
        /// <summary>1 / (1 + e^-z).</summary>
        /// <remarks>Inlined by request: the seed-sized step calls it per unit, and the JIT does not inline it on its own.</remarks>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static T Forward<T>(T z) where T : unmanaged, IFloatingPointIeee754<T> => T.One / (T.One + T.Exp(-z));
        /// <summary>g * (a * (1 - a)).</summary>
        public static T Backward<T>(T z, T a, T g) where T : unmanaged, IFloatingPointIeee754<T> => g * (a * (T.One - a));
        /// <inheritdoc/>
        public static Vector512<T> Backward<T>(Vector512<T> z, Vector512<T> a, Vector512<T> g) where T : unmanaged, IFloatingPointIeee754<T> => g * (a * (Vector512<T>.One - a));
        /// <inheritdoc/>
        public static Vector256<T> Backward<T>(Vector256<T> z, Vector256<T> a, Vector256<T> g) where T : unmanaged, IFloatingPointIeee754<T> => g * (a * (Vector256<T>.One - a));
        /// <inheritdoc/>
        public static bool BackwardReadsZ => false;
        /// <inheritdoc/>
        public static void Forward<T>(ReadOnlySpan<T> z, Span<T> a) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Sigmoid(z[..a.Length], a);
    }

    /// <summary>f(z) = tanh(z) (without overflow for large |z|); f'(z) = 1 - f(z)^2, taken from the output a.</summary>
    public readonly struct Tanh : IActivation
    {
        /// <summary>tanh(z).</summary>
        public static T Forward<T>(T z) where T : unmanaged, IFloatingPointIeee754<T> => T.Tanh(z);
        /// <summary>g * (1 - a * a).</summary>
        public static T Backward<T>(T z, T a, T g) where T : unmanaged, IFloatingPointIeee754<T> => g * (T.One - a * a);
        /// <inheritdoc/>
        public static Vector512<T> Backward<T>(Vector512<T> z, Vector512<T> a, Vector512<T> g) where T : unmanaged, IFloatingPointIeee754<T> => g * (Vector512<T>.One - a * a);
        /// <inheritdoc/>
        public static Vector256<T> Backward<T>(Vector256<T> z, Vector256<T> a, Vector256<T> g) where T : unmanaged, IFloatingPointIeee754<T> => g * (Vector256<T>.One - a * a);
        /// <inheritdoc/>
        public static bool BackwardReadsZ => false;
        /// <inheritdoc/>
        public static void Forward<T>(ReadOnlySpan<T> z, Span<T> a) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Tanh(z[..a.Length], a);
    }

    /// <summary>f(z) = max(0, z) (the IEEE maximum: NaN stays NaN, -0 becomes +0); f'(z) = 1 for z &gt; 0, else 0.</summary>
    public readonly struct Relu : ILinearUnit
    {
        /// <summary>max(z, 0).</summary>
        public static T Forward<T>(T z) where T : unmanaged, IFloatingPointIeee754<T> => T.Max(z, T.Zero);
        /// <summary>z &gt; 0 ? g : 0.</summary>
        public static T Backward<T>(T z, T a, T g) where T : unmanaged, IFloatingPointIeee754<T> => z > T.Zero ? g : T.Zero;
        /// <inheritdoc/>
        public static Vector512<T> Backward<T>(Vector512<T> z, Vector512<T> a, Vector512<T> g) where T : unmanaged, IFloatingPointIeee754<T> =>
            Vector512.ConditionalSelect(Vector512.GreaterThan(z, Vector512<T>.Zero), g, Vector512<T>.Zero);
        /// <inheritdoc/>
        public static Vector256<T> Backward<T>(Vector256<T> z, Vector256<T> a, Vector256<T> g) where T : unmanaged, IFloatingPointIeee754<T> =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256<T>.Zero), g, Vector256<T>.Zero);
        /// <inheritdoc/>
        public static bool BackwardReadsZ => true;
        /// <inheritdoc/>
        public static void Forward<T>(ReadOnlySpan<T> z, Span<T> a) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Max(z[..a.Length], T.Zero, a);
        /// <inheritdoc/>
        public static Vector512<T> Forward<T>(Vector512<T> z) where T : unmanaged, IFloatingPointIeee754<T> => Vector512.Max(z, Vector512<T>.Zero);
        /// <inheritdoc/>
        public static Vector256<T> Forward<T>(Vector256<T> z) where T : unmanaged, IFloatingPointIeee754<T> => Vector256.Max(z, Vector256<T>.Zero);
    }

    /// <summary>f(z) = z for z &gt; 0, else <see cref="LeakySlope"/> z (torch's default slope); f'(z) = 1 or the slope.</summary>
    public readonly struct LeakyRelu : ILinearUnit
    {
        /// <summary>z &gt; 0 ? z : slope * z.</summary>
        public static T Forward<T>(T z) where T : unmanaged, IFloatingPointIeee754<T> => z > T.Zero ? z : T.CreateChecked(LeakySlope) * z;
        /// <summary>z &gt; 0 ? g : slope * g.</summary>
        public static T Backward<T>(T z, T a, T g) where T : unmanaged, IFloatingPointIeee754<T> => z > T.Zero ? g : T.CreateChecked(LeakySlope) * g;
        /// <inheritdoc/>
        public static Vector512<T> Backward<T>(Vector512<T> z, Vector512<T> a, Vector512<T> g) where T : unmanaged, IFloatingPointIeee754<T> =>
            Vector512.ConditionalSelect(Vector512.GreaterThan(z, Vector512<T>.Zero), g, Vector512.Create(T.CreateChecked(LeakySlope)) * g);
        /// <inheritdoc/>
        public static Vector256<T> Backward<T>(Vector256<T> z, Vector256<T> a, Vector256<T> g) where T : unmanaged, IFloatingPointIeee754<T> =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256<T>.Zero), g, Vector256.Create(T.CreateChecked(LeakySlope)) * g);
        /// <inheritdoc/>
        public static bool BackwardReadsZ => true;
        /// <inheritdoc/>
        public static void Forward<T>(ReadOnlySpan<T> z, Span<T> a) where T : unmanaged, IFloatingPointIeee754<T> => Numerics.Elementwise.Forward<T, LeakyRelu>(z, a);
        /// <inheritdoc/>
        public static Vector512<T> Forward<T>(Vector512<T> z) where T : unmanaged, IFloatingPointIeee754<T> =>
            Vector512.ConditionalSelect(Vector512.GreaterThan(z, Vector512<T>.Zero), z, Vector512.Create(T.CreateChecked(LeakySlope)) * z);
        /// <inheritdoc/>
        public static Vector256<T> Forward<T>(Vector256<T> z) where T : unmanaged, IFloatingPointIeee754<T> =>
            Vector256.ConditionalSelect(Vector256.GreaterThan(z, Vector256<T>.Zero), z, Vector256.Create(T.CreateChecked(LeakySlope)) * z);
    }

    /// <summary>
    /// Row-wise softmax, a_i = e^(z_i - max z) / sum_j e^(z_j - max z); meant for the last layer with cross-entropy.
    /// Not element-wise, so not an <see cref="IActivation"/>: its backward rule is the Jacobian-vector product.
    /// </summary>
    public static class Softmax
    {
        /// <summary>a = softmax(z) for each of <paramref name="rows"/> rows of <paramref name="units"/> values.</summary>
        public static void Forward<T>(ReadOnlySpan<T> z, Span<T> a, int rows, int units) where T : unmanaged, IFloatingPointIeee754<T>
        {
            for (int r = 0; r < rows; r++)
            {
                // TensorPrimitives.SoftMax does not subtract the maximum: exp overflows for logits above
                // ~88 in float32 and gives Inf/Inf = NaN. Softmax is shift-invariant, so shift first.
                var zr = z.Slice(r * units, units);
                var ar = a.Slice(r * units, units);
                TensorPrimitives.Subtract(zr, TensorPrimitives.Max(zr), ar);
                TensorPrimitives.SoftMax(ar, ar);
            }
        }

        /// <summary>dZ_i = a_i (dA_i - sum_j dA_j a_j) for each row.</summary>
        public static void Backward<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> dA, Span<T> dZ, int rows, int units) where T : unmanaged, IFloatingPointIeee754<T>
        {
            for (int r = 0; r < rows; r++)
            {
                var ar = a.Slice(r * units, units);
                var gr = dA.Slice(r * units, units);
                var dr = dZ.Slice(r * units, units);
                T dot = TensorPrimitives.Dot(gr, ar);
                for (int j = 0; j < units; j++)
                    dr[j] = ar[j] * (gr[j] - dot);
            }
        }
    }

    /// <summary>a = f(z) for a batch of <paramref name="rows"/> rows of <paramref name="units"/> values.</summary>
    public static void Forward<T>(Activation f, ReadOnlySpan<T> z, Span<T> a, int rows, int units)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        ActivationKernel<T>.For(f).Forward(z, a, rows, units);

    /// <summary>
    /// dZ = dA * f'(z), given the forward pass's z and a = f(z). For softmax, the full
    /// Jacobian-vector product per row: dZ_i = a_i (dA_i - sum_j dA_j a_j).
    /// </summary>
    public static void Backward<T>(Activation f, ReadOnlySpan<T> z, ReadOnlySpan<T> a, ReadOnlySpan<T> dA, Span<T> dZ, int rows, int units)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        ActivationKernel<T>.For(f).Backward(z, a, dA, dZ, rows, units);

    /// <summary>a = f(z) by <typeparamref name="TOp"/>: its scalar rule below <see cref="ScalarLimit"/> values, its vector form above.</summary>
    public static void Forward<T, TOp>(ReadOnlySpan<T> z, Span<T> a)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOp : struct, IActivation
    {
        if (a.Length < ScalarLimit)
        {
            z = z[..a.Length];
            for (int i = 0; i < a.Length; i++)
                a[i] = TOp.Forward(z[i]);
            return;
        }
        TOp.Forward(z, a);
    }
}
