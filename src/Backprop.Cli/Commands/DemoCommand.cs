using System.CommandLine;
using System.Globalization;
using Backprop.Cli.Options;
using Backprop.Explain;
using Backprop.Nn;

namespace Backprop.Cli.Commands;

/// <summary>
/// `backprop demo` (also what `backprop` alone runs): the seed network's forward and backward pass with
/// every value, then a few thousand updates with the loss falling.
/// </summary>
public static class DemoCommand
{
    /// <summary>The demo's options.</summary>
    public sealed class Settings
    {
        /// <summary>Gradient-descent updates after the first pass.</summary>
        public int Steps { get; init; } = 5000;

        /// <summary>The learning rate.</summary>
        public double LearningRate { get; init; } = SeedNetwork.DefaultLearningRate;

        /// <summary>Throws <see cref="BackpropException"/> on a value out of range.</summary>
        public void Validate()
        {
            if (Steps < 0)
                throw new BackpropException($"--steps must be 0 or more, got {Steps}.");
            CommonOptions.RequirePositive("--lr", LearningRate);
        }
    }

    /// <summary>The command.</summary>
    public static Command Create(CliStreams streams)
    {
        var steps = new Option<int>("--steps")
        {
            Description = "Number of gradient-descent updates to train for after the first pass.",
            HelpName = "N",
            DefaultValueFactory = _ => 5000,
        };
        var lr = CommonOptions.LearningRate($"Learning rate eta (default {SeedNetwork.DefaultLearningRate.ToString(CultureInfo.InvariantCulture)}).");
        var command = new Command("demo", "Run the seed network (2 -> 3 sigmoid -> 2 sigmoid, shared biases): one pass shown in full, then training.");
        command.Options.Add(steps);
        command.Options.Add(lr);
        command.SetAction(parse => App.Guard(streams, () =>
        {
            var s = new Settings { Steps = parse.GetValue(steps), LearningRate = parse.GetValue(lr) ?? SeedNetwork.DefaultLearningRate };
            s.Validate();
            Run(streams.Out, s.Steps, s.LearningRate);
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>Prints the demo to <paramref name="o"/>.</summary>
    public static void Run(TextWriter o, int steps, double eta)
    {
        var net = SeedNetwork.Create<double>();
        double[] x = [.. SeedNetwork.DefaultInput];
        double[] y = [.. SeedNetwork.DefaultTarget];

        o.WriteLine("Backprop demo: the seed network, 2 inputs -> 3 sigmoid hidden -> 2 sigmoid outputs,");
        o.WriteLine("one shared bias per layer (b1, b2), loss E = 1/2 ((Y1-O1)^2 + (Y2-O2)^2).");
        o.WriteLine($"Sample X = ({P(x[0])}, {P(x[1])}), target Y = ({P(y[0])}, {P(y[1])}), learning rate eta = {F(eta)}.");
        o.WriteLine();
        o.WriteLine("Parameters");
        for (int i = 1; i <= 2; i++)
            o.WriteLine("  " + string.Join("   ", Enumerable.Range(1, 3).Select(j => $"V{i}{j} = {P(SeedNetwork.V(net, i, j))}")));
        for (int i = 1; i <= 3; i++)
            o.WriteLine("  " + string.Join("   ", Enumerable.Range(1, 2).Select(j => $"W{i}{j} = {P(SeedNetwork.W(net, i, j))}")));
        o.WriteLine($"  b1  = {P(SeedNetwork.B1(net))}   b2  = {P(SeedNetwork.B2(net))}");
        o.WriteLine();

        net.Forward(x, 1);
        double loss = net.ComputeLoss(y);
        net.Backward(y);
        o.WriteLine("Forward pass (eqs. 4-9)");
        for (int j = 1; j <= 3; j++)
            o.WriteLine($"  H{j} = {F(SeedNetwork.H(net, j)),-22} P{j} = sigmoid(H{j}) = {F(SeedNetwork.P(net, j))}");
        for (int j = 1; j <= 2; j++)
            o.WriteLine($"  Q{j} = {F(SeedNetwork.Q(net, j)),-22} O{j} = sigmoid(Q{j}) = {F(SeedNetwork.O(net, j))}");
        o.WriteLine($"  E_total (eq. 10) = {F(loss)}");
        o.WriteLine();
        o.WriteLine("Backward pass: every gradient, from the forward pass's weights");
        for (int i = 1; i <= 2; i++)
            o.WriteLine("  " + string.Join("   ", Enumerable.Range(1, 3).Select(j => $"dE/dV{i}{j} = {G(SeedNetwork.GradV(net, i, j))}")));
        for (int i = 1; i <= 3; i++)
            o.WriteLine("  " + string.Join("   ", Enumerable.Range(1, 2).Select(j => $"dE/dW{i}{j} = {G(SeedNetwork.GradW(net, i, j))}")));
        o.WriteLine($"  dE/db1 = {G(SeedNetwork.GradB1(net))}   dE/db2 = {G(SeedNetwork.GradB2(net))}");
        o.WriteLine("  (eq. 35 of the document multiplies the two error terms of dE/dV11; they must be added, as eq. 17 says.");
        o.WriteLine("   `backprop explain` shows every equation with these numbers and proves each slip.)");
        o.WriteLine();

        o.WriteLine($"Training: {steps} gradient-descent updates on this sample (simultaneous update)");
        var checkpoints = new SortedSet<int>();
        for (int s = 1; s <= steps; s *= 10)
            checkpoints.Add(s);
        for (int s = 1000; s < steps; s += 1000)
            checkpoints.Add(s);
        // The first update uses the gradients shown above; each later TrainStep returns the loss
        // before its update, i.e. the loss after the updates made so far.
        if (steps > 0)
            net.ApplyGradientDescent(eta);
        for (int done = 1; done < steps; done++)
        {
            double current = net.TrainStep(x, y, 1, eta);
            if (checkpoints.Contains(done))
                o.WriteLine($"  after {done,6} updates: E_total = {F(current)}");
        }
        net.Forward(x, 1);
        o.WriteLine($"  after {steps,6} updates: E_total = {F(net.ComputeLoss(y))}");
        o.WriteLine();
        o.WriteLine("Final outputs against the targets");
        for (int j = 1; j <= 2; j++)
            o.WriteLine($"  O{j} = {SeedNetwork.O(net, j).ToString("0.000000", CultureInfo.InvariantCulture)}   Y{j} = {P(y[j - 1])}");
    }

    private static string P(double v) => v.ToString("0.00########", CultureInfo.InvariantCulture);
    private static string F(double v) => v.ToString("0.##########", CultureInfo.InvariantCulture);
    private static string G(double v) => v.ToString("0.000000000E+00", CultureInfo.InvariantCulture);
}
