using System.CommandLine;
using Backprop.IO;

namespace Backprop.Cli.Options;

/// <summary>A file named on the command line: the option that named it and the path as given (null: not given).</summary>
public readonly record struct FileArgument(string Option, string? Path)
{
    /// <summary>"--save m.json", for messages.</summary>
    public override string ToString() => $"{Option} {Path}";
}

/// <summary>
/// An option that names a file the command writes (--save, --output, --onnx, --out, ...). Declared once here, with
/// the checks every output gets before any work: see <see cref="FileChecks"/>.
/// </summary>
public sealed class OutputFileOption
{
    /// <summary>Declares the option.</summary>
    public OutputFileOption(string name, string description, string helpName = "FILE", bool required = false)
    {
        Option = new Option<string?>(name) { Description = description, HelpName = helpName, Required = required };
    }

    /// <summary>The System.CommandLine option.</summary>
    public Option<string?> Option { get; }

    /// <summary>The option's name, e.g. --save.</summary>
    public string Name => Option.Name;

    /// <summary>The path given on this command line.</summary>
    public FileArgument Of(ParseResult parse) => new(Name, parse.GetValue(Option));
}

/// <summary>
/// The checks a command's files get before it does any work (docs/cli.md, "Files"): no empty path; no output that is
/// also an input of the same command, or another output, where two paths are the same file when they resolve to the
/// same device and inode (a symbolic link, a hard link, ./x, dir/../x; a path that does not exist yet by its
/// resolved full path); no output that exists and is not a regular file (/dev/null, /dev/full, a pipe, a folder);
/// then every output's folder is probed with a temporary file (a read-only file system, a folder the user may not
/// write). The first four are usage errors (exit 2) naming both options; a failed probe is an I/O error (exit 3).
/// </summary>
public static class FileChecks
{
    /// <summary>
    /// Checks <paramref name="inputs"/> and <paramref name="outputs"/> (arguments with a null path are skipped).
    /// <paramref name="implicitOutputs"/> are written only in some cases (the checkpoint a signal writes): they are
    /// checked against the inputs and outputs, but not probed. <paramref name="updates"/> names the (output, input)
    /// option pairs that may be one file because the output is the input's next version, read whole before it is
    /// replaced (train's --checkpoint and --resume). Throws <see cref="BackpropException"/>.
    /// </summary>
    public static void Check(IEnumerable<FileArgument> inputs, IEnumerable<FileArgument> outputs, IEnumerable<FileArgument>? implicitOutputs = null,
        IEnumerable<(string Output, string Input)>? updates = null)
    {
        var allowed = (updates ?? []).ToHashSet();
        var ins = inputs.Where(a => a.Path is not null).ToList();
        var outs = outputs.Where(a => a.Path is not null).ToList();
        var maybe = (implicitOutputs ?? []).Where(a => a.Path is not null).ToList();
        foreach (var a in ins.Concat(outs).Concat(maybe))
            if (string.IsNullOrWhiteSpace(a.Path))
                throw new BackpropException($"{a.Option}: an empty path was given; expected a file name.");

        // Standard input can be read by one option only (--data - and --test -: the second would find it empty).
        var stdin = ins.Where(a => DataOptions.IsStandardInput(a.Path)).ToList();
        if (stdin.Count > 1)
            throw new BackpropException($"{stdin[1].Option} -: standard input is already read by {stdin[0].Option}; only one option can read it (save the other to a file).");
        foreach (var a in ins)
            if (a.Path == "-")
                throw new BackpropException($"{a.Option} -: standard input is read only for data (--data, --labels, --test, --test-labels); give a file name (a file named - is ./-).");
        foreach (var a in outs.Concat(maybe))
            if (a.Path == "-")
                throw new BackpropException($"{a.Option} -: is not written to standard output; give a file name.");

        var inIds = ins.Select(a => (Arg: a, Id: FileIdentity.Of(a.Path!))).ToList();
        var outIds = outs.Select(a => (Arg: a, Id: FileIdentity.Of(a.Path!))).ToList();
        foreach (var (arg, id) in outIds)
        {
            if (id.Kind == FileKind.Directory)
                throw new BackpropException($"{arg.Option} {arg.Path}: is a folder; give a file name.");
            if (id.Exists && !id.IsRegularFile)
                throw new BackpropException(
                    $"{arg.Option} {arg.Path}: is {FileIdentity.Describe(id.Kind)}, not a regular file; refusing to replace it (give the path of a file).");
        }
        foreach (var (arg, id) in outIds.Concat(maybe.Select(a => (Arg: a, Id: FileIdentity.Of(a.Path!)))))
        {
            foreach (var (input, inputId) in inIds)
                if (id.SameFileAs(inputId) && !allowed.Contains((arg.Option, input.Option)))
                    throw new BackpropException(
                        $"{arg.Option} {arg.Path} is the same file as {input.Option} {input.Path}: writing it would destroy an input of this command; give {arg.Option} another path.");
        }
        for (int i = 0; i < outIds.Count; i++)
            for (int j = i + 1; j < outIds.Count; j++)
                if (outIds[i].Id.SameFileAs(outIds[j].Id))
                    throw new BackpropException(
                        $"{outIds[i].Arg.Option} {outIds[i].Arg.Path} and {outIds[j].Arg.Option} {outIds[j].Arg.Path} are the same file: one would overwrite the other; give each its own path.");
        foreach (var (arg, id) in maybe.Select(a => (Arg: a, Id: FileIdentity.Of(a.Path!))))
            foreach (var (output, outputId) in outIds)
                if (id.SameFileAs(outputId))
                    throw new BackpropException(
                        $"{output.Option} {output.Path} is where {arg.Option} would be written; give {output.Option} another path.");

        foreach (var (arg, _) in outIds)
        {
            try
            {
                AtomicFile.Probe(arg.Path!);
            }
            catch (BackpropException e)
            {
                throw new BackpropException($"{arg.Option} {e.Message}", e.InnerException ?? e);
            }
        }
    }
}
