using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Explain;

/// <summary>
/// Runs one forward pass, backward pass and update of a network on one sample with the engine, and records
/// what it computed as an <see cref="ExplainTrace"/>. Nothing here repeats the engine's arithmetic: every
/// z, a, delta, gradient, loss and updated value is read from a <see cref="Network{T}"/> after it ran.
/// </summary>
public static class Explainer
{
    /// <summary>Networks whose layers all have at most this many units and inputs get per-unit equations.</summary>
    public const int DetailLimit = 10;

    /// <summary>
    /// The most updates one explanation runs: 100,000. The trace keeps the loss after every update (8 bytes each) and
    /// prints it, one line an update, so the steps bound both its memory and its output.
    /// </summary>
    public const int MaxSteps = 100_000;

    /// <summary>The seed network with its default parameters (or <paramref name="settings"/>).</summary>
    public static ExplainTrace Seed(ExplainSettings? settings = null) =>
        Run(SeedNetwork.Create<double>(), settings ?? ExplainSettings.SeedDefault);

    /// <summary>
    /// Traces a trained model's whole pipeline (left unchanged) on one RAW sample: the preprocessing step with its numbers,
    /// then the network's forward pass, backward pass and update on the preprocessed input, exactly what
    /// <see cref="Model{T}.Predict(ReadOnlySpan{double})"/> computes first. <paramref name="settings"/> holds the raw input and
    /// the target (network outputs: one-hot for a softmax classifier, 0 or 1 for one sigmoid output).
    /// </summary>
    public static ExplainTrace Run(Model<double> model, ExplainSettings settings)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Input.Count != model.Schema.Features)
            throw new BackpropException($"input: the model takes {model.Schema.Features} raw value(s) per sample, got {settings.Input.Count}.");
        var raw = settings.Input.ToArray();
        var prepared = model.Prepare(raw);
        PreprocessingTrace? step = null;
        if (model.Preprocessing is { IsIdentity: false } pre)
            step = new PreprocessingTrace(Backprop.Data.Preprocessing.NameOf(pre.Kind),
                Enumerable.Range(0, raw.Length).Select(model.Schema.FeatureName).ToArray(), raw, [.. pre.Offset], [.. pre.Scale], prepared);
        return Run(model.Network, settings with { Input = prepared }, step);
    }

    /// <summary>
    /// The sample <c>explain --model</c> uses where none is given, taken from the model: as raw input, the centre of the
    /// training data as the fitted preprocessing records it (the mean for standardize, the middle of the range for
    /// min-max and pixels); for a model without preprocessing that has the seed's 2 inputs and 2 outputs (the seed
    /// network, Mazur's example), the document's sample X = (0.05, 0.10), Y = (0.01, 0.99) and, unless the model
    /// records its own, the document's learning rate 0.5. Null where the model gives no default.
    /// </summary>
    public static (double[]? Input, double[]? Target, double? LearningRate) Defaults(Model<double> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Preprocessing is { IsIdentity: false } pre)
        {
            double[] centre = pre.Kind == Backprop.Data.PreprocessingKind.Standardize
                ? [.. pre.Offset]
                : pre.Offset.Select((o, i) => o + pre.Scale[i] / 2).ToArray();
            return (centre, null, model.Training.LearningRate);
        }
        if (model.Network.Inputs == 2 && model.Network.Outputs == 2)
            return ([.. SeedNetwork.DefaultInput], [.. SeedNetwork.DefaultTarget], model.Training.LearningRate ?? SeedNetwork.DefaultLearningRate);
        return (null, null, model.Training.LearningRate);
    }

    /// <summary>Traces <paramref name="model"/> (left unchanged) on the sample of <paramref name="settings"/>.</summary>
    /// <exception cref="BackpropException">The sample does not fit the model, or a setting is out of range.</exception>
    public static ExplainTrace Run(Network<double> model, ExplainSettings settings) => Run(model, settings, null);

    private static ExplainTrace Run(Network<double> model, ExplainSettings settings, PreprocessingTrace? preprocessing)
    {
        Validate(model, settings);
        double[] x = [.. settings.Input];
        double[] y = [.. settings.Target];
        double lr = settings.LearningRate;
        bool isSeed = SeedNetwork.IsSeedShaped(model) && model.Loss == Loss.HalfSse;
        bool detailed = model.Inputs <= DetailLimit && model.Layers.All(l => l.Units <= DetailLimit);
        var start = model.Clone();

        // Real backpropagation: every gradient from the forward pass's weights, then every update.
        var simultaneous = model.Clone();
        simultaneous.Forward(x, 1);
        double loss = simultaneous.ComputeLoss(y);
        simultaneous.Backward(y);
        simultaneous.ApplyGradientDescent(lr);
        var simLayers = Capture(simultaneous, start, UpdateOrder.Simultaneous);

        // The seed's order: the last layer is updated before the error is propagated through it.
        var sequential = model.Clone();
        sequential.TrainStep(x, y, 1, lr, UpdateOrder.Sequential);
        var seqLayers = Capture(sequential, start, UpdateOrder.Sequential);

        SeedReading? seedSim = null, seedSeq = null;
        if (isSeed)
        {
            var before = SeedNetwork.Read(start);
            seedSim = SeedReading.Capture(simultaneous, before, x, y);
            seedSeq = SeedReading.Capture(sequential, before, x, y);
        }

        var chosen = settings.Order == UpdateOrder.Simultaneous ? simultaneous : sequential;
        var layers = settings.Order == UpdateOrder.Simultaneous ? simLayers : seqLayers;

        // Finite differences at the starting point, for every parameter of a network small enough to print.
        var fdNet = start.Clone();
        double? Fd(int layer, bool bias, int index) =>
            isSeed || detailed ? GradientCheck.NumericGradient(fdNet, x, y, 1, layer, bias, index) : null;

        var rows = Rows(start, layers, isSeed, Fd);
        OrderComparison? comparison = null;
        if (settings.Order == UpdateOrder.Sequential)
            comparison = Compare(start, simLayers, seqLayers, simultaneous, sequential, x, y, isSeed);

        IReadOnlyList<SeedStep>? steps = null;
        IReadOnlyList<Erratum>? errata = null;
        if (seedSim is not null && seedSeq is not null)
        {
            var reading = settings.Order == UpdateOrder.Simultaneous ? seedSim : seedSeq;
            steps = SeedDerivation.Build(reading, settings.Order, lr, loss, start.Layers[0].TrainableBias && start.Layers[1].TrainableBias);
            errata = SeedErrata.Build(seedSim, seedSeq, start, x, y, Fd);
        }

        IReadOnlyList<LayerDerivation>? derivations = null;
        if (detailed && !isSeed)
            derivations = LayerDerivationBuilder.Build(start, layers, y, loss);

        // The remaining updates; TrainStep returns the loss before its update, i.e. after the ones so far.
        var history = new List<double>(settings.Steps + 1) { loss };
        for (int k = 2; k <= settings.Steps; k++)
            history.Add(chosen.TrainStep(x, y, 1, lr, settings.Order));
        chosen.Forward(x, 1);
        history.Add(chosen.ComputeLoss(y));

        return new ExplainTrace
        {
            Preprocessing = preprocessing,
            Settings = settings,
            IsSeed = isSeed,
            Detailed = detailed,
            Inputs = model.Inputs,
            Loss = model.Loss,
            ParameterCount = model.ParameterCount,
            Layers = layers,
            LossBefore = loss,
            LossHistory = history,
            FinalOutput = chosen.Output.ToArray(),
            Updated = chosen,
            Parameters = rows,
            SeedSteps = steps,
            Errata = errata,
            LayerDerivations = derivations,
            Comparison = comparison,
        };
    }

    private static void Validate(Network<double> model, ExplainSettings s)
    {
        if (s.Input.Count != model.Inputs)
            throw new BackpropException($"input: expected {model.Inputs} value(s), one per input of the network, got {s.Input.Count}.");
        if (s.Target.Count != model.Outputs)
            throw new BackpropException($"target: expected {model.Outputs} value(s), one per output of the network, got {s.Target.Count}.");
        if (s.Input.Any(v => !double.IsFinite(v)) || s.Target.Any(v => !double.IsFinite(v)))
            throw new BackpropException("input and target must be finite numbers.");
        if (!(s.LearningRate > 0) || !double.IsFinite(s.LearningRate))
            throw new BackpropException($"learning rate: expected a positive number, got {s.LearningRate}.");
        if (s.Steps < 1 || s.Steps > MaxSteps)
            throw new BackpropException($"steps: expected 1 to {MaxSteps:N0} updates, got {s.Steps:N0} (the loss after every update is kept and printed).");
        if (!Enum.IsDefined(s.Order))
            throw new BackpropException($"update order: unknown value {s.Order}.");
    }

    /// <summary>
    /// Every layer's numbers from <paramref name="net"/> after its first update; <paramref name="start"/> holds
    /// the parameters before it.
    /// </summary>
    private static LayerTrace[] Capture(Network<double> net, Network<double> start, UpdateOrder order)
    {
        var result = new LayerTrace[net.Layers.Count];
        for (int l = 0; l < net.Layers.Count; l++)
        {
            var before = start.Layers[l];
            var after = net.Layers[l];
            // The weights the error reached this layer through: the next layer's, before the update for real
            // backpropagation, after it in the sequential order.
            double[] back = l + 1 < net.Layers.Count
                ? (order == UpdateOrder.Sequential ? net.Layers[l + 1] : start.Layers[l + 1]).Weights.ToArray()
                : [];
            result[l] = new LayerTrace(l, after.Inputs, after.Units, after.Activation, after.Bias, after.TrainableBias,
                Input: (l == 0 ? net.Input : net.Activations(l - 1)).ToArray(),
                Weights: before.Weights.ToArray(),
                Biases: before.Biases.ToArray(),
                Z: net.PreActivations(l).ToArray(),
                A: net.Activations(l).ToArray(),
                Delta: net.Deltas(l).ToArray(),
                WeightGradients: after.WeightGradients.ToArray(),
                BiasGradients: after.BiasGradients.ToArray(),
                WeightsAfter: after.Weights.ToArray(),
                BiasesAfter: after.Biases.ToArray(),
                BackpropWeights: back);
        }
        return result;
    }

    /// <summary>Every parameter, in the seed's order (V, W, b1, b2) for the seed, else layer by layer.</summary>
    private static List<ParameterRow> Rows(Network<double> start, LayerTrace[] layers, bool isSeed,
        Func<int, bool, int, double?> fd)
    {
        var rows = new List<ParameterRow>();
        foreach (var id in ParameterIds(start, isSeed))
        {
            var layer = layers[id.Layer];
            var (name, latex) = ParameterNames.Of(id, isSeed, start.Layers[id.Layer].Bias);
            if (id.IsBias)
                rows.Add(new ParameterRow(id, name, latex, layer.Biases[id.Unit], layer.BiasGradients[id.Unit],
                    fd(id.Layer, true, id.Unit), layer.BiasesAfter[id.Unit], layer.TrainableBias));
            else
            {
                int index = id.Unit * layer.Inputs + id.Input;
                rows.Add(new ParameterRow(id, name, latex, layer.Weights[index], layer.WeightGradients[index],
                    fd(id.Layer, false, index), layer.WeightsAfter[index], true));
            }
        }
        return rows;
    }

    internal static IEnumerable<ParameterId> ParameterIds(Network<double> net, bool isSeed)
    {
        if (isSeed)
        {
            // V11, V12, V13, V21, ...: input i, hidden j, as the document reads them.
            for (int i = 0; i < SeedNetwork.InputCount; i++)
                for (int j = 0; j < SeedNetwork.HiddenCount; j++)
                    yield return ParameterId.Weight(0, j, i);
            for (int i = 0; i < SeedNetwork.HiddenCount; i++)
                for (int j = 0; j < SeedNetwork.OutputCount; j++)
                    yield return ParameterId.Weight(1, j, i);
            yield return ParameterId.Bias(0, 0);
            yield return ParameterId.Bias(1, 0);
            yield break;
        }
        for (int l = 0; l < net.Layers.Count; l++)
        {
            var layer = net.Layers[l];
            for (int u = 0; u < layer.Units; u++)
                for (int i = 0; i < layer.Inputs; i++)
                    yield return ParameterId.Weight(l, u, i);
            for (int b = 0; b < layer.Biases.Length; b++)
                yield return ParameterId.Bias(l, b);
        }
    }

    private static OrderComparison Compare(Network<double> start, LayerTrace[] sim, LayerTrace[] seq,
        Network<double> simNet, Network<double> seqNet, double[] x, double[] y, bool isSeed)
    {
        var list = new List<OrderDifference>();
        foreach (var id in ParameterIds(start, isSeed))
        {
            var (name, latex) = ParameterNames.Of(id, isSeed, start.Layers[id.Layer].Bias);
            var a = sim[id.Layer];
            var b = seq[id.Layer];
            int index = id.IsBias ? id.Unit : id.Unit * a.Inputs + id.Input;
            list.Add(id.IsBias
                ? new OrderDifference(id, name, latex, a.BiasGradients[index], b.BiasGradients[index], a.BiasesAfter[index], b.BiasesAfter[index])
                : new OrderDifference(id, name, latex, a.WeightGradients[index], b.WeightGradients[index], a.WeightsAfter[index], b.WeightsAfter[index]));
        }
        // Losses after one step, each on a copy so the traced networks keep their buffers.
        var s1 = simNet.Clone();
        s1.Forward(x, 1);
        var s2 = seqNet.Clone();
        s2.Forward(x, 1);
        return new OrderComparison(list, s1.ComputeLoss(y), s2.ComputeLoss(y));
    }
}

/// <summary>Names of parameters: the seed's (V11, W32, b1, b2) or generic (w1[2,1], b1[2], b1).</summary>
public static class ParameterNames
{
    /// <summary>Plain and LaTeX names of <paramref name="id"/>. Indices are printed 1-based.</summary>
    public static (string Plain, string Latex) Of(ParameterId id, bool seed, BiasMode bias)
    {
        if (seed)
        {
            if (id.IsBias)
                return id.Layer == 0 ? ("b1", "b1") : ("b2", "b2");
            // Weight(unit j, input i) of the hidden layer is Vij; of the output layer Wij.
            string n = $"{(id.Layer == 0 ? 'V' : 'W')}{id.Input + 1}{id.Unit + 1}";
            return (n, n);
        }
        int l = id.Layer + 1;
        if (id.IsBias)
            return bias == BiasMode.Shared
                ? ($"b{l}", $"b^{{({l})}}")
                : ($"b{l}[{id.Unit + 1}]", $"b^{{({l})}}_{{{id.Unit + 1}}}");
        return ($"w{l}[{id.Unit + 1},{id.Input + 1}]", $"w^{{({l})}}_{{{id.Unit + 1},{id.Input + 1}}}");
    }
}
