using System.Globalization;
using System.Text;
using Kfci.Dashboard.Model;
using Kfci.Runs;
using static Kfci.Dashboard.Pages.Html;

namespace Kfci.Dashboard.Pages;

/// <summary>TestGrid's view of a job: tests by builds, newest first, failing tests on top with where they broke.</summary>
internal static class JobPage
{
    /// <param name="job">The job.</param>
    /// <param name="grid">Its builds by tests.</param>
    /// <param name="truncated">Whether a bound on what one page reads left results out.</param>
    public static string Render(string job, JobGrid grid, bool truncated)
    {
        var body = new StringBuilder();
        var (passed, finished) = grid.BuildPassRate;
        var failing = grid.Rows.Count(r => r.FailingNow);
        body.Append(CultureInfo.InvariantCulture, $"<p class=\"summary\">{passed} of {finished} finished builds passed ({Percent(finished == 0 ? 0 : (double)passed / finished)}) over the last {grid.Builds.Count}; {grid.Rows.Count} tests, {failing} failing now.</p>")
            .Append("<p class=\"legend\"><span class=\"pass\">pass</span><span class=\"fail\">fail</span><span class=\"flaky\">flaky</span><span class=\"skip\">skip</span> outlined: first failing build of a test failing now · ")
            .Append(Link($"/flaky?job={Q(job)}", "flakiness of this job")).Append("</p>");
        if (truncated)
        {
            body.Append(CultureInfo.InvariantCulture, $"<p class=\"note\">Only the newest results were read (at most {DashboardLimits.MaxColumns:N0} workflows and {DashboardLimits.MaxCases:N0} test cases); show fewer builds to see every test.</p>");
        }

        if (grid.Builds.Count == 0)
        {
            body.Append("<p class=\"note\">No builds of this job yet.</p>");
            return body.ToString();
        }

        body.Append("<div class=\"scroll\"><table class=\"grid\"><thead><tr><th>Test</th><th>Pass</th>");
        foreach (var build in grid.Builds)
        {
            body.Append(CultureInfo.InvariantCulture, $"<th class=\"build\"><a href=\"/runs/{Q(build.RunId)}\" title=\"{E(build.Commit)}\">{E(build.BuildId)}</a></th>");
        }

        body.Append("</tr></thead><tbody>");
        foreach (var row in grid.Rows)
        {
            var testUrl = $"/test?job={Q(job)}&workflow={Q(row.Workflow)}&name={Q(row.Test)}";
            body.Append(CultureInfo.InvariantCulture, $"<tr data-test=\"{E(row.Test)}\"><td class=\"name\"><a href=\"{E(testUrl)}\" title=\"{E(row.Workflow)} / {E(row.Test)}\">{E(row.Workflow)} / {E(row.Test)}</a></td><td>{Percent(row.PassRate)}</td>");
            for (var i = 0; i < row.Cells.Count; i++)
            {
                var cell = row.Cells[i];
                var build = grid.Builds[i];
                if (cell.State is TestOutcomes.Pass or CellStates.None)
                {
                    // Most cells: the column's header already names the build and commit; 200,000 titles would triple the page.
                    body.Append(cell.State == TestOutcomes.Pass ? "<td class=\"cell pass\"></td>" : "<td class=\"cell none\"></td>");
                    continue;
                }

                var title = $"{build.BuildId} {Short(build.Commit)}: {cell.State}{(cell.FirstFailure ? " (first failure)" : "")}{(cell.Message is { } m ? " — " + m : "")}";
                body.Append(CultureInfo.InvariantCulture, $"<td class=\"cell {E(cell.State)}{(cell.FirstFailure ? " first" : "")}\" title=\"{E(title)}\"></td>");
            }

            body.Append("</tr>");
        }

        body.Append("</tbody></table></div>");
        return body.ToString();
    }
}
