using System.CommandLine;
using Backprop.Data;
using Backprop.IO;
using Backprop.Plotting;
using Backprop.Training;

namespace Backprop.Cli.Commands;

/// <summary>`backprop plot boundary`: the decision regions of a 2-input classifier with the data on top.</summary>
public static class PlotCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "A classifier model file with 2 inputs.", Required = true, HelpName = "FILE" };
        var data = new DataOptions();
        var dataset = new Option<string?>("--dataset") { Description = $"A built-in dataset instead of --data: {string.Join(", ", SyntheticData.Names.Where(n => n != "sine"))}.", HelpName = "NAME" };
        var seed = new Option<long>("--seed") { Description = "Seed of the built-in dataset (use the one it was trained with).", DefaultValueFactory = _ => 1 };
        var outFile = new Option<string>("--out") { Description = "The PNG file to write.", Required = true, HelpName = "FILE.png" };
        var resolution = new Option<int>("--resolution") { Description = "Grid cells per side.", DefaultValueFactory = _ => 200 };
        var boundary = new Command("boundary", "Draw a 2-input classifier's decision regions with the data points on top (as TensorFlow Playground shows them).");
        boundary.Options.Add(model);
        data.AddTo(boundary);
        foreach (var o in new Option[] { dataset, seed, outFile, resolution })
            boundary.Options.Add(o);
        boundary.SetAction(parse => App.Guard(error, () =>
        {
            var m = ModelFile.Load(parse.GetValue(model)!);
            if (m.Task != TaskKind.Classification)
                throw new BackpropException($"{parse.GetValue(model)}: decision regions need a classifier; this model is a regressor.");
            string? file = parse.GetValue(data.Data), name = parse.GetValue(dataset);
            if ((file is null) == (name is null))
                throw new BackpropException("Give either --data FILE or --dataset NAME (one of them).");
            int res = parse.GetValue(resolution);
            if (res is < 10 or > 1000)
                throw new BackpropException($"--resolution must be between 10 and 1000, got {res}.");
            double[] features;
            int[] labels;
            if (name is not null)
            {
                var d = SyntheticData.Create(name.Trim().ToLowerInvariant(), seed: parse.GetValue(seed));
                if (!d.IsClassification)
                    throw new BackpropException($"--dataset {name} is a regression dataset; choose xor, moons, circles, spirals or blobs.");
                features = d.Features.ToArray();
                labels = d.Labels.ToArray();
            }
            else
            {
                // Plot in the file's own units; the model's pipeline maps grid points to its inputs.
                var table = data.ReadFor(m, file!, parse.GetValue(data.Labels), parse, requireLabels: true);
                features = table.Features.ToArray();
                labels = table.Labels.ToArray();
            }
            string path = parse.GetValue(outFile)!;
            DecisionBoundaryPlot.Save(path, m, features, labels,
                title: $"{Path.GetFileName(parse.GetValue(model))}: decision regions", resolution: res);
            output.WriteLine($"Wrote {path}.");
            return 0;
        }));
        var command = new Command("plot", "Pictures of a trained model.");
        command.Subcommands.Add(boundary);
        return command;
    }
}
