using System.CommandLine;
using Backprop.Cli.Options;
using Backprop.Data;
using Backprop.IO;

namespace Backprop.Cli.Commands;

/// <summary>
/// `backprop export --model FILE --onnx OUT.onnx`: the model as a standard ONNX graph (docs/onnx.md), with its
/// stored preprocessing as Sub/Div nodes and its class names as metadata, so any ONNX runtime takes raw features.
/// </summary>
public static class ExportCommand
{
    /// <summary>The command's options.</summary>
    public sealed class Settings
    {
        /// <summary>--model FILE.</summary>
        public required string Model { get; init; }

        /// <summary>--onnx FILE.</summary>
        public required string Onnx { get; init; }

        /// <summary>Checks the files: the ONNX file must not be the model.</summary>
        public void Validate() => FileChecks.Check([new("--model", Model)], [new("--onnx", Onnx)]);
    }

    /// <summary>The command.</summary>
    public static Command Create(CliStreams streams)
    {
        var model = CommonOptions.Model("The model file (JSON) to export.", required: true);
        var onnx = new OutputFileOption("--onnx",
            "Where to write the ONNX model (float32, opset 13). Written atomically: an existing file is replaced only on success.", "FILE.onnx", required: true);
        var command = new Command("export", "Export a model as ONNX (Gemm + activation nodes, preprocessing included).");
        command.Options.Add(model);
        command.Options.Add(onnx.Option);
        command.SetAction(parse => App.Guard(streams, () =>
        {
            var s = new Settings { Model = parse.GetValue(model)!, Onnx = parse.GetValue(onnx.Option)! };
            s.Validate();
            // Read as double: a float32 model widens exactly, and the export narrows it back to float32.
            var m = ModelFile.Load<double>(s.Model);
            OnnxExport.Save(m, s.Onnx);
            var preprocessing = m.Preprocessing;
            streams.Out.WriteLine(
                $"Wrote {s.Onnx}: ONNX IR {OnnxExport.IrVersion}, opset {OnnxExport.OpsetVersion}, float32, " +
                $"input '{OnnxExport.InputName}' [N, {m.Network.Inputs}] -> output '{OnnxExport.OutputName}' [N, {m.Network.Outputs}]" +
                (preprocessing is null || preprocessing.IsIdentity ? "." : $", preprocessing '{Preprocessing.NameOf(preprocessing.Kind)}' included."));
            return ExitCodes.Success;
        }));
        return command;
    }
}
