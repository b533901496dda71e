using System.Globalization;
using System.Text;
using Kfci.Dashboard.Data;
using static Kfci.Dashboard.Pages.Html;

namespace Kfci.Dashboard.Pages;

/// <summary>The Janitor's last sweeps: what each deleted, what it kept and by which rule, what failed.</summary>
internal static class JanitorPage
{
    public static string Render(IReadOnlyList<SweepSummary> sweeps)
    {
        var body = new StringBuilder();
        if (sweeps.Count == 0)
        {
            body.Append("<p class=\"note\">No sweeps recorded yet.</p>");
            return body.ToString();
        }

        foreach (var sweep in sweeps)
        {
            body.Append(CultureInfo.InvariantCulture, $"<h2>{Time(sweep.StartedAt)} <small>{E(sweep.Id)}{(sweep.DryRun ? " (dry run)" : "")}</small></h2>")
                .Append(CultureInfo.InvariantCulture, $"<p>{E(sweep.Outcome)} in {sweep.DurationSeconds:0.0}s: {sweep.Deleted} deleted of {sweep.Planned} planned, {sweep.Errors} errors.</p>")
                .Append("<div class=\"scroll\"><table class=\"sweep\"><thead><tr><th>Type</th><th>Listed</th><th>Planned</th><th>Deleted</th><th>Gone</th><th>Kept (rule: count)</th><th>Errors</th></tr></thead><tbody>");
            foreach (var type in sweep.Types)
            {
                var kept = type.Skipped is { } skipped ? E(skipped) : E(string.Join(", ", type.Kept.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => string.Create(CultureInfo.InvariantCulture, $"{k.Key}: {k.Value}"))));
                body.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(type.Type)}</td><td>{type.Listed}</td><td>{type.Planned}</td><td>{type.Deleted}</td><td>{type.AlreadyGone}</td><td>{kept}</td><td class=\"msg\">{E(string.Join("\n", type.Errors))}</td></tr>");
            }

            body.Append("</tbody></table></div>");
        }

        return body.ToString();
    }
}
