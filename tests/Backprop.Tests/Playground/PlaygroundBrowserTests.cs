using System.Globalization;
using System.Text.Json;
using Backprop.Cli.Playground;
using Backprop.Explain;
using Backprop.IO;
using Backprop.Tests.Explain;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Backprop.Tests.Playground;

/// <summary>
/// The page in a real headless browser: Playwright for .NET driving Debian's Chromium (/usr/bin/chromium, which
/// Playwright cannot download here; BACKPROP_CHROMIUM names another) against the real Kestrel server. Skips, saying
/// why, when Chromium is absent.
/// With BACKPROP_SCREENSHOTS=1 it also writes docs/images/playground-derivation.png and playground-training.png.
/// </summary>
public sealed class PlaygroundBrowserTests : IAsyncLifetime
{
    /// <summary>Debian's Chromium, or the browser named by BACKPROP_CHROMIUM.</summary>
    private static readonly string ChromiumPath =
        Environment.GetEnvironmentVariable("BACKPROP_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        // A DNS rebinding attack without a DNS server: this name resolves to 127.0.0.1, as a rebound name would.
        "--host-resolver-rules=MAP rebound.test 127.0.0.1",
    ];

    /// <summary>Spirals reach 99% in about 750 steps; the training test allows four times that.</summary>
    private const int StepBudget = 3000;

    private WebApplication? _app;
    /// <summary>
    /// Uncaught errors of every page a test opened. Collected, not thrown: Playwright calls the handler from its
    /// own event loop, where an exception never reaches the test. Each test asserts the list empty at its end.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _pageErrors = new();
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private string _address = "";

    private static bool Screenshots => Environment.GetEnvironmentVariable("BACKPROP_SCREENSHOTS") == "1";

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            return;
        _app = PlaygroundServer.Build(0);
        await _app.StartAsync(TestContext.Current.CancellationToken);
        _address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
            await _browser.DisposeAsync();
        _playwright?.Dispose();
        if (_app is not null)
            await _app.DisposeAsync();
    }

    private async Task<IPage> Open(int width = 1280, int height = 800)
    {
        Assert.SkipUnless(File.Exists(ChromiumPath),
            $"Chromium is not installed at {ChromiumPath} (apt-get install -y chromium); the browser tests need it.");
        var context = await _browser!.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        var page = await context.NewPageAsync();
        var outside = new List<string>();
        page.Request += (_, r) =>
        {
            if (!r.Url.StartsWith(_address, StringComparison.Ordinal) && !r.Url.StartsWith("data:", StringComparison.Ordinal))
                outside.Add(r.Url);
        };
        page.PageError += (_, e) => _pageErrors.Enqueue(e);
        await page.GotoAsync(_address + "/");
        await page.WaitForFunctionAsync("() => document.getElementById('trace').textContent.length > 1000");
        Assert.Empty(outside);
        return page;
    }

    private void AssertNoPageErrors() => Assert.True(_pageErrors.IsEmpty, "errors on the page: " + string.Join(" | ", _pageErrors));

    private static async Task<double> Value(IPage page, string id)
    {
        string? v = await page.GetAttributeAsync("#" + id, "data-value");
        Assert.False(string.IsNullOrEmpty(v), $"#{id} shows no value");
        return double.Parse(v, CultureInfo.InvariantCulture);
    }

    private static double[] Doubles(JsonElement a) => [.. a.EnumerateArray().Select(e => e.GetDouble())];

    [Fact]
    public async Task Forward_backward_and_step_show_the_numbers_of_backprop_explain()
    {
        var page = await Open();
        var explain = JsonDocument.Parse(ExplainJson.Serialize(Explainer.Seed())).RootElement;
        var hidden = explain.GetProperty("layers")[0];
        var output = explain.GetProperty("layers")[1];

        await page.ClickAsync("#btn-forward");
        await page.WaitForFunctionAsync("() => document.getElementById('val-O2').dataset.value !== ''");
        var h = Doubles(hidden.GetProperty("z"));
        var p = Doubles(hidden.GetProperty("a"));
        var q = Doubles(output.GetProperty("z"));
        var o = Doubles(output.GetProperty("a"));
        for (int j = 1; j <= 3; j++)
        {
            Assert.Equal(h[j - 1], await Value(page, $"val-H{j}"));
            Assert.Equal(p[j - 1], await Value(page, $"val-P{j}"));
        }
        for (int j = 1; j <= 2; j++)
        {
            Assert.Equal(q[j - 1], await Value(page, $"val-Q{j}"));
            Assert.Equal(o[j - 1], await Value(page, $"val-O{j}"));
        }
        Assert.Equal(explain.GetProperty("loss").GetDouble(), await Value(page, "val-E"));
        // The rounded number a student reads is the same value.
        Assert.Equal("0.5932699921", await page.InnerTextAsync("#val-P1"));

        await page.ClickAsync("#btn-backward");
        await page.WaitForFunctionAsync("() => document.getElementById('grad-V11').dataset.value !== ''");
        for (int i = 1; i <= 2; i++)
            for (int j = 1; j <= 3; j++)
                Assert.Equal(hidden.GetProperty("weights_grad")[j - 1][i - 1].GetDouble(), await Value(page, $"grad-V{i}{j}"));
        for (int i = 1; i <= 3; i++)
            for (int j = 1; j <= 2; j++)
                Assert.Equal(output.GetProperty("weights_grad")[j - 1][i - 1].GetDouble(), await Value(page, $"grad-W{i}{j}"));
        Assert.Equal(hidden.GetProperty("biases_grad")[0].GetDouble(), await Value(page, "grad-b1"));
        Assert.Equal(output.GetProperty("biases_grad")[0].GetDouble(), await Value(page, "grad-b2"));
        // The slips are marked in the trace, and hovering W11's label highlights its equations.
        Assert.True(await page.Locator("#trace .slip").CountAsync() > 0);
        await page.HoverAsync(".edge-label[data-syms^='W11']");
        var lit = await page.Locator("#trace .hl").AllInnerTextsAsync();
        Assert.NotEmpty(lit);
        Assert.All(lit, line => Assert.Matches(@"W11|P1|Q1", line));
        if (Screenshots)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(CliRunner.RepoRoot(), "docs", "images", "playground-derivation.png") });

        await page.ClickAsync("#btn-step");
        await page.WaitForFunctionAsync("() => document.getElementById('p-V11').value !== '0.15'");
        for (int i = 1; i <= 2; i++)
            for (int j = 1; j <= 3; j++)
                Assert.Equal(hidden.GetProperty("weights_updated")[j - 1][i - 1].GetDouble(),
                    double.Parse(await page.InputValueAsync($"#p-V{i}{j}"), CultureInfo.InvariantCulture));
        Assert.Equal(output.GetProperty("biases_updated")[0].GetDouble(), double.Parse(await page.InputValueAsync("#p-b2"), CultureInfo.InvariantCulture));
        // After the step the page shows the updated network's pass: explain of the updated state.
        var next = JsonDocument.Parse(ExplainJson.Serialize(Explainer.Run(Explainer.Seed().Updated, ExplainSettings.SeedDefault))).RootElement;
        Assert.Equal(next.GetProperty("loss").GetDouble(), await Value(page, "val-E"));
        Assert.Equal(next.GetProperty("layers")[1].GetProperty("weights_grad")[0][0].GetDouble(), await Value(page, "grad-W11"));

        // Editing a weight then Forward uses the edited value (W11 = 1: Q1 = 1*P1 + 0.5*P2 + 0.55*P3 + b2).
        await page.ClickAsync("#btn-reset");
        await page.WaitForFunctionAsync("() => document.getElementById('p-V11').value === '0.15'");
        await page.FillAsync("#p-W11", "1");
        await page.DispatchEventAsync("#p-W11", "change");
        await page.ClickAsync("#btn-forward");
        await page.WaitForFunctionAsync("() => document.getElementById('val-Q1').dataset.value !== ''");
        var s = SeedScalar.Default();
        s.W11 = 1;
        s.Forward();
        Assert.Equal(s.Q1, await Value(page, "val-Q1"), 1e-15);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task The_order_and_frozen_biases_chosen_on_the_page_reach_the_engine()
    {
        // The page sends update_order and trainable_bias under the API's names: a name it got wrong would be a 400
        // shown on the page, or a setting silently left at its default.
        var page = await Open();
        await page.SelectOptionAsync("#in-order", "sequential");
        await page.SelectOptionAsync("#in-biases", "frozen");
        await page.ClickAsync("#btn-step");
        await page.WaitForFunctionAsync("() => document.getElementById('p-V11').value !== '0.15'");
        var s = SeedScalar.Default();
        s.StepSequential(0.5, trainBiases: false);
        Assert.Equal(s.V11, double.Parse(await page.InputValueAsync("#p-V11"), CultureInfo.InvariantCulture), 1e-15);
        Assert.Equal(s.W11, double.Parse(await page.InputValueAsync("#p-W11"), CultureInfo.InvariantCulture), 1e-15);
        Assert.Equal("0.35", await page.InputValueAsync("#p-b1"));
        Assert.Equal("0.6", await page.InputValueAsync("#p-b2"));
        Assert.Equal("sequential", await page.InputValueAsync("#in-order"));
        Assert.Equal("frozen", await page.InputValueAsync("#in-biases"));
        Assert.Contains("(sequential)", await page.InnerTextAsync("#seed-status"));
        Assert.False(await page.Locator("#seed-status.error").IsVisibleAsync());

        // And the training tab's batch size and learning rate: a run with batch_size 1000 takes the whole set per step.
        await page.ClickAsync("#tab-training");
        await page.WaitForFunctionAsync("() => document.getElementById('train-status').textContent.includes('Press Train')");
        await page.FillAsync("#tr-batch", "1000");
        await page.FillAsync("#tr-lr", "0.02");
        var created = await page.RunAndWaitForResponseAsync(() => page.ClickAsync("#tr-new"), r => r.Url.EndsWith("/api/train", StringComparison.Ordinal));
        var sent = JsonDocument.Parse(created.Request.PostData!).RootElement;
        Assert.Equal(1000, sent.GetProperty("batch_size").GetInt32());
        Assert.Equal(0.02, sent.GetProperty("learning_rate").GetDouble());
        Assert.Equal(200, created.Status);
        await page.WaitForFunctionAsync("() => document.getElementById('train-status').textContent.includes('Press Train')");
        Assert.Contains("3 classes", await page.InnerTextAsync("#train-status"));
        AssertNoPageErrors();
    }

    [Fact]
    public async Task A_script_error_on_the_page_is_seen_by_the_test()
    {
        var page = await Open();
        AssertNoPageErrors();
        await page.EvaluateAsync("() => { setTimeout(() => { throw new Error('injected fault'); }); }");
        for (int k = 0; k < 200 && _pageErrors.IsEmpty; k++)
            await page.WaitForTimeoutAsync(25);
        Assert.Contains(_pageErrors, e => e.Contains("injected fault", StringComparison.Ordinal));
        Assert.Throws<Xunit.Sdk.TrueException>(AssertNoPageErrors);
        _pageErrors.Clear();
    }

    [Fact]
    public async Task A_page_whose_name_resolves_to_127_0_0_1_cannot_reach_the_api()
    {
        Assert.SkipUnless(File.Exists(ChromiumPath),
            $"Chromium is not installed at {ChromiumPath} (apt-get install -y chromium); the browser tests need it.");
        var context = await _browser!.NewContextAsync();
        var page = await context.NewPageAsync();
        int port = new Uri(_address).Port;
        // The browser reaches this server under another name (what a rebound DNS name does): everything is refused.
        foreach (var path in new[] { "/", "/api/seed/default", "/api/train/options" })
        {
            var response = await page.GotoAsync($"http://rebound.test:{port}{path}");
            Assert.NotNull(response);
            Assert.Equal(421, response.Status);
            Assert.Contains("does not name this server", await page.InnerTextAsync("body"));
        }
        // And that page's own script, same-origin with itself, cannot drive the API either.
        int status = await page.EvaluateAsync<int>(
            "async () => (await fetch('/api/train', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status");
        Assert.Equal(421, status);
        await context.CloseAsync();
    }

    [Fact]
    public async Task A_run_that_diverges_stops_and_the_page_says_how_to_recover()
    {
        var page = await Open();
        await page.ClickAsync("#tab-training");
        await page.WaitForFunctionAsync("() => document.getElementById('train-status').textContent.includes('Press Train')");
        // Leaky ReLU, SGD, η = 10: the loss stops being a number within a few hundred steps.
        await page.FillAsync("#tr-hidden", "8,8");
        await page.SelectOptionAsync("#tr-activation", "leaky-relu");
        await page.RunAndWaitForResponseAsync(() => page.SelectOptionAsync("#tr-optimizer", "sgd"), r => r.Url.EndsWith("/api/train", StringComparison.Ordinal));
        await page.FillAsync("#tr-lr", "10");
        await page.RunAndWaitForResponseAsync(() => page.ClickAsync("#tr-new"), r => r.Url.EndsWith("/api/train", StringComparison.Ordinal));
        await page.ClickAsync("#tr-train");
        await page.WaitForFunctionAsync("() => document.getElementById('train-status').classList.contains('error')",
            null, new PageWaitForFunctionOptions { Timeout = 300_000 });
        string text = await page.InnerTextAsync("#train-status");
        Assert.Contains("diverged at step", text);
        Assert.Contains("new run", text);
        Assert.Contains("lower learning rate, e.g. 1", text);
        Assert.Equal("Train", await page.InnerTextAsync("#tr-train"));
        AssertNoPageErrors();
    }

    [Fact]
    public async Task Spirals_train_to_at_least_95_percent_and_the_page_fits_a_phone()
    {
        var page = await Open();
        await page.ClickAsync("#tab-training");
        await page.WaitForFunctionAsync("() => document.getElementById('train-status').textContent.includes('Press Train')");
        // Counted in training steps, not seconds: the page trains until 95% or the step budget, however slow the
        // machine is (the timeout only ends a page that stopped training altogether); an error on the page ends it too.
        await page.ClickAsync("#tr-train");
        var reached = await page.WaitForFunctionAsync(
            "budget => { const el = document.getElementById('train-status'), d = el.dataset, failed = el.classList.contains('error'); " +
            "return (Number(d.accuracy) >= 0.95 || Number(d.step) >= budget || failed) && [Number(d.step), Number(d.accuracy), failed ? el.textContent : '']; }",
            StepBudget, new PageWaitForFunctionOptions { Timeout = 300_000, PollingInterval = 10 });
        var result = await reached.JsonValueAsync<JsonElement>();
        Assert.Equal("", result[2].GetString());
        double step = result[0].GetDouble(), accuracy = result[1].GetDouble();
        await page.ClickAsync("#tr-train");
        Assert.Equal("Train", await page.InnerTextAsync("#tr-train"));
        Assert.True(accuracy >= 0.95, $"accuracy {accuracy} after {step} steps; expected 95% within {StepBudget}");
        Assert.InRange(step, 1, StepBudget + 25);
        if (Screenshots)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(CliRunner.RepoRoot(), "docs", "images", "playground-training.png") });

        // A phone-sized viewport: nothing wider than the screen, the trace below the drawing.
        var phone = await Open(390, 844);
        double overflow = await phone.EvaluateAsync<double>("() => document.documentElement.scrollWidth - window.innerWidth");
        Assert.True(overflow <= 0, $"the page is {overflow} px wider than a phone screen");
        if (Screenshots)
        {
            await phone.ClickAsync("#btn-backward");
            await phone.WaitForFunctionAsync("() => document.getElementById('grad-V11').dataset.value !== ''");
            await phone.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Path.GetTempPath(), "playground-phone.png"), FullPage = true });
        }
        // Keyboard: arrow keys move between the tabs.
        await phone.FocusAsync("#tab-derivation");
        await phone.Keyboard.PressAsync("ArrowRight");
        Assert.False(await phone.IsHiddenAsync("#panel-training"));
        AssertNoPageErrors();
    }
}
