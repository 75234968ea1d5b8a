using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Backprop.Cli.Playground;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Backprop.Cli.Commands;

/// <summary>
/// `backprop playground`: a local web page where the seed network runs live with its derivation beside it,
/// and a small classifier learns a 2-D dataset. Served on 127.0.0.1 only; every number comes from the engine.
/// </summary>
public static class PlaygroundCommand
{
    /// <summary>The default port.</summary>
    public const int DefaultPort = 5077;

    /// <summary>The command's options.</summary>
    public sealed class Settings
    {
        /// <summary>--port (null: <see cref="DefaultPort"/>; 0: a free one).</summary>
        public int? Port { get; init; }

        /// <summary>--open: open the page in the default browser.</summary>
        public bool Open { get; init; }

        /// <summary>The port to listen on.</summary>
        public int EffectivePort => Port ?? DefaultPort;

        /// <summary>Throws <see cref="BackpropException"/> on a port out of range.</summary>
        public void Validate()
        {
            if (Port is < 0 or > 65535)
                throw new BackpropException($"--port: expected a port number from 0 to 65535, got '{Port}'.");
        }
    }

    /// <summary>The command.</summary>
    public static Command Create(CliStreams streams)
    {
        var port = new Option<int?>("--port") { Description = $"Port on 127.0.0.1 (default {DefaultPort}; 0 picks a free one).", HelpName = "N" };
        var open = new Option<bool>("--open") { Description = "Open the page in the default browser." };
        var command = new Command("playground",
            "Start the playground: the seed network live in the browser with its derivation, and a classifier learning a 2-D dataset. Ctrl+C (or SIGTERM) stops it, with exit code 130 (143).");
        command.Options.Add(port);
        command.Options.Add(open);
        command.SetAction(parse => App.Guard(streams, () =>
        {
            var s = new Settings { Port = parse.GetValue(port), Open = parse.GetValue(open) };
            s.Validate();
            return Run(s, streams);
        }));
        return command;
    }

    /// <summary>The port <paramref name="text"/> names (null: the default), or a <see cref="BackpropException"/>.</summary>
    public static int ParsePort(string? text)
    {
        if (text is null)
            return DefaultPort;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int p))
            throw new BackpropException($"--port: expected a port number from 0 to 65535, got '{text}'.");
        var s = new Settings { Port = p };
        s.Validate();
        return s.EffectivePort;
    }

    private static int Run(Settings s, CliStreams streams)
    {
        int p = s.EffectivePort;
        using var app = PlaygroundServer.Build(p);
        PosixSignal? signal = null;
        void Record(PosixSignalContext context) => signal ??= context.Signal;
        // The host's console lifetime stops the server on these signals; they are recorded for the exit code.
        using var sigint = streams.IsConsole ? PosixSignalRegistration.Create(PosixSignal.SIGINT, Record) : null;
        using var sigterm = streams.IsConsole ? PosixSignalRegistration.Create(PosixSignal.SIGTERM, Record) : null;
        try
        {
            app.Start();
        }
        catch (IOException e)
        {
            throw new BackpropException($"--port: cannot listen on 127.0.0.1:{p} ({e.Message}); try another port or --port 0.");
        }
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        streams.Out.WriteLine($"Backprop playground on {address}/ (127.0.0.1 only). Press Ctrl+C to stop.");
        streams.Out.Flush();
        if (s.Open)
            OpenBrowser(address, streams.Error);
        app.WaitForShutdown();
        return signal switch
        {
            PosixSignal.SIGTERM => ExitCodes.Terminated,
            PosixSignal.SIGINT => ExitCodes.Interrupted,
            _ => ExitCodes.Success,
        };
    }

    private static void OpenBrowser(string address, TextWriter error)
    {
        try
        {
            var opener = OperatingSystem.IsWindows() ? "explorer" : OperatingSystem.IsMacOS() ? "open" : "xdg-open";
            Process.Start(new ProcessStartInfo(opener, address + "/") { UseShellExecute = false })?.Dispose();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            error.WriteLine($"note: could not open a browser ({e.Message}); open {address}/ yourself.");
        }
    }
}
