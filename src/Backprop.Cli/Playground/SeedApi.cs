using System.Text.Json;
using Backprop.Explain;
using Backprop.Explain.Rendering;
using Backprop.IO;
using Backprop.IO.Json;
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

    /// <summary>The values of the request's text fields.</summary>
    private static readonly Dictionary<string, string[]> Choices = new()
    {
        ["update_order"] = ["simultaneous", "sequential"],
        ["lang"] = ["en", "zh"],
    };

    public static (State State, int Steps, ExplainLanguage Language) Parse(JsonElement body)
    {
        var r = Json.Read(body, BackpropJson.Default.PlaygroundSeedRequest, "the seed state", Choices);
        var d = Default;
        var state = new State(
            Json.Matrix(r.V, "v", d.V, -Limit, Limit),
            Json.Matrix(r.W, "w", d.W, -Limit, Limit),
            Json.Number(r.B1, "b1", d.B1, -Limit, Limit),
            Json.Number(r.B2, "b2", d.B2, -Limit, Limit),
            Json.Numbers(r.Input, "input", d.Input, 2, -Limit, Limit),
            Json.Numbers(r.Target, "target", d.Target, 2, -Limit, Limit),
            Json.Number(r.LearningRate, "learning_rate", d.LearningRate, 0, 100, exclusiveMin: true),
            Json.Choice(r.UpdateOrder, "update_order", "simultaneous", Choices["update_order"]) == "sequential" ? UpdateOrder.Sequential : UpdateOrder.Simultaneous,
            r.TrainableBias ?? d.TrainableBiases);
        int steps = Json.Integer(r.Steps, "steps", 0, 0, MaxSteps);
        var lang = Json.Choice(r.Lang, "lang", "en", Choices["lang"]) == "zh" ? ExplainLanguage.Chinese : ExplainLanguage.English;
        return (state, steps, lang);
    }

    public static Network<double> Build(State s) =>
        SeedNetwork.Create<double>(new SeedParameters(s.V, s.W, s.B1, s.B2), s.TrainableBiases);

    /// <summary>
    /// Runs <paramref name="steps"/> updates, then one forward and backward pass, with the engine; stops between
    /// updates when <paramref name="cancel"/> is set (the client has gone).
    /// </summary>
    public static PlaygroundSeedAnswer Compute(State s, int steps, ExplainLanguage lang, CancellationToken cancel = default)
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
        var updated = SeedNetwork.Read(trace.Updated);
        return new PlaygroundSeedAnswer
        {
            State = Describe(now),
            Steps = steps,
            Forward = new PlaygroundSeedForward
            {
                H = Range(3, j => SeedNetwork.H(net, j)),
                P = Range(3, j => SeedNetwork.P(net, j)),
                Q = Range(2, j => SeedNetwork.Q(net, j)),
                O = Range(2, j => SeedNetwork.O(net, j)),
            },
            Loss = loss,
            Gradients = new PlaygroundSeedValues
            {
                V = [.. Enumerable.Range(1, 2).Select(i => Range(3, j => SeedNetwork.GradV(net, i, j)))],
                W = [.. Enumerable.Range(1, 3).Select(i => Range(2, j => SeedNetwork.GradW(net, i, j)))],
                B1 = SeedNetwork.GradB1(net),
                B2 = SeedNetwork.GradB2(net),
            },
            Updated = new PlaygroundSeedValues { V = Json.Rows(updated.V), W = Json.Rows(updated.W), B1 = updated.B1, B2 = updated.B2 },
            LossHistory = [.. history],
            Trace = TraceRenderer.Text(trace, lang),
            SlipMarker = TraceRenderer.SlipMarker(lang),
            // The explain JSON's own records for the slips: the same fields, the same names.
            Errata = ExplainJson.Errata(trace, lang),
        };
    }

    public static PlaygroundSeedState Describe(State s) => new()
    {
        V = Json.Rows(s.V),
        W = Json.Rows(s.W),
        B1 = s.B1,
        B2 = s.B2,
        Input = s.Input,
        Target = s.Target,
        LearningRate = s.LearningRate,
        UpdateOrder = Names.Of(s.Order),
        TrainableBias = s.TrainableBiases,
    };

    private static double[] Range(int n, Func<int, double> f) => Enumerable.Range(1, n).Select(f).ToArray();

    private static bool AllFinite(SeedParameters p) =>
        double.IsFinite(p.B1) && double.IsFinite(p.B2) && p.V.Cast<double>().All(double.IsFinite) && p.W.Cast<double>().All(double.IsFinite);
}
