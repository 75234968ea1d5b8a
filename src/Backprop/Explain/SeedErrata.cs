using Backprop.Nn;

namespace Backprop.Explain;

/// <summary>
/// The seed document's slips (design/seed-notes.md), each with its proof at the traced point: the document's
/// value, the correct value (the engine's, real backpropagation) and a central finite difference.
/// </summary>
internal static class SeedErrata
{
    /// <summary>Ids in the order the slips appear in the document.</summary>
    public static readonly string[] Ids = ["missing-half", "eq28-denominator", "eq35-product", "update-order", "bias-b2", "bias-b1"];

    /// <param name="sim">The engine's numbers for real backpropagation.</param>
    /// <param name="seq">The engine's numbers for the document's order (W updated before V's gradient).</param>
    /// <param name="start">The seed network before the update.</param>
    /// <param name="x">The sample's input.</param>
    /// <param name="y">The sample's target.</param>
    /// <param name="fd">Central finite difference of E_total in one parameter at the starting point.</param>
    public static IReadOnlyList<Erratum> Build(SeedReading sim, SeedReading seq, Network<double> start, double[] x, double[] y,
        Func<int, bool, int, double?> fd)
    {
        var p = sim.Before;
        Quantity Yq(int i) => new($"Y{i}", y[i - 1]);
        Quantity Oq(int i) => new($"O{i}", sim.O[i - 1]);
        Quantity Pq(int i) => new($"P{i}", sim.P[i - 1]);
        Quantity Wq(int i, int j) => new($"W{i}{j}", p.W[i - 1, j - 1]);
        Quantity Xq(int i) => new($"X{i}", x[i - 1]);
        Expr G(Expr e) => new Group(e);
        Symbol total = new("E_total", "E_{total}");
        Derivative DE(string wrt) => new(total, new Symbol(wrt), null);

        var list = new List<Erratum>();

        // 1. (18)/(19) drop the 1/2 of (10): differentiating (18) as written doubles (21).
        var o1 = new Symbol("O1");
        list.Add(new Erratum("missing-half", "18, 19, 21, 26",
            Quantity: new Derivative(new Symbol("E1"), o1, null),
            Written: new Binary(BinaryOperator.Multiply, -2.0, G(Yq(1) - Oq(1))),
            Correct: -G(Yq(1) - Oq(1)),
            DocumentValue: -2 * (y[0] - sim.O[0]),
            CorrectValue: -(y[0] - sim.O[0]),
            FiniteDifference: LossSlopeInOutput(start, sim, y, 0)));

        // 2. (28): the denominator is dP1, not P1 (typographical; the value W12 is right).
        var q2 = G(new Symbol("W12") * new Symbol("P1") + new Symbol("W22") * new Symbol("P2") + new Symbol("W32") * new Symbol("P3") + new Symbol("b2"));
        list.Add(new Erratum("eq28-denominator", "28",
            Quantity: new Derivative(new Symbol("Q2"), new Symbol("P1"), null),
            Written: new Derivative(q2, new Symbol("P1"), null, BareDenominator: true),
            Correct: new Derivative(q2, new Symbol("P1"), null),
            DocumentValue: null, CorrectValue: p.W[0, 1], FiniteDifference: null));

        // 3. (35) multiplies the two paths from P1 to the loss; (17) says they add.
        var e24 = -Wq(1, 1) * G(Yq(1) - Oq(1)) * Oq(1) * G(1 - Oq(1));
        var e29 = -Wq(1, 2) * G(Yq(2) - Oq(2)) * Oq(2) * G(1 - Oq(2));
        var e33 = Xq(1) * Pq(1) * G(1 - Pq(1));
        var written = G(e24) * G(e29 * G(e33));
        double? fdV11 = fd(0, false, 0);
        list.Add(new Erratum("eq35-product", "35",
            Quantity: DE("V11"),
            Written: written,
            Correct: G(G(e24) + G(e29)) * G(e33),
            DocumentValue: written.Evaluate(),
            CorrectValue: sim.GradV[0, 0],
            FiniteDifference: fdV11));

        // 4. The document updates W11 by (15) before V11's gradient uses it in (35).
        list.Add(new Erratum("update-order", "15, 34, 35",
            Quantity: DE("V11"), Written: null, Correct: null,
            DocumentValue: seq.GradV[0, 0], CorrectValue: sim.GradV[0, 0], FiniteDifference: fdV11));

        // 5. The shared biases collect every unit's error term; the document never derives them.
        var dO1 = new Quantity("δO1", "\\delta_{O1}", sim.DeltaOutput[0]);
        var dO2 = new Quantity("δO2", "\\delta_{O2}", sim.DeltaOutput[1]);
        list.Add(new Erratum("bias-b2", "6, 7",
            Quantity: DE("b2"), Written: null, Correct: dO1 + dO2,
            DocumentValue: null, CorrectValue: sim.GradB2, FiniteDifference: fd(1, true, 0)));
        var dH = Enumerable.Range(0, 3).Select(j => new Quantity($"δH{j + 1}", $"\\delta_{{H{j + 1}}}", sim.DeltaHidden[j])).ToArray();
        list.Add(new Erratum("bias-b1", "4",
            Quantity: DE("b1"), Written: null, Correct: dH[0] + dH[1] + dH[2],
            DocumentValue: null, CorrectValue: sim.GradB1, FiniteDifference: fd(0, true, 0)));
        return list;
    }

    /// <summary>
    /// (E(O_k + eps) - E(O_k - eps)) / (2 eps) with the engine's own loss function at the traced outputs: the
    /// finite-difference check of dE_total/dO_k, which settles which E1 the document means.
    /// </summary>
    private static double LossSlopeInOutput(Network<double> net, SeedReading r, double[] y, int k, double eps = 1e-6)
    {
        double[] a = [.. r.O];
        double[] z = [.. r.Q];
        a[k] = r.O[k] + eps;
        double plus = Losses.Value(net.Loss, z, a, y, 1, a.Length);
        a[k] = r.O[k] - eps;
        double minus = Losses.Value(net.Loss, z, a, y, 1, a.Length);
        return (plus - minus) / (2 * eps);
    }
}
