using System.Numerics;

namespace Backprop.Training;

/// <summary>
/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and weight decay,
/// as torch.optim.SGD documents it. Per parameter, at step t:
/// <code>
/// g = grad + lambda * theta                      (when WeightDecay != 0)
/// if mu != 0:
///     b = (t &gt; 1) ? mu * b + (1 - tau) * g : g
///     g = Nesterov ? g + mu * b : b
/// theta = theta - gamma * g
/// </code>
/// </summary>
public sealed class Sgd : Optimizer
{
    /// <param name="learningRate">gamma (default <see cref="TrainingDefaults.SgdLearningRate"/>, plain SGD's; with momentum
    /// give one, e.g. <see cref="TrainingDefaults.MomentumLearningRate"/>).</param>
    /// <param name="momentum">mu (0 = plain SGD).</param>
    /// <param name="weightDecay">lambda (L2 added to the gradient).</param>
    /// <param name="dampening">tau.</param>
    /// <param name="nesterov">Nesterov momentum; needs momentum &gt; 0 and no dampening.</param>
    /// <summary>Stochastic gradient descent with torch's rule.</summary>
    public Sgd(double learningRate = TrainingDefaults.SgdLearningRate, double momentum = 0, double weightDecay = 0, double dampening = 0, bool nesterov = false)
        : base(learningRate, weightDecay)
    {
        RequireFraction(momentum, "SGD momentum");
        RequireFraction(dampening, "SGD dampening");
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new BackpropException("Nesterov momentum needs a momentum > 0 and zero dampening.");
        Momentum = momentum;
        Dampening = dampening;
        Nesterov = nesterov;
    }

    /// <summary>mu (0: plain SGD).</summary>
    public double Momentum { get; }
    /// <summary>tau, the dampening of the momentum buffer.</summary>
    public double Dampening { get; }
    /// <summary>Whether the step uses Nesterov momentum.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    public override string Name => "sgd";

    /// <summary>Each parameter's update uses only its own gradient and state.</summary>
    protected override bool UpdatesElementWise => true;

    /// <inheritdoc/>
    protected override int StateSlots => Momentum != 0 ? 1 : 0;

    /// <inheritdoc/>

    public override IReadOnlyDictionary<string, double> Settings => new Dictionary<string, double>
    {
        ["learning-rate"] = LearningRate, ["momentum"] = Momentum, ["dampening"] = Dampening,
        ["nesterov"] = Nesterov ? 1 : 0, ["weight-decay"] = WeightDecay,
    };

    /// <inheritdoc/>

    protected override void Update<T>(Span<T> p, ReadOnlySpan<T> grad, OptimizerState state, double lr, int t)
    {
        double mu = Momentum, tau = Dampening, lambda = WeightDecay;
        Span<double> b = mu != 0 ? state[0] : default;
        bool momentum = mu != 0, first = t <= 1, nesterov = Nesterov;
        // The scalar loop below, several parameters at a time (same operations, same order).
        int i = DoubleLanes.Width<T>() switch
        {
            8 => Vectorized<T, Lanes8>(p, grad, b, lr, first),
            4 => Vectorized<T, Lanes4>(p, grad, b, lr, first),
            _ => 0,
        };
        for (; i < p.Length; i++)
        {
            double theta = double.CreateChecked(p[i]);
            double g = double.CreateChecked(grad[i]);
            if (lambda != 0)
                g += lambda * theta;
            if (momentum)
            {
                b[i] = !first ? mu * b[i] + (1 - tau) * g : g;
                g = nesterov ? g + mu * b[i] : b[i];
            }
            p[i] = T.CreateChecked(theta - lr * g);
        }
    }

    /// <summary>The update of the whole vectors of <paramref name="p"/>; returns where the scalar tail starts.</summary>
    private int Vectorized<T, TL>(Span<T> p, ReadOnlySpan<T> grad, Span<double> b, double lr, bool first)
        where T : unmanaged where TL : struct, ILanes<TL>
    {
        double mu = Momentum, tau = Dampening, lambda = WeightDecay;
        bool momentum = mu != 0, nesterov = Nesterov;
        TL vmu = TL.Create(mu), vtau = TL.Create(1 - tau), vlambda = TL.Create(lambda), vlr = TL.Create(lr);
        int i = 0;
        for (; i <= p.Length - TL.Count; i += TL.Count)
        {
            var theta = TL.Load<T>(p, i);
            var g = TL.Load(grad, i);
            if (lambda != 0)
                g += vlambda * theta;
            if (momentum)
            {
                var bi = first ? g : vmu * TL.Load(b, i) + vtau * g;
                TL.Store(bi, b, i);
                g = nesterov ? g + vmu * bi : bi;
            }
            TL.Store(theta - vlr * g, p, i);
        }
        return i;
    }
}
