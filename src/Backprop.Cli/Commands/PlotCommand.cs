using System.CommandLine;
using Backprop.Cli.Options;
using Backprop.Data;
using Backprop.IO;
using Backprop.Plotting;

namespace Backprop.Cli.Commands;

/// <summary>`backprop plot boundary`: the decision regions of a 2-input classifier with the data on top.</summary>
public static class PlotCommand
{
    /// <summary>The options of `plot boundary`.</summary>
    public sealed class Settings
    {
        /// <summary>--model FILE.</summary>
        public required string Model { get; init; }

        /// <summary>The data options (--data, or none with --dataset).</summary>
        public required DataSettings Data { get; init; }

        /// <summary>--dataset NAME.</summary>
        public string? Dataset { get; init; }

        /// <summary>--seed of the built-in dataset.</summary>
        public long Seed { get; init; } = 1;

        /// <summary>--out FILE.png.</summary>
        public required string Out { get; init; }

        /// <summary>--resolution: grid cells per side.</summary>
        public int Resolution { get; init; } = 200;

        /// <summary>Throws <see cref="BackpropException"/> on a bad combination or value.</summary>
        public void Validate()
        {
            if ((Data.Data is null) == (Dataset is null))
                throw new BackpropException("Give either --data FILE or --dataset NAME (one of them).");
            if (Resolution is < 10 or > 1000)
                throw new BackpropException($"--resolution must be between 10 and 1000, got {Resolution}.");
            FileChecks.Check([new("--model", Model), .. Data.Files], [new("--out", Out)]);
        }
    }

    /// <summary>The command and its subcommand.</summary>
    public static Command Create(CliStreams streams)
    {
        var model = CommonOptions.Model("A classifier model file with 2 inputs.", required: true);
        var data = new DataOptions();
        var dataset = new Option<string?>("--dataset") { Description = $"A built-in dataset instead of --data: {string.Join(", ", SyntheticData.Names.Where(n => n != "sine"))}.", HelpName = "NAME" };
        var seed = new Option<long>("--seed") { Description = "Seed of the built-in dataset (use the one it was trained with).", HelpName = "N", DefaultValueFactory = _ => 1 };
        var outFile = new OutputFileOption("--out", "The PNG file to write.", "FILE.png", required: true);
        var resolution = new Option<int>("--resolution") { Description = "Grid cells per side.", HelpName = "N", DefaultValueFactory = _ => 200 };
        var boundary = new Command("boundary", "Draw a 2-input classifier's decision regions with the data points on top (as TensorFlow Playground shows them).");
        boundary.Options.Add(model);
        data.AddTo(boundary);
        foreach (var o in new Option[] { dataset, seed, outFile.Option, resolution })
            boundary.Options.Add(o);
        boundary.SetAction(parse => App.Guard(streams, () =>
        {
            var s = new Settings
            {
                Model = parse.GetValue(model)!,
                Data = data.Bind(parse),
                Dataset = parse.GetValue(dataset),
                Seed = parse.GetValue(seed),
                Out = parse.GetValue(outFile.Option)!,
                Resolution = parse.GetValue(resolution),
            };
            return Run(s, streams);
        }));
        var command = new Command("plot", "Pictures of a trained model.");
        command.Subcommands.Add(boundary);
        return command;
    }

    private static int Run(Settings s, CliStreams streams)
    {
        s.Validate();
        var m = ModelFile.Load(s.Model);
        if (m.Task != TaskKind.Classification)
            throw new BackpropException($"{s.Model}: decision regions need a classifier; this model is a regressor.");
        double[] features;
        int[] labels;
        if (s.Dataset is { } name)
        {
            string key = name.Trim().ToLowerInvariant();
            if (!SyntheticData.Names.Contains(key))
                throw new BackpropException($"--dataset: unknown dataset '{name}'; expected one of {string.Join(", ", SyntheticData.Names.Where(n => n != "sine"))}.");
            var d = SyntheticData.Create(key, seed: s.Seed);
            if (!d.IsClassification)
                throw new BackpropException($"--dataset {name} is a regression dataset; choose xor, moons, circles, spirals or blobs.");
            features = d.Features.ToArray();
            labels = d.Labels.ToArray();
        }
        else
        {
            // Plot in the file's own units; the model's pipeline maps grid points to its inputs.
            var table = s.Data.ReadFor(m, requireLabels: true);
            features = table.Features.ToArray();
            labels = table.Labels.ToArray();
        }
        DecisionBoundaryPlot.Save(s.Out, m, features, labels,
            title: $"{Path.GetFileName(s.Model)}: decision regions", resolution: s.Resolution);
        streams.Out.WriteLine($"Wrote {s.Out}.");
        return ExitCodes.Success;
    }
}
