using System.CommandLine;
using System.Globalization;
using Backprop.Explain;
using Backprop.IO;

namespace Backprop.Cli.Commands;

/// <summary>
/// `backprop gradcheck`: compares a model's back-propagated gradients with central finite differences
/// for one sample (or a few, separated by ';'), layer by layer.
/// </summary>
public static class GradcheckCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string?>("--model") { Description = "The model file; default: the seed network." };
        var input = new Option<string?>("--input") { Description = "Input values, comma-separated; several samples separated by ';'. Default: the seed's 0.05,0.10 for the seed network." };
        var target = new Option<string?>("--target") { Description = "Target values, comma-separated; several samples separated by ';'." };
        var tolerance = new Option<double>("--tolerance") { Description = "Largest relative error that passes.", DefaultValueFactory = _ => 1e-5 };
        var epsilon = new Option<double>("--epsilon") { Description = "Finite-difference step.", DefaultValueFactory = _ => 1e-6 };
        var command = new Command("gradcheck", "Check a model's gradients against central finite differences (in double), per layer. Exit code 1 if a layer fails.");
        foreach (var o in new Option[] { model, input, target, tolerance, epsilon })
            command.Options.Add(o);
        command.SetAction(parse => App.Guard(error, () =>
        {
            string? path = parse.GetValue(model);
            var loaded = path is null ? null : ModelFile.Load<double>(path);
            var net = loaded?.Network ?? SeedNetwork.Create<double>();
            string? inText = parse.GetValue(input), tText = parse.GetValue(target);
            if (path is null)
            {
                inText ??= string.Join(",", SeedNetwork.DefaultInput.Select(v => v.ToString(CultureInfo.InvariantCulture)));
                tText ??= string.Join(",", SeedNetwork.DefaultTarget.Select(v => v.ToString(CultureInfo.InvariantCulture)));
            }
            if (inText is null || tText is null)
                throw new BackpropException("--input and --target are required with --model.");
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
            double tol = parse.GetValue(tolerance), eps = parse.GetValue(epsilon);
            if (!(eps > 0))
                throw new BackpropException("--epsilon must be positive.");
            var result = GradientCheck.Run(net, x, y, rows, eps, relativeFloor: 1e-6);
            output.WriteLine($"Gradient check: {net.ParameterCount} parameters, {rows} sample(s), central differences with step {eps.ToString("G3", CultureInfo.InvariantCulture)}");
            bool ok = true;
            foreach (var l in result.Layers)
            {
                bool pass = l.MaxRelativeError <= tol;
                ok &= pass;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  layer {l.Layer}: {l.Parameters,6} parameters  worst relative error {l.MaxRelativeError:E2} at {l.Worst} (analytic {l.Analytic:E6}, numeric {l.Numeric:E6})  {(pass ? "PASS" : "FAIL")}"));
            }
            output.WriteLine(ok ? "All layers pass." : $"Some layers exceed the tolerance {tol.ToString("G3", CultureInfo.InvariantCulture)}.");
            return ok ? 0 : App.Failure;
        }));
        return command;
    }
}
