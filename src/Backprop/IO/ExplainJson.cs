using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Backprop.Explain;
using Backprop.Explain.Rendering;
using Backprop.Nn;

namespace Backprop.IO;

/// <summary>
/// An <see cref="ExplainTrace"/> as JSON for programs (schema: docs/explain-format.md). Every number is written
/// in its shortest round-trip form, so a reader gets back exactly the double the engine computed. It lives in IO,
/// below Explain, because it embeds the updated model in the model-file format.
/// </summary>
public static class ExplainJson
{
    public const string FormatName = "backprop-explain";
    public const int Version = 1;

    public static string Serialize(ExplainTrace trace, ExplainLanguage language = ExplainLanguage.English)
    {
        var t = ExplainText.For(language);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("format", FormatName);
            w.WriteNumber("version", Version);
            w.WriteString("network", trace.IsSeed ? "seed" : "model");
            if (trace.Preprocessing is { } pre)
            {
                w.WriteStartObject("preprocessing");
                w.WriteString("kind", pre.Kind);
                w.WriteStartArray("columns");
                foreach (var column in pre.Columns)
                    w.WriteStringValue(column);
                w.WriteEndArray();
                foreach (var (name, values) in new[] { ("raw", pre.Raw), ("offset", pre.Offset), ("scale", pre.Scale), ("prepared", pre.Prepared) })
                    Array(w, name, values);
                w.WriteEndObject();
            }
            Settings(w, trace.Settings);
            Number(w, "loss", trace.LossBefore);
            w.WriteStartArray("layers");
            foreach (var l in trace.Layers)
                Layer(w, l);
            w.WriteEndArray();
            w.WriteStartArray("parameters");
            foreach (var p in trace.Parameters)
            {
                w.WriteStartObject();
                w.WriteString("name", p.Name);
                Id(w, p.Id);
                Number(w, "value", p.Value);
                Number(w, "gradient", p.Gradient);
                Number(w, "finite_difference", p.FiniteDifference);
                Number(w, "updated", p.Updated);
                w.WriteBoolean("trainable", p.Trainable);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (trace.SeedSteps is { } steps)
            {
                w.WriteStartArray("equations");
                foreach (var (section, e) in steps)
                    Equation(w, e, Snake(section.ToString()));
                w.WriteEndArray();
            }
            if (trace.LayerDerivations is { } derivations)
            {
                w.WriteStartArray("equations");
                foreach (var d in derivations)
                {
                    foreach (var e in d.Forward)
                        Equation(w, e, $"layer{d.Layer + 1}.forward");
                    foreach (var e in d.Backward)
                        Equation(w, e, $"layer{d.Layer + 1}.backward");
                }
                w.WriteEndArray();
            }
            if (trace.Errata is { } errata)
            {
                w.WriteStartArray("errata");
                foreach (var e in errata)
                {
                    w.WriteStartObject();
                    w.WriteString("id", e.Id);
                    w.WriteString("equations", e.Equations);
                    w.WriteString("title", t.ErratumTitle(e.Id));
                    w.WriteString("explanation", t.ErratumText(e.Id));
                    Latex(w, "quantity", e.Quantity);
                    Latex(w, "document_form", e.Written);
                    Latex(w, "correct_form", e.Correct);
                    Number(w, "document_value", e.DocumentValue);
                    Number(w, "correct_value", e.CorrectValue);
                    Number(w, "finite_difference", e.FiniteDifference);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            if (trace.Comparison is { } c)
            {
                w.WriteStartObject("order_comparison");
                Number(w, "loss_after_simultaneous", c.LossAfterSimultaneous);
                Number(w, "loss_after_sequential", c.LossAfterSequential);
                Number(w, "max_difference", c.MaxDifference);
                w.WriteStartArray("parameters");
                foreach (var p in c.Parameters)
                {
                    w.WriteStartObject();
                    w.WriteString("name", p.Name);
                    Id(w, p.Id);
                    Number(w, "simultaneous_gradient", p.SimultaneousGradient);
                    Number(w, "sequential_gradient", p.SequentialGradient);
                    Number(w, "simultaneous_updated", p.SimultaneousUpdated);
                    Number(w, "sequential_updated", p.SequentialUpdated);
                    Number(w, "difference", p.Difference);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            Array(w, "loss_history", trace.LossHistory);
            Array(w, "output", trace.FinalOutput);
            w.WritePropertyName("updated");
            using (var model = JsonDocument.Parse(ModelFile.Serialize(trace.Updated)))
                model.RootElement.WriteTo(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void Settings(Utf8JsonWriter w, ExplainSettings s)
    {
        w.WriteStartObject("settings");
        Array(w, "input", s.Input);
        Array(w, "target", s.Target);
        Number(w, "learning_rate", s.LearningRate);
        w.WriteString("update_order", Names.Of(s.Order));
        w.WriteNumber("steps", s.Steps);
        w.WriteEndObject();
    }

    private static void Layer(Utf8JsonWriter w, LayerTrace l)
    {
        w.WriteStartObject();
        w.WriteNumber("index", l.Index);
        w.WriteNumber("inputs", l.Inputs);
        w.WriteNumber("units", l.Units);
        w.WriteString("activation", Names.Of(l.Activation));
        w.WriteString("bias", Names.Of(l.Bias));
        w.WriteBoolean("trainable_bias", l.TrainableBias);
        Array(w, "input", l.Input);
        Matrix(w, "weights", l.Weights, l.Units, l.Inputs);
        Array(w, "biases", l.Biases);
        Array(w, "z", l.Z);
        Array(w, "a", l.A);
        Array(w, "delta", l.Delta);
        Matrix(w, "weights_grad", l.WeightGradients, l.Units, l.Inputs);
        Array(w, "biases_grad", l.BiasGradients);
        Matrix(w, "weights_updated", l.WeightsAfter, l.Units, l.Inputs);
        Array(w, "biases_updated", l.BiasesAfter);
        w.WriteEndObject();
    }

    private static void Equation(Utf8JsonWriter w, Equation e, string section)
    {
        w.WriteStartObject();
        w.WriteString("label", e.Label);
        w.WriteString("section", section);
        w.WriteString("status", Snake(e.Status.ToString()));
        w.WriteString("latex", string.Join(" = ", e.Forms.Select(f => ExprFormatter.Latex(f, values: false))));
        if (e.Substitute is { } k)
            w.WriteString("substituted", ExprFormatter.Latex(e.Forms[k], values: true));
        Number(w, "value", e.Value);
        w.WriteString("source", Snake(e.Source.ToString()));
        if (e.Erratum is { } id)
            w.WriteString("erratum", id);
        w.WriteEndObject();
    }

    private static void Id(Utf8JsonWriter w, ParameterId id)
    {
        w.WriteNumber("layer", id.Layer);
        w.WriteString("kind", id.IsBias ? "bias" : "weight");
        w.WriteNumber(id.IsBias ? "index" : "unit", id.Unit);
        if (!id.IsBias)
            w.WriteNumber("input", id.Input);
    }

    private static void Latex(Utf8JsonWriter w, string name, Expr? e)
    {
        if (e is null)
            w.WriteNull(name);
        else
            w.WriteString(name, ExprFormatter.Latex(e, values: false));
    }

    /// <summary>A number, or null where there is none (or it is not finite, which JSON cannot hold).</summary>
    private static void Number(Utf8JsonWriter w, string name, double? v)
    {
        if (v is { } x && double.IsFinite(x))
            w.WriteNumber(name, x);
        else
            w.WriteNull(name);
    }

    private static void Array(Utf8JsonWriter w, string name, IEnumerable<double> values)
    {
        w.WritePropertyName(name);
        w.WriteRawValue(Row(values), skipInputValidation: true);
    }

    /// <summary>
    /// <c>[unit][input]</c> rows from the row-major <paramref name="values"/>, one row per line as in the model file.
    /// Matrices sit at one depth only (a property of a layer), hence the fixed indentation.
    /// </summary>
    private static void Matrix(Utf8JsonWriter w, string name, double[] values, int rows, int columns)
    {
        const string rowIndent = "        ", closeIndent = "      ";
        var sb = new StringBuilder("[\n");
        for (int r = 0; r < rows; r++)
        {
            sb.Append(rowIndent).Append(Row(values.Skip(r * columns).Take(columns)));
            sb.Append(r < rows - 1 ? ",\n" : "\n");
        }
        sb.Append(closeIndent).Append(']');
        w.WritePropertyName(name);
        w.WriteRawValue(sb.ToString(), skipInputValidation: true);
    }

    /// <summary>A compact <c>[a, b, c]</c> of shortest round-trip numbers (null where not finite).</summary>
    private static string Row(IEnumerable<double> values) =>
        "[" + string.Join(", ", values.Select(v => double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "null")) + "]";

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
