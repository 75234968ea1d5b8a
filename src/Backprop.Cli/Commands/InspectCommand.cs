using System.CommandLine;
using Backprop.Cli.Options;
using Backprop.Data;
using Backprop.IO;

namespace Backprop.Cli.Commands;

/// <summary>
/// `backprop inspect --data FILE`: the schema table of a data file (each column's inferred kind, its missing and
/// distinct values, and the rule that decided) without training anything; the same table `train` prints first.
/// </summary>
public static class InspectCommand
{
    /// <summary>The command's options.</summary>
    public sealed class Settings
    {
        /// <summary>The data options.</summary>
        public required DataSettings Data { get; init; }

        /// <summary>Checks the files.</summary>
        public void Validate() => FileChecks.Check(Data.Files, []);
    }

    /// <summary>The command.</summary>
    public static Command Create(CliStreams streams)
    {
        var data = new DataOptions();
        data.Data.Required = true;
        var command = new Command("inspect",
            "Show how a data file's columns would be read: each column's kind (numeric, boolean, categorical, date, text, ignored), " +
            "its missing and distinct values and why, as train prints it before training. Nothing is trained or written.");
        command.Options.Add(data.Data);
        data.AddTo(command, includeData: false, includeKinds: true);
        command.SetAction(parse => App.Guard(streams, () =>
        {
            var s = new Settings { Data = data.Bind(parse) };
            s.Validate();
            string path = s.Data.Data!;
            // Opened once: a pipe's bytes are kept for the second look (opened twice, the table lost what the first took).
            using var input = DataFiles.OpenInput(path);
            if (DataFiles.LooksLikeIdx(input, path))
                throw new BackpropException($"{path}: is an IDX (or gzip) file: its columns are pixels, with nothing to infer.");
            var file = TableFiles.ReadTable(input, path, s.Data.Csv);
            streams.Out.WriteLine($"{path}: {file.Table.Rows} rows, {file.Table.Columns} columns ({file.Table.Format}{(file.Table.HasHeader ? ", header" : ", no header")}).");
            foreach (string line in TableFiles.SchemaTable(file))
                streams.Out.WriteLine(line);
            int features = file.Profiles.Count(p => p.Kind is not (ColumnKind.Text or ColumnKind.Ignored));
            streams.Out.WriteLine($"{features} column(s) used as features; the label is {(file.Label >= 0 ? $"\"{file.Table.ColumnNames[file.Label]}\"" : "none")}.");
            return ExitCodes.Success;
        }));
        return command;
    }
}
