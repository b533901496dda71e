using System.Globalization;
using System.Text;
using System.Text.Json;
using Kfci.Runs;
using static Kfci.Dashboard.Pages.Html;

namespace Kfci.Dashboard.Pages;

/// <summary>Deck's list: live and recent runs, filtered by job, repository and state.</summary>
internal static class RunsPage
{
    public static string Render(IReadOnlyList<RunRecord> runs, RunQuery query, DateTimeOffset now)
    {
        var body = new StringBuilder();
        body.Append("<form class=\"filters\" method=\"get\" action=\"/\">")
            .Append(CultureInfo.InvariantCulture, $"<input name=\"job\" placeholder=\"job\" value=\"{E(query.JobName)}\">")
            .Append(CultureInfo.InvariantCulture, $"<input name=\"repo\" placeholder=\"org/repo\" value=\"{E(query.Repo)}\">")
            .Append("<select name=\"state\"><option value=\"\">any state</option>");
        foreach (var state in Enum.GetValues<RunState>())
        {
            var wire = state.ToWire();
            body.Append(CultureInfo.InvariantCulture, $"<option{(query.State == state ? " selected" : "")}>{E(wire)}</option>");
        }

        body.Append("</select><button>Filter</button></form>");
        if (runs.Count == 0)
        {
            body.Append("<p class=\"note\">No runs match.</p>");
            return body.ToString();
        }

        body.Append("<div class=\"scroll\"><table class=\"runs\"><thead><tr><th>Run</th><th>Job</th><th>Type</th><th>Repository</th><th>PR</th><th>Commit</th><th>State</th><th>Result</th><th>Duration</th><th>Workflows</th><th>Created</th></tr></thead><tbody>");
        foreach (var run in runs)
        {
            var finished = run.Workflows.Count(w => w.IsFinished);
            var end = run.FinishedAt ?? run.CompletedAt ?? (run.State.IsTerminal() ? run.UpdatedAt : now);
            var pr = run.PullNumber is { } n ? string.Create(CultureInfo.InvariantCulture, $"#{n}") + (Author(run.JobSpec) is { } a ? " by " + a : "") : "";
            body.Append(CultureInfo.InvariantCulture, $"<tr data-run=\"{E(run.RunId)}\"><td>{Link("/runs/" + Q(run.RunId), run.BuildId)}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{Link("/jobs/" + Q(run.JobName), run.JobName)}</td><td>{E(run.JobType)}</td><td>{E(run.Repo)}</td><td>{E(pr)}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td><code>{E(Short(run.PullSha ?? run.BaseSha))}</code></td><td class=\"state\">{E(run.State.ToWire())}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td class=\"result result-{E(run.Result)}\">{E(run.Result ?? "")}</td><td>{Duration(end - (run.StartedAt ?? run.CreatedAt))}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{finished}/{run.Workflows.Count}</td><td>{Time(run.CreatedAt)}</td></tr>");
        }

        body.Append("</tbody></table></div>");
        return body.ToString();
    }

    /// <summary>The first pull request's author from Prow's JobSpec; null when it has none or is not JSON.</summary>
    private static string? Author(string jobSpec)
    {
        try
        {
            using var spec = JsonDocument.Parse(jobSpec);
            return spec.RootElement.TryGetProperty("refs", out var refs) && refs.ValueKind == JsonValueKind.Object
                && refs.TryGetProperty("pulls", out var pulls) && pulls.ValueKind == JsonValueKind.Array && pulls.GetArrayLength() > 0
                && pulls[0].ValueKind == JsonValueKind.Object && pulls[0].TryGetProperty("author", out var author) && author.ValueKind == JsonValueKind.String
                ? author.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
