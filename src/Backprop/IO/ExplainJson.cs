using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Backprop.Data;
using Backprop.Explain;
using Backprop.Explain.Rendering;
using Backprop.IO.Json;
using Backprop.Nn;

namespace Backprop.IO;

/// <summary>
/// An <see cref="ExplainTrace"/> as JSON for programs (schema: docs/explain-format.md): the trace as an
/// <see cref="ExplainDocument"/>, written through the one context (<see cref="BackpropJson"/>). Every number is
/// written in its shortest round-trip form, so a reader gets back exactly the double the engine computed; a number that
/// is not finite is null. It lives in IO, below Explain, because it embeds the updated model in the model-file format.
/// </summary>
public static class ExplainJson
{
    /// <summary>The <c>format</c> field's value.</summary>
    public const string FormatName = "backprop-explain";

    /// <summary>The <c>version</c> field's value: the layout of docs/explain-format.md.</summary>
    public const int Version = 1;

    /// <summary>Two-space indentation; LaTeX, δ and Chinese written as they are (the default encoder would escape + and every non-ASCII letter).</summary>
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The trace's JSON text (two-space indentation, a final newline); errata texts in <paramref name="language"/>.</summary>
    public static string Serialize(ExplainTrace trace, ExplainLanguage language = ExplainLanguage.English) => Serialize(trace, language, null);

    /// <summary>
    /// The trace's JSON text with a table model's <paramref name="encoding"/> of the raw row (<see cref="TableEncoding"/>)
    /// as its <c>encoding</c> field, the step before the preprocessing.
    /// </summary>
    public static string Serialize(ExplainTrace trace, ExplainLanguage language, ExplainEncodingEntry? encoding)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, WriterOptions))
            JsonSerializer.Serialize(writer, Document(trace, language) with { Encoding = encoding }, BackpropJson.Default.ExplainDocument);
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>
    /// A table model's encoding of one raw row, as <c>predict</c> computes it: <paramref name="values"/> are the raw
    /// values of <paramref name="table"/>'s columns (null: missing), <paramref name="features"/> what
    /// <c>Model.EncodeRow</c> made of them, <paramref name="counts"/> what it treated as missing.
    /// </summary>
    public static ExplainEncodingEntry TableEncoding(TablePipeline table, IReadOnlyList<string?> values, double[] features, EncodeCounts? counts = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(features);
        if (values.Count != table.Columns.Count || features.Length != table.Width)
            throw new ArgumentException($"The table reads {table.Columns.Count} column(s) into {table.Width} feature(s); got {values.Count} value(s) and {features.Length} feature(s).");
        var describe = table.Describe().ToArray();
        var columns = new List<ExplainEncodedColumnEntry>(table.Columns.Count);
        int at = 0;
        for (int j = 0; j < table.Columns.Count; j++)
        {
            var c = table.Columns[j];
            var names = c.FeatureNames().ToArray();
            columns.Add(new ExplainEncodedColumnEntry
            {
                Column = TableColumnSection.Of(c),
                Value = values[j],
                Encoder = describe[j],
                Features = [.. names.Select((n, k) => new ExplainFeatureEntry { Name = n, Value = features[at + k] })],
            });
            at += names.Length;
        }
        var notes = counts?.Describe().ToList();
        return new ExplainEncodingEntry { Columns = columns, Encoded = [.. features], Notes = notes is { Count: > 0 } ? notes : null };
    }

    /// <summary>Reads what <see cref="Serialize(ExplainTrace, ExplainLanguage)"/> wrote (strictly: an unknown field is an error).</summary>
    public static ExplainDocument Deserialize(string json) =>
        JsonSerializer.Deserialize(json, BackpropJson.Default.ExplainDocument)
        ?? throw new JsonException("expected an explain document, found null");

    /// <summary>The trace as the records the JSON is written from.</summary>
    public static ExplainDocument Document(ExplainTrace trace, ExplainLanguage language = ExplainLanguage.English)
    {
        ArgumentNullException.ThrowIfNull(trace);
        IReadOnlyList<ExplainEquationEntry>? equations = null;
        if (trace.SeedSteps is { } steps)
            equations = [.. steps.Select(s => Equation(s.Equation, Snake(s.Section.ToString())))];
        else if (trace.LayerDerivations is { } derivations)
            equations = [.. derivations.SelectMany(d =>
                d.Forward.Select(e => Equation(e, $"layer{d.Layer + 1}.forward")).Concat(
                d.Backward.Select(e => Equation(e, $"layer{d.Layer + 1}.backward"))))];
        return new ExplainDocument
        {
            Format = FormatName,
            Version = Version,
            Network = trace.IsSeed ? "seed" : "model",
            Preprocessing = trace.Preprocessing is { } pre ? new ExplainPreprocessingEntry
            {
                Kind = pre.Kind,
                FeatureNames = pre.Columns,
                Raw = [.. pre.Raw],
                Offset = [.. pre.Offset],
                Scale = [.. pre.Scale],
                Prepared = [.. pre.Prepared],
            } : null,
            Settings = new ExplainSettingsEntry
            {
                Input = [.. trace.Settings.Input],
                Target = [.. trace.Settings.Target],
                LearningRate = trace.Settings.LearningRate,
                UpdateOrder = Names.Of(trace.Settings.Order),
                Steps = trace.Settings.Steps,
            },
            Loss = trace.LossBefore,
            Layers = [.. trace.Layers.Select(Layer)],
            Parameters = [.. trace.Parameters.Select(p => new ExplainParameterEntry
            {
                Name = p.Name,
                Layer = p.Id.Layer,
                Kind = Kind(p.Id),
                Index = p.Id.IsBias ? p.Id.Unit : null,
                Unit = p.Id.IsBias ? null : p.Id.Unit,
                Input = p.Id.IsBias ? null : p.Id.Input,
                Value = p.Value,
                Gradient = p.Gradient,
                FiniteDifference = p.FiniteDifference,
                Updated = p.Updated,
                Trainable = p.Trainable,
            })],
            Equations = equations,
            Errata = Errata(trace, language),
            OrderComparison = trace.Comparison is { } c ? new ExplainComparisonEntry
            {
                LossAfterSimultaneous = c.LossAfterSimultaneous,
                LossAfterSequential = c.LossAfterSequential,
                MaxDifference = c.MaxDifference,
                Parameters = [.. c.Parameters.Select(p => new ExplainComparedParameterEntry
                {
                    Name = p.Name,
                    Layer = p.Id.Layer,
                    Kind = Kind(p.Id),
                    Index = p.Id.IsBias ? p.Id.Unit : null,
                    Unit = p.Id.IsBias ? null : p.Id.Unit,
                    Input = p.Id.IsBias ? null : p.Id.Input,
                    SimultaneousGradient = p.SimultaneousGradient,
                    SequentialGradient = p.SequentialGradient,
                    SimultaneousUpdated = p.SimultaneousUpdated,
                    SequentialUpdated = p.SequentialUpdated,
                    Difference = p.Difference,
                })],
            } : null,
            LossHistory = [.. trace.LossHistory],
            Output = [.. trace.FinalOutput],
            Updated = ModelFile.Serialize(trace.Updated),
        };
    }

    /// <summary>The seed document's slips as the JSON has them (null when the trace has none), in <paramref name="language"/>.</summary>
    public static IReadOnlyList<ExplainErratumEntry>? Errata(ExplainTrace trace, ExplainLanguage language = ExplainLanguage.English)
    {
        ArgumentNullException.ThrowIfNull(trace);
        if (trace.Errata is not { } errata)
            return null;
        var t = ExplainText.For(language);
        return [.. errata.Select(e => new ExplainErratumEntry
        {
            Id = e.Id,
            Equations = e.Equations,
            Title = t.ErratumTitle(e.Id),
            Explanation = t.ErratumText(e.Id),
            Quantity = Latex(e.Quantity),
            DocumentForm = Latex(e.Written),
            CorrectForm = Latex(e.Correct),
            DocumentValue = e.DocumentValue,
            CorrectValue = e.CorrectValue,
            FiniteDifference = e.FiniteDifference,
        })];
    }

    private static ExplainLayerEntry Layer(LayerTrace l) => new()
    {
        Index = l.Index,
        Inputs = l.Inputs,
        Units = l.Units,
        Activation = Names.Of(l.Activation),
        Bias = Names.Of(l.Bias),
        TrainableBias = l.TrainableBias,
        Input = l.Input,
        Weights = Rows(l.Weights, l.Units, l.Inputs),
        Biases = l.Biases,
        Z = l.Z,
        A = l.A,
        Delta = l.Delta,
        WeightsGrad = Rows(l.WeightGradients, l.Units, l.Inputs),
        BiasesGrad = l.BiasGradients,
        WeightsUpdated = Rows(l.WeightsAfter, l.Units, l.Inputs),
        BiasesUpdated = l.BiasesAfter,
    };

    private static ExplainEquationEntry Equation(Equation e, string section) => new()
    {
        Label = e.Label,
        Section = section,
        Status = Snake(e.Status.ToString()),
        Latex = string.Join(" = ", e.Forms.Select(f => ExprFormatter.Latex(f, values: false))),
        Substituted = e.Substitute is { } k ? ExprFormatter.Latex(e.Forms[k], values: true) : null,
        Value = e.Value,
        Source = Snake(e.Source.ToString()),
        Erratum = e.Erratum,
    };

    private static string Kind(ParameterId id) => id.IsBias ? "bias" : "weight";

    private static string? Latex(Expr? e) => e is null ? null : ExprFormatter.Latex(e, values: false);

    /// <summary><c>[unit][input]</c> rows of the row-major <paramref name="values"/>.</summary>
    private static double[][] Rows(double[] values, int rows, int columns) =>
        [.. Enumerable.Range(0, rows).Select(r => values.AsSpan(r * columns, columns).ToArray())];

    private static string Snake(string pascal)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < pascal.Length; i++)
        {
            if (char.IsUpper(pascal[i]) && i > 0)
                sb.Append('_');
            sb.Append(char.ToLowerInvariant(pascal[i]));
        }
        return sb.ToString();
    }
}
