using System.CommandLine;
using System.Text;
using Backprop.Cli.Options;
using Backprop.IO;
using Backprop.IO.Json;
using Backprop.Nn;

namespace Backprop.Cli.Commands;

/// <summary>`backprop info --model FILE`: what a model file holds, without running it.</summary>
public static class InfoCommand
{
    /// <summary>The command's options.</summary>
    public sealed class Settings
    {
        /// <summary>--model FILE.</summary>
        public required string Model { get; init; }

        /// <summary>--json.</summary>
        public bool Json { get; init; }

        /// <summary>Checks the file arguments.</summary>
        public void Validate() => FileChecks.Check([new("--model", Model)], []);
    }

    /// <summary>The command.</summary>
    public static Command Create(CliStreams streams)
    {
        var model = CommonOptions.Model("The model file (JSON, docs/model-format.md).", required: true);
        var json = CommonOptions.Json("Print one JSON object instead of text.");
        var command = new Command("info", "Show a model file's architecture, parameter counts and sections.");
        command.Options.Add(model);
        command.Options.Add(json);
        command.SetAction(parse => App.Guard(streams, () =>
        {
            var s = new Settings { Model = parse.GetValue(model)!, Json = parse.GetValue(json) };
            s.Validate();
            new Reporter(streams, s.Json).Report(Describe(s.Model), BackpropJson.Compact.ModelInfoReport, Text);
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>What <paramref name="path"/> holds.</summary>
    public static ModelInfoReport Describe(string path)
    {
        var (saved, checkpoint) = ModelFile.Read<double>(path);
        var net = saved.Network;
        var sections = new List<string> { "pipeline", "training" };
        if (saved.Metrics is not null)
            sections.Add("metrics");
        if (checkpoint is not null)
            sections.Add(ModelFile.CheckpointSection);
        sections.AddRange(saved.ExtraSections.Keys);
        return new ModelInfoReport(path, net.Inputs, net.Outputs, Names.Of(net.Loss), net.ParameterCount,
            net.Layers.Select(l => new LayerInfo(l.Units, Names.Of(l.Activation), Names.Of(l.Bias), l.TrainableBias, l.ParameterCount)).ToArray(),
            sections);
    }

    /// <summary>The report as text: a header, the layer table, the sections.</summary>
    public static string Text(ModelInfoReport r)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{r.File}: backprop-model version {ModelFile.Version}");
        sb.AppendLine($"  inputs {r.Inputs}, outputs {r.Outputs}, loss {r.Loss}, {r.Parameters} parameters");
        sb.AppendLine($"  {"layer",-6}{"units",7}  {"activation",-11}{"bias",-10}{"trainable",-10}{"parameters",11}");
        for (int l = 0; l < r.Layers.Count; l++)
        {
            var layer = r.Layers[l];
            string trainable = layer.Bias == Names.Of(BiasMode.None) ? "-" : layer.TrainableBias ? "yes" : "frozen";
            sb.AppendLine($"  {l,-6}{layer.Units,7}  {layer.Activation,-11}{layer.Bias,-10}{trainable,-10}{layer.Parameters,11}");
        }
        sb.Append($"  sections: {string.Join(", ", r.Sections)}");
        return sb.ToString();
    }
}
