using System.Text.Json;
using Backprop.Data;
using Backprop.Explain;
using Backprop.Explain.Rendering;
using Backprop.IO;
using Backprop.IO.Json;
using Backprop.Nn;
using Backprop.Training;

namespace Backprop.Tests.Explain;

/// <summary>
/// Every number of `backprop explain --format json` for the seed network equals what the engine computed
/// (bit for bit, where the engine has it) and what the independent scalar implementation of the seed's
/// corrected equations gives (to 1e-12). A walker makes sure no number of the output goes unchecked.
/// </summary>
public sealed class ExplainJsonTests
{
    private const double Tol = 1e-12;

    /// <summary>Numbers that are structure (counts, indices), not results.</summary>
    private static readonly HashSet<string> Structural = ["version", "index", "inputs", "units", "layer", "unit", "steps"];

    private sealed class Checker(JsonElement root)
    {
        private readonly HashSet<string> _checked = [];

        public void Near(string path, double expected, double tol = Tol)
        {
            double actual = At(path).GetDouble();
            Assert.True(Math.Abs(actual - expected) <= tol, $"{path}: {actual:R} vs expected {expected:R} (tolerance {tol})");
            _checked.Add(path);
        }

        /// <summary>Exactly the engine's value, and within 1e-12 of the scalar oracle.</summary>
        public void Engine(string path, double engine, double scalar)
        {
            double actual = At(path).GetDouble();
            Assert.True(actual == engine, $"{path}: {actual:R} is not the engine's {engine:R}");
            Near(path, scalar);
        }

        public JsonElement At(string path)
        {
            var e = root;
            foreach (var part in path.Split('.'))
            {
                int bracket = part.IndexOf('[');
                string name = bracket < 0 ? part : part[..bracket];
                if (name.Length > 0)
                    e = e.GetProperty(name);
                if (bracket >= 0)
                    foreach (var index in part[(bracket + 1)..^1].Split("]["))
                        e = e[int.Parse(index)];
            }
            return e;
        }

        public void AllChecked()
        {
            var all = new List<string>();
            Walk(root, "", all);
            var missed = all.Where(p => !_checked.Contains(p)).ToList();
            Assert.True(missed.Count == 0, $"{missed.Count} number(s) not checked, e.g. {string.Join(", ", missed.Take(8))}");
        }

        private static void Walk(JsonElement e, string path, List<string> all)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var p in e.EnumerateObject())
                        if (!Structural.Contains(p.Name) && !(p.Name == "input" && p.Value.ValueKind == JsonValueKind.Number))
                            Walk(p.Value, path.Length == 0 ? p.Name : $"{path}.{p.Name}", all);
                    break;
                case JsonValueKind.Array:
                    int i = 0;
                    foreach (var item in e.EnumerateArray())
                    {
                        Walk(item, $"{path}[{i}]", all);
                        i++;
                    }
                    break;
                case JsonValueKind.Number:
                    all.Add(path.Replace("][", "]["));
                    break;
            }
        }
    }

    private static JsonDocument Json(params string[] extra)
    {
        var (code, output, error) = CliRunner.Run(["explain", "--format", "json", .. extra]);
        Assert.True(code == 0, error);
        return JsonDocument.Parse(output);
    }

    [Fact]
    public void EveryNumberOfTheSeedTraceIsTheEnginesAndTheScalarOracles()
    {
        using var doc = Json();
        var c = new Checker(doc.RootElement);

        // The engine, run here directly.
        var net = SeedNetwork.Create<double>();
        double[] x = [0.05, 0.10], y = [0.01, 0.99];
        net.Forward(x, 1);
        double engineLoss = net.ComputeLoss(y);
        net.Backward(y);
        var z = new[] { net.PreActivations(0).ToArray(), net.PreActivations(1).ToArray() };
        var a = new[] { net.Activations(0).ToArray(), net.Activations(1).ToArray() };
        var d = new[] { net.Deltas(0).ToArray(), net.Deltas(1).ToArray() };
        var before = new[] { net.Layers[0].Weights.ToArray(), net.Layers[1].Weights.ToArray() };
        var bBefore = new[] { net.Layers[0].Biases.ToArray(), net.Layers[1].Biases.ToArray() };
        var gw = new[] { net.Layers[0].WeightGradients.ToArray(), net.Layers[1].WeightGradients.ToArray() };
        var gb = new[] { net.Layers[0].BiasGradients.ToArray(), net.Layers[1].BiasGradients.ToArray() };
        net.ApplyGradientDescent(0.5);
        var after = new[] { net.Layers[0].Weights.ToArray(), net.Layers[1].Weights.ToArray() };
        var bAfter = new[] { net.Layers[0].Biases.ToArray(), net.Layers[1].Biases.ToArray() };
        net.Forward(x, 1);
        double engineLoss1 = net.ComputeLoss(y);
        var engineOut = net.Output.ToArray();

        // The scalar oracle.
        var s = SeedScalar.Default();
        s.Forward();
        s.Backward();
        var s1 = s.Copy();
        s1.UpdateOutput(0.5);
        s1.UpdateHidden(0.5);
        var s1f = s1.Copy();
        s1f.Forward();

        // Scalar values laid out as the engine's layers: [unit][input].
        double[][] sz = [[s.H1, s.H2, s.H3], [s.Q1, s.Q2]];
        double[][] sa = [[s.P1, s.P2, s.P3], [s.O1, s.O2]];
        double[][] sd = [[s.DH1, s.DH2, s.DH3], [s.DO1, s.DO2]];
        double[][][] sw = [[[s.V11, s.V21], [s.V12, s.V22], [s.V13, s.V23]], [[s.W11, s.W21, s.W31], [s.W12, s.W22, s.W32]]];
        double[][][] sgw = [[[s.GV11, s.GV21], [s.GV12, s.GV22], [s.GV13, s.GV23]], [[s.GW11, s.GW21, s.GW31], [s.GW12, s.GW22, s.GW32]]];
        double[][][] swa = [[[s1.V11, s1.V21], [s1.V12, s1.V22], [s1.V13, s1.V23]], [[s1.W11, s1.W21, s1.W31], [s1.W12, s1.W22, s1.W32]]];
        double[][] sb = [[s.B1], [s.B2]], sgb = [[s.GB1], [s.GB2]], sba = [[s1.B1], [s1.B2]];
        double[][] sin = [[s.X1, s.X2], [s.P1, s.P2, s.P3]];

        c.Near("settings.input[0]", 0.05, 0); c.Near("settings.input[1]", 0.10, 0);
        c.Near("settings.target[0]", 0.01, 0); c.Near("settings.target[1]", 0.99, 0);
        c.Near("settings.learning_rate", 0.5, 0);
        c.Engine("loss", engineLoss, s.E);
        c.Engine("loss_history[0]", engineLoss, s.E);
        c.Engine("loss_history[1]", engineLoss1, s1f.E);
        c.Engine("output[0]", engineOut[0], s1f.O1);
        c.Engine("output[1]", engineOut[1], s1f.O2);

        for (int l = 0; l < 2; l++)
        {
            string p = $"layers[{l}]";
            int units = sz[l].Length, inputs = sin[l].Length;
            for (int i = 0; i < inputs; i++)
                c.Engine($"{p}.input[{i}]", l == 0 ? x[i] : a[0][i], sin[l][i]);
            for (int u = 0; u < units; u++)
            {
                c.Engine($"{p}.z[{u}]", z[l][u], sz[l][u]);
                c.Engine($"{p}.a[{u}]", a[l][u], sa[l][u]);
                c.Engine($"{p}.delta[{u}]", d[l][u], sd[l][u]);
                for (int i = 0; i < inputs; i++)
                {
                    c.Engine($"{p}.weights[{u}][{i}]", before[l][u * inputs + i], sw[l][u][i]);
                    c.Engine($"{p}.weights_grad[{u}][{i}]", gw[l][u * inputs + i], sgw[l][u][i]);
                    c.Engine($"{p}.weights_updated[{u}][{i}]", after[l][u * inputs + i], swa[l][u][i]);
                    c.Engine($"updated.layers[{l}].weights[{u}][{i}]", after[l][u * inputs + i], swa[l][u][i]);
                }
            }
            c.Engine($"{p}.biases[0]", bBefore[l][0], sb[l][0]);
            c.Engine($"{p}.biases_grad[0]", gb[l][0], sgb[l][0]);
            c.Engine($"{p}.biases_updated[0]", bAfter[l][0], sba[l][0]);
            c.Engine($"updated.layers[{l}].biases[0]", bAfter[l][0], sba[l][0]);
        }

        // The parameter table, in the seed's order V11..V23, W11..W32, b1, b2.
        (double V, double G, double U)[] rows =
        [
            (s.V11, s.GV11, s1.V11), (s.V12, s.GV12, s1.V12), (s.V13, s.GV13, s1.V13),
            (s.V21, s.GV21, s1.V21), (s.V22, s.GV22, s1.V22), (s.V23, s.GV23, s1.V23),
            (s.W11, s.GW11, s1.W11), (s.W12, s.GW12, s1.W12), (s.W21, s.GW21, s1.W21),
            (s.W22, s.GW22, s1.W22), (s.W31, s.GW31, s1.W31), (s.W32, s.GW32, s1.W32),
            (s.B1, s.GB1, s1.B1), (s.B2, s.GB2, s1.B2),
        ];
        string[] names = ["V11", "V12", "V13", "V21", "V22", "V23", "W11", "W12", "W21", "W22", "W31", "W32", "b1", "b2"];
        for (int r = 0; r < rows.Length; r++)
        {
            var row = c.At($"parameters[{r}]");
            Assert.Equal(names[r], row.GetProperty("name").GetString());
            c.Near($"parameters[{r}].value", rows[r].V);
            c.Near($"parameters[{r}].gradient", rows[r].G);
            c.Near($"parameters[{r}].updated", rows[r].U);
            // The finite difference is an approximation: it must agree with the analytic gradient to ~1e-9.
            c.Near($"parameters[{r}].finite_difference", rows[r].G, 1e-9);
        }
        // And each value/gradient/updated is the engine's, bit for bit (layer arrays are checked above).
        Assert.Equal(gw[0][0], c.At("parameters[0].gradient").GetDouble());
        Assert.Equal(gb[1][0], c.At("parameters[13].gradient").GetDouble());

        // Every equation with a value, in the document's order.
        double dE1dP1 = -s.W11 * (s.Y1 - s.O1) * s.O1 * (1 - s.O1);
        double dE2dP1 = -s.W12 * (s.Y2 - s.O2) * s.O2 * (1 - s.O2);
        (string Label, double Value)[] expected =
        [
            ("4", s.H1), ("5", s.P1), ("4", s.H2), ("5", s.P2), ("4", s.H3), ("5", s.P3),
            ("6", s.Q1), ("7", s.Q2), ("8", s.O1), ("9", s.O2), ("10", s.E),
            ("11", s.GW11), ("12", -(s.Y1 - s.O1)), ("13", s.O1 * (1 - s.O1)), ("14", s.P1), ("15", s1.W11),
            ("16", s.GV11), ("17", s.GV11),
            ("18", (s.Y1 - s.O1) * (s.Y1 - s.O1)), ("18", 0.5 * (s.Y1 - s.O1) * (s.Y1 - s.O1)),
            ("19", (s.Y2 - s.O2) * (s.Y2 - s.O2)), ("19", 0.5 * (s.Y2 - s.O2) * (s.Y2 - s.O2)),
            ("20", dE1dP1), ("21", -(s.Y1 - s.O1)), ("22", s.O1 * (1 - s.O1)), ("23", s.W11), ("24", dE1dP1),
            ("25", dE2dP1), ("26", -(s.Y2 - s.O2)), ("27", s.O2 * (1 - s.O2)), ("28", s.W12), ("28", s.W12), ("29", dE2dP1),
            ("30", s.X1 * s.P1 * (1 - s.P1)), ("31", s.P1 * (1 - s.P1)), ("32", s.X1), ("33", s.X1 * s.P1 * (1 - s.P1)),
            ("35", s.DocumentEq35()), ("35", s.GV11), ("34", s1.V11),
            ("A1", s.DO1), ("A1", s.DO2), ("A2", s.DH1), ("A2", s.DH2), ("A2", s.DH3),
            ("A5", s.GB2), ("A6", s.GB1), ("A7", s1.B2), ("A7", s1.B1),
        ];
        var equations = c.At("equations").EnumerateArray().ToList();
        var valued = equations.Select((e, i) => (e, i)).Where(p => p.e.GetProperty("value").ValueKind == JsonValueKind.Number).ToList();
        Assert.Equal(expected.Select(e => e.Label), valued.Select(v => v.e.GetProperty("label").GetString()));
        var engineNumbers = new HashSet<double>(z.Concat(a).Concat(d).Concat(gw).Concat(gb).Concat(after).Concat(bAfter).SelectMany(v => v)) { engineLoss };
        for (int k = 0; k < expected.Length; k++)
        {
            var (e, i) = valued[k];
            c.Near($"equations[{i}].value", expected[k].Value);
            if (e.GetProperty("source").GetString() == "engine")
                Assert.Contains(e.GetProperty("value").GetDouble(), engineNumbers);
        }
        // Equation 35 as written is flagged, and the corrected one follows it.
        var e35 = equations.Where(e => e.GetProperty("label").GetString() == "35").ToList();
        Assert.Equal(new[] { "as_written", "corrected" }, e35.Select(e => e.GetProperty("status").GetString()));
        Assert.All(e35, e => Assert.Equal("eq35-product", e.GetProperty("erratum").GetString()));

        // The errata: document, correct and finite-difference values.
        var seq = SeedScalar.Default();
        seq.StepSequential(0.5);
        var errata = c.At("errata").EnumerateArray().ToList();
        Assert.Equal(new[] { "missing-half", "eq28-denominator", "eq35-product", "update-order", "bias-b2", "bias-b1" },
            errata.Select(e => e.GetProperty("id").GetString()));
        c.Near("errata[0].document_value", -2 * (s.Y1 - s.O1));
        c.Near("errata[0].correct_value", -(s.Y1 - s.O1));
        c.Near("errata[0].finite_difference", -(s.Y1 - s.O1), 1e-9);
        c.Near("errata[1].correct_value", s.W12);
        c.Near("errata[2].document_value", s.DocumentEq35());
        c.Near("errata[2].correct_value", s.GV11);
        c.Near("errata[2].finite_difference", s.GV11, 1e-9);
        c.Near("errata[3].document_value", seq.GV11);
        c.Near("errata[3].correct_value", s.GV11);
        c.Near("errata[3].finite_difference", s.GV11, 1e-9);
        c.Near("errata[4].correct_value", s.GB2);
        c.Near("errata[4].finite_difference", s.GB2, 1e-9);
        c.Near("errata[5].correct_value", s.GB1);
        c.Near("errata[5].finite_difference", s.GB1, 1e-9);
        // The slips are real: the document's values are far from the finite differences.
        Assert.True(Math.Abs(s.DocumentEq35() - s.GV11) > 1e-4);
        Assert.True(Math.Sign(s.DocumentEq35()) != Math.Sign(s.GV11));
        Assert.True(Math.Abs(seq.GV11 - s.GV11) > 1e-5);
        foreach (int k in new[] { 1, 4, 5 })
            Assert.Equal(JsonValueKind.Null, errata[k].GetProperty("document_value").ValueKind);

        c.AllChecked();
    }

    [Fact]
    public void UpdatedIsAModelFileThatLoadsBackToTheSameNetwork()
    {
        using var doc = Json("--steps", "3");
        string model = doc.RootElement.GetProperty("updated").GetRawText();
        var net = ModelFile.Deserialize<double>(model, "updated").Network;
        var s = SeedScalar.Default();
        for (int k = 0; k < 3; k++)
            s.StepSimultaneous(0.5);
        Assert.Equal(s.V11, SeedNetwork.V(net, 1, 1), Tol);
        Assert.Equal(s.W32, SeedNetwork.W(net, 3, 2), Tol);
        Assert.Equal(s.B1, SeedNetwork.B1(net), Tol);
        Assert.Equal(s.B2, SeedNetwork.B2(net), Tol);
        var history = doc.RootElement.GetProperty("loss_history").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(4, history.Length);
        s.Forward();
        Assert.Equal(s.E, history[3], Tol);
    }

    [Fact]
    public void SequentialOrderIsTheDocumentsAndTheComparisonShowsTheDifference()
    {
        using var doc = Json("--update-order", "sequential");
        var root = doc.RootElement;
        var sim = SeedScalar.Default();
        sim.StepSimultaneous(0.5);
        var seq = SeedScalar.Default();
        seq.StepSequential(0.5);

        var hidden = root.GetProperty("layers")[0];
        Assert.Equal(seq.GV11, hidden.GetProperty("weights_grad")[0][0].GetDouble(), Tol);
        Assert.Equal(seq.GV23, hidden.GetProperty("weights_grad")[2][1].GetDouble(), Tol);
        Assert.Equal(seq.V11, hidden.GetProperty("weights_updated")[0][0].GetDouble(), Tol);
        Assert.Equal(seq.B1, hidden.GetProperty("biases_updated")[0].GetDouble(), Tol);

        var cmp = root.GetProperty("order_comparison");
        var v11 = cmp.GetProperty("parameters")[0];
        Assert.Equal("V11", v11.GetProperty("name").GetString());
        Assert.Equal(sim.GV11, v11.GetProperty("simultaneous_gradient").GetDouble(), Tol);
        Assert.Equal(seq.GV11, v11.GetProperty("sequential_gradient").GetDouble(), Tol);
        Assert.Equal(seq.V11 - sim.V11, v11.GetProperty("difference").GetDouble(), Tol);
        var w11 = cmp.GetProperty("parameters")[6];
        Assert.Equal("W11", w11.GetProperty("name").GetString());
        Assert.Equal(0.0, w11.GetProperty("difference").GetDouble());
        sim.Forward();
        seq.Forward();
        Assert.Equal(sim.E, cmp.GetProperty("loss_after_simultaneous").GetDouble(), Tol);
        Assert.Equal(seq.E, cmp.GetProperty("loss_after_sequential").GetDouble(), Tol);
        Assert.Equal(Math.Abs(seq.B1 - sim.B1), cmp.GetProperty("max_difference").GetDouble(), Tol);

        // The V chain (16)-(35) substitutes the updated W11, W12, as the document's order does.
        var eq23 = root.GetProperty("equations").EnumerateArray().First(e => e.GetProperty("label").GetString() == "23");
        Assert.Equal(seq.W11, eq23.GetProperty("value").GetDouble(), Tol);
    }

    [Fact]
    public void AThousandStepsReduceTheLossEveryStepAndApproachTheTargets()
    {
        var trace = Explainer.Run(SeedNetwork.Create<double>(), ExplainSettings.SeedDefault with { Steps = 1000 });
        Assert.Equal(1001, trace.LossHistory.Count);
        for (int k = 1; k < trace.LossHistory.Count; k++)
            Assert.True(trace.LossHistory[k] < trace.LossHistory[k - 1], $"loss rose at step {k}");
        Assert.True(trace.LossHistory[^1] < 0.01 * trace.LossHistory[0], $"final loss {trace.LossHistory[^1]}");
        // The outputs started at 0.817 and 0.854; after 1000 updates they are near 0.01 and 0.99.
        Assert.InRange(trace.FinalOutput[0], 0.0, 0.1);
        Assert.InRange(trace.FinalOutput[1], 0.9, 1.0);
        // The history is the engine's own: the scalar oracle iterated gives the same losses.
        var s = SeedScalar.Default();
        for (int k = 0; k < 1000; k++)
            s.StepSimultaneous(0.5);
        s.Forward();
        Assert.Equal(s.E, trace.LossHistory[^1], 1e-12);
        Assert.Equal(s.O1, trace.FinalOutput[0], 1e-12);
    }

    /// <summary>A small model with a fitted standardization: the trace then has its preprocessing step.</summary>
    private static ExplainTrace ModelTrace()
    {
        var net = Network<double>.Create(3, [new LayerSpec(2, Activation.Tanh), new LayerSpec(2, Activation.Softmax)], Loss.CrossEntropy, seed: 4);
        var schema = DataSchema.For(TaskKind.Classification, 3) with { FeatureNames = ["height", "width", "depth"] };
        var model = new Model<double>(net, schema, Preprocessing.Create(PreprocessingKind.Standardize, [1, 2, 3], [2, 4, 8]));
        return Explainer.Run(model, new ExplainSettings([3, 6, 11], [0, 1], 0.1));
    }

    public static TheoryData<string> Traces => ["seed", "sequential", "steps-zh", "model"];

    private static string Text(string which) => which switch
    {
        "seed" => ExplainJson.Serialize(Explainer.Seed()),
        "sequential" => ExplainJson.Serialize(Explainer.Seed(ExplainSettings.SeedDefault with { Order = UpdateOrder.Sequential })),
        "steps-zh" => ExplainJson.Serialize(Explainer.Seed(ExplainSettings.SeedDefault with { Steps = 3 }), ExplainLanguage.Chinese),
        _ => ExplainJson.Serialize(ModelTrace()),
    };

    [Theory]
    [MemberData(nameof(Traces))]
    public void TheDocumentIsItsRecordsReadBackStrictlyAndWrittenAgainByteForByte(string which)
    {
        // Every field is a record member (an unknown one would fail the strict read) and the records hold all of it.
        string text = Text(which);
        var doc = ExplainJson.Deserialize(text);
        Assert.Equal(ExplainJson.FormatName, doc.Format);
        using var writtenAgain = new MemoryStream();
        using (var w = new Utf8JsonWriter(writtenAgain, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            JsonSerializer.Serialize(w, doc, BackpropJson.Default.ExplainDocument);
        Assert.Equal(text, System.Text.Encoding.UTF8.GetString(writtenAgain.ToArray()) + "\n");
    }

    [Fact]
    public void VectorsSitOnOneLineAndMatricesOneRowPerLineAsInTheModelFile()
    {
        var trace = Explainer.Seed();
        var lines = ExplainJson.Serialize(trace).Split('\n');
        Assert.Contains("    \"input\": [0.05, 0.1],", lines);
        int weights = Array.IndexOf(lines, "      \"weights\": [");
        Assert.True(weights > 0, "no layer weights");
        Assert.Equal(["        [0.15, 0.2],", "        [0.25, 0.3],", "        [0.35, 0.4]", "      ],"], lines[(weights + 1)..(weights + 5)]);
        // The updated model is the model file's own text, indented one level: one weight row per line.
        string model = ModelFile.Serialize(trace.Updated).TrimEnd('\n');
        string embedded = string.Join('\n', model.Split('\n').Select((l, i) => i == 0 ? l : "  " + l));
        Assert.Contains("  \"updated\": " + embedded + "\n}", ExplainJson.Serialize(trace));
        Assert.Equal(model, ExplainJson.Deserialize(ExplainJson.Serialize(trace)).Updated);
    }

    [Fact]
    public void AModelsPreprocessingNamesItsColumnsAsTheModelFileDoes()
    {
        using var json = JsonDocument.Parse(ExplainJson.Serialize(ModelTrace()));
        var pre = json.RootElement.GetProperty("preprocessing");
        Assert.Equal(["kind", "feature_names", "raw", "offset", "scale", "prepared"], pre.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["height", "width", "depth"], pre.GetProperty("feature_names").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal([1.0, 1.0, 1.0], pre.GetProperty("prepared").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal("model", json.RootElement.GetProperty("network").GetString());
        Assert.StartsWith("layer1.", json.RootElement.GetProperty("equations")[0].GetProperty("section").GetString());
    }

    [Fact]
    public void ANumberThatIsNotFiniteIsWrittenAsNullAndTheRestIsUnchanged()
    {
        var doc = ExplainJson.Document(Explainer.Seed());
        var diverged = doc with
        {
            Loss = double.NaN,
            LossHistory = [doc.LossHistory[0], double.PositiveInfinity],
            Layers = [doc.Layers[0] with { Z = [double.NaN, 1, 2] }, doc.Layers[1]],
            Parameters = [doc.Parameters[0] with { Gradient = double.NegativeInfinity, FiniteDifference = double.NaN }, .. doc.Parameters.Skip(1)],
        };
        string text = JsonSerializer.Serialize(diverged, BackpropJson.Default.ExplainDocument);
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        Assert.Equal(JsonValueKind.Null, root.GetProperty("loss").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("loss_history")[1].ValueKind);
        Assert.Equal(doc.LossHistory[0], root.GetProperty("loss_history")[0].GetDouble());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("layers")[0].GetProperty("z")[0].ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("parameters")[0].GetProperty("gradient").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("parameters")[0].GetProperty("finite_difference").ValueKind);
        Assert.Equal(doc.Parameters[0].Value, root.GetProperty("parameters")[0].GetProperty("value").GetDouble());
        Assert.DoesNotContain("NaN", text);
        Assert.DoesNotContain("Infinity", text);
        // And null reads back as NaN: the records keep "not a number" without inventing one.
        Assert.True(double.IsNaN(ExplainJson.Deserialize(text).Loss));
    }

    [Theory]
    [InlineData("\"loss\": 0.5, \"loss\": 0.25", "Duplicate")]
    [InlineData("\"lost\": 0.5", "'lost'")]
    public void ReadingIsStrict(string field, string expected)
    {
        string text = ExplainJson.Serialize(Explainer.Seed());
        string broken = text.Replace("\"loss\": " + ExplainJson.Document(Explainer.Seed()).Loss.ToString("R", System.Globalization.CultureInfo.InvariantCulture), field);
        Assert.NotEqual(text, broken);
        var e = Assert.Throws<JsonException>(() => ExplainJson.Deserialize(broken));
        Assert.Contains(expected, e.Message);
    }
}
