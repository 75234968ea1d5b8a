using Backprop.Nn;

namespace Backprop.Explain;

/// <summary>
/// The per-unit equations of a general network (z, a, loss, delta) with generic names, from the engine's
/// numbers in <see cref="LayerTrace"/>. Layer l is 1-based in names: z1[2] is unit 2 of the first layer,
/// w1[2,1] its weight from input 1, x[1] the network's first input.
/// </summary>
internal static class LayerDerivationBuilder
{
    /// <param name="start">The network before the update.</param>
    /// <param name="layers">The traced layers.</param>
    /// <param name="y">The sample's target.</param>
    /// <param name="loss">E before the update, as the engine computed it.</param>
    public static IReadOnlyList<LayerDerivation> Build(Network<double> start, IReadOnlyList<LayerTrace> layers, double[] y, double loss)
    {
        var result = new List<LayerDerivation>();
        for (int l = 0; l < layers.Count; l++)
        {
            var t = layers[l];
            var forward = new List<Equation>();
            for (int u = 0; u < t.Units; u++)
            {
                Expr sum = Weight(t, u, 0) * In(t, 0);
                for (int i = 1; i < t.Inputs; i++)
                    sum = sum + Weight(t, u, i) * In(t, i);
                if (t.Bias != BiasMode.None)
                    sum = sum + Bias(t, u);
                forward.Add(new Equation("z", [Z(t, u), sum], 1, t.Z[u], ValueSource.Engine));
            }
            for (int u = 0; u < t.Units; u++)
                forward.Add(ActivationEquation(t, u));

            var backward = new List<Equation>();
            if (l == layers.Count - 1)
            {
                backward.Add(LossEquation(start.Loss, t, y, loss));
                for (int u = 0; u < t.Units; u++)
                    backward.Add(OutputDelta(start.Loss, t, y, u));
            }
            else
            {
                var next = layers[l + 1];
                for (int u = 0; u < t.Units; u++)
                {
                    // delta_u = (sum_k w_next[k,u] delta_next[k]) * f'(z_u), with the weights the error came back through.
                    Expr back = BackWeight(next, t, 0, u) * Delta(next, 0);
                    for (int k = 1; k < next.Units; k++)
                        back = back + BackWeight(next, t, k, u) * Delta(next, k);
                    backward.Add(new Equation("δ", [Delta(t, u), new Group(back) * Slope(t, u)], 1, t.Delta[u], ValueSource.Engine));
                }
            }
            result.Add(new LayerDerivation(l, forward, backward));
        }
        return result;
    }

    private static string L(LayerTrace t) => (t.Index + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static Quantity In(LayerTrace t, int i) => t.Index == 0
        ? new Quantity($"x[{i + 1}]", $"x_{{{i + 1}}}", t.Input[i])
        : new Quantity($"a{t.Index}[{i + 1}]", $"a^{{({t.Index})}}_{{{i + 1}}}", t.Input[i]);

    private static Quantity Weight(LayerTrace t, int u, int i) =>
        new($"w{L(t)}[{u + 1},{i + 1}]", $"w^{{({L(t)})}}_{{{u + 1},{i + 1}}}", t.Weight(u, i));

    private static Quantity BackWeight(LayerTrace next, LayerTrace t, int k, int u) =>
        new($"w{L(next)}[{k + 1},{u + 1}]", $"w^{{({L(next)})}}_{{{k + 1},{u + 1}}}", t.BackpropWeights[k * t.Units + u]);

    private static Quantity Bias(LayerTrace t, int u) => t.Bias == BiasMode.Shared
        ? new($"b{L(t)}", $"b^{{({L(t)})}}", t.Biases[0])
        : new($"b{L(t)}[{u + 1}]", $"b^{{({L(t)})}}_{{{u + 1}}}", t.Biases[u]);

    private static Quantity Z(LayerTrace t, int u) => new($"z{L(t)}[{u + 1}]", $"z^{{({L(t)})}}_{{{u + 1}}}", t.Z[u]);
    private static Quantity A(LayerTrace t, int u) => new($"a{L(t)}[{u + 1}]", $"a^{{({L(t)})}}_{{{u + 1}}}", t.A[u]);
    private static Quantity Delta(LayerTrace t, int u) => new($"δ{L(t)}[{u + 1}]", $"\\delta^{{({L(t)})}}_{{{u + 1}}}", t.Delta[u]);
    private static Quantity Target(int u, double[] y) => new($"y[{u + 1}]", $"y_{{{u + 1}}}", y[u]);

    private static Equation ActivationEquation(LayerTrace t, int u)
    {
        var z = Z(t, u);
        Expr[] forms = t.Activation switch
        {
            Activation.Identity => [A(t, u), z],
            Activation.Sigmoid => [A(t, u), new Apply("sigmoid", "\\text{sigmoid}", z, null), new Fraction(1, 1 + new Exponential(-z))],
            Activation.Tanh => [A(t, u), new Apply("tanh", "\\tanh", z, null)],
            Activation.Relu => [A(t, u), new Apply("max", "\\max", new Binary(BinaryOperator.Juxtapose, new Symbol("0,"), z), null)],
            Activation.LeakyRelu => [A(t, u), new Apply("leaky_relu", "\\text{leaky\\_relu}", z, null)],
            _ => [A(t, u), new Fraction(new Exponential(z), SoftmaxDenominator(t))],
        };
        return new Equation("a", forms, forms.Length - 1, t.A[u], ValueSource.Engine);
    }

    private static Expr SoftmaxDenominator(LayerTrace t)
    {
        Expr sum = new Exponential(Z(t, 0));
        for (int k = 1; k < t.Units; k++)
            sum = sum + new Exponential(Z(t, k));
        return sum;
    }

    /// <summary>f'(z_u) written with the layer's output a_u where the activation allows it.</summary>
    private static Expr Slope(LayerTrace t, int u)
    {
        var a = A(t, u);
        return t.Activation switch
        {
            Activation.Sigmoid => a * new Group(1 - a),
            Activation.Tanh => new Group(1 - new Power(a, 2)),
            Activation.Relu => new Constant(t.Z[u] > 0 ? 1 : 0),
            Activation.LeakyRelu => new Constant(t.Z[u] > 0 ? 1 : Activations.LeakySlope),
            _ => new Constant(1),
        };
    }

    private static Equation LossEquation(Loss loss, LayerTrace t, double[] y, double value)
    {
        int n = t.Units;
        Expr Sq(int u) => new Power(new Group(Target(u, y) - A(t, u)), 2);
        Expr SumOf(Func<int, Expr> term)
        {
            Expr s = term(0);
            for (int u = 1; u < n; u++)
                s = s + term(u);
            return s;
        }
        var e = new Symbol("E");
        Expr rhs = loss switch
        {
            Loss.HalfSse => new Binary(BinaryOperator.Juxtapose, new Fraction(1, 2), new Group(SumOf(Sq))),
            Loss.Mse => new Binary(BinaryOperator.Juxtapose, new Fraction(1, n), new Group(SumOf(Sq))),
            Loss.CrossEntropy => -new Group(SumOf(u => new Binary(BinaryOperator.Juxtapose, Target(u, y), new Apply("log", "\\log", A(t, u), null)))),
            _ => -new Binary(BinaryOperator.Juxtapose, new Fraction(1, n), new Group(SumOf(u =>
                new Binary(BinaryOperator.Juxtapose, Target(u, y), new Apply("log", "\\log", A(t, u), null))
                + new Binary(BinaryOperator.Juxtapose, new Group(1 - Target(u, y)), new Apply("log", "\\log", new Group(1 - A(t, u)), null))))),
        };
        return new Equation("E", [e, rhs], 1, value, ValueSource.Engine);
    }

    private static Equation OutputDelta(Loss loss, LayerTrace t, double[] y, int u)
    {
        var d = Delta(t, u);
        var dz = new Derivative(new Symbol("E"), new Symbol(Z(t, u).Plain, Z(t, u).Latex), null);
        var diff = new Group(Target(u, y) - A(t, u));
        Expr[] forms = (loss, t.Activation) switch
        {
            (Loss.CrossEntropy, _) => [d, dz, A(t, u) - Target(u, y)],
            (Loss.BinaryCrossEntropy, _) => [d, dz, new Fraction(new Group(A(t, u) - Target(u, y)), t.Units)],
            (_, Activation.Softmax) => [d, dz],
            (Loss.HalfSse, _) => [d, dz, -diff * Slope(t, u)],
            _ => [d, dz, new Fraction(2, t.Units) * new Group(-diff) * Slope(t, u)],
        };
        return new Equation("δ", forms, forms.Length > 2 ? forms.Length - 1 : null, t.Delta[u], ValueSource.Engine);
    }
}
