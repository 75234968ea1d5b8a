using System.Numerics;
using System.Text.Json;
using Backprop.Data;
using Backprop.Nn;
using Google.Protobuf;

namespace Backprop.IO;

/// <summary>
/// The ONNX export of a table model (docs/onnx.md, "Tables"): one graph input per raw column (float [N, 1] for a
/// numeric or boolean column, NaN for missing; string [N, 1] for a categorical or date column), the fitted encoders
/// as ai.onnx.ml operators (Imputer for the medians, LabelEncoder and OneHotEncoder for the categories, Scaler for
/// the standardisation) and default-domain operators for the missing indicators and the date parts (StringSplit,
/// Cast, the civil-calendar arithmetic, Sin, Cos), then the network. Opset 20, ai.onnx.ml 3.
/// </summary>
public static partial class OnnxExport
{
    /// <summary>The default opset of a table model's graph (StringSplit is opset 20).</summary>
    public const long TableOpsetVersion = 20;

    /// <summary>The ai.onnx.ml opset of a table model's graph.</summary>
    public const long MlOpsetVersion = 3;

    private const string Ml = "ai.onnx.ml";

    private static byte[] TableToBytes<T>(Network<T> network, Preprocessing preprocessing, TablePipeline table, IReadOnlyList<string>? classes)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var net = typeof(T) == typeof(float) ? (Network<float>)(object)network : network.Convert<float>();
        if (table.Columns.Any(c => c.Kind == ColumnKind.Date && c.DateParts.Contains("time")))
            throw new BackpropException("ONNX export: a date column with a time of day is not exported yet (the date parts are; times are not).");
        var g = new Graph();
        var features = new List<string>();
        var inputs = new List<byte[]>();
        var missing = MissingKeys(table.Missing);
        for (int j = 0; j < table.Columns.Count; j++)
        {
            var c = table.Columns[j];
            string x = c.Name;
            string p = $"c{j}";
            switch (c.Kind)
            {
                case ColumnKind.Numeric or ColumnKind.Boolean:
                    inputs.Add(ValueInfo(x, 1));
                    features.Add(g.Node("Imputer", [x], p + "_imputed", Ml,
                        FloatsAttribute("imputed_value_floats", [(float)c.Median]), FloatAttribute("replaced_value_float", float.NaN)));
                    if (c.Indicator)
                        features.Add(g.Node("Cast", [g.Node("IsNaN", [x], p + "_isnan")], p + "_indicator", attributes: IntAttribute("to", 1)));
                    break;
                case ColumnKind.Categorical:
                {
                    inputs.Add(StringValueInfo(x));
                    if (c.Width == 0)
                        break;
                    const string Other = "(other)", Missing = "(missing)", None = "(none)";
                    string missingTo = c.MissingCategory ? Missing : None;
                    var keys = c.Categories.Concat(missing).ToArray();
                    var values = c.Categories.Concat(missing.Select(_ => missingTo)).ToArray();
                    string mapped = g.Node("LabelEncoder", [x], p + "_mapped", Ml,
                        StringsAttribute("keys_strings", keys), StringsAttribute("values_strings", values),
                        StringAttribute("default_string", c.Other ? Other : missingTo));
                    var cats = c.Categories.ToList();
                    if (c.Other)
                        cats.Add(Other);
                    if (c.MissingCategory)
                        cats.Add(Missing);
                    string hot = g.Node("OneHotEncoder", [mapped], p + "_onehot", Ml, StringsAttribute("cats_strings", cats), IntAttribute("zeros", 1));
                    features.Add(g.Node("Reshape", [hot, g.Int64s(p + "_shape", [-1, cats.Count])], p + "_features"));
                    break;
                }
                case ColumnKind.Date:
                    inputs.Add(StringValueInfo(x));
                    features.AddRange(DateFeatures(g, c, x, p, missing));
                    break;
            }
        }
        string current = features.Count == 1 ? features[0] : g.Node("Concat", features, "encoded", attributes: IntAttribute("axis", 1));
        if (!preprocessing.IsIdentity)
            current = g.Node("Scaler", [current], "scaled", Ml,
                FloatsAttribute("offset", preprocessing.Offset.Select(v => (float)v).ToArray()),
                FloatsAttribute("scale", preprocessing.Scale.Select(v => (float)(1 / v)).ToArray()));
        AddNetwork(net, current, g.Nodes, g.Initializers);

        var graph = Message(o =>
        {
            foreach (var n in g.Nodes)
                WriteMessage(o, 1, n);
            WriteString(o, 2, "backprop");
            foreach (var t in g.Initializers)
                WriteMessage(o, 5, t);
            WriteString(o, 10, $"A table model: {table.Columns.Count} raw columns encoded into {table.Width} features, then a feed-forward network.");
            foreach (var i in inputs)
                WriteMessage(o, 11, i);
            WriteMessage(o, 12, ValueInfo(OutputName, net.Outputs));
        });
        return Message(o =>
        {
            WriteInt64(o, 1, IrVersion + 2);
            WriteString(o, 2, "Backprop");
            WriteString(o, 3, typeof(OnnxExport).Assembly.GetName().Version?.ToString(3) ?? "0");
            WriteString(o, 4, "backprop");
            WriteInt64(o, 5, 1);
            WriteMessage(o, 7, graph);
            WriteMessage(o, 8, Message(s => WriteInt64(s, 2, TableOpsetVersion)));
            WriteMessage(o, 8, Message(s =>
            {
                WriteString(s, 1, Ml);
                WriteInt64(s, 2, MlOpsetVersion);
            }));
            WriteMessage(o, 14, Entry("backprop.preprocessing", Preprocessing.NameOf(preprocessing.Kind)));
            WriteMessage(o, 14, Entry("backprop.columns", JsonSerializer.Serialize(table.Columns.Select(c => c.Name).ToArray(), Json.BackpropJson.Compact.IReadOnlyListString)));
            if (classes is not null)
                WriteMessage(o, 14, Entry("classes", JsonSerializer.Serialize(classes, Json.BackpropJson.Compact.IReadOnlyListString)));
        });
    }

    /// <summary>The missing spellings as the graph compares them (exactly): each as given, lower- and upper-case.</summary>
    private static string[] MissingKeys(IReadOnlyList<string> spellings) =>
        spellings.SelectMany(s => new[] { s.Trim(), s.Trim().ToLowerInvariant(), s.Trim().ToUpperInvariant() }).Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// A date column's features: "yyyy-MM-dd..." split into year, month and day (StringSplit, Cast), the day number of
    /// the civil calendar (days_from_civil), the weekday and day of the year from it, each part's sine and cosine.
    /// </summary>
    private static IEnumerable<string> DateFeatures(Graph g, EncodedColumn c, string x, string p, string[] missing)
    {
        string isMissing = g.Node("Cast", [g.Node("LabelEncoder", [x], p + "_missing_code", Ml,
            StringsAttribute("keys_strings", missing), IntsAttribute("values_int64s", missing.Select(_ => 1L).ToArray()), IntAttribute("default_int64", 0))],
            p + "_missing", attributes: IntAttribute("to", 9));
        string safe = g.Node("Where", [isMissing, g.Strings(p + "_placeholder", ["2000-01-01"]), x], p + "_safe");
        string Part(string input, string delimiter, int index, string name)
        {
            string split = g.Node("StringSplit", [input], [name + "_parts", name + "_count"], attributes: [StringAttribute("delimiter", delimiter)]);
            return g.Node("Gather", [split, g.Int64Scalar(name + "_index", index)], name, attributes: IntAttribute("axis", 2));
        }
        string yearText = Part(safe, "-", 0, p + "_year_text");
        string monthText = Part(safe, "-", 1, p + "_month_text");
        string dayText = Part(Part(Part(safe, "-", 2, p + "_rest"), "T", 0, p + "_rest_t"), " ", 0, p + "_day_text");
        string y = g.Node("Cast", [yearText], p + "_y", attributes: IntAttribute("to", 1));
        string m = g.Node("Cast", [monthText], p + "_m", attributes: IntAttribute("to", 1));
        string d = g.Node("Cast", [dayText], p + "_d", attributes: IntAttribute("to", 1));
        string F(float v) => g.Float($"{p}_k{g.Count}", v);
        string Op(string op, string a, string b) => g.Node(op, [a, b], $"{p}_t{g.Count}");
        string Floor(string a) => g.Node("Floor", [a], $"{p}_t{g.Count}");
        // days_from_civil (H. Hinnant): the days since 1970-01-01 of y-m-d, in float32 (exact for these magnitudes).
        string Days(string year, string month, string day)
        {
            string early = g.Node("Cast", [Op("Less", month, F(2.5f))], $"{p}_t{g.Count}", attributes: IntAttribute("to", 1));
            string yy = Op("Sub", year, early);
            string era = Floor(Op("Div", yy, F(400)));
            string yoe = Op("Sub", yy, Op("Mul", era, F(400)));
            string mp = Op("Add", Op("Sub", month, F(3)), Op("Mul", early, F(12)));
            string doy = Op("Sub", Op("Add", Floor(Op("Div", Op("Add", Op("Mul", mp, F(153)), F(2)), F(5))), day), F(1));
            string doe = Op("Add", Op("Sub", Op("Add", Op("Mul", yoe, F(365)), Floor(Op("Div", yoe, F(4)))), Floor(Op("Div", yoe, F(100)))), doy);
            return Op("Sub", Op("Add", Op("Mul", era, F(146097)), doe), F(719468));
        }
        yield return g.Node("Where", [isMissing, F((float)c.Median), y], p + "_year");
        string days = Days(y, m, d);
        foreach (string part in c.DateParts)
        {
            string angle = part switch
            {
                "month" => Op("Mul", Op("Sub", m, F(1)), F((float)(2 * Math.PI / 12))),
                "weekday" => Op("Mul", g.Node("Mod", [Op("Add", days, F(700004)), F(7)], $"{p}_t{g.Count}", attributes: IntAttribute("fmod", 1)), F((float)(2 * Math.PI / 7))),
                _ => Op("Mul", Op("Sub", days, Days(y, F(1), F(1))), F((float)(2 * Math.PI / 366))),
            };
            yield return g.Node("Where", [isMissing, F(0), g.Node("Sin", [angle], $"{p}_{part}_sin_raw")], $"{p}_{part}_sin");
            yield return g.Node("Where", [isMissing, F(0), g.Node("Cos", [angle], $"{p}_{part}_cos_raw")], $"{p}_{part}_cos");
        }
        if (c.Indicator)
            yield return g.Node("Cast", [isMissing], p + "_indicator", attributes: IntAttribute("to", 1));
    }

    /// <summary>Nodes and initializers as they are added, with unique names.</summary>
    private sealed class Graph
    {
        public List<byte[]> Nodes { get; } = [];
        public List<byte[]> Initializers { get; } = [];
        public int Count => Nodes.Count + Initializers.Count;

        public string Node(string op, IEnumerable<string> inputs, string output, string? domain = null, params byte[][] attributes) =>
            Node(op, inputs, [output], domain, attributes);

        public string Node(string op, IEnumerable<string> inputs, string[] outputs, string? domain = null, params byte[][] attributes)
        {
            Nodes.Add(Message(o =>
            {
                foreach (string i in inputs)
                    WriteString(o, 1, i);
                foreach (string output in outputs)
                    WriteString(o, 2, output);
                WriteString(o, 3, outputs[0] + "_node");
                WriteString(o, 4, op);
                foreach (var a in attributes)
                    WriteMessage(o, 5, a);
                if (domain is not null)
                    WriteString(o, 7, domain);
            }));
            return outputs[0];
        }

        public string Float(string name, float value)
        {
            Initializers.Add(Tensor(name, [1], [value]));
            return name;
        }

        public string Int64s(string name, long[] values)
        {
            Initializers.Add(Message(o =>
            {
                WriteInt64(o, 1, values.Length);
                WriteInt64(o, 2, 7);
                WriteString(o, 8, name);
                foreach (long v in values)
                    WriteInt64(o, 7, v);
            }));
            return name;
        }

        public string Int64Scalar(string name, long value)
        {
            Initializers.Add(Message(o =>
            {
                WriteInt64(o, 2, 7);
                WriteString(o, 8, name);
                WriteInt64(o, 7, value);
            }));
            return name;
        }

        public string Strings(string name, string[] values)
        {
            Initializers.Add(Message(o =>
            {
                WriteInt64(o, 1, values.Length);
                WriteInt64(o, 2, 8);
                foreach (string v in values)
                {
                    o.WriteTag(6, WireFormat.WireType.LengthDelimited);
                    o.WriteBytes(ByteString.CopyFromUtf8(v));
                }
                WriteString(o, 8, name);
            }));
            return name;
        }
    }

    /// <summary>AttributeProto: name (1), floats (7), type (20) = FLOATS (6).</summary>
    private static byte[] FloatsAttribute(string name, float[] values) => Message(o =>
    {
        WriteString(o, 1, name);
        foreach (float v in values)
        {
            o.WriteTag(7, WireFormat.WireType.Fixed32);
            o.WriteFloat(v);
        }
        WriteInt64(o, 20, 6);
    });

    /// <summary>AttributeProto: name (1), ints (8), type (20) = INTS (7).</summary>
    private static byte[] IntsAttribute(string name, long[] values) => Message(o =>
    {
        WriteString(o, 1, name);
        foreach (long v in values)
            WriteInt64(o, 8, v);
        WriteInt64(o, 20, 7);
    });

    /// <summary>AttributeProto: name (1), s (4), type (20) = STRING (3).</summary>
    private static byte[] StringAttribute(string name, string value) => Message(o =>
    {
        WriteString(o, 1, name);
        o.WriteTag(4, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFromUtf8(value));
        WriteInt64(o, 20, 3);
    });

    /// <summary>AttributeProto: name (1), strings (9), type (20) = STRINGS (8).</summary>
    private static byte[] StringsAttribute(string name, IEnumerable<string> values) => Message(o =>
    {
        WriteString(o, 1, name);
        foreach (string v in values)
        {
            o.WriteTag(9, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(ByteString.CopyFromUtf8(v));
        }
        WriteInt64(o, 20, 8);
    });

    /// <summary>ValueInfoProto of a string tensor [N, 1].</summary>
    private static byte[] StringValueInfo(string name)
    {
        var shape = Message(o =>
        {
            WriteMessage(o, 1, Message(d => WriteString(d, 2, "N")));
            WriteMessage(o, 1, Message(d => WriteInt64(d, 1, 1)));
        });
        var tensorType = Message(o =>
        {
            WriteInt64(o, 1, 8);
            WriteMessage(o, 2, shape);
        });
        return Message(o =>
        {
            WriteString(o, 1, name);
            WriteMessage(o, 2, Message(t => WriteMessage(t, 1, tensorType)));
        });
    }
}
