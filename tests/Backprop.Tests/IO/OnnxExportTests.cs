using Backprop.Data;
using Backprop.Explain;
using Backprop.IO;
using Backprop.Nn;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Backprop.Tests.IO;

public sealed class OnnxExportTests
{
    /// <summary>Runs an exported model in ONNX Runtime (the oracle: an independent implementation of the ops).</summary>
    private static float[] RunOnnx(byte[] model, float[] x, int rows, int inputs)
    {
        using var session = new InferenceSession(model);
        using var input = OrtValue.CreateTensorValueFromMemory(x, [rows, inputs]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, [OnnxExport.InputName], [input], [OnnxExport.OutputName]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private static float[] RandomInputs(int count, int seed, float scale = 2f)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();
    }

    private static void AssertClose(ReadOnlySpan<float> expected, float[] actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < actual.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i])),
                $"element {i}: ours {expected[i]}, onnxruntime {actual[i]}");
    }

    public static TheoryData<string> Architectures => new()
    {
        "sigmoid/shared,sigmoid/shared",
        "tanh/per-unit,softmax/per-unit",
        "relu/none,leaky-relu/shared,identity/per-unit",
        "leaky-relu/per-unit,tanh/none,sigmoid/per-unit",
        "identity/shared,relu/per-unit,softmax/shared",
        "softmax/none",
    };

    private static Network<float> Build(string spec, int inputs, int seed)
    {
        var layers = spec.Split(',').Select((part, i) =>
        {
            var bits = part.Split('/');
            var act = Names.Parse<Activation>(bits[0], "activation");
            int units = i == spec.Count(c => c == ',') ? 3 : 4 + i;
            return new LayerSpec(units, act, Names.Parse<BiasMode>(bits[1], "bias mode"));
        }).ToArray();
        var loss = layers[^1].Activation == Activation.Softmax ? Loss.CrossEntropy : Loss.Mse;
        var net = Network<float>.Create(inputs, layers, loss, seed);
        // Non-zero biases so every bias mode is exercised (initialisers may start them at 0).
        var rng = new Random(seed);
        foreach (var layer in net.Layers)
            for (int b = 0; b < layer.Biases.Length; b++)
                layer.Biases[b] = (float)(rng.NextDouble() - 0.5);
        return net;
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void MatchesOnnxRuntimeForEveryActivationAndBiasMode(string spec)
    {
        const int inputs = 5, rows = 9;
        var net = Build(spec, inputs, seed: spec.Length);
        var x = RandomInputs(rows * inputs, seed: 3);
        var ours = net.Forward(x, rows).ToArray();
        var theirs = RunOnnx(OnnxExport.ToBytes(net), x, rows, inputs);
        AssertClose(ours, theirs);
    }

    [Fact]
    public void SeedNetworkWithSharedBiases()
    {
        var net = SeedNetwork.Create<double>();
        double[] x = [0.05, 0.10, -1.5, 2.0];
        var ours = net.Forward(x, 2).ToArray().Select(v => (float)v).ToArray();
        var theirs = RunOnnx(OnnxExport.ToBytes(net), x.Select(v => (float)v).ToArray(), 2, 2);
        AssertClose(ours, theirs);
    }

    [Fact]
    public void DoubleNetworkIsExportedAsFloat()
    {
        var net = Network<double>.Create(4, [new LayerSpec(6, Activation.Tanh), new LayerSpec(2, Activation.Sigmoid)], Loss.Mse, seed: 11);
        var x = RandomInputs(20, seed: 4).Select(v => (double)v).ToArray();
        var ours = net.Forward(x, 5).ToArray().Select(v => (float)v).ToArray();
        var theirs = RunOnnx(OnnxExport.ToBytes(net), x.Select(v => (float)v).ToArray(), 5, 4);
        AssertClose(ours, theirs);
    }

    [Theory]
    [InlineData(PreprocessingKind.Standardize)]
    [InlineData(PreprocessingKind.MinMax)]
    [InlineData(PreprocessingKind.Pixels)]
    [InlineData(PreprocessingKind.None)]
    public void PreprocessingRunsInsideTheGraph(PreprocessingKind kind)
    {
        const int inputs = 3, rows = 6;
        var raw = RandomInputs(rows * inputs, seed: 8, scale: 50f).Select(v => (double)v + 100).ToArray();
        var data = Dataset.Regression(raw, inputs, new double[rows * 2], outputs: 2);
        var pre = Preprocessing.Fit(data, kind);
        var net = Network<float>.Create(inputs, [new LayerSpec(4, Activation.Relu), new LayerSpec(2, Activation.Identity)], Loss.Mse, seed: 2);
        var ours = net.Forward(Floats(pre.Apply(data)), rows).ToArray();
        var theirs = RunOnnx(OnnxExport.ToBytes(net, pre), Floats(data), rows, inputs);
        AssertClose(ours, theirs, 1e-4);
        // The model's own pipeline (what predict computes on raw rows) against the exported graph on the same raw rows.
        var model = new Backprop.Training.Model<float>(net, DataSchema.For(TaskKind.Regression, inputs), pre);
        AssertClose(model.PredictAll(data).Select(v => (float)v).ToArray(), RunOnnx(OnnxExport.ToBytes(model), Floats(data), rows, inputs), 1e-4);
    }

    [Fact]
    public void IrisWithStandardisation()
    {
        var iris = CsvDataset.Read(TestData.Require("iris", "iris.data"));
        var pre = Preprocessing.Fit(iris, PreprocessingKind.Standardize);
        var net = Network<float>.Create(4, [new LayerSpec(8, Activation.Tanh), new LayerSpec(3, Activation.Softmax)], Loss.CrossEntropy, seed: 5);
        var ours = net.Forward(Floats(pre.Apply(iris)), iris.Rows).ToArray();
        var theirs = RunOnnx(OnnxExport.ToBytes(net, pre, iris.ClassNames), Floats(iris), iris.Rows, 4);
        AssertClose(ours, theirs);
    }

    [Fact]
    public void SaveWritesAFileOnnxRuntimeLoadsWithItsMetadata()
    {
        var net = Network<float>.Create(2, [new LayerSpec(2, Activation.Softmax)], Loss.CrossEntropy, seed: 1);
        using var dir = new TempDirectory();
        string path = dir.File("m.onnx");
        OnnxExport.Save(net, path, classes: ["no", "yes"]);
        using var session = new InferenceSession(path);
        Assert.Equal("Backprop", session.ModelMetadata.ProducerName);
        Assert.Equal("[\"no\",\"yes\"]", session.ModelMetadata.CustomMetadataMap["classes"]);
        Assert.Equal([-1, 2], session.InputMetadata[OnnxExport.InputName].Dimensions);
        Assert.Equal([-1, 2], session.OutputMetadata[OnnxExport.OutputName].Dimensions);
    }

    [Fact]
    public void StructureFollowsOnnxProto()
    {
        // Read the top-level ModelProto fields back with the protobuf reader, independent of ONNX Runtime.
        var net = Network<float>.Create(3, [new LayerSpec(2, Activation.Sigmoid, BiasMode.Shared)], Loss.Mse, seed: 1);
        var input = new CodedInputStream(OnnxExport.ToBytes(net));
        long ir = 0, opset = 0;
        int graphs = 0;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: ir = input.ReadInt64(); break;
                case 7: graphs++; input.SkipLastField(); break;
                case 8:
                    var opsetBytes = new CodedInputStream(input.ReadBytes().ToByteArray());
                    uint t;
                    while ((t = opsetBytes.ReadTag()) != 0)
                        if (WireFormat.GetTagFieldNumber(t) == 2) opset = opsetBytes.ReadInt64(); else opsetBytes.SkipLastField();
                    break;
                default: input.SkipLastField(); break;
            }
        }
        Assert.Equal(7, ir);
        Assert.Equal(13, opset);
        Assert.Equal(1, graphs);
    }

    [Fact]
    public void PreprocessingForOtherWidthIsRejected()
    {
        var net = Network<float>.Create(3, [new LayerSpec(1, Activation.Sigmoid)], Loss.Mse, seed: 1);
        var pre = Preprocessing.Fit(Dataset.Regression([1, 2], 2, [0]), PreprocessingKind.MinMax);
        Assert.StartsWith("The preprocessing is for 2 features but the network", Assert.Throws<BackpropException>(() => OnnxExport.ToBytes(net, pre)).Message);
    }

    private static float[] Floats(Dataset d) => d.Features.ToArray().Select(v => (float)v).ToArray();
}
