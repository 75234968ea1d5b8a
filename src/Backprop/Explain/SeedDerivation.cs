using Backprop.Nn;

namespace Backprop.Explain;

/// <summary>
/// Builds the seed's equations (1)-(35), in its numbering and spelling, from the numbers the engine computed:
/// every value that the engine has (H, P, Q, O, E, every gradient, every updated parameter) is read from it;
/// the intermediate factors of a chain (such as -(Y1 - O1)) are the equation's right-hand side at those values.
/// The only formulas evaluated that the engine does not compute are the document's own slips as written
/// ((18)/(19) without 1/2, the product of (35)), shown with their values as proof.
/// </summary>
internal sealed class SeedDerivation
{
    private readonly SeedReading _r;
    private readonly UpdateOrder _order;
    private readonly double _lr;
    private readonly double _loss;
    private readonly List<SeedStep> _steps = [];
    private SeedSection _section;
    private bool _trainableBiases = true;

    private SeedDerivation(SeedReading reading, UpdateOrder order, double learningRate, double loss)
    {
        _r = reading;
        _order = order;
        _lr = learningRate;
        _loss = loss;
    }

    /// <summary>The derivation of the traced update, whose numbers are <paramref name="reading"/>.</summary>
    /// <param name="reading">The engine's numbers of the traced update.</param>
    /// <param name="order">The update order that was traced.</param>
    /// <param name="learningRate">η.</param>
    /// <param name="loss">E_total before the update.</param>
    /// <param name="trainableBiases">False when b1 and b2 are frozen: their updates are then not written out.</param>
    public static IReadOnlyList<SeedStep> Build(SeedReading reading, UpdateOrder order, double learningRate, double loss,
        bool trainableBiases)
    {
        var d = new SeedDerivation(reading, order, learningRate, loss) { _trainableBiases = trainableBiases };
        d.Definitions();
        d.Forward();
        d.LossEquation();
        d.ChainW11();
        d.ChainV11();
        d.AllParameters();
        return d._steps;
    }

    // ---- the seed's symbols ------------------------------------------------------------------------------

    private Quantity X(int i) => new($"X{i}", _r.X[i - 1]);
    private Quantity Y(int i) => new($"Y{i}", _r.Y[i - 1]);
    private Quantity V(int i, int j) => new($"V{i}{j}", _r.Before.V[i - 1, j - 1]);

    /// <summary>Wij before the update: what the forward pass used.</summary>
    private Quantity W(int i, int j) => new($"W{i}{j}", _r.Before.W[i - 1, j - 1]);

    /// <summary>Wij as the backward pass to the hidden layer uses it: the forward pass's value, or in the seed's sequential order the updated one.</summary>
    private Quantity WBack(int i, int j) =>
        new($"W{i}{j}", _order == UpdateOrder.Sequential ? _r.After.W[i - 1, j - 1] : _r.Before.W[i - 1, j - 1]);

    private Quantity B1 => new("b1", _r.Before.B1);
    private Quantity B2 => new("b2", _r.Before.B2);
    private Quantity H(int j) => new($"H{j}", _r.H[j - 1]);
    private Quantity P(int j) => new($"P{j}", _r.P[j - 1]);
    private Quantity Q(int j) => new($"Q{j}", _r.Q[j - 1]);
    private Quantity O(int j) => new($"O{j}", _r.O[j - 1]);
    private Quantity Eta => new("η", "\\eta", _lr);
    private static Quantity Total(double value) => new("E_total", "E_{total}", value);
    private static Symbol TotalSymbol => new("E_total", "E_{total}");
    private static Symbol S(string name) => new(name);
    private static Symbol S(string plain, string latex) => new(plain, latex);
    private Quantity DeltaO(int j) => new($"δO{j}", $"\\delta_{{O{j}}}", _r.DeltaOutput[j - 1]);
    private Quantity DeltaH(int j) => new($"δH{j}", $"\\delta_{{H{j}}}", _r.DeltaHidden[j - 1]);

    private static Derivative D(Expr of, string wrt, double? value = null) => new(of, S(wrt), value);
    private static Derivative DE(string wrt, double? value = null) => new(TotalSymbol, S(wrt), value);
    private static Apply Sigmoid(Expr x) => new("sigmoid", "\\text{sigmoid}", x, Logistic);
    private static Apply F(Expr x) => new("f", "f", x, Logistic);
    private static double Logistic(double x) => 1 / (1 + Math.Exp(-x));
    private static Fraction Logistic(Expr x) => new(1, 1 + new Exponential(-x));
    private static Expr G(Expr e) => new Group(e);
    private static Expr Jux(Expr a, Expr b) => new Binary(BinaryOperator.Juxtapose, a, b);

    /// <summary><c>f(z) * (1 - f(z)) = 1/(1 + e^-z) * (1 - 1/(1 + e^-z)) = a * (1 - a)</c> (eqs. 13, 22, 27, 31).</summary>
    private static Expr[] SigmoidSlope(Derivative lhs, Quantity z, Quantity a) =>
    [
        lhs,
        F(z) * G(1 - F(z)),
        Logistic(z) * G(1 - Logistic(z)),
        a * G(1 - a),
    ];

    // ---- emitting ------------------------------------------------------------------------------------------

    private Equation Add(string label, Expr[] forms, int? substitute, double? value, ValueSource source,
        EquationStatus status = EquationStatus.Document, string? erratum = null)
    {
        if (label.StartsWith('A') && status == EquationStatus.Document)
            status = EquationStatus.Added;
        var e = new Equation(label, forms, substitute, value, source, status, erratum);
        _steps.Add(new SeedStep(_section, e));
        return e;
    }

    /// <summary>An equation whose value is its last form evaluated at the engine's numbers.</summary>
    private double Sub(string label, Expr[] forms, EquationStatus status = EquationStatus.Document, string? erratum = null)
    {
        double v = forms[^1].Evaluate();
        Add(label, forms, forms.Length - 1, v, ValueSource.Substitution, status, erratum);
        return v;
    }

    // ---- the document ------------------------------------------------------------------------------------

    private void Definitions()
    {
        _section = SeedSection.Definitions;
        var x = S("x");
        Add("1", [S("E"), S("1/N Σ_{i=1..N} (y_i - y_o)^2", "\\frac{1}{N} \\sum_{i=1}^N (y_i - y_o)^2")], null, null, ValueSource.Substitution);
        Add("2", [F(x), Logistic(x)], null, null, ValueSource.Substitution);
        Add("3", [new Apply("f'", "f'", x, null), Jux(F(x), G(1 - F(x)))], null, null, ValueSource.Substitution);
    }

    private void Forward()
    {
        _section = SeedSection.ForwardHidden;
        for (int j = 1; j <= SeedNetwork.HiddenCount; j++)
        {
            Add("4", [H(j), V(1, j) * X(1) + V(2, j) * X(2) + B1], 1, _r.H[j - 1], ValueSource.Engine);
            Add("5", [P(j), Sigmoid(H(j)), Logistic(H(j))], 2, _r.P[j - 1], ValueSource.Engine);
        }
        _section = SeedSection.ForwardOutput;
        for (int j = 1; j <= SeedNetwork.OutputCount; j++)
            Add(j == 1 ? "6" : "7", [Q(j), W(1, j) * P(1) + W(2, j) * P(2) + W(3, j) * P(3) + B2], 1, _r.Q[j - 1], ValueSource.Engine);
        for (int j = 1; j <= SeedNetwork.OutputCount; j++)
            Add(j == 1 ? "8" : "9", [O(j), Sigmoid(Q(j)), Logistic(Q(j))], 2, _r.O[j - 1], ValueSource.Engine);
    }

    private void LossEquation()
    {
        _section = SeedSection.Loss;
        Add("10",
        [
            TotalSymbol,
            S("1/N Σ_{i=1..N} (y_i - y_o)^2", "\\frac{1}{N} \\sum_{i=1}^N (y_i - y_o)^2"),
            Jux(new Fraction(1, 2), G(new Power(G(Y(1) - O(1)), 2) + new Power(G(Y(2) - O(2)), 2))),
        ], 2, _loss, ValueSource.Engine);
    }

    private void ChainW11()
    {
        _section = SeedSection.ChainW11;
        // Eqs. (12)-(14) are the factors; (11) is their product, which is the engine's dE/dW11.
        var f12 = new Expr[] { DE("O1"), -G(Y(1) - O(1)) };
        var f13 = SigmoidSlope(D(S("O1"), "Q1"), Q(1), O(1));
        var f14 = new Expr[] { D(S("Q1"), "W11"), D(G(S("W11") * S("P1") + S("W21") * S("P2") + S("W31") * S("P3") + S("b2")), "W11"), P(1) };
        double v12 = f12[^1].Evaluate(), v13 = f13[^1].Evaluate(), v14 = f14[^1].Evaluate();
        double g = _r.GradW[0, 0];
        Add("11", [DE("W11", g), DE("O1", v12) * D(S("O1"), "Q1", v13) * D(S("Q1"), "W11", v14)], 1, g, ValueSource.Engine);
        Sub("12", f12);
        Sub("13", f13);
        Sub("14", f14);
        Add("15",
        [
            W(1, 1),
            W(1, 1) - Eta * DE("W11", g),
            W(1, 1) - Eta * G(-P(1) * G(Y(1) - O(1)) * O(1) * G(1 - O(1))),
        ], 2, _r.After.W[0, 0], ValueSource.Engine);
    }

    private void ChainV11()
    {
        _section = SeedSection.ChainV11;
        // Factors first, so the chain (16)/(17) can show their values.
        double v21 = -(_r.Y[0] - _r.O[0]);
        double v22 = _r.O[0] * (1 - _r.O[0]);
        double v24 = (-WBack(1, 1) * G(Y(1) - O(1)) * O(1) * G(1 - O(1))).Evaluate();
        double v29 = (-WBack(1, 2) * G(Y(2) - O(2)) * O(2) * G(1 - O(2))).Evaluate();
        double v33 = (X(1) * P(1) * G(1 - P(1))).Evaluate();
        double dP1 = v24 + v29;
        double g = _r.GradV[0, 0];

        Add("16", [DE("V11", g), DE("P1", dP1) * D(S("P1"), "V11", v33)], 1, g, ValueSource.Engine);
        Add("17",
        [
            DE("V11", g),
            DE("P1", dP1) * D(S("P1"), "V11", v33),
            G(D(S("E1"), "P1", v24) + D(S("E2"), "P1", v29)) * D(S("P1"), "V11", v33),
        ], 2, g, ValueSource.Engine);

        // (18)/(19) as written lack the 1/2 that (21)/(26) and (10) imply.
        Sub("18", [S("E1"), new Power(G(Y(1) - O(1)), 2)], EquationStatus.AsWritten, "missing-half");
        Sub("18", [S("E1"), Jux(new Fraction(1, 2), new Power(G(Y(1) - O(1)), 2))], EquationStatus.Corrected, "missing-half");
        Sub("19", [S("E2"), new Power(G(Y(2) - O(2)), 2)], EquationStatus.AsWritten, "missing-half");
        Sub("19", [S("E2"), Jux(new Fraction(1, 2), new Power(G(Y(2) - O(2)), 2))], EquationStatus.Corrected, "missing-half");

        Add("20", [D(S("E1"), "P1", v24), D(S("E1"), "O1", v21) * D(S("O1"), "Q1", v22) * D(S("Q1"), "P1", WBack(1, 1).Value)], 1, v24, ValueSource.Substitution);
        Sub("21", [D(S("E1"), "O1"), -G(Y(1) - O(1))]);
        Sub("22", SigmoidSlope(D(S("O1"), "Q1"), Q(1), O(1)));
        Sub("23", [D(S("Q1"), "P1"), D(G(S("W11") * S("P1") + S("W21") * S("P2") + S("W31") * S("P3") + S("b2")), "P1"), WBack(1, 1)]);
        Sub("24", [D(S("E1"), "P1"), -WBack(1, 1) * G(Y(1) - O(1)) * O(1) * G(1 - O(1))]);

        double v26 = -(_r.Y[1] - _r.O[1]);
        double v27 = _r.O[1] * (1 - _r.O[1]);
        Add("25", [D(S("E2"), "P1", v29), D(S("E2"), "O2", v26) * D(S("O2"), "Q2", v27) * D(S("Q2"), "P1", WBack(1, 2).Value)], 1, v29, ValueSource.Substitution);
        Sub("26", [D(S("E2"), "O2"), -G(Y(2) - O(2))]);
        Sub("27", SigmoidSlope(D(S("O2"), "Q2"), Q(2), O(2)));
        var q2 = G(S("W12") * S("P1") + S("W22") * S("P2") + S("W32") * S("P3") + S("b2"));
        Sub("28", [D(S("Q2"), "P1"), new Derivative(q2, S("P1"), null, BareDenominator: true), WBack(1, 2)], EquationStatus.AsWritten, "eq28-denominator");
        Sub("28", [D(S("Q2"), "P1"), D(q2, "P1"), WBack(1, 2)], EquationStatus.Corrected, "eq28-denominator");
        Sub("29", [D(S("E2"), "P1"), -WBack(1, 2) * G(Y(2) - O(2)) * O(2) * G(1 - O(2))]);

        double v31 = _r.P[0] * (1 - _r.P[0]);
        Add("30", [D(S("P1"), "V11", v33), D(S("P1"), "H1", v31) * D(S("H1"), "V11", _r.X[0])], 1, v33, ValueSource.Substitution);
        Sub("31", SigmoidSlope(D(S("P1"), "H1"), H(1), P(1)));
        Sub("32", [D(S("H1"), "V11"), D(G(S("V11") * S("X1") + S("V21") * S("X2") + S("b1")), "V11"), X(1)]);
        Sub("33", [D(S("P1"), "V11"), X(1) * P(1) * G(1 - P(1))]);
        Add("34", [S("V11"), S("V11") - S("η", "\\eta") * DE("V11")], null, null, ValueSource.Engine);

        var e24 = -WBack(1, 1) * G(Y(1) - O(1)) * O(1) * G(1 - O(1));
        var e29 = -WBack(1, 2) * G(Y(2) - O(2)) * O(2) * G(1 - O(2));
        var e33 = X(1) * P(1) * G(1 - P(1));
        var written = new Expr[] { DE("V11"), G(e24) * G(e29 * G(e33)) };
        Add("35", written, 1, written[^1].Evaluate(), ValueSource.Document, EquationStatus.AsWritten, "eq35-product");
        Add("35", [DE("V11", g), G(G(e24) + G(e29)) * G(e33)], 1, g, ValueSource.Engine, EquationStatus.Corrected, "eq35-product");
        Add("34", [V(1, 1), V(1, 1) - Eta * DE("V11", g)], 1, _r.After.V[0, 0], ValueSource.Engine,
            EquationStatus.Document, "update-order");
    }

    private void AllParameters()
    {
        _section = SeedSection.AllParameters;
        for (int j = 1; j <= SeedNetwork.OutputCount; j++)
            Add("A1", [DeltaO(j), DE($"Q{j}"), -G(Y(j) - O(j)) * O(j) * G(1 - O(j))], 2, _r.DeltaOutput[j - 1], ValueSource.Engine);
        for (int j = 1; j <= SeedNetwork.HiddenCount; j++)
            Add("A2", [DeltaH(j), DE($"H{j}"), G(WBack(j, 1) * DeltaO(1) + WBack(j, 2) * DeltaO(2)) * P(j) * G(1 - P(j))], 2,
                _r.DeltaHidden[j - 1], ValueSource.Engine);
        Add("A3", [DE("Wij"), S("δOj", "\\delta_{Oj}") * S("Pi")], null, null, ValueSource.Engine);
        Add("A4", [DE("Vij"), S("δHj", "\\delta_{Hj}") * S("Xi")], null, null, ValueSource.Engine);
        Add("A5", [DE("b2", _r.GradB2), D(S("Q1"), "b2", 1) * DeltaO(1) + D(S("Q2"), "b2", 1) * DeltaO(2), DeltaO(1) + DeltaO(2)], 2,
            _r.GradB2, ValueSource.Engine, EquationStatus.Added, "bias-b2");
        Add("A6", [DE("b1", _r.GradB1), DeltaH(1) + DeltaH(2) + DeltaH(3)], 1, _r.GradB1, ValueSource.Engine, EquationStatus.Added, "bias-b1");
        Add("A7", [S("p"), S("p") - S("η", "\\eta") * DE("p")], null, null, ValueSource.Engine, EquationStatus.Added);
        if (!_trainableBiases)
            return;
        Add("A7", [B2, B2 - Eta * DE("b2", _r.GradB2)], 1, _r.After.B2, ValueSource.Engine, EquationStatus.Added);
        Add("A7", [B1, B1 - Eta * DE("b1", _r.GradB1)], 1, _r.After.B1, ValueSource.Engine, EquationStatus.Added);
    }
}
