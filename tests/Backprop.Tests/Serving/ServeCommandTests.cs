using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Backprop.Cli;
using Backprop.Cli.Commands;
using Backprop.IO;

namespace Backprop.Tests.Serving;

/// <summary>`backprop serve` as users run it: bad command lines get one error line, and SIGTERM finishes the requests in flight.</summary>
public sealed partial class ServeCommandTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly string _dir = Directory.CreateTempSubdirectory("backprop-serve-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = App.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("--port", "70000", "--port: expected a whole number from 0 to 65535, got 70000")]
    [InlineData("--host", "example.com", "--host: expected an IP address")]
    [InlineData("--max-batch", "0", "--max-batch: expected a whole number from 1 to 65536, got 0")]
    [InlineData("--batch-delay", "500", "--batch-delay: expected a number of milliseconds from 0 to 100, got 500")]
    [InlineData("--max-records", "x", "--max-records")]
    [InlineData("--name", "a/b", "--name: expected 1 to 64 letters")]
    public void A_bad_option_is_one_error_line_naming_it(string option, string value, string says)
    {
        string model = Path.Combine(_dir, "m.json");
        ServingModels.Flowers(epochs: 1).Save(model);
        var (code, _, err) = option == "--port" ? Run("serve", "--model", model, option, value) : Run("serve", "--model", model, "--port", "0", option, value);
        Assert.Equal(App.UsageError, code);
        Assert.StartsWith("error: ", err);
        Assert.Contains(says, err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void A_missing_or_broken_model_file_is_one_error_line_naming_the_file()
    {
        var (code, _, err) = Run("serve", "--model", Path.Combine(_dir, "none.json"), "--port", "0");
        Assert.Equal(App.UsageError, code);
        Assert.Matches("^error: .*none.json", err);
        string broken = Path.Combine(_dir, "broken.json");
        File.WriteAllText(broken, "{\"format\": \"backprop-model\", \"version\": 2");
        (code, _, err) = Run("serve", "--model", broken, "--port", "0");
        Assert.Equal(App.UsageError, code);
        Assert.Matches("^error: .*broken.json", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void The_default_name_is_the_file_name()
    {
        Assert.Equal("iris", ServeCommand.NameOf("/models/iris.json"));
        Assert.Equal("iris", ServeCommand.NameOf("iris.ckpt.json"));
        Assert.Equal("model", ServeCommand.NameOf("/x/ünï.json"));
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    private const int Sigterm = 15;

    [GeneratedRegex(@"on (http://127\.0\.0\.1:(\d+))/")]
    private static partial Regex Address();

    [Fact]
    public async Task Sigterm_stops_accepting_finishes_the_request_in_flight_and_exits_0()
    {
        Assert.True(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "SIGTERM is a POSIX signal");
        string model = Path.Combine(_dir, "m.json");
        ServingModels.Flowers(epochs: 2).Save(model);
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "Backprop.Cli.dll"), "serve", "--model", model, "--port", "0" })
            info.ArgumentList.Add(a);
        using var child = new Process { StartInfo = info };
        var lines = new System.Collections.Concurrent.BlockingCollection<string>();
        var all = new StringBuilder();
        child.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (all)
                all.AppendLine(e.Data);
            lines.Add(e.Data);
        };
        child.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (all) all.AppendLine(e.Data); };
        child.Start();
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        try
        {
            string Wait(Func<string, bool> what, string description)
            {
                while (lines.TryTake(out var line, TimeSpan.FromSeconds(60)))
                    if (what(line))
                        return line;
                lock (all)
                    throw new TimeoutException($"no line {description} in 60 s:\n{all}");
            }
            var match = Address().Match(Wait(l => Address().IsMatch(l), "with the address"));
            int port = int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);

            // A request in flight: the headers and half of its body sent, the rest held back until the server is stopping.
            string body = """{"sepal length": 1, "sepal_width": 12, "petal/length": 23, "petal_width": 34}""";
            using var socket = new TcpClient();
            await socket.ConnectAsync(IPAddress.Loopback, port, Ct);
            var stream = socket.GetStream();
            string head = $"POST /predict HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head + body[..20]), Ct);
            await stream.FlushAsync(Ct);
            await Task.Delay(300, Ct);

            Assert.Equal(0, kill(child.Id, Sigterm));
            Wait(l => l.StartsWith("Stopping:", StringComparison.Ordinal), "saying it stops");

            // No new connections now...
            await Task.Delay(200, Ct);
            using (var late = new TcpClient())
                await Assert.ThrowsAnyAsync<SocketException>(async () => await late.ConnectAsync(IPAddress.Loopback, port, Ct));

            // ...but the request in flight is answered in full.
            await stream.WriteAsync(Encoding.ASCII.GetBytes(body[20..]), Ct);
            await stream.FlushAsync(Ct);
            string response = await new StreamReader(stream, Encoding.UTF8).ReadToEndAsync(Ct);
            Assert.StartsWith("HTTP/1.1 200", response);
            Assert.Contains("\"predictions\":[{\"class\":", response);

            Assert.True(child.WaitForExit(30_000), "the server did not exit within 30 s of SIGTERM");
            child.WaitForExit();
            lock (all)
            {
                Assert.True(child.ExitCode == 0, $"exit code {child.ExitCode}:\n{all}");
                Assert.Contains("Stopped.", all.ToString());
            }
        }
        finally
        {
            if (!child.HasExited)
                child.Kill(entireProcessTree: true);
        }
    }
}
