using System.CommandLine;
using Backprop.Data;
using Backprop.IO;

namespace Backprop.Cli.Commands;

/// <summary>
/// `backprop export --model FILE --onnx OUT.onnx`: the model as a standard ONNX graph (docs/onnx.md), with its
/// stored preprocessing as Sub/Div nodes and its class names as metadata, so any ONNX runtime takes raw features.
/// </summary>
public static class ExportCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model")
        {
            Description = "The model file (JSON) to export.",
            Required = true,
        };
        var onnx = new Option<string>("--onnx")
        {
            Description = "Where to write the ONNX model (float32, opset 13). Written atomically: an existing file is replaced only on success.",
            Required = true,
        };
        var command = new Command("export", "Export a model as ONNX (Gemm + activation nodes, preprocessing included).");
        command.Options.Add(model);
        command.Options.Add(onnx);
        command.SetAction(parse => App.Guard(error, () =>
        {
            string modelPath = parse.GetValue(model)!;
            string onnxPath = parse.GetValue(onnx)!;
            // Read as double: a float32 model widens exactly, and the export narrows it back to float32.
            var m = ModelFile.Load<double>(modelPath);
            OnnxExport.Save(m, onnxPath);
            var preprocessing = m.Preprocessing;
            output.WriteLine(
                $"Wrote {onnxPath}: ONNX IR {OnnxExport.IrVersion}, opset {OnnxExport.OpsetVersion}, float32, " +
                $"input '{OnnxExport.InputName}' [N, {m.Network.Inputs}] -> output '{OnnxExport.OutputName}' [N, {m.Network.Outputs}]" +
                (preprocessing is null || preprocessing.IsIdentity ? "." : $", preprocessing '{Preprocessing.NameOf(preprocessing.Kind)}' included."));
            return 0;
        }));
        return command;
    }
}
