using System.Numerics;

namespace Backprop.Training;

/// <summary>
/// Adam (Kingma and Ba, 2015) as torch.optim.Adam documents it (amsgrad off). Per parameter, at step t:
/// <code>
/// g = grad + lambda * theta                (when WeightDecay != 0: L2, not decoupled; see AdamW)
/// m = beta1 * m + (1 - beta1) * g
/// v = beta2 * v + (1 - beta2) * g^2
/// m_hat = m / (1 - beta1^t);  v_hat = v / (1 - beta2^t)
/// theta = theta - gamma * m_hat / (sqrt(v_hat) + eps)
/// </code>
/// </summary>
public class Adam : Optimizer
{
    /// <summary>Adam with torch's defaults.</summary>
    /// <param name="learningRate">gamma.</param>
    /// <param name="beta1">The first moment's decay, in [0, 1).</param>
    /// <param name="beta2">The second moment's decay, in [0, 1).</param>
    /// <param name="epsilon">Added to sqrt(v_hat) so the step stays finite; &gt; 0.</param>
    /// <param name="weightDecay">lambda: L2 added to the gradient (decoupled in <see cref="AdamW"/>).</param>
    public Adam(double learningRate = TrainingDefaults.AdamLearningRate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0)
        : base(learningRate, weightDecay)
    {
        RequireFraction(beta1, "Adam beta1");
        RequireFraction(beta2, "Adam beta2");
        if (!(epsilon > 0))
            throw new BackpropException($"Adam epsilon must be > 0, got {epsilon}.");
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
    }

    /// <summary>beta1, the first moment's decay.</summary>
    public double Beta1 { get; }
    /// <summary>beta2, the second moment's decay.</summary>
    public double Beta2 { get; }
    /// <summary>eps, added to sqrt(v_hat).</summary>
    public double Epsilon { get; }

    /// <inheritdoc/>
    public override string Name => "adam";

    /// <summary>Each parameter's update uses only its own gradient and state.</summary>
    protected override bool UpdatesElementWise => true;

    /// <inheritdoc/>
    protected override int StateSlots => 2;

    /// <summary>Slot 1 is the second moment v, a running mean of squares: never negative.</summary>
    protected internal override string? CheckState(int slot, ReadOnlySpan<double> values) =>
        slot == 1 && FirstNegative(values) is var i and >= 0 ? $"the second moment v[{i}] is negative ({values[i]}); squares average to 0 or more" : null;

    /// <summary>True when weight decay is applied to the parameters directly (AdamW) instead of to the gradient.</summary>
    private protected virtual bool Decoupled => false;

    /// <inheritdoc/>

    public override IReadOnlyDictionary<string, double> Settings => new Dictionary<string, double>
    {
        ["learning-rate"] = LearningRate, ["beta1"] = Beta1, ["beta2"] = Beta2, ["epsilon"] = Epsilon, ["weight-decay"] = WeightDecay,
    };

    /// <inheritdoc/>

    protected override void Update<T>(Span<T> p, ReadOnlySpan<T> grad, OptimizerState state, double lr, int t)
    {
        Span<double> m = state[0], v = state[1];
        double b1 = Beta1, b2 = Beta2, lambda = WeightDecay, eps = Epsilon;
        double c1 = 1 - Math.Pow(b1, t), c2 = 1 - Math.Pow(b2, t);
        bool decoupled = Decoupled;
        // The scalar loop below, several parameters at a time (same operations, same order).
        int i = DoubleLanes.Width<T>() switch
        {
            8 => Vectorized<T, Lanes8>(p, grad, m, v, lr, c1, c2),
            4 => Vectorized<T, Lanes4>(p, grad, m, v, lr, c1, c2),
            _ => 0,
        };
        for (; i < p.Length; i++)
        {
            double theta = double.CreateChecked(p[i]);
            double g = double.CreateChecked(grad[i]);
            if (lambda != 0)
            {
                if (decoupled)
                    theta -= lr * lambda * theta;
                else
                    g += lambda * theta;
            }
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * g * g;
            double mHat = m[i] / c1, vHat = v[i] / c2;
            p[i] = T.CreateChecked(theta - lr * mHat / (Math.Sqrt(vHat) + eps));
        }
    }

    /// <summary>The update of the whole vectors of <paramref name="p"/>; returns where the scalar tail starts.</summary>
    private int Vectorized<T, TL>(Span<T> p, ReadOnlySpan<T> grad, Span<double> m, Span<double> v, double lr, double c1, double c2)
        where T : unmanaged where TL : struct, ILanes<TL>
    {
        double b1 = Beta1, b2 = Beta2, lambda = WeightDecay, eps = Epsilon;
        bool decoupled = Decoupled;
        TL vb1 = TL.Create(b1), vb2 = TL.Create(b2), v1b1 = TL.Create(1 - b1), v1b2 = TL.Create(1 - b2),
            vc1 = TL.Create(c1), vc2 = TL.Create(c2), vlr = TL.Create(lr), vlambda = TL.Create(lambda),
            vlrLambda = TL.Create(lr * lambda), veps = TL.Create(eps);
        int i = 0;
        for (; i <= p.Length - TL.Count; i += TL.Count)
        {
            var theta = TL.Load<T>(p, i);
            var g = TL.Load(grad, i);
            if (lambda != 0)
            {
                if (decoupled)
                    theta -= vlrLambda * theta;
                else
                    g += vlambda * theta;
            }
            var mi = vb1 * TL.Load(m, i) + v1b1 * g;
            var vi = vb2 * TL.Load(v, i) + v1b2 * g * g;
            TL.Store(mi, m, i);
            TL.Store(vi, v, i);
            var mHat = mi / vc1;
            var vHat = vi / vc2;
            TL.Store(theta - vlr * mHat / (TL.Sqrt(vHat) + veps), p, i);
        }
        return i;
    }
}

/// <summary>
/// AdamW (Loshchilov and Hutter, 2019) as torch.optim.AdamW documents it: Adam whose weight decay is
/// decoupled from the gradient. Per parameter, at step t:
/// <code>
/// theta = theta - gamma * lambda * theta
/// m = beta1 * m + (1 - beta1) * grad;  v = beta2 * v + (1 - beta2) * grad^2
/// m_hat = m / (1 - beta1^t);  v_hat = v / (1 - beta2^t)
/// theta = theta - gamma * m_hat / (sqrt(v_hat) + eps)
/// </code>
/// The default weight decay is torch's, 0.01.
/// </summary>
public sealed class AdamW : Adam
{
    /// <summary>AdamW with torch's defaults (weight decay 0.01).</summary>
    /// <param name="learningRate">gamma.</param>
    /// <param name="beta1">The first moment's decay, in [0, 1).</param>
    /// <param name="beta2">The second moment's decay, in [0, 1).</param>
    /// <param name="epsilon">Added to sqrt(v_hat); &gt; 0.</param>
    /// <param name="weightDecay">lambda: decoupled decay, theta -= gamma * lambda * theta.</param>
    public AdamW(double learningRate = TrainingDefaults.AdamLearningRate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0.01)
        : base(learningRate, beta1, beta2, epsilon, weightDecay) { }

    /// <inheritdoc/>
    public override string Name => "adamw";

    private protected override bool Decoupled => true;
}
