using System.Globalization;
using System.Text;
using Kfci.Dashboard.Model;
using Kfci.Runs;
using static Kfci.Dashboard.Pages.Html;

namespace Kfci.Dashboard.Pages;

/// <summary>The flaky-test report Kubeflow's test team asked for (kubeflow/testing#355): tests and workflows ranked.</summary>
internal static class FlakinessPage
{
    /// <summary>Rows shown per table: the rest are the least flaky.</summary>
    public const int MaxRows = 200;

    public static string Render(string? job, int days, IReadOnlyList<WorkflowTestSummary> summaries, bool truncated)
    {
        var body = new StringBuilder();
        body.Append("<form class=\"filters\" method=\"get\" action=\"/flaky\">")
            .Append(CultureInfo.InvariantCulture, $"<input name=\"job\" placeholder=\"job (all)\" value=\"{E(job)}\">")
            .Append(CultureInfo.InvariantCulture, $"<input name=\"days\" type=\"number\" min=\"1\" max=\"{DashboardLimits.MaxWindowDays}\" value=\"{days}\"> days <button>Show</button></form>")
            .Append(CultureInfo.InvariantCulture, $"<p class=\"summary\">{summaries.Select(s => s.RunId).Distinct().Count()} builds over the last {days} days. Flips: failures between two passes; recovered: commits that failed and then passed (a retry or re-run of the same code).</p>");
        if (truncated)
        {
            body.Append(CultureInfo.InvariantCulture, $"<p class=\"note\">Only the newest workflow results were read (at most {DashboardLimits.MaxColumns:N0} workflows and {DashboardLimits.MaxCases:N0} test cases); narrow the window or pick a job.</p>");
        }

        body.Append("<h2>Tests</h2>");
        AppendTable(body, Flakiness.ByTest(summaries), tests: true);
        body.Append("<h2>Workflows</h2>");
        AppendTable(body, Flakiness.ByWorkflow(summaries), tests: false);
        return body.ToString();
    }

    private static void AppendTable(StringBuilder body, IReadOnlyList<FlakinessEntry> entries, bool tests)
    {
        if (entries.Count == 0)
        {
            body.Append("<p class=\"note\">No results in this window.</p>");
            return;
        }

        body.Append(CultureInfo.InvariantCulture, $"<div class=\"scroll\"><table class=\"flaky {(tests ? "tests" : "workflows")}\"><thead><tr><th>#</th><th>Job</th><th>{(tests ? "Workflow / test" : "Workflow")}</th><th>Runs</th><th>Failure rate</th><th></th><th>Flips</th><th>Recovered</th></tr></thead><tbody>");
        var rank = 0;
        foreach (var entry in entries.Take(MaxRows))
        {
            var name = tests ? $"{entry.Workflow} / {entry.Test}" : entry.Workflow;
            var cell = tests ? Link($"/test?job={Q(entry.Job)}&workflow={Q(entry.Workflow)}&name={Q(entry.Test)}", name) : E(name);
            body.Append(CultureInfo.InvariantCulture, $"<tr data-test=\"{E(entry.Test ?? entry.Workflow)}\"><td>{++rank}</td><td>{Link("/jobs/" + Q(entry.Job), entry.Job)}</td><td class=\"name\">{cell}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{entry.Runs}</td><td>{Percent(entry.FailureRate)}</td><td>{Bar(entry.FailureRate)}</td><td>{entry.Flips}</td><td>{entry.Recovered}</td></tr>");
        }

        body.Append("</tbody></table></div>");
    }

    private static string Bar(double fraction) => string.Create(
        CultureInfo.InvariantCulture,
        $"<svg width=\"80\" height=\"10\" viewBox=\"0 0 80 10\" aria-hidden=\"true\"><rect class=\"pass\" width=\"80\" height=\"10\"></rect><rect class=\"fail\" width=\"{fraction * 80:0.#}\" height=\"10\"></rect></svg>");
}
