namespace Backprop.Cli;

/// <summary>
/// The exit codes of `backprop`, one per kind of ending (docs/cli.md, `backprop --help`). A process the system kills
/// (the kernel's out-of-memory killer, SIGKILL) has no chance to choose: the shell reports 128 + the signal, 137.
/// </summary>
public static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>It ran, and the result is a failure: training diverged (the model keeps its last finite weights), or a gradient check failed.</summary>
    public const int Failed = 1;

    /// <summary>A bad command line or bad input the user can fix (a missing file, a malformed CSV, an output that is also an input).</summary>
    public const int Usage = 2;

    /// <summary>An I/O error: a file could not be read or written (permissions, a read-only or full file system), or standard output is gone.</summary>
    public const int IOError = 3;

    /// <summary>An internal error: a bug; the message asks to report it (--verbose prints the stack trace).</summary>
    public const int Internal = 4;

    /// <summary>The runtime ran out of memory (an <c>error:</c> line is printed when the runtime can still print it).</summary>
    public const int OutOfMemory = 5;

    /// <summary>Interrupted by SIGINT (Ctrl+C): 128 + 2, as shells report it. Train writes its checkpoint first.</summary>
    public const int Interrupted = 130;

    /// <summary>Stopped by SIGTERM: 128 + 15. Train writes its checkpoint first.</summary>
    public const int Terminated = 143;

    /// <summary>The table for `backprop --help`.</summary>
    public const string Help =
        "Exit codes: 0 success; 1 training diverged or a gradient check failed; 2 bad command line or input; " +
        "3 I/O error (a file cannot be read or written, standard output gone); 4 internal error; 5 out of memory; " +
        "130 interrupted by SIGINT (Ctrl+C); 143 stopped by SIGTERM (137: killed by the system, e.g. out of memory).";
}
