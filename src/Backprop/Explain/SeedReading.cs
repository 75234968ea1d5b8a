using Backprop.Nn;

namespace Backprop.Explain;

/// <summary>
/// The seed network's numbers after one traced update, read from the engine through <see cref="SeedNetwork"/>'s
/// accessors: the forward values H, P, Q, O, the error terms, every gradient, and the parameters before and after.
/// Arrays are 0-based (<c>H[0]</c> is H1); the 2-d ones are <c>[i - 1, j - 1]</c> as in the seed's Vij and Wij.
/// </summary>
internal sealed class SeedReading
{
    public required double[] X { get; init; }
    public required double[] Y { get; init; }
    public required SeedParameters Before { get; init; }
    public required SeedParameters After { get; init; }
    public required double[] H { get; init; }
    public required double[] P { get; init; }
    public required double[] Q { get; init; }
    public required double[] O { get; init; }
    public required double[] DeltaHidden { get; init; }
    public required double[] DeltaOutput { get; init; }
    public required double[,] GradV { get; init; }
    public required double[,] GradW { get; init; }
    public required double GradB1 { get; init; }
    public required double GradB2 { get; init; }

    /// <summary>
    /// Reads <paramref name="net"/> after a forward pass, a backward pass and an update (simultaneous or sequential),
    /// whose parameters before the update were <paramref name="before"/>.
    /// </summary>
    public static SeedReading Capture(Network<double> net, SeedParameters before, double[] x, double[] y)
    {
        var gv = new double[SeedNetwork.InputCount, SeedNetwork.HiddenCount];
        var gw = new double[SeedNetwork.HiddenCount, SeedNetwork.OutputCount];
        for (int i = 1; i <= SeedNetwork.InputCount; i++)
            for (int j = 1; j <= SeedNetwork.HiddenCount; j++)
                gv[i - 1, j - 1] = SeedNetwork.GradV(net, i, j);
        for (int i = 1; i <= SeedNetwork.HiddenCount; i++)
            for (int j = 1; j <= SeedNetwork.OutputCount; j++)
                gw[i - 1, j - 1] = SeedNetwork.GradW(net, i, j);
        return new SeedReading
        {
            X = x,
            Y = y,
            Before = before,
            After = SeedNetwork.Read(net),
            H = [.. Enumerable.Range(1, SeedNetwork.HiddenCount).Select(j => SeedNetwork.H(net, j))],
            P = [.. Enumerable.Range(1, SeedNetwork.HiddenCount).Select(j => SeedNetwork.P(net, j))],
            Q = [.. Enumerable.Range(1, SeedNetwork.OutputCount).Select(j => SeedNetwork.Q(net, j))],
            O = [.. Enumerable.Range(1, SeedNetwork.OutputCount).Select(j => SeedNetwork.O(net, j))],
            DeltaHidden = net.Deltas(0).ToArray(),
            DeltaOutput = net.Deltas(1).ToArray(),
            GradV = gv,
            GradW = gw,
            GradB1 = SeedNetwork.GradB1(net),
            GradB2 = SeedNetwork.GradB2(net),
        };
    }
}
