using System.Globalization;
using System.Text;
using Kfci.Runs;
using static Kfci.Dashboard.Pages.Html;

namespace Kfci.Dashboard.Pages;

/// <summary>Spyglass's build page: the plan with reasons, each workflow's steps as a timeline, failed tests, links.</summary>
internal static class RunPage
{
    private const int TimelineWidth = 720;
    private const int BarHeight = 16;

    /// <param name="run">The run.</param>
    /// <param name="tests">Its workflows' test summaries.</param>
    /// <param name="now">For the duration of a run still going.</param>
    /// <param name="inCloudConsole">Whether results are in a real bucket the Cloud Console can browse (not the local stack's directory).</param>
    public static string Render(RunRecord run, IReadOnlyList<WorkflowTestSummary> tests, DateTimeOffset now, bool inCloudConsole = true)
    {
        var body = new StringBuilder();
        body.Append("<div class=\"scroll\"><table class=\"facts\"><tbody>")
            .Append(CultureInfo.InvariantCulture, $"<tr><th>Job</th><td>{Link("/jobs/" + Q(run.JobName), run.JobName)} ({E(run.JobType)}), build {E(run.BuildId)}</td></tr>")
            .Append(CultureInfo.InvariantCulture, $"<tr><th>Repository</th><td>{E(run.Repo)} {(run.PullNumber is { } n ? string.Create(CultureInfo.InvariantCulture, $"#{n}") : "")} <code>{E(run.PullSha ?? run.BaseSha)}</code></td></tr>")
            .Append(CultureInfo.InvariantCulture, $"<tr><th>State</th><td class=\"state\">{E(run.State.ToWire())}</td></tr>")
            .Append(CultureInfo.InvariantCulture, $"<tr><th>Result</th><td class=\"result result-{E(run.Result)}\">{E(run.Result ?? "–")}</td></tr>")
            .Append(CultureInfo.InvariantCulture, $"<tr><th>Created</th><td>{Time(run.CreatedAt)}; duration {Duration((run.FinishedAt ?? run.CompletedAt ?? now) - (run.StartedAt ?? run.CreatedAt))}</td></tr>")
            .Append("<tr><th>Links</th><td>").Append(Links(run, inCloudConsole)).Append("</td></tr>")
            .Append("</tbody></table></div>");
        foreach (var error in run.Errors)
        {
            body.Append("<p class=\"result-FAILURE\">").Append(E(error)).Append("</p>");
        }

        AppendFailedTests(body, tests);
        AppendWorkflows(body, run, tests);
        AppendPlan(body, run);
        return body.ToString();
    }

    private static string Links(RunRecord run, bool inCloudConsole)
    {
        var links = new List<string> { Link($"/runs/{Q(run.RunId)}/log", "build log") };
        links.AddRange(run.Links.OrderBy(l => l.Key, StringComparer.Ordinal)
            .Select(l => SafeUrl(l.Value) is { } url ? Link(url, l.Key) : $"{E(l.Key)}: <code>{E(l.Value)}</code>"));
        if (run.ResultsPath is { Length: > 0 } results && !run.Links.ContainsKey("results"))
        {
            links.Add($"results: <code>{E(results)}</code>");
        }

        if (inCloudConsole && BucketBrowser(run.ResultsPath) is { } browser)
        {
            links.Add(Link(browser, "bucket"));
        }

        return string.Join(" · ", links);
    }

    /// <summary>The Cloud Console's browser for a <c>gs://</c> results directory.</summary>
    private static string? BucketBrowser(string? path) =>
        path is { } p && p.StartsWith("gs://", StringComparison.Ordinal)
            ? "https://console.cloud.google.com/storage/browser/" + string.Join('/', p[5..].Split('/').Select(Q))
            : null;

    private static void AppendFailedTests(StringBuilder body, IReadOnlyList<WorkflowTestSummary> tests)
    {
        var failed = tests.SelectMany(s => s.Tests.Where(t => t.Result == TestOutcomes.Fail).Select(t => (s.Workflow, Test: t))).ToList();
        if (failed.Count == 0)
        {
            return;
        }

        body.Append(CultureInfo.InvariantCulture, $"<h2>Failed tests ({failed.Count})</h2><div class=\"scroll\"><table class=\"failed\"><tbody>");
        foreach (var (workflow, test) in failed)
        {
            body.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(workflow)}</td><td class=\"name\">{E(test.Name)}</td><td class=\"msg\">{E(test.Message)}</td></tr>");
        }

        body.Append("</tbody></table></div>");
    }

    private static void AppendWorkflows(StringBuilder body, RunRecord run, IReadOnlyList<WorkflowTestSummary> tests)
    {
        body.Append("<h2>Workflows</h2>");
        foreach (var workflow in run.Workflows)
        {
            var duration = workflow.StartedAt is { } s && workflow.FinishedAt is { } f ? f - s : (TimeSpan?)null;
            body.Append(CultureInfo.InvariantCulture, $"<h3>{E(workflow.StableName)} <small><code>{E(workflow.Name)}</code> {E(workflow.Phase ?? (workflow.Submitted ? "Pending" : "not submitted"))}, {Duration(duration)}</small></h3>");
            if (SafeUrl(workflow.UiLink) is { } ui)
            {
                body.Append("<p>").Append(Link(ui, "Argo UI")).Append("</p>");
            }

            if (workflow.Message is { Length: > 0 } message)
            {
                body.Append("<p class=\"msg\">").Append(E(message)).Append("</p>");
            }

            var steps = tests.Where(t => t.WorkflowName == workflow.Name).SelectMany(t => t.Tests).ToList();
            if (steps.Count > 0)
            {
                AppendTimeline(body, run.RunId, steps);
            }
            else
            {
                foreach (var node in workflow.FailedNodes)
                {
                    body.Append(CultureInfo.InvariantCulture, $"<p>{E(node.DisplayName)}: {E(node.Phase)} {E(node.Message)}</p>");
                }
            }
        }
    }

    /// <summary>Steps as bars on a shared time axis (inline SVG), each with a link to its log.</summary>
    private static void AppendTimeline(StringBuilder body, string runId, List<TestCaseResult> steps)
    {
        var end = Math.Max(1, steps.Max(s => (s.StartSeconds ?? 0) + s.Seconds));
        var label = 180;
        var scale = (TimelineWidth - label - 60) / end;
        var height = (steps.Count * (BarHeight + 4)) + 4;
        body.Append(CultureInfo.InvariantCulture, $"<svg class=\"timeline\" viewBox=\"0 0 {TimelineWidth} {height}\" width=\"{TimelineWidth}\" height=\"{height}\" role=\"img\" aria-label=\"step timeline\">");
        var y = 4;
        foreach (var step in steps.OrderBy(s => s.StartSeconds ?? 0))
        {
            var x = label + ((step.StartSeconds ?? 0) * scale);
            var width = Math.Max(2, step.Seconds * scale);
            var name = step.Name.Length > 28 ? step.Name[..27] + "…" : step.Name;
            body.Append("<g>")
                .Append(CultureInfo.InvariantCulture, $"<title>{E(step.Name)}: {E(step.Result)}, {step.Seconds:0.#}s{(step.Message is { } m ? " — " + E(m) : "")}</title>")
                .Append(CultureInfo.InvariantCulture, $"<text x=\"0\" y=\"{y + 12}\">{E(name)}</text>")
                .Append(CultureInfo.InvariantCulture, $"<rect class=\"{E(step.Result)}\" x=\"{x:0.#}\" y=\"{y}\" width=\"{width:0.#}\" height=\"{BarHeight}\" rx=\"2\"></rect>")
                .Append(CultureInfo.InvariantCulture, $"<text x=\"{x + width + 4:0.#}\" y=\"{y + 12}\">{Duration(TimeSpan.FromSeconds(step.Seconds))}</text>")
                .Append("</g>");
            y += BarHeight + 4;
        }

        body.Append("</svg><p>Logs: ");
        body.Append(string.Join(" · ", steps.Where(s => s.Log is not null).Select(s => Link($"/runs/{Q(runId)}/file?path={Q(s.Log)}", s.Name))));
        body.Append("</p>");
    }

    private static void AppendPlan(StringBuilder body, RunRecord run)
    {
        if (run.Plan.Count == 0)
        {
            return;
        }

        body.Append("<h2>Plan (prow_config.yaml)</h2><div class=\"scroll\"><table class=\"plan\"><thead><tr><th>#</th><th>Entry</th><th>Selected</th><th>Reason</th><th>Workflow</th></tr></thead><tbody>");
        foreach (var entry in run.Plan)
        {
            var selected = entry.Selected ? (entry.Supported ? "yes" : "unsupported") : "no";
            body.Append(CultureInfo.InvariantCulture, $"<tr><td>{entry.Index}</td><td>{E(entry.Name)}</td><td>{selected}</td><td class=\"msg\">{E(entry.Reason)}</td><td><code>{E(entry.WorkflowName)}</code></td></tr>");
        }

        body.Append("</tbody></table></div>");
    }
}
