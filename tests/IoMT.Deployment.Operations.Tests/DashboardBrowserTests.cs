using System.Text.Json;
using IoMT.Deployment.Testing;
using Microsoft.Playwright;

namespace IoMT.Deployment.Operations.Tests;

/// <summary>
/// The dashboard in a real browser: headless Chromium from the distribution's <c>chromium</c> package (no browser
/// download), driven by Playwright, against a host on the local provider with a canary wave baking.
/// </summary>
public sealed class DashboardBrowserTests : IAsyncLifetime
{
    /// <summary>The distribution's Chromium; ./test.sh installs it when it is missing.</summary>
    private const string ChromiumPath = "/usr/bin/chromium";

    private ConsoleHost _host = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        // Fail, not skip: CI runs this test on a fresh machine through ./test.sh, which installs the browser.
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: install the distribution's browser (apt-get install -y chromium), as ./test.sh does.");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        _host = await ConsoleHost.StartAsync();
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_operator_sees_waves_and_fleet_and_pauses_with_a_reason()
    {
        await using var context = await _browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1400 } });
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };
        await page.GotoAsync(_host.ConsoleAddress.ToString());

        // No token yet: the page asks for one; it is kept in this tab's sessionStorage only.
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in with a bearer token" })).ToBeVisibleAsync();
        await page.GetByLabel("Access token").FillAsync(_host.OperatorToken());
        await page.GetByRole(AriaRole.Button, new() { Name = "Use token" }).ClickAsync();

        await Assertions.Expect(page.Locator("#who")).ToContainTextAsync("Olga Operator (11111111-1111-1111-1111-111111111111) — Operator");
        await Assertions.Expect(page.Locator("#rollout-status")).ToHaveTextAsync("◔ Baking");
        var waves = page.Locator("#waves tbody tr");
        await Assertions.Expect(waves).ToHaveCountAsync(2);
        await Assertions.Expect(waves.Nth(0)).ToContainTextAsync("canary (current)");
        await Assertions.Expect(waves.Nth(0)).ToContainTextAsync("◔ Baking");
        await Assertions.Expect(waves.Nth(1)).ToContainTextAsync("everyone");
        await Assertions.Expect(waves.Nth(1)).ToContainTextAsync("○ Pending");
        await Assertions.Expect(page.Locator("#bake")).ToContainTextAsync("Bake ends in 59 min");
        var bars = page.Locator("#fleet-chart li");
        await Assertions.Expect(bars).ToHaveCountAsync(2);
        await Assertions.Expect(bars.Nth(0)).ToContainTextAsync("build 2 (target)1 connector (20%)");
        await Assertions.Expect(bars.Nth(1)).ToContainTextAsync("build 1 (current)4 connectors (80%)");
        await Assertions.Expect(page.Locator("#history")).ToContainTextAsync("Update none → 1");
        Assert.Equal(_host.OperatorToken().Length, (await page.EvaluateAsync<string>("sessionStorage.getItem('iomt-operations-token')")).Length);

        // Keyboard: focus Pause, Enter opens the dialog with the reason field focused; confirming without a reason is refused.
        var pause = page.GetByRole(AriaRole.Button, new() { Name = "‖ Pause" });
        await pause.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Pause the rollout" });
        await Assertions.Expect(dialog).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByLabel("Reason (required)")).ToBeFocusedAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Pause rollout" }).ClickAsync();
        await Assertions.Expect(dialog.GetByRole(AriaRole.Alert)).ToHaveTextAsync("A reason is required.");
        Assert.Equal(RolloutStatus.Baking, (await _host.StateAsync()).Rollout!.Status);

        await page.Keyboard.TypeAsync("canary error rate above 2%");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Pause rollout" }).ClickAsync();
        await Assertions.Expect(dialog).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#rollout-status")).ToHaveTextAsync("‖ Paused");
        await Assertions.Expect(page.Locator("#status-reason")).ToContainTextAsync("paused by Olga Operator (11111111-1111-1111-1111-111111111111): canary error rate above 2%");
        await Assertions.Expect(page.Locator("#commands")).ToContainTextAsync("Pause by Olga Operator (11111111-1111-1111-1111-111111111111): canary error rate above 2%");
        await Assertions.Expect(page.Locator("#message")).ToContainTextAsync("Pause recorded; status Paused.");
        await Assertions.Expect(pause).ToBeFocusedAsync();

        var command = (await _host.StateAsync()).Rollout!.Commands[^1];
        Assert.Equal((OperatorAction.Pause, "Olga Operator (11111111-1111-1111-1111-111111111111)", "canary error rate above 2%"), (command.Action, command.Actor, command.Reason));

        var screenshots = Path.Combine(TestPaths.RepoRoot, "artifacts", "test-results", "screenshots");
        Directory.CreateDirectory(screenshots);
        var shot = Path.Combine(screenshots, "operations-dashboard-paused.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
        Assert.True(new FileInfo(shot).Length > 10_000, $"The screenshot {shot} is suspiciously small.");
        Assert.True(errors.Count == 0, "Browser console errors: " + string.Join(" | ", errors));
    }

    [Fact]
    public async Task A_reader_sees_the_rollout_but_no_action_buttons()
    {
        await using var context = await _browser.NewContextAsync();
        await context.AddInitScriptAsync($"sessionStorage.setItem('iomt-operations-token', {JsonSerializer.Serialize(_host.ReaderToken())});");
        var page = await context.NewPageAsync();
        await page.GotoAsync(_host.ConsoleAddress.ToString());

        await Assertions.Expect(page.Locator("#who")).ToContainTextAsync("Rita Reader (22222222-2222-2222-2222-222222222222) — Reader (read-only)");
        await Assertions.Expect(page.Locator("#waves tbody tr")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#fleet-chart li")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#builds tbody tr")).ToHaveCountAsync(2);
        foreach (var name in new[] { "Pause", "Resume", "Promote", "Abort", "Roll back", "Invalidate", "Reinstate", "Pin", "Unpin" })
        {
            await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = name })).ToHaveCountAsync(0);
        }

        await Assertions.Expect(page.GetByRole(AriaRole.Button)).ToHaveTextAsync(["Forget token"]);
    }

    [Fact]
    public async Task A_refused_token_sends_the_page_back_to_sign_in()
    {
        await using var context = await _browser.NewContextAsync();
        await context.AddInitScriptAsync($"sessionStorage.setItem('iomt-operations-token', {JsonSerializer.Serialize(_host.Token("Olga Operator", "oid-1", [ConsoleHost.OperatorRole], audience: "api://other"))});");
        var page = await context.NewPageAsync();
        await page.GotoAsync(_host.ConsoleAddress.ToString());
        await Assertions.Expect(page.Locator("#message")).ToContainTextAsync("The token was refused");
        await Assertions.Expect(page.GetByLabel("Access token")).ToBeVisibleAsync();
        Assert.Null(await page.EvaluateAsync<string?>("sessionStorage.getItem('iomt-operations-token')"));
    }
}
