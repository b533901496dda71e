using System.Globalization;
using System.Text;
using Kfci.Dashboard.Model;
using Kfci.Runs;
using static Kfci.Dashboard.Pages.Html;

namespace Kfci.Dashboard.Pages;

/// <summary>One test's recent results and its failure messages grouped by similarity.</summary>
internal static class TestPage
{
    public static string Render(string job, string workflow, string name, IReadOnlyList<WorkflowTestSummary> summaries)
    {
        var results = summaries.Where(s => s.Workflow == workflow)
            .SelectMany(s => s.Tests.Where(t => t.Name == name).Select(t => (Summary: s, Test: t)))
            .OrderByDescending(r => r.Summary.CreatedAt)
            .ToList();
        var body = new StringBuilder();
        body.Append(CultureInfo.InvariantCulture, $"<p>{Link("/jobs/" + Q(job), job)} / {E(workflow)}: {results.Count} results, {results.Count(r => r.Test.Result == TestOutcomes.Fail)} failures.</p>");
        var groups = MessageGroups.Group(results.Where(r => r.Test.Result == TestOutcomes.Fail).Select(r => r.Test.Message ?? "(no message)"));
        if (groups.Count > 0)
        {
            body.Append("<h2>Failures by message</h2><div class=\"scroll\"><table class=\"groups\"><tbody>");
            foreach (var (example, count) in groups)
            {
                body.Append(CultureInfo.InvariantCulture, $"<tr><td>{count}×</td><td class=\"msg\">{E(example)}</td></tr>");
            }

            body.Append("</tbody></table></div>");
        }

        body.Append("<h2>Recent results</h2><div class=\"scroll\"><table class=\"results\"><thead><tr><th>Build</th><th>Commit</th><th>Result</th><th>Duration</th><th>Message</th></tr></thead><tbody>");
        foreach (var (summary, test) in results)
        {
            body.Append(CultureInfo.InvariantCulture, $"<tr><td>{Link("/runs/" + Q(summary.RunId), summary.BuildId)}</td><td><code>{E(Short(summary.Commit))}</code></td>")
                .Append(CultureInfo.InvariantCulture, $"<td class=\"cell-text {E(test.Result)}\">{E(test.Result)}</td><td>{Duration(TimeSpan.FromSeconds(test.Seconds))}</td><td class=\"msg\">{E(test.Message)}</td></tr>");
        }

        body.Append("</tbody></table></div>");
        return body.ToString();
    }
}
