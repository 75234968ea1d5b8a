namespace Backprop.Tests.Explain;

/// <summary>
/// An independent, literal implementation of the seed document's equations (4)-(35), corrected as
/// seed-notes.md says (eq. 35 adds the two terms, as eq. 17 does), written as plain scalar code with the
/// document's 1-based names. It shares nothing with the engine and is the oracle for its numbers.
/// </summary>
internal sealed class SeedLiteral
{
    public double X1, X2, Y1, Y2;
    public readonly double[,] V = new double[3, 4]; // V[i, j]: input i -> hidden j (1-based)
    public readonly double[,] W = new double[4, 3]; // W[i, j]: hidden i -> output j (1-based)
    public double B1, B2;

    public double H1, H2, H3, P1, P2, P3, Q1, Q2, O1, O2, Etotal;

    public static SeedLiteral Default()
    {
        var s = new SeedLiteral { X1 = 0.05, X2 = 0.10, Y1 = 0.01, Y2 = 0.99, B1 = 0.35, B2 = 0.60 };
        s.V[1, 1] = 0.15; s.V[2, 1] = 0.20;
        s.V[1, 2] = 0.25; s.V[2, 2] = 0.30;
        s.V[1, 3] = 0.35; s.V[2, 3] = 0.40;
        s.W[1, 1] = 0.45; s.W[2, 1] = 0.50; s.W[3, 1] = 0.55;
        s.W[1, 2] = 0.60; s.W[2, 2] = 0.65; s.W[3, 2] = 0.70;
        return s;
    }

    public static double Sigmoid(double x) => 1.0 / (1.0 + Math.Exp(-x)); // eq. (2)

    public void Forward()
    {
        H1 = V[1, 1] * X1 + V[2, 1] * X2 + B1; // eq. (4)
        H2 = V[1, 2] * X1 + V[2, 2] * X2 + B1;
        H3 = V[1, 3] * X1 + V[2, 3] * X2 + B1;
        P1 = Sigmoid(H1); // eq. (5)
        P2 = Sigmoid(H2);
        P3 = Sigmoid(H3);
        Q1 = W[1, 1] * P1 + W[2, 1] * P2 + W[3, 1] * P3 + B2; // eq. (6)
        Q2 = W[1, 2] * P1 + W[2, 2] * P2 + W[3, 2] * P3 + B2; // eq. (7)
        O1 = Sigmoid(Q1); // eq. (8)
        O2 = Sigmoid(Q2); // eq. (9)
        Etotal = 0.5 * ((Y1 - O1) * (Y1 - O1) + (Y2 - O2) * (Y2 - O2)); // eq. (10)
    }

    public double P(int j) => j switch { 1 => P1, 2 => P2, _ => P3 };
    public double X(int i) => i == 1 ? X1 : X2;

    /// <summary>eqs. (12)*(13): dE/dQj = -(Yj - Oj) * Oj (1 - Oj).</summary>
    public double DeltaOut(int j) => j == 1 ? -(Y1 - O1) * O1 * (1 - O1) : -(Y2 - O2) * O2 * (1 - O2);

    /// <summary>eqs. (11)-(14) for every Wij: dE/dWij = dE/dOj * dOj/dQj * dQj/dWij = DeltaOut(j) * Pi.</summary>
    public double GradW(int i, int j) => DeltaOut(j) * P(i);

    /// <summary>
    /// eqs. (16)-(33) and the corrected (35) for every Vij, with the output weights <paramref name="w"/>:
    /// dE/dVij = (dE1/dPj + dE2/dPj) * dPj/dHj * dHj/dVij
    ///         = (-(Y1-O1) O1(1-O1) Wj1 - (Y2-O2) O2(1-O2) Wj2) * Pj(1-Pj) * Xi.
    /// </summary>
    public double GradV(int i, int j, double[,] w)
    {
        double dE1dPj = -(Y1 - O1) * O1 * (1 - O1) * w[j, 1]; // eq. (24) generalised
        double dE2dPj = -(Y2 - O2) * O2 * (1 - O2) * w[j, 2]; // eq. (29) generalised
        double dPjdVij = X(i) * P(j) * (1 - P(j)); // eq. (33) generalised
        return (dE1dPj + dE2dPj) * dPjdVij; // eq. (17)/(35) corrected: a sum
    }

    /// <summary>The document's eq. (35) exactly as printed: the two terms MULTIPLIED (wrong).</summary>
    public double GradV11AsPrinted() =>
        (-W[1, 1] * (Y1 - O1) * O1 * (1 - O1)) * (-W[1, 2] * (Y2 - O2) * O2 * (1 - O2) * (X1 * P1 * (1 - P1)));

    /// <summary>dE/db2: b2 enters both Q1 and Q2 with coefficient 1, so its gradient sums both output terms.</summary>
    public double GradB2() => DeltaOut(1) + DeltaOut(2);

    /// <summary>dE/db1: b1 enters H1, H2, H3, so its gradient sums the three hidden terms.</summary>
    public double GradB1(double[,] w)
    {
        double sum = 0;
        for (int j = 1; j <= 3; j++)
            sum += (DeltaOut(1) * w[j, 1] + DeltaOut(2) * w[j, 2]) * P(j) * (1 - P(j));
        return sum;
    }

    /// <summary>Real backprop: every gradient from the forward pass's weights, then all updates (eqs. 15, 34).</summary>
    public void SimultaneousStep(double eta, bool trainBiases = true)
    {
        Forward();
        var gW = new double[4, 3];
        var gV = new double[3, 4];
        for (int i = 1; i <= 3; i++)
            for (int j = 1; j <= 2; j++)
                gW[i, j] = GradW(i, j);
        for (int i = 1; i <= 2; i++)
            for (int j = 1; j <= 3; j++)
                gV[i, j] = GradV(i, j, W);
        double gb1 = GradB1(W), gb2 = GradB2();
        for (int i = 1; i <= 3; i++)
            for (int j = 1; j <= 2; j++)
                W[i, j] -= eta * gW[i, j];
        for (int i = 1; i <= 2; i++)
            for (int j = 1; j <= 3; j++)
                V[i, j] -= eta * gV[i, j];
        if (trainBiases)
        {
            B1 -= eta * gb1;
            B2 -= eta * gb2;
        }
    }

    /// <summary>The seed's order: update every W (and b2) first (eq. 15), then take V's gradients through the updated W.</summary>
    public void SequentialStep(double eta, bool trainBiases = true)
    {
        Forward();
        for (int i = 1; i <= 3; i++)
            for (int j = 1; j <= 2; j++)
                W[i, j] -= eta * GradW(i, j);
        if (trainBiases)
            B2 -= eta * GradB2();
        var gV = new double[3, 4];
        for (int i = 1; i <= 2; i++)
            for (int j = 1; j <= 3; j++)
                gV[i, j] = GradV(i, j, W);
        double gb1 = GradB1(W);
        for (int i = 1; i <= 2; i++)
            for (int j = 1; j <= 3; j++)
                V[i, j] -= eta * gV[i, j];
        if (trainBiases)
            B1 -= eta * gb1;
    }
}
