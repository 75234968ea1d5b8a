using System.Numerics;

namespace Backprop.Training;

/// <summary>
/// RMSprop (Hinton's lecture 6e) as torch.optim.RMSprop documents it. Per parameter, at step t:
/// <code>
/// g = grad + lambda * theta                       (when WeightDecay != 0)
/// v = alpha * v + (1 - alpha) * g^2
/// v~ = v;  if centered: a = alpha * a + (1 - alpha) * g;  v~ = v - a^2
/// if mu &gt; 0: b = mu * b + g / (sqrt(v~) + eps);  theta = theta - gamma * b
/// else:      theta = theta - gamma * g / (sqrt(v~) + eps)
/// </code>
/// </summary>
public sealed class RmsProp : Optimizer
{
    /// <summary>RMSprop with torch's defaults.</summary>
    /// <param name="learningRate">gamma.</param>
    /// <param name="alpha">The squares' running mean's decay, in [0, 1).</param>
    /// <param name="epsilon">Added to sqrt(v~); &gt; 0.</param>
    /// <param name="weightDecay">lambda: L2 added to the gradient.</param>
    /// <param name="momentum">mu, in [0, 1) (0: none).</param>
    /// <param name="centered">Whether v~ subtracts the squared running mean of the gradient.</param>
    public RmsProp(double learningRate = TrainingDefaults.RmsPropLearningRate, double alpha = 0.99, double epsilon = 1e-8, double weightDecay = 0,
        double momentum = 0, bool centered = false)
        : base(learningRate, weightDecay)
    {
        RequireFraction(alpha, "RMSprop alpha");
        RequireFraction(momentum, "RMSprop momentum");
        if (!(epsilon > 0))
            throw new BackpropException($"RMSprop epsilon must be > 0, got {epsilon}.");
        Alpha = alpha;
        Epsilon = epsilon;
        Momentum = momentum;
        Centered = centered;
    }

    /// <summary>alpha, the running mean's decay.</summary>
    public double Alpha { get; }
    /// <summary>eps, added to sqrt(v~).</summary>
    public double Epsilon { get; }
    /// <summary>mu (0: no momentum buffer).</summary>
    public double Momentum { get; }
    /// <summary>Whether the variance estimate is centered.</summary>
    public bool Centered { get; }

    /// <inheritdoc/>
    public override string Name => "rmsprop";

    /// <summary>Each parameter's update uses only its own gradient and state.</summary>
    protected override bool UpdatesElementWise => true;

    /// <summary>Slot 0: v (square average); 1: b (momentum buffer); 2: a (gradient average, centered only).</summary>
    /// <inheritdoc/>
    protected override int StateSlots => 3;

    /// <summary>Slot 0 is the square average v: never negative.</summary>
    protected internal override string? CheckState(int slot, ReadOnlySpan<double> values) =>
        slot == 0 && FirstNegative(values) is var i and >= 0 ? $"the square average v[{i}] is negative ({values[i]}); squares average to 0 or more" : null;

    /// <inheritdoc/>

    public override IReadOnlyDictionary<string, double> Settings => new Dictionary<string, double>
    {
        ["learning-rate"] = LearningRate, ["alpha"] = Alpha, ["epsilon"] = Epsilon, ["momentum"] = Momentum,
        ["centered"] = Centered ? 1 : 0, ["weight-decay"] = WeightDecay,
    };

    /// <inheritdoc/>

    protected override void Update<T>(Span<T> p, ReadOnlySpan<T> grad, OptimizerState state, double lr, int t)
    {
        Span<double> v = state[0], b = state[1], a = state[2];
        double alpha = Alpha, mu = Momentum, lambda = WeightDecay, eps = Epsilon;
        bool centered = Centered;
        // The scalar loop below, several parameters at a time (same operations, same order).
        int i = DoubleLanes.Width<T>() switch
        {
            8 => Vectorized<T, Lanes8>(p, grad, v, b, a, lr),
            4 => Vectorized<T, Lanes4>(p, grad, v, b, a, lr),
            _ => 0,
        };
        for (; i < p.Length; i++)
        {
            double theta = double.CreateChecked(p[i]);
            double g = double.CreateChecked(grad[i]);
            if (lambda != 0)
                g += lambda * theta;
            v[i] = alpha * v[i] + (1 - alpha) * g * g;
            double vTilde = v[i];
            if (centered)
            {
                a[i] = alpha * a[i] + (1 - alpha) * g;
                vTilde -= a[i] * a[i];
            }
            double step = g / (Math.Sqrt(vTilde) + eps);
            if (mu > 0)
            {
                b[i] = mu * b[i] + step;
                step = b[i];
            }
            p[i] = T.CreateChecked(theta - lr * step);
        }
    }

    /// <summary>The update of the whole vectors of <paramref name="p"/>; returns where the scalar tail starts.</summary>
    private int Vectorized<T, TL>(Span<T> p, ReadOnlySpan<T> grad, Span<double> v, Span<double> b, Span<double> a, double lr)
        where T : unmanaged where TL : struct, ILanes<TL>
    {
        double alpha = Alpha, mu = Momentum, lambda = WeightDecay, eps = Epsilon;
        bool centered = Centered;
        TL valpha = TL.Create(alpha), v1alpha = TL.Create(1 - alpha), vmu = TL.Create(mu), vlambda = TL.Create(lambda),
            vlr = TL.Create(lr), veps = TL.Create(eps);
        int i = 0;
        for (; i <= p.Length - TL.Count; i += TL.Count)
        {
            var theta = TL.Load<T>(p, i);
            var g = TL.Load(grad, i);
            if (lambda != 0)
                g += vlambda * theta;
            var vi = valpha * TL.Load(v, i) + v1alpha * g * g;
            TL.Store(vi, v, i);
            var vTilde = vi;
            if (centered)
            {
                var ai = valpha * TL.Load(a, i) + v1alpha * g;
                TL.Store(ai, a, i);
                vTilde -= ai * ai;
            }
            var step = g / (TL.Sqrt(vTilde) + veps);
            if (mu > 0)
            {
                step = vmu * TL.Load(b, i) + step;
                TL.Store(step, b, i);
            }
            TL.Store(theta - vlr * step, p, i);
        }
        return i;
    }
}
