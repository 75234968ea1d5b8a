using System.CommandLine;
using System.Globalization;
using Backprop.Cli.Options;
using Backprop.Explain;
using Backprop.IO;

namespace Backprop.Cli.Commands;

/// <summary>
/// `backprop gradcheck`: compares a model's back-propagated gradients with central finite differences
/// for one sample (or a few, separated by ';'), layer by layer.
/// </summary>
public static class GradcheckCommand
{
    /// <summary>The command's options.</summary>
    public sealed class Settings
    {
        /// <summary>--model FILE (null: the seed network).</summary>
        public string? Model { get; init; }

        /// <summary>--input as given (null: the seed's default, for the seed network only).</summary>
        public string? Input { get; init; }

        /// <summary>--target as given.</summary>
        public string? Target { get; init; }

        /// <summary>--tolerance: the largest relative error that passes.</summary>
        public double Tolerance { get; init; } = 1e-5;

        /// <summary>--epsilon: the finite-difference step.</summary>
        public double Epsilon { get; init; } = 1e-6;

        /// <summary>Throws <see cref="BackpropException"/> on a missing or out-of-range value.</summary>
        public void Validate()
        {
            FileChecks.Check([new("--model", Model)], []);
            if (Model is not null && (Input is null || Target is null))
                throw new BackpropException("--input and --target are required with --model.");
            if (!(Epsilon > 0) || !double.IsFinite(Epsilon))
                throw new BackpropException("--epsilon must be positive.");
            if (!(Tolerance >= 0) || double.IsNaN(Tolerance))
                throw new BackpropException("--tolerance must be 0 or more.");
        }
    }

    /// <summary>The command.</summary>
    public static Command Create(CliStreams streams)
    {
        var model = CommonOptions.Model("The model file; default: the seed network.");
        var input = new Option<string?>("--input") { Description = "Input values, comma-separated; several samples separated by ';'. Default: the seed's 0.05,0.10 for the seed network.", HelpName = "X1,X2,...[;...]" };
        var target = new Option<string?>("--target") { Description = "Target values, comma-separated; several samples separated by ';'.", HelpName = "Y1,Y2,...[;...]" };
        var tolerance = new Option<double>("--tolerance") { Description = "Largest relative error that passes.", HelpName = "TOL", DefaultValueFactory = _ => 1e-5 };
        var epsilon = new Option<double>("--epsilon") { Description = "Finite-difference step.", HelpName = "EPS", DefaultValueFactory = _ => 1e-6 };
        var command = new Command("gradcheck", "Check a model's gradients against central finite differences (in double), per layer. Exit code 1 if a layer fails.");
        foreach (var o in new Option[] { model, input, target, tolerance, epsilon })
            command.Options.Add(o);
        command.SetAction(parse => App.Guard(streams, () =>
        {
            var s = new Settings
            {
                Model = parse.GetValue(model),
                Input = parse.GetValue(input),
                Target = parse.GetValue(target),
                Tolerance = parse.GetValue(tolerance),
                Epsilon = parse.GetValue(epsilon),
            };
            s.Validate();
            return Run(s, streams.Out);
        }));
        return command;
    }

    private static int Run(Settings s, TextWriter output)
    {
        var loaded = s.Model is null ? null : ModelFile.Load<double>(s.Model);
        var net = loaded?.Network ?? SeedNetwork.Create<double>();
        string inText = s.Input ?? string.Join(",", SeedNetwork.DefaultInput.Select(v => v.ToString(CultureInfo.InvariantCulture)));
        string tText = s.Target ?? string.Join(",", SeedNetwork.DefaultTarget.Select(v => v.ToString(CultureInfo.InvariantCulture)));
        var (x, rows) = CliValues.Rows("--input", inText, net.Inputs);
        if (loaded is not null)
        {
            // The inputs are raw values, as predict takes them: the model's preprocessing maps them to the network's inputs.
            var raw = x;
            x = new double[raw.Length];
            for (int r = 0; r < rows; r++)
                loaded.Prepare(raw.AsSpan(r * net.Inputs, net.Inputs)).CopyTo(x, r * net.Inputs);
        }
        var (y, trows) = CliValues.Rows("--target", tText, net.Outputs);
        if (rows != trows)
            throw new BackpropException($"--input has {rows} sample(s) but --target has {trows}.");
        var result = GradientCheck.Run(net, x, y, rows, s.Epsilon, relativeFloor: 1e-6);
        output.WriteLine($"Gradient check: {net.ParameterCount} parameters, {rows} sample(s), central differences with step {s.Epsilon.ToString("G3", CultureInfo.InvariantCulture)}");
        bool ok = true;
        foreach (var l in result.Layers)
        {
            bool pass = l.MaxRelativeError <= s.Tolerance;
            ok &= pass;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  layer {l.Layer}: {l.Parameters,6} parameters  worst relative error {l.MaxRelativeError:E2} at {l.Worst} (analytic {l.Analytic:E6}, numeric {l.Numeric:E6})  {(pass ? "PASS" : "FAIL")}"));
        }
        output.WriteLine(ok ? "All layers pass." : $"Some layers exceed the tolerance {s.Tolerance.ToString("G3", CultureInfo.InvariantCulture)}.");
        return ok ? ExitCodes.Success : ExitCodes.Failed;
    }
}
