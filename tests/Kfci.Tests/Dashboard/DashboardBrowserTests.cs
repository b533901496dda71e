using System.Diagnostics;
using Kfci.Runs;
using Kfci.Testing;

namespace Kfci.Tests.Dashboard;

/// <summary>
/// The dashboard in a real browser: Debian's chromium (scripts/setup.sh installs it), headless, against the dashboard on a
/// loopback port over the Firestore emulator. Pages are read after their script ran (<c>--dump-dom</c>), or watched in one
/// open tab over the DevTools protocol (<see cref="DevToolsBrowser"/>) for live updates; screenshots are
/// saved under the test output's <c>dashboard-screenshots/</c> as artifacts.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class DashboardBrowserTests(EmulatorFixture emulators)
{
    private const string Chromium = "/usr/bin/chromium";

    private static readonly string s_screenshots = Path.Combine(AppContext.BaseDirectory, "dashboard-screenshots");

    [Fact]
    public async Task Browser_RunsRunGridAndFlakinessPages_RenderWhatTheDataSays()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run scripts/setup.sh (it installs Debian's chromium)");
        await using var h = await DashboardHarness.StartOnPortAsync(emulators);
        string[] flipper = [TestOutcomes.Pass, TestOutcomes.Fail, TestOutcomes.Pass, TestOutcomes.Fail, TestOutcomes.Fail];
        RunRecord last = null!;
        for (var i = 0; i < flipper.Length; i++)
        {
            last = await h.AddBuildAsync("e2e-job", i, [("build", TestOutcomes.Pass, null), ("flipper", flipper[i], flipper[i] == TestOutcomes.Fail ? $"AssertionError: {i} pods ready, want 3" : null), ("lint", TestOutcomes.Skip, null)]);
        }

        var runs = await DomAsync(h, "/", "runs");
        var run = await DomAsync(h, $"/runs/{last.RunId}", "run");
        var grid = await DomAsync(h, "/jobs/e2e-job", "grid");
        var flaky = await DomAsync(h, "/flaky?job=e2e-job", "flaky");

        Assert.Contains($"data-run=\"{last.RunId}\"", runs, StringComparison.Ordinal);
        Assert.Contains("AssertionError: 4 pods ready, want 3", run, StringComparison.Ordinal);
        Assert.Equal(["fail", "fail first", "pass", "fail", "pass"], DashboardPageTests.Cells(DashboardPageTests.Row(grid, "flipper")));
        var tests = flaky[flaky.IndexOf("<h2>Tests</h2>", StringComparison.Ordinal)..];
        Assert.True(tests.IndexOf("data-test=\"flipper\"", StringComparison.Ordinal) < tests.IndexOf("data-test=\"build\"", StringComparison.Ordinal), "the flipping test ranks above the always-passing one");
    }

    [Fact]
    public async Task Browser_RunFinishesWhileTheListIsOpen_RowUpdatesWithoutReload()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run scripts/setup.sh (it installs Debian's chromium)");
        await using var h = await DashboardHarness.StartOnPortAsync(emulators);
        var running = await h.AddBuildAsync("live-job", 0, [], state: RunState.Submitted);
        await using var browser = await DevToolsBrowser.StartAsync(Chromium);
        await browser.OpenAsync(h.Url + "/");
        var row = $"document.querySelector('tr[data-run=\"{running.RunId}\"]')";
        Assert.True(await browser.WaitForAsync($"!!{row} && {row}.querySelector('.state').textContent === 'submitted'", TimeSpan.FromSeconds(30)), "the runs list never showed the submitted run");

        // A reload would drop this marker: seeing it after the update proves the page changed in place.
        await browser.EvaluateAsync("window.kfciSamePage = true");
        await h.Runs.UpdateAsync(running.RunId, r => r with { State = RunState.Finished, Result = RunResults.Failure, FinishedAt = r.CreatedAt.AddMinutes(20) }, default);

        // The list refreshes every 5 s; 30 s leaves room for a slow machine without letting a broken page hang the run.
        var finished = await browser.WaitForAsync($"{row}.querySelector('.state').textContent === 'finished' && {row}.querySelector('.result').textContent === 'FAILURE'", TimeSpan.FromSeconds(30));
        Directory.CreateDirectory(s_screenshots);
        await browser.ScreenshotAsync(Path.Combine(s_screenshots, "runs-live.png"));
        Assert.True(finished, "the open runs list did not show the run finished within 30 s");
        Assert.True(await browser.EvaluateAsync("window.kfciSamePage === true") is { } same && same.GetValue<bool>(), "the page reloaded instead of updating in place");
    }

    /// <summary>The page's DOM after its scripts ran, and a screenshot of it.</summary>
    private static async Task<string> DomAsync(DashboardHarness h, string path, string name)
    {
        Directory.CreateDirectory(s_screenshots);
        var url = h.Url + path;
        await RunChromiumAsync($"--screenshot={Path.Combine(s_screenshots, name + ".png")}", "--window-size=1280,900", url);
        return await RunChromiumAsync("--dump-dom", url);
    }

    private static async Task<string> RunChromiumAsync(params string[] args)
    {
        var start = new ProcessStartInfo(Chromium) { RedirectStandardOutput = true, RedirectStandardError = true };

        // No sandbox: the tests may run as root in a container, where chromium's sandbox cannot start.
        foreach (var arg in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars", $"--user-data-dir={Path.Combine(Path.GetTempPath(), "kfci-chromium-" + Guid.NewGuid().ToString("N"))}" }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"chromium {string.Join(' ', args)} exited {process.ExitCode}: {await error}");
        return await output;
    }
}
