using System.Buffers.Binary;
using System.Numerics;
using System.Text.Json;
using Backprop.Data;
using Backprop.Nn;
using Backprop.Training;
using Google.Protobuf;

namespace Backprop.IO;

/// <summary>
/// Writes a <see cref="Network{T}"/> as an ONNX model (docs/onnx.md): IR version <see cref="IrVersion"/>, default
/// opset <see cref="OpsetVersion"/>, float32. One graph input <see cref="InputName"/> of shape [N, inputs] and one
/// output <see cref="OutputName"/> of shape [N, outputs]. Optional preprocessing becomes Sub and Div nodes; each
/// dense layer is one Gemm node (B = the weights as stored, [units, inputs], with transB = 1; C = the per-unit
/// biases [units], or the shared bias as a one-element tensor [1] that Gemm broadcasts; no C for bias mode none),
/// followed by Sigmoid, Tanh, Relu, LeakyRelu (alpha 0.01) or Softmax (axis 1); identity adds no node.
/// The protobuf messages are encoded field by field with Google.Protobuf's <see cref="CodedOutputStream"/>,
/// with the field numbers of onnx.proto.
/// </summary>
public static partial class OnnxExport
{
    /// <summary>The ONNX IR version written.</summary>
    public const long IrVersion = 7;

    /// <summary>The default opset the graph uses.</summary>
    public const long OpsetVersion = 13;

    /// <summary>The graph's input: raw features, [N, inputs], float32.</summary>
    public const string InputName = "input";

    /// <summary>The graph's output: the network's outputs, [N, outputs], float32.</summary>
    public const string OutputName = "output";

    /// <summary>
    /// Writes a model's whole pipeline as an ONNX file, atomically: its preprocessing as Sub and Div nodes, its network,
    /// and its class names as metadata, so any ONNX runtime takes the raw features in the model's input order.
    /// </summary>
    public static void Save<T>(Model<T> model, string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        var bytes = ToBytes(model);
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    /// <summary>The ONNX bytes of a model's whole pipeline (see <see cref="Save{T}(Model{T}, string)"/>).</summary>
    public static byte[] ToBytes<T>(Model<T> model) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        var pre = model.Preprocessing
            ?? throw new BackpropException("The model's preprocessing is not fitted yet: train the model before exporting it.");
        var classes = model.Task == TaskKind.Classification ? model.ClassNames : null;
        return model.Table is { } table ? TableToBytes(model.Network, pre, table, classes) : ToBytes(model.Network, pre, classes);
    }

    /// <summary>Writes the ONNX file atomically (float32; a double network is converted).</summary>
    public static void Save<T>(Network<T> network, string path, Preprocessing? preprocessing = null, IReadOnlyList<string>? classes = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var bytes = ToBytes(network, preprocessing, classes);
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    /// <summary>The ONNX model's bytes. <paramref name="classes"/>, when given, are stored as metadata "classes" (a JSON array).</summary>
    public static byte[] ToBytes<T>(Network<T> network, Preprocessing? preprocessing = null, IReadOnlyList<string>? classes = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        var net = typeof(T) == typeof(float) ? (Network<float>)(object)network : network.Convert<float>();
        if (preprocessing is not null && preprocessing.Features != net.Inputs)
            throw new BackpropException(
                $"The preprocessing is for {preprocessing.Features} features but the network takes {net.Inputs} inputs.");

        var nodes = new List<byte[]>();
        var initializers = new List<byte[]>();
        string current = InputName;

        if (preprocessing is not null && preprocessing.Kind != PreprocessingKind.None)
        {
            initializers.Add(Tensor("preprocess_offset", [net.Inputs], preprocessing.Offset.Select(v => (float)v).ToArray()));
            initializers.Add(Tensor("preprocess_scale", [net.Inputs], preprocessing.Scale.Select(v => (float)v).ToArray()));
            nodes.Add(Node("Sub", "preprocess_sub", [current, "preprocess_offset"], "preprocess_centered"));
            nodes.Add(Node("Div", "preprocess_div", ["preprocess_centered", "preprocess_scale"], "preprocessed"));
            current = "preprocessed";
        }

        AddNetwork(net, current, nodes, initializers);

        var graph = Message(o =>
        {
            foreach (var n in nodes)
                WriteMessage(o, 1, n);
            WriteString(o, 2, "backprop");
            foreach (var t in initializers)
                WriteMessage(o, 5, t);
            WriteString(o, 10, $"Feed-forward network: {net.Inputs} inputs, layers {string.Join(" -> ", net.Layers.Select(x => $"{x.Units} {Names.Of(x.Activation)}"))}.");
            WriteMessage(o, 11, ValueInfo(InputName, net.Inputs));
            WriteMessage(o, 12, ValueInfo(OutputName, net.Outputs));
        });

        return Message(o =>
        {
            WriteInt64(o, 1, IrVersion);
            WriteString(o, 2, "Backprop");
            WriteString(o, 3, typeof(OnnxExport).Assembly.GetName().Version?.ToString(3) ?? "0");
            WriteString(o, 4, "backprop");
            WriteInt64(o, 5, 1);
            WriteMessage(o, 7, graph);
            // OperatorSetIdProto: domain (1) left empty = the default ONNX domain, version (2).
            WriteMessage(o, 8, Message(s => WriteInt64(s, 2, OpsetVersion)));
            if (preprocessing is not null)
                WriteMessage(o, 14, Entry("backprop.preprocessing", Preprocessing.NameOf(preprocessing.Kind)));
            if (classes is not null)
                WriteMessage(o, 14, Entry("classes", JsonSerializer.Serialize(classes, Json.BackpropJson.Compact.IReadOnlyListString)));
        });
    }

    /// <summary>The network's Gemm and activation nodes from <paramref name="current"/> to <see cref="OutputName"/>.</summary>
    private static void AddNetwork(Network<float> net, string current, List<byte[]> nodes, List<byte[]> initializers)
    {
        for (int l = 0; l < net.Layers.Count; l++)
        {
            var layer = net.Layers[l];
            bool last = l == net.Layers.Count - 1;
            string w = $"layer{l}_weights";
            initializers.Add(Tensor(w, [layer.Units, layer.Inputs], layer.Weights.ToArray()));
            var inputs = new List<string> { current, w };
            if (layer.Bias != BiasMode.None)
            {
                string b = $"layer{l}_bias";
                long[] dims = layer.Bias == BiasMode.Shared ? [1] : [layer.Units];
                initializers.Add(Tensor(b, dims, layer.Biases.ToArray()));
                inputs.Add(b);
            }
            bool hasActivation = layer.Activation != Activation.Identity;
            string z = last && !hasActivation ? OutputName : $"layer{l}_z";
            nodes.Add(Node("Gemm", $"layer{l}_gemm", inputs, z, IntAttribute("transB", 1)));
            current = z;
            if (hasActivation)
            {
                string a = last ? OutputName : $"layer{l}_a";
                string name = $"layer{l}_{layer.Activation.ToString().ToLowerInvariant()}";
                nodes.Add(layer.Activation switch
                {
                    Activation.Sigmoid => Node("Sigmoid", name, [z], a),
                    Activation.Tanh => Node("Tanh", name, [z], a),
                    Activation.Relu => Node("Relu", name, [z], a),
                    Activation.LeakyRelu => Node("LeakyRelu", name, [z], a, FloatAttribute("alpha", (float)Activations.LeakySlope)),
                    Activation.Softmax => Node("Softmax", name, [z], a, IntAttribute("axis", 1)),
                    _ => throw new ArgumentOutOfRangeException(nameof(net), layer.Activation, "Unknown activation."),
                });
                current = a;
            }
        }

    }

    // --- onnx.proto messages, field numbers as in onnx.proto ---

    /// <summary>TensorProto: dims (1), data_type (2) = FLOAT (1), name (8), raw_data (9) little-endian.</summary>
    private static byte[] Tensor(string name, long[] dims, float[] values) => Message(o =>
    {
        foreach (long d in dims)
            WriteInt64(o, 1, d);
        WriteInt64(o, 2, 1);
        WriteString(o, 8, name);
        var raw = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(4 * i), values[i]);
        o.WriteTag(9, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(raw));
    });

    /// <summary>NodeProto: input (1), output (2), name (3), op_type (4), attribute (5).</summary>
    private static byte[] Node(string op, string name, IEnumerable<string> inputs, string output, byte[]? attribute = null) => Message(o =>
    {
        foreach (string i in inputs)
            WriteString(o, 1, i);
        WriteString(o, 2, output);
        WriteString(o, 3, name);
        WriteString(o, 4, op);
        if (attribute is not null)
            WriteMessage(o, 5, attribute);
    });

    /// <summary>AttributeProto: name (1), i (3), type (20) = INT (2).</summary>
    private static byte[] IntAttribute(string name, long value) => Message(o =>
    {
        WriteString(o, 1, name);
        WriteInt64(o, 3, value);
        WriteInt64(o, 20, 2);
    });

    /// <summary>AttributeProto: name (1), f (2), type (20) = FLOAT (1).</summary>
    private static byte[] FloatAttribute(string name, float value) => Message(o =>
    {
        WriteString(o, 1, name);
        o.WriteTag(2, WireFormat.WireType.Fixed32);
        o.WriteFloat(value);
        WriteInt64(o, 20, 1);
    });

    /// <summary>
    /// ValueInfoProto name (1), type (2): TypeProto.tensor_type (1) { elem_type (1) = FLOAT, shape (2) {
    /// dim (1) { dim_param (2) "N" }, dim (1) { dim_value (1) = width } } }.
    /// </summary>
    private static byte[] ValueInfo(string name, int width)
    {
        var shape = Message(o =>
        {
            WriteMessage(o, 1, Message(d => WriteString(d, 2, "N")));
            WriteMessage(o, 1, Message(d => WriteInt64(d, 1, width)));
        });
        var tensorType = Message(o =>
        {
            WriteInt64(o, 1, 1);
            WriteMessage(o, 2, shape);
        });
        var type = Message(o => WriteMessage(o, 1, tensorType));
        return Message(o =>
        {
            WriteString(o, 1, name);
            WriteMessage(o, 2, type);
        });
    }

    /// <summary>StringStringEntryProto: key (1), value (2).</summary>
    private static byte[] Entry(string key, string value) => Message(o =>
    {
        WriteString(o, 1, key);
        WriteString(o, 2, value);
    });

    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var ms = new MemoryStream();
        using (var o = new CodedOutputStream(ms, leaveOpen: true))
        {
            write(o);
            o.Flush();
        }
        return ms.ToArray();
    }

    private static void WriteString(CodedOutputStream o, int field, string value)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteString(value);
    }

    private static void WriteInt64(CodedOutputStream o, int field, long value)
    {
        o.WriteTag(field, WireFormat.WireType.Varint);
        o.WriteInt64(value);
    }

    private static void WriteMessage(CodedOutputStream o, int field, byte[] message)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(message));
    }
}
