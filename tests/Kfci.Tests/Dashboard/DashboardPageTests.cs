using Kfci.Janitor;
using Kfci.Runs;
using Kfci.Testing;

namespace Kfci.Tests.Dashboard;

/// <summary>The dashboard's pages, served in memory as <c>kfci dashboard</c> wires them, on real data in the Firestore emulator.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class DashboardPageTests(EmulatorFixture emulators)
{
    private const string Pass = TestOutcomes.Pass;
    private const string Fail = TestOutcomes.Fail;

    [Fact]
    public async Task Runs_FinishedRun_ListedWithResultAndFilteredByJob()
    {
        await using var h = await DashboardHarness.StartAsync(emulators);
        await h.AddBuildAsync("job-a", 1, [("build", Pass, null), ("e2e", Fail, "boom")]);
        await h.AddBuildAsync("job-b", 2, [("build", Pass, null)]);

        var all = await h.GetAsync("/");
        var onlyA = await h.GetAsync("/?job=job-a&state=finished");

        Assert.Contains("data-run=\"job-a-0001\"", all, StringComparison.Ordinal);
        Assert.Contains("data-run=\"job-b-0002\"", all, StringComparison.Ordinal);
        Assert.Contains("FAILURE", onlyA, StringComparison.Ordinal);
        Assert.DoesNotContain("job-b-0002", onlyA, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ShowsFailedTestMessagePlanReasonAndLogLinks()
    {
        await using var h = await DashboardHarness.StartAsync(emulators);
        var run = await h.AddBuildAsync("job-r", 1, [("build", Pass, null), ("e2e", Fail, "AssertionError: expected 3 pods")]);
        var logDirectory = Path.Combine(h.ResultsDirectory, "logs", "job-r", run.BuildId);
        Directory.CreateDirectory(logDirectory);
        await File.WriteAllTextAsync(Path.Combine(logDirectory, "build-log.txt"), "<b>whole build log</b>");

        var page = await h.GetAsync($"/runs/{run.RunId}");
        using var log = await h.Client.GetAsync(new Uri($"/runs/{run.RunId}/log", UriKind.Relative));

        Assert.Contains("AssertionError: expected 3 pods", page, StringComparison.Ordinal);
        Assert.Contains("include_dirs matched py/**", page, StringComparison.Ordinal);
        Assert.Contains("<svg class=\"timeline\"", page, StringComparison.Ordinal);
        Assert.Contains($"/runs/{run.RunId}/file?path=artifacts%2Flogs%2F", page, StringComparison.Ordinal);
        Assert.Equal("text/plain", log.Content.Headers.ContentType?.MediaType);
        Assert.Equal("<b>whole build log</b>", await log.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Run_Unknown_NotFoundAndFilePathsOutsideTheRunRefused()
    {
        await using var h = await DashboardHarness.StartAsync(emulators);
        var run = await h.AddBuildAsync("job-x", 1, [("build", Pass, null)]);

        using var missing = await h.Client.GetAsync(new Uri("/runs/nope", UriKind.Relative));
        using var escape = await h.Client.GetAsync(new Uri($"/runs/{run.RunId}/file?path=..%2F..%2Fsecret", UriKind.Relative));

        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, escape.StatusCode);
    }

    [Fact]
    public async Task Job_GridShowsThePatternNewestFirstAndMarksWhereATestBroke()
    {
        await using var h = await DashboardHarness.StartAsync(emulators);
        string[] broken = [Pass, Pass, Fail, Fail];
        for (var i = 0; i < broken.Length; i++)
        {
            await h.AddBuildAsync("job-g", i, [("steady", Pass, null), ("broken", broken[i], broken[i] == Fail ? "exit 1" : null)]);
        }

        var page = await h.GetAsync("/jobs/job-g");

        var brokenRow = Row(page, "broken");
        Assert.Equal(["fail", "fail first", "pass", "pass"], Cells(brokenRow));
        Assert.Equal(["pass", "pass", "pass", "pass"], Cells(Row(page, "steady")));
        Assert.True(page.IndexOf("data-test=\"broken\"", StringComparison.Ordinal) < page.IndexOf("data-test=\"steady\"", StringComparison.Ordinal), "a test failing now is listed first");
        Assert.Contains("2 of 4 finished builds passed (50%)", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Flaky_AFlippingTestRanksAboveAnAlwaysPassingOne()
    {
        await using var h = await DashboardHarness.StartAsync(emulators);
        string[] flipper = [Pass, Fail, Pass, Fail, Pass];
        for (var i = 0; i < flipper.Length; i++)
        {
            await h.AddBuildAsync("job-f", i, [("always-passes", Pass, null), ("flipper", flipper[i], flipper[i] == Fail ? $"timeout after {i}s" : null)]);
        }

        var page = await h.GetAsync("/flaky?job=job-f&days=14");
        var test = await h.GetAsync("/test?job=job-f&workflow=e2e&name=flipper");

        var tests = page[page.IndexOf("<h2>Tests</h2>", StringComparison.Ordinal)..];
        Assert.True(
            tests.IndexOf("data-test=\"flipper\"", StringComparison.Ordinal) < tests.IndexOf("data-test=\"always-passes\"", StringComparison.Ordinal),
            "the flipping test ranks first");
        Assert.Contains("<td>2×</td>", test, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostileJunitNamesAndMessages_AreEscapedOnEveryPage()
    {
        await using var h = await DashboardHarness.StartAsync(emulators);
        const string name = "<script>alert('name')</script>";
        const string message = "\"><img src=x onerror=alert(1)>";
        var run = await h.AddBuildAsync("job-h", 1, [(name, Fail, message)]);

        foreach (var path in new[] { $"/runs/{run.RunId}", "/jobs/job-h", "/flaky?job=job-h", $"/test?job=job-h&workflow=e2e&name={Uri.EscapeDataString(name)}" })
        {
            var page = await h.GetAsync(path);
            Assert.DoesNotContain("<script>alert", page, StringComparison.Ordinal);
            Assert.DoesNotContain("<img src=x", page, StringComparison.Ordinal);
            Assert.Contains("&lt;script&gt;", page, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Janitor_ShowsTheLastSweepWithWhatItKeptAndWhy()
    {
        await using var h = await DashboardHarness.StartAsync(emulators);
        var kept = new Dictionary<string, int>(StringComparer.Ordinal) { ["protected-project"] = 3 };
        await h.SaveSweepAsync(new SweepReport("sweep-1", DashboardHarness.Epoch, TimeSpan.FromSeconds(12), false, [new TypeReport(ResourceType.DmDeployment, 9, 4, 4, 0, kept, [], 0)]));

        var page = await h.GetAsync("/janitor");

        Assert.Contains("sweep-1", page, StringComparison.Ordinal);
        Assert.Contains("4 deleted of 4 planned", page, StringComparison.Ordinal);
        Assert.Contains("protected-project: 3", page, StringComparison.Ordinal);
    }

    /// <summary>The markup of the grid row of a test.</summary>
    internal static string Row(string page, string test)
    {
        var start = page.IndexOf($"<tr data-test=\"{test}\">", StringComparison.Ordinal);
        Assert.True(start >= 0, $"no row for {test}");
        return page[start..page.IndexOf("</tr>", start, StringComparison.Ordinal)];
    }

    /// <summary>The state classes of a row's cells, left (newest) to right.</summary>
    internal static List<string> Cells(string row) =>
        [.. System.Text.RegularExpressions.Regex.Matches(row, "<td class=\"cell ([a-z ]+)\"").Select(m => m.Groups[1].Value)];
}
