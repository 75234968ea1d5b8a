using System.Text.Json;
using Backprop.Explain;
using Backprop.Explain.Rendering;
using Backprop.Nn;

namespace Backprop.Cli.Playground;

/// <summary>
/// Tab 1: the seed network. Stateless: the page sends the whole state (parameters, sample, settings) and gets
/// back the engine's numbers for it, after <c>steps</c> updates, plus the explain trace of the state it ends in.
/// </summary>
internal static class SeedApi
{
    /// <summary>The most updates one request may run.</summary>
    public const int MaxSteps = 10_000;

    /// <summary>Parameters, inputs and targets must lie in [-Limit, Limit].</summary>
    public const double Limit = 1e6;

    public sealed record State(double[,] V, double[,] W, double B1, double B2, double[] Input, double[] Target,
        double LearningRate, UpdateOrder Order, bool TrainableBiases);

    public static State Default => new((double[,])SeedParameters.Default.V.Clone(), (double[,])SeedParameters.Default.W.Clone(),
        SeedParameters.Default.B1, SeedParameters.Default.B2, [.. SeedNetwork.DefaultInput], [.. SeedNetwork.DefaultTarget],
        SeedNetwork.DefaultLearningRate, UpdateOrder.Simultaneous, true);

    public static (State State, int Steps, ExplainLanguage Language) Parse(JsonElement body)
    {
        Json.Fields(body, "the seed state", "v", "w", "b1", "b2", "input", "target", "lr", "order", "biases", "steps", "lang");
        var d = Default;
        var state = new State(
            Json.Matrix(body, "v", d.V, -Limit, Limit),
            Json.Matrix(body, "w", d.W, -Limit, Limit),
            Json.Number(body, "b1", d.B1, -Limit, Limit),
            Json.Number(body, "b2", d.B2, -Limit, Limit),
            Json.Numbers(body, "input", d.Input, 2, -Limit, Limit),
            Json.Numbers(body, "target", d.Target, 2, -Limit, Limit),
            Json.Number(body, "lr", d.LearningRate, 0, 100, exclusiveMin: true),
            Json.Choice(body, "order", "simultaneous", "simultaneous", "sequential") == "sequential" ? UpdateOrder.Sequential : UpdateOrder.Simultaneous,
            Json.Choice(body, "biases", "trainable", "trainable", "frozen") == "trainable");
        int steps = Json.Integer(body, "steps", 0, 0, MaxSteps);
        var lang = Json.Choice(body, "lang", "en", "en", "zh") == "zh" ? ExplainLanguage.Chinese : ExplainLanguage.English;
        return (state, steps, lang);
    }

    public static Network<double> Build(State s) =>
        SeedNetwork.Create<double>(new SeedParameters(s.V, s.W, s.B1, s.B2), s.TrainableBiases);

    /// <summary>
    /// Runs <paramref name="steps"/> updates, then one forward and backward pass, with the engine; stops between
    /// updates when <paramref name="cancel"/> is set (the client has gone).
    /// </summary>
    public static object Compute(State s, int steps, ExplainLanguage lang, CancellationToken cancel = default)
    {
        var net = Build(s);
        var history = new List<double>();
        for (int k = 0; k < steps; k++)
        {
            cancel.ThrowIfCancellationRequested();
            history.Add(net.TrainStep(s.Input, s.Target, 1, s.LearningRate, s.Order));
        }
        var p = SeedNetwork.Read(net);
        if (!AllFinite(p))
            throw new PlaygroundInputException("the parameters became infinite or NaN during the updates; lower the learning rate.");
        var now = s with { V = p.V, W = p.W, B1 = p.B1, B2 = p.B2 };

        net.Forward(s.Input, 1);
        double loss = net.ComputeLoss(s.Target);
        net.Backward(s.Target);
        if (steps > 0)
            history.Add(loss);

        var trace = Explainer.Run(Build(now), new ExplainSettings(s.Input, s.Target, s.LearningRate, s.Order));
        return new
        {
            state = Describe(now),
            steps,
            forward = new
            {
                h = Range(3, j => SeedNetwork.H(net, j)),
                p = Range(3, j => SeedNetwork.P(net, j)),
                q = Range(2, j => SeedNetwork.Q(net, j)),
                o = Range(2, j => SeedNetwork.O(net, j)),
            },
            loss,
            gradients = new
            {
                v = Range(2, i => 0.0).Select((_, i) => Range(3, j => SeedNetwork.GradV(net, i + 1, j))).ToArray(),
                w = Range(3, i => 0.0).Select((_, i) => Range(2, j => SeedNetwork.GradW(net, i + 1, j))).ToArray(),
                b1 = SeedNetwork.GradB1(net),
                b2 = SeedNetwork.GradB2(net),
            },
            updated = new
            {
                v = Json.Rows(SeedNetwork.Read(trace.Updated).V),
                w = Json.Rows(SeedNetwork.Read(trace.Updated).W),
                b1 = SeedNetwork.Read(trace.Updated).B1,
                b2 = SeedNetwork.Read(trace.Updated).B2,
            },
            lossHistory = history,
            trace = TraceRenderer.Text(trace, lang),
            slipMarker = ExplainText.For(lang).Slip,
            errata = trace.Errata?.Select(e => new
            {
                id = e.Id,
                equations = e.Equations,
                title = ExplainText.For(lang).ErratumTitle(e.Id),
                documentValue = e.DocumentValue,
                correctValue = e.CorrectValue,
                finiteDifference = e.FiniteDifference,
            }),
        };
    }

    public static object Describe(State s) => new
    {
        v = Json.Rows(s.V),
        w = Json.Rows(s.W),
        b1 = s.B1,
        b2 = s.B2,
        input = s.Input,
        target = s.Target,
        lr = s.LearningRate,
        order = Names.Of(s.Order),
        biases = s.TrainableBiases ? "trainable" : "frozen",
    };

    private static double[] Range(int n, Func<int, double> f) => Enumerable.Range(1, n).Select(f).ToArray();

    private static bool AllFinite(SeedParameters p) =>
        double.IsFinite(p.B1) && double.IsFinite(p.B2) && p.V.Cast<double>().All(double.IsFinite) && p.W.Cast<double>().All(double.IsFinite);
}
