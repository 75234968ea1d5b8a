using System.CommandLine;
using System.Text.Json;
using Backprop.IO;
using Backprop.Nn;

namespace Backprop.Cli.Commands;

/// <summary>`backprop info --model FILE`: what a model file holds, without running it.</summary>
public static class InfoCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "The model file (JSON, docs/model-format.md).", Required = true };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text." };
        var command = new Command("info", "Show a model file's architecture, parameter counts and sections.");
        command.Options.Add(model);
        command.Options.Add(json);
        command.SetAction(parse => App.Guard(error, () =>
        {
            string path = parse.GetValue(model)!;
            var (saved, checkpoint) = ModelFile.Read<double>(path);
            var net = saved.Network;
            var sections = new List<string> { "pipeline", "training" };
            if (saved.Metrics is not null)
                sections.Add("metrics");
            if (checkpoint is not null)
                sections.Add(ModelFile.CheckpointSection);
            sections.AddRange(saved.ExtraSections.Keys);
            if (parse.GetValue(json))
            {
                var doc = new
                {
                    file = path,
                    inputs = net.Inputs,
                    outputs = net.Outputs,
                    loss = Names.Of(net.Loss),
                    parameters = net.ParameterCount,
                    layers = net.Layers.Select(l => new
                    {
                        units = l.Units,
                        activation = Names.Of(l.Activation),
                        bias = Names.Of(l.Bias),
                        trainable_bias = l.TrainableBias,
                        parameters = l.ParameterCount,
                    }),
                    sections,
                };
                output.WriteLine(JsonSerializer.Serialize(doc));
                return 0;
            }
            output.WriteLine($"{path}: backprop-model version {ModelFile.Version}");
            output.WriteLine($"  inputs {net.Inputs}, outputs {net.Outputs}, loss {Names.Of(net.Loss)}, {net.ParameterCount} parameters");
            output.WriteLine($"  {"layer",-6}{"units",7}  {"activation",-11}{"bias",-10}{"trainable",-10}{"parameters",11}");
            for (int l = 0; l < net.Layers.Count; l++)
            {
                var layer = net.Layers[l];
                output.WriteLine($"  {l,-6}{layer.Units,7}  {Names.Of(layer.Activation),-11}{Names.Of(layer.Bias),-10}{(layer.Bias == BiasMode.None ? "-" : layer.TrainableBias ? "yes" : "frozen"),-10}{layer.ParameterCount,11}");
            }
            output.WriteLine($"  sections: {string.Join(", ", sections)}");
            return 0;
        }));
        return command;
    }
}
