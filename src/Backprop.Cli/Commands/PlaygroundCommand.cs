using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
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
    public static Command Create(TextWriter output, TextWriter error)
    {
        var port = new Option<string?>("--port") { Description = "Port on 127.0.0.1 (default 5077; 0 picks a free one).", HelpName = "N" };
        var open = new Option<bool>("--open") { Description = "Open the page in the default browser." };
        var command = new Command("playground",
            "Start the playground: the seed network live in the browser with its derivation, and a classifier learning a 2-D dataset. Ctrl+C stops it.");
        command.Options.Add(port);
        command.Options.Add(open);
        command.SetAction(parse => App.Guard(error, () =>
        {
            int p = ParsePort(parse.GetValue(port));
            using var app = PlaygroundServer.Build(p);
            try
            {
                app.Start();
            }
            catch (IOException e)
            {
                throw new BackpropException($"--port: cannot listen on 127.0.0.1:{p} ({e.Message}); try another port or --port 0.");
            }
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            output.WriteLine($"Backprop playground on {address}/ (127.0.0.1 only). Press Ctrl+C to stop.");
            if (parse.GetValue(open))
                OpenBrowser(address, error);
            app.WaitForShutdown();
            return 0;
        }));
        return command;
    }

    public static int ParsePort(string? text)
    {
        if (text is null)
            return 5077;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int p) || p < 0 || p > 65535)
            throw new BackpropException($"--port: expected a port number from 0 to 65535, got '{text}'.");
        return p;
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
