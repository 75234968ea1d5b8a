using Backprop.Data;
using Backprop.Cli;
using Backprop.IO;
using Backprop.Nn;
using Backprop.Training;
using Microsoft.ML.OnnxRuntime;

namespace Backprop.Tests.IO;

public sealed class ExportCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = App.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    private static string SaveModel(string dir, out Network<double> net, out Preprocessing pre)
    {
        var data = CsvDataset.ParseFile("a,b,c,kind\n1,20,300,x\n2,10,100,y\n4,40,200,z\n", null, "t.csv");
        pre = Preprocessing.Fit(data.Data, PreprocessingKind.Standardize);
        net = Network<double>.Create(3, [new LayerSpec(5, Activation.Relu), new LayerSpec(3, Activation.Softmax)], Loss.CrossEntropy, seed: 4);
        string path = Path.Combine(dir, "m.json");
        new Model<double>(net, data.Schema, pre).Save(path);
        return path;
    }

    [Fact]
    public void ExportsAModelThatOnnxRuntimeRunsOnRawFeatures()
    {
        using var temp = new TempDirectory();
        string dir = temp.Path;
        string model = SaveModel(dir, out var net, out var pre);
        string onnx = Path.Combine(dir, "m.onnx");
        var (code, output, err) = Run("export", "--model", model, "--onnx", onnx);
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.Contains("preprocessing 'standardize' included", output);

        double[] raw = [3, 15, 250, 0, 0, 0];
        var scaled = (double[])raw.Clone();
        pre.Transform(scaled);
        var ours = net.Forward(scaled, 2).ToArray();
        using var session = new InferenceSession(onnx);
        Assert.Equal("[\"x\",\"y\",\"z\"]", session.ModelMetadata.CustomMetadataMap["classes"]);
        using var input = OrtValue.CreateTensorValueFromMemory(raw.Select(v => (float)v).ToArray(), [2, 3]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, ["input"], [input], ["output"]);
        var theirs = results[0].GetTensorDataAsSpan<float>().ToArray();
        for (int i = 0; i < ours.Length; i++)
            Assert.Equal(ours[i], theirs[i], 1e-5);
    }

    [Fact]
    public void BadInputGivesExitCode2AndLeavesNoFile()
    {
        using var temp = new TempDirectory();
        string dir = temp.Path;
        string onnx = Path.Combine(dir, "out.onnx");

        var missing = Run("export", "--model", Path.Combine(dir, "none.json"), "--onnx", onnx);
        Assert.Equal(2, missing.Code);
        Assert.StartsWith("error: ", missing.Err);
        Assert.Contains("none.json", missing.Err);

        string corrupt = Path.Combine(dir, "bad.json");
        File.WriteAllText(corrupt, "{\"format\": \"backprop-model\", \"version\": 1, \"inputs\": 2, ");
        var bad = Run("export", "--model", corrupt, "--onnx", onnx);
        Assert.Equal(2, bad.Code);
        Assert.Contains("bad.json: not valid JSON", bad.Err);
        Assert.False(File.Exists(onnx));

        string model = SaveModel(dir, out _, out _);
        var noFolder = Run("export", "--model", model, "--onnx", Path.Combine(dir, "no", "such", "m.onnx"));
        Assert.Equal(2, noFolder.Code);
        Assert.Contains("does not exist", noFolder.Err);

        var usage = Run("export", "--model", model);
        Assert.Equal(2, usage.Code);
        Assert.Contains("--onnx", usage.Err);
    }

    [Fact]
    public void ExistingOnnxFileIsKeptWhenExportFails()
    {
        using var temp = new TempDirectory();
        string dir = temp.Path;
        string onnx = Path.Combine(dir, "keep.onnx");
        File.WriteAllText(onnx, "old");
        string model = Path.Combine(dir, "m.json");
        var net = Network<double>.Create(2, [new LayerSpec(1, Activation.Sigmoid)], Loss.Mse, seed: 1);
        // A version 1 file whose preprocessing does not fit its network (no build of this library writes one).
        File.WriteAllText(model, ModelFile.Serialize(net).Replace("\"version\": 3", "\"version\": 1").Replace("\n  ]\n}",
            "\n  ],\n  \"preprocessing\": {\"kind\": \"min-max\", \"features\": 3, \"offset\": [1, 2, 3], \"scale\": [1, 1, 1]}\n}"));
        var r = Run("export", "--model", model, "--onnx", onnx);
        Assert.Equal(2, r.Code);
        Assert.Contains("m.json: field 'preprocessing.features': 3 features, but the network takes 2 inputs", r.Err);
        Assert.Equal("old", File.ReadAllText(onnx));
    }
}
