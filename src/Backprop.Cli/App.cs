using System.CommandLine;
using System.CommandLine.Help;
using Backprop.Cli.Commands;

namespace Backprop.Cli;

/// <summary>The `backprop` command line: one command per file under Commands/, wired here.</summary>
public static class App
{
    /// <summary>Exit code for a bad command line or bad input the user can fix (<see cref="ExitCodes.Usage"/>).</summary>
    public const int UsageError = ExitCodes.Usage;

    /// <summary>Exit code for a run whose result is a failure (<see cref="ExitCodes.Failed"/>).</summary>
    public const int Failure = ExitCodes.Failed;

    /// <summary>`--verbose` on any command: an internal error also prints its stack trace.</summary>
    public static Option<bool> Verbose { get; } = new("--verbose")
    {
        Description = "On an internal error, also print the stack trace.",
        Recursive = true,
    };

    [ThreadStatic]
    private static bool t_verbose;

    /// <summary>The root command, writing to <paramref name="streams"/>.</summary>
    public static Command BuildRoot(CliStreams streams)
    {
        // A plain command named "backprop" rather than RootCommand, whose name would be the assembly's.
        var root = new Command("backprop",
            "Backprop: feed-forward neural networks, exact enough to teach backpropagation digit by digit.\n" +
            "With no command, runs the demo on the seed network.\n" + ExitCodes.Help);
        root.Options.Add(new HelpOption());
        root.Options.Add(new VersionOption());
        root.Options.Add(Verbose);
        var demo = DemoCommand.Create(streams);
        root.Subcommands.Add(demo);
        root.Subcommands.Add(ExplainCommand.Create(streams));
        root.Subcommands.Add(ExportCommand.Create(streams));
        foreach (var option in demo.Options)
            root.Options.Add(option);
        root.Action = demo.Action;
        root.Subcommands.Add(TrainCommand.Create(streams));
        root.Subcommands.Add(EvaluateCommand.Create(streams));
        root.Subcommands.Add(CvCommand.Create(streams));
        root.Subcommands.Add(TuneCommand.Create(streams));
        root.Subcommands.Add(ImportanceCommand.Create(streams));
        root.Subcommands.Add(PredictCommand.Create(streams));
        root.Subcommands.Add(PlotCommand.Create(streams));
        root.Subcommands.Add(InfoCommand.Create(streams));
        root.Subcommands.Add(InspectCommand.Create(streams));
        root.Subcommands.Add(GradcheckCommand.Create(streams));
        root.Subcommands.Add(PlaygroundCommand.Create(streams));
        root.Subcommands.Add(ServeCommand.Create(streams));
        Options.NumberOptions.Install(root);
        return root;
    }

    /// <summary>Runs the command line on the console.</summary>
    public static int Run(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the command line writing to <paramref name="output"/> and <paramref name="error"/>; returns the exit code (<see cref="ExitCodes"/>).</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var streams = new CliStreams(output, error);
        int code;
        try
        {
            var root = BuildRoot(streams);
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0)
            {
                // One line: every problem, then where the usage is.
                streams.Error.WriteLine("error: " + string.Join(" ", parse.Errors.Select(e => e.Message.TrimEnd('.') + ".")) +
                                        $" Run '{CommandPath(parse)} --help' for usage.");
                return ExitCodes.Usage;
            }
            t_verbose = parse.GetValue(Verbose);
            code = parse.Invoke(new InvocationConfiguration { Output = streams.Out, Error = streams.Error, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            code = Report(streams, e);
        }
        streams.Out.Flush();
        if (streams.Out.Failure is not null)
        {
            streams.Error.WriteLine($"error: {streams.Out.FailureMessage}.");
            if (code is ExitCodes.Success or ExitCodes.Failed)
                code = ExitCodes.IOError;
        }
        return code;
    }

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var r = parse.CommandResult; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, r.Command.Name);
        return string.Join(' ', names);
    }

    /// <summary>
    /// Runs a command body, turning every exception into one <c>error:</c> line and its exit code: a problem the user
    /// can fix 2, an I/O error 3, a bug 4 (the stack trace with --verbose), out of memory 5.
    /// </summary>
    public static int Guard(CliStreams streams, Func<int> body)
    {
        try
        {
            InjectFault();
            return body();
        }
        catch (Exception e)
        {
            return Report(streams, e);
        }
    }

    /// <summary>
    /// The child-process tests prove the internal-error (4) and out-of-memory (5) paths of the real process:
    /// BACKPROP_TEST_FAULT=internal or =oom makes a command throw before it starts.
    /// </summary>
    private static void InjectFault()
    {
        switch (Environment.GetEnvironmentVariable("BACKPROP_TEST_FAULT"))
        {
            case "internal":
                throw new InvalidOperationException("a fault injected by BACKPROP_TEST_FAULT=internal");
            case "oom":
                throw new OutOfMemoryException("a fault injected by BACKPROP_TEST_FAULT=oom");
        }
    }

    /// <summary>The exit code for an exception that ended a command (see <see cref="ExitCodes"/>).</summary>
    public static int CodeOf(Exception e) => e switch
    {
        OutOfMemoryException => ExitCodes.OutOfMemory,
        BackpropException => IsIOFailure(e.InnerException) ? ExitCodes.IOError : ExitCodes.Usage,
        IOException or UnauthorizedAccessException => IsIOFailure(e) ? ExitCodes.IOError : ExitCodes.Usage,
        _ => ExitCodes.Internal,
    };

    /// <summary>True for a failure of the system to read or write (permissions, a read-only or full disk), not a missing file or bad content.</summary>
    private static bool IsIOFailure(Exception? e) => e switch
    {
        null => false,
        BackpropException b => IsIOFailure(b.InnerException),
        UnauthorizedAccessException => true,
        FileNotFoundException or DirectoryNotFoundException or EndOfStreamException or PathTooLongException => false,
        IOException => true,
        _ => false,
    };

    private static int Report(CliStreams streams, Exception e)
    {
        int code = CodeOf(e);
        string line = code switch
        {
            ExitCodes.OutOfMemory => "error: out of memory: the data or the network is too large for this machine's memory (see docs/cli.md, \"Memory\").",
            ExitCodes.Internal => $"internal error: {e.GetType().Name}: {e.Message}" +
                                  (t_verbose ? $"\n{e}" : " (run again with --verbose for the stack trace, and please report it)"),
            _ => $"error: {e.Message}",
        };
        streams.Error.WriteLine(line);
        return code;
    }
}
