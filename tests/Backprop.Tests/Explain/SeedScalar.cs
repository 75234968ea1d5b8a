namespace Backprop.Tests.Explain;

/// <summary>
/// An independent, literal scalar implementation of the seed document's equations (with its slips corrected),
/// written from the document and seed-notes.md, not from the engine: one variable per symbol, one line per
/// equation. The test oracle for everything `backprop explain` prints about the seed network.
/// </summary>
internal sealed class SeedScalar
{
    // Parameters (seed naming: Vij input i -> hidden j, Wij hidden i -> output j).
    public double V11, V12, V13, V21, V22, V23;
    public double W11, W12, W21, W22, W31, W32;
    public double B1, B2;
    public double X1, X2, Y1, Y2;

    // Forward (4)-(9).
    public double H1, H2, H3, P1, P2, P3, Q1, Q2, O1, O2;
    // (10)
    public double E;
    // Error terms and gradients.
    public double DO1, DO2, DH1, DH2, DH3;
    public double GV11, GV12, GV13, GV21, GV22, GV23, GW11, GW12, GW21, GW22, GW31, GW32, GB1, GB2;

    public static SeedScalar Default() => new()
    {
        V11 = 0.15, V12 = 0.25, V13 = 0.35, V21 = 0.20, V22 = 0.30, V23 = 0.40,
        W11 = 0.45, W12 = 0.60, W21 = 0.50, W22 = 0.65, W31 = 0.55, W32 = 0.70,
        B1 = 0.35, B2 = 0.60, X1 = 0.05, X2 = 0.10, Y1 = 0.01, Y2 = 0.99,
    };

    public SeedScalar Copy() => (SeedScalar)MemberwiseClone();

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    public void Forward()
    {
        H1 = V11 * X1 + V21 * X2 + B1;                 // (4)
        H2 = V12 * X1 + V22 * X2 + B1;
        H3 = V13 * X1 + V23 * X2 + B1;
        P1 = Sigmoid(H1);                              // (5)
        P2 = Sigmoid(H2);
        P3 = Sigmoid(H3);
        Q1 = W11 * P1 + W21 * P2 + W31 * P3 + B2;      // (6)
        Q2 = W12 * P1 + W22 * P2 + W32 * P3 + B2;      // (7)
        O1 = Sigmoid(Q1);                              // (8)
        O2 = Sigmoid(Q2);                              // (9)
        E = 0.5 * ((Y1 - O1) * (Y1 - O1) + (Y2 - O2) * (Y2 - O2));   // (10)
    }

    /// <summary>Every gradient with the forward pass's weights (eqs. 11-14, 16-33 and (35) corrected; A1-A6).</summary>
    public void Backward() => Backward(W11, W12, W21, W22, W31, W32);

    /// <summary>The hidden layer's gradients taken through the given output weights (the seed's order passes updated ones).</summary>
    public void Backward(double w11, double w12, double w21, double w22, double w31, double w32)
    {
        DO1 = -(Y1 - O1) * O1 * (1 - O1);
        DO2 = -(Y2 - O2) * O2 * (1 - O2);
        GW11 = DO1 * P1; GW21 = DO1 * P2; GW31 = DO1 * P3;
        GW12 = DO2 * P1; GW22 = DO2 * P2; GW32 = DO2 * P3;
        GB2 = DO1 + DO2;
        DH1 = (w11 * DO1 + w12 * DO2) * P1 * (1 - P1);
        DH2 = (w21 * DO1 + w22 * DO2) * P2 * (1 - P2);
        DH3 = (w31 * DO1 + w32 * DO2) * P3 * (1 - P3);
        GV11 = DH1 * X1; GV12 = DH2 * X1; GV13 = DH3 * X1;
        GV21 = DH1 * X2; GV22 = DH2 * X2; GV23 = DH3 * X2;
        GB1 = DH1 + DH2 + DH3;
    }

    public void UpdateOutput(double eta, bool trainBias = true)
    {
        W11 -= eta * GW11; W12 -= eta * GW12; W21 -= eta * GW21; W22 -= eta * GW22; W31 -= eta * GW31; W32 -= eta * GW32;
        if (trainBias)
            B2 -= eta * GB2;
    }

    public void UpdateHidden(double eta, bool trainBias = true)
    {
        V11 -= eta * GV11; V12 -= eta * GV12; V13 -= eta * GV13; V21 -= eta * GV21; V22 -= eta * GV22; V23 -= eta * GV23;
        if (trainBias)
            B1 -= eta * GB1;
    }

    /// <summary>Real backpropagation: all gradients, then all updates (biases too unless frozen).</summary>
    public void StepSimultaneous(double eta, bool trainBiases = true)
    {
        Forward();
        Backward();
        UpdateOutput(eta, trainBiases);
        UpdateHidden(eta, trainBiases);
    }

    /// <summary>The document's order: W (and b2) updated by (15) first, V's gradients through the new W.</summary>
    public void StepSequential(double eta, bool trainBiases = true)
    {
        Forward();
        Backward();
        UpdateOutput(eta, trainBiases);
        Backward(W11, W12, W21, W22, W31, W32);
        UpdateHidden(eta, trainBiases);
    }

    /// <summary>Vij by its indices (input i, hidden j), for loops over every parameter.</summary>
    public ref double V(int i, int j)
    {
        switch ((i, j))
        {
            case (1, 1): return ref V11;
            case (1, 2): return ref V12;
            case (1, 3): return ref V13;
            case (2, 1): return ref V21;
            case (2, 2): return ref V22;
            case (2, 3): return ref V23;
            default: throw new ArgumentOutOfRangeException(nameof(i), $"V{i}{j}");
        }
    }

    /// <summary>Wij by its indices (hidden i, output j).</summary>
    public ref double W(int i, int j)
    {
        switch ((i, j))
        {
            case (1, 1): return ref W11;
            case (1, 2): return ref W12;
            case (2, 1): return ref W21;
            case (2, 2): return ref W22;
            case (3, 1): return ref W31;
            case (3, 2): return ref W32;
            default: throw new ArgumentOutOfRangeException(nameof(i), $"W{i}{j}");
        }
    }

    /// <summary>dE/dVij of the last <see cref="Backward()"/>.</summary>
    public double GradV(int i, int j) => (i, j) switch
    {
        (1, 1) => GV11, (1, 2) => GV12, (1, 3) => GV13, (2, 1) => GV21, (2, 2) => GV22, (2, 3) => GV23,
        _ => throw new ArgumentOutOfRangeException(nameof(i), $"V{i}{j}"),
    };

    /// <summary>dE/dWij of the last <see cref="Backward()"/>.</summary>
    public double GradW(int i, int j) => (i, j) switch
    {
        (1, 1) => GW11, (1, 2) => GW12, (2, 1) => GW21, (2, 2) => GW22, (3, 1) => GW31, (3, 2) => GW32,
        _ => throw new ArgumentOutOfRangeException(nameof(i), $"W{i}{j}"),
    };

    /// <summary>The parameters in the seed's names, for building the engine's network from the same values.</summary>
    public Backprop.Explain.SeedParameters ToParameters() => new(
        new double[,] { { V11, V12, V13 }, { V21, V22, V23 } },
        new double[,] { { W11, W12 }, { W21, W22 }, { W31, W32 } }, B1, B2);

    /// <summary>The document's eq. (35) as written: the two terms multiplied.</summary>
    public double DocumentEq35() =>
        (-W11 * (Y1 - O1) * O1 * (1 - O1)) * (-W12 * (Y2 - O2) * O2 * (1 - O2) * (X1 * P1 * (1 - P1)));
}
