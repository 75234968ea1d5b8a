using System.CommandLine;
using System.CommandLine.Help;
using Backprop.Cli.Commands;

namespace Backprop.Cli;

/// <summary>The `backprop` command line: one command per file under Commands/, wired here.</summary>
public static class App
{
    /// <summary>Exit code for a bad command line or bad input the user can fix.</summary>
    public const int UsageError = 2;

    /// <summary>Exit code for a failure while running (I/O, diverged training) or an internal error.</summary>
    public const int Failure = 1;

    /// <summary>`--verbose` on any command: an internal error also prints its stack trace.</summary>
    public static Option<bool> Verbose { get; } = new("--verbose")
    {
        Description = "On an internal error, also print the stack trace.",
        Recursive = true,
    };

    [ThreadStatic]
    private static bool t_verbose;

    public static Command BuildRoot(TextWriter output, TextWriter error)
    {
        // A plain command named "backprop" rather than RootCommand, whose name would be the assembly's.
        var root = new Command("backprop",
            "Backprop: feed-forward neural networks, exact enough to teach backpropagation digit by digit.\n" +
            "With no command, runs the demo on the seed network.");
        root.Options.Add(new HelpOption());
        root.Options.Add(new VersionOption());
        root.Options.Add(Verbose);
        var demo = DemoCommand.Create(output, error);
        root.Subcommands.Add(demo);
        root.Subcommands.Add(ExplainCommand.Create(output, error));
        root.Subcommands.Add(ExportCommand.Create(output, error));
        foreach (var option in demo.Options)
            root.Options.Add(option);
        root.Action = demo.Action;
        root.Subcommands.Add(TrainCommand.Create(output, error));
        root.Subcommands.Add(EvaluateCommand.Create(output, error));
        root.Subcommands.Add(PredictCommand.Create(output, error));
        root.Subcommands.Add(PlotCommand.Create(output, error));
        root.Subcommands.Add(InfoCommand.Create(output, error));
        root.Subcommands.Add(GradcheckCommand.Create(output, error));
        root.Subcommands.Add(PlaygroundCommand.Create(output, error));
        root.Subcommands.Add(ServeCommand.Create(output, error));
        return root;
    }

    public static int Run(string[] args) => Run(args, Console.Out, Console.Error);

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = BuildRoot(output, error);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
                error.WriteLine($"error: {e.Message}");
            error.WriteLine("Run 'backprop --help' for usage.");
            return UsageError;
        }
        t_verbose = parse.GetValue(Verbose);
        return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
    }

    /// <summary>Runs a command body, turning the errors a user can fix into one clear line and an exit code.</summary>
    public static int Guard(TextWriter error, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (BackpropException e)
        {
            error.WriteLine($"error: {e.Message}");
            return UsageError;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {e.Message}");
            return Failure;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Not the user's fault: say so in one line; the stack trace only on request.
            error.WriteLine($"internal error: {e.GetType().Name}: {e.Message}" +
                            (t_verbose ? $"\n{e}" : " (run again with --verbose for the stack trace, and please report it)"));
            return Failure;
        }
    }
}
