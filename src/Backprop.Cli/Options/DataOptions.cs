using System.CommandLine;
using System.CommandLine.Parsing;
using Backprop.Data;
using Backprop.IO;

namespace Backprop.Cli.Options;

/// <summary>What the data options say: the files and how to read a CSV.</summary>
/// <param name="Data">--data FILE (null: not given).</param>
/// <param name="Labels">--labels FILE, the IDX labels for IDX images.</param>
/// <param name="Csv">The CSV settings (header, delimiter, label and dropped columns, task).</param>
public sealed record DataSettings(string? Data, string? Labels, CsvOptions Csv)
{
    /// <summary>The files, for <see cref="FileChecks"/>.</summary>
    public IEnumerable<FileArgument> Files => [new("--data", Data), new("--labels", Labels)];

    /// <summary>
    /// Reads <see cref="Data"/> for <paramref name="model"/>: columns matched to its schema, labels to its classes,
    /// features raw (the model applies its preprocessing).
    /// </summary>
    /// <remarks>
    /// A model with a table pipeline reads the file as a table (CSV, JSON) and encodes it; values it treats as missing
    /// (unseen categories, values that do not parse) and rows skipped for a missing label are counted, and written to
    /// <paramref name="notes"/> as one "note:" line each.
    /// </remarks>
    public Dataset ReadFor<T>(Backprop.Training.Model<T> model, bool requireLabels, TextWriter? notes = null)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        string path = Data ?? throw new BackpropException("--data: a data file is needed.");
        if (model.Table is not { } table)
            return DataFiles.ReadFor(model.Schema, path, Labels, Csv, requireLabels);
        var counts = new EncodeCounts();
        var data = TableFiles.ReadFor(model.Schema, table, path, Csv, requireLabels, counts);
        foreach (string line in counts.Describe())
            notes?.WriteLine($"note: {path}: {line}.");
        return data;
    }
}

/// <summary>The options that say how to read a data file, shared by train, evaluate, predict and plot; declared once here.</summary>
public sealed class DataOptions
{
    /// <summary>--data FILE.</summary>
    public Option<string?> Data { get; } = new("--data")
    {
        Description = "The data: a CSV/TSV file, or an IDX images file (MNIST format, gzipped or not) with --labels. A pipe works too (read once); - is standard input.",
        HelpName = "FILE",
    };

    /// <summary>--labels FILE.</summary>
    public Option<string?> Labels { get; } = new("--labels") { Description = "The IDX labels file that goes with an IDX images file.", HelpName = "FILE" };

    /// <summary>--label-column.</summary>
    public Option<string> LabelColumn { get; } = new("--label-column")
    {
        Description = "Which CSV column holds the label: first, last (default), a 0-based INDEX of the file's columns as they are (before any are dropped), or a header NAME.",
        DefaultValueFactory = _ => "last",
    };

    /// <summary>--drop-columns.</summary>
    public Option<string?> DropColumns { get; } = new("--drop-columns")
    {
        Description = "CSV columns to ignore (e.g. an id column), comma-separated 0-based indices of the file's columns as they are, or header names.",
        HelpName = "COLUMNS",
    };

    /// <summary>--categorical COLUMNS.</summary>
    public Option<string?> Categorical { get; } = new("--categorical")
    {
        Description = "Columns to read as categories (one-hot), whatever their values look like: comma-separated header names or 0-based indices.",
        HelpName = "COLUMNS",
    };

    /// <summary>--numeric COLUMNS.</summary>
    public Option<string?> Numeric { get; } = new("--numeric")
    {
        Description = "Columns to read as numbers (a value that is not one is read as missing, and counted).",
        HelpName = "COLUMNS",
    };

    /// <summary>--date COLUMNS.</summary>
    public Option<string?> Date { get; } = new("--date")
    {
        Description = "Columns to read as ISO dates (yyyy-MM-dd[THH:mm:ss]), expanded into year, month, weekday, day of year.",
        HelpName = "COLUMNS",
    };

    /// <summary>--text COLUMNS.</summary>
    public Option<string?> Text { get; } = new("--text")
    {
        Description = "Columns that are free text or identifiers: dropped.",
        HelpName = "COLUMNS",
    };

    /// <summary>--ignore COLUMNS (as --drop-columns).</summary>
    public Option<string?> Ignore { get; } = new("--ignore")
    {
        Description = "Columns not to use (the same as --drop-columns).",
        HelpName = "COLUMNS",
    };

    /// <summary>--missing SPELLINGS.</summary>
    public Option<string?> Missing { get; } = new("--missing")
    {
        Description = "The spellings of a missing value, comma-separated (default: empty, NA, N/A, NaN, null, ?, and . alone; case ignored).",
        HelpName = "SPELLINGS",
    };

    /// <summary>--header auto|yes|no.</summary>
    public Option<HeaderMode> Header { get; } = new("--header")
    {
        Description = "Does the CSV start with a header line: auto (default), yes or no.",
        HelpName = "auto|yes|no", // absent: default(HeaderMode), which is Auto
        CustomParser = r => Single(r)?.ToLowerInvariant() switch
        {
            null or "auto" => HeaderMode.Auto,
            "yes" or "true" => HeaderMode.Yes,
            "no" or "false" => HeaderMode.No,
            var h => Fail<HeaderMode>(r, $"--header: expected auto, yes or no, got '{h}'."),
        },
    };

    /// <summary>--delimiter comma|semicolon|tab.</summary>
    public Option<char?> Delimiter { get; } = new("--delimiter")
    {
        Description = "CSV delimiter: comma, semicolon, tab (default: detected).",
        HelpName = "comma|semicolon|tab",
        CustomParser = r => Single(r)?.ToLowerInvariant() switch
        {
            null => null,
            "comma" or "," => ',',
            "semicolon" or ";" => ';',
            "tab" or "\\t" or "\t" => '\t',
            var d => Fail<char?>(r, $"--delimiter: expected comma, semicolon or tab, got '{d}'."),
        },
    };

    /// <summary>--task auto|classification|regression.</summary>
    public Option<TaskKind?> Task { get; } = new("--task")
    {
        Description = "auto (default: non-numeric labels, or at most 20 distinct whole numbers, mean classification), classification or regression.",
        HelpName = "auto|classification|regression",
        CustomParser = r => Single(r)?.ToLowerInvariant() switch
        {
            null or "auto" => null,
            "classification" => TaskKind.Classification,
            "regression" => TaskKind.Regression,
            var t => Fail<TaskKind?>(r, $"--task: expected auto, classification or regression, got '{t}'."),
        },
    };

    /// <summary>Adds the options to <paramref name="command"/>; without <paramref name="includeData"/> only the CSV ones.</summary>
    /// <remarks>
    /// With <paramref name="includeKinds"/> also the column-kind options (--categorical, --numeric, --date, --text,
    /// --ignore, --missing): for the commands that read a table to train on or inspect it; a trained model's own
    /// pipeline decides them for every other command.
    /// </remarks>
    public void AddTo(Command command, bool includeData = true, bool includeKinds = false)
    {
        if (includeData)
        {
            command.Options.Add(Data);
            command.Options.Add(Labels);
        }
        foreach (var o in new Option[] { LabelColumn, DropColumns, Header, Delimiter, Task })
            command.Options.Add(o);
        if (includeKinds)
            foreach (var o in new Option[] { Categorical, Numeric, Date, Text, Ignore, Missing })
                command.Options.Add(o);
    }

    /// <summary>What the options say on this command line.</summary>
    public DataSettings Bind(ParseResult parse) => new(StandardInput("--data", parse.GetValue(Data)), StandardInput("--labels", parse.GetValue(Labels)), Csv(parse));

    /// <summary>
    /// <c>-</c>, the usual name of standard input, is <c>/dev/stdin</c> (read once, as any pipe); a file really named
    /// <c>-</c> is <c>./-</c>. Its other names (<see cref="IsStandardInput"/>) are kept as given. Windows has no such
    /// path, a terminal would wait for rows typed by hand, and a closed standard input forever: each is refused with
    /// the way round.
    /// </summary>
    internal static string? StandardInput(string option, string? path)
    {
        bool dash = path == "-";
        if (!dash && !IsStandardInput(path))
            return path;
        if (OperatingSystem.IsWindows())
            throw new BackpropException($"{option} {path}: standard input is not readable as a file on Windows; save the data to a file and give its path.");
        if (OperatingSystem.IsLinux() && StandardInputIsOwnPipe())
            throw new BackpropException($"{option} {path}: standard input is closed; pipe the data in (cat data.csv | backprop ... {option} -) or give a file.");
        // A terminal would wait, silently, for rows typed by hand.
        if (!Console.IsInputRedirected)
            throw new BackpropException($"{option} {path}: standard input is a terminal; pipe the data in (cat data.csv | backprop ... {option} -) or give a file.");
        return dash ? "/dev/stdin" : path;
    }

    /// <summary>True for the names of standard input other than <c>-</c>: /dev/stdin, /dev/fd/0, /proc/self/fd/0.</summary>
    internal static bool IsStandardInput(string? path) => path is "/dev/stdin" or "/dev/fd/0" or "/proc/self/fd/0";

    /// <summary>
    /// True when descriptor 0 is a pipe this process also holds under another descriptor: started with standard
    /// input closed (<c>&lt;&amp;-</c>), the runtime's own first pipe takes descriptor 0, and reading it waits forever.
    /// </summary>
    private static bool StandardInputIsOwnPipe()
    {
        try
        {
            string? zero = new FileInfo("/proc/self/fd/0").LinkTarget;
            if (zero is null || !zero.StartsWith("pipe:", StringComparison.Ordinal))
                return false;
            // The runtime holds its pipe's write end too; a real standard input's writer is another process.
            foreach (string fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
                if (Path.GetFileName(fd) != "0" && new FileInfo(fd).LinkTarget == zero && WritesTo(Path.GetFileName(fd)))
                    return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return false;
    }

    /// <summary>True when descriptor <paramref name="fd"/> of this process is open for writing (/proc/self/fdinfo: flags, octal).</summary>
    private static bool WritesTo(string fd)
    {
        foreach (string line in File.ReadLines($"/proc/self/fdinfo/{fd}"))
            if (line.StartsWith("flags:", StringComparison.Ordinal))
                return (Convert.ToInt32(line["flags:".Length..].Trim(), 8) & 3) != 0;
        return false;
    }

    /// <summary>The CSV settings the options describe.</summary>
    public CsvOptions Csv(ParseResult parse) => new()
    {
        Header = parse.GetValue(Header),
        Delimiter = parse.GetValue(Delimiter),
        LabelColumn = parse.GetValue(LabelColumn) ?? "last",
        DropColumns = [.. List(parse, DropColumns), .. List(parse, Ignore)],
        Task = parse.GetValue(Task),
        Categorical = List(parse, Categorical),
        Numeric = List(parse, Numeric),
        Date = List(parse, Date),
        Text = List(parse, Text),
        // Spellings are kept as given (an empty one is the empty field); absent: the defaults.
        Missing = parse.GetValue(Missing) is { } m ? [.. m.Split(',', StringSplitOptions.TrimEntries)] : null,
    };

    private static string[] List(ParseResult parse, Option<string?> option) =>
        (parse.GetValue(option) ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private static string? Single(ArgumentResult r) => r.Tokens.Count == 0 ? null : r.Tokens[^1].Value.Trim();

    private static T Fail<T>(ArgumentResult r, string message)
    {
        r.AddError(message);
        return default!;
    }
}
