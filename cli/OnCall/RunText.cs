using System.Globalization;
using System.Text;
using Kfci.Runs;

namespace Kfci.Cli.OnCall;

/// <summary>Runs as plain text for people: a list of runs as aligned columns, one run in full.</summary>
public static class RunText
{
    private static readonly string[] s_header = ["RUN", "STATE", "RESULT", "TYPE", "CREATED", "WORKFLOWS"];

    public static string List(IReadOnlyList<RunRecord> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.Count == 0)
        {
            return "no runs" + Environment.NewLine;
        }

        var rows = runs.Select(r => new[]
        {
            r.RunId, r.State.ToWire(), r.Result ?? "-", r.JobType, Time(r.CreatedAt),
            $"{r.Workflows.Count(w => w.IsFinished)}/{r.Workflows.Count} finished",
        }).Prepend(s_header).ToList();
        var widths = Enumerable.Range(0, s_header.Length).Select(c => rows.Max(row => row[c].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            text.AppendJoin("  ", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c]))).Append(Environment.NewLine);
        }

        return text.ToString();
    }

    /// <param name="run">The run.</param>
    /// <param name="resultsForPeople">How a results path reads on this machine (<see cref="CommandLine.CliContext.ResultsForPeople"/>).</param>
    public static string Show(RunRecord run, Func<string, string>? resultsForPeople = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        var text = new StringBuilder();
        void Line(string line) => text.Append(line).Append(Environment.NewLine);
        Line($"run       {run.RunId}");
        Line($"job       {run.JobName} ({run.JobType}), build {run.BuildId}");
        if (run.Repo is not null)
        {
            var pull = run.PullNumber is { } n ? $", pull #{n.ToString(CultureInfo.InvariantCulture)} at {run.PullSha}" : "";
            Line($"code      {run.Repo} {run.BaseRef}@{run.BaseSha ?? "?"}{pull}");
        }

        Line($"state     {run.State.ToWire()}{(run.Result is null ? "" : $", result {run.Result}")}");
        Line($"created   {Time(run.CreatedAt)}, updated {Time(run.UpdatedAt)}{(run.FinishedAt is { } f ? $", finished {Time(f)}" : "")}");
        Line($"source    {run.Source}{(run.EventId is null ? "" : $", message {run.EventId}")}");
        Line($"results   {(run.ResultsPath is { } results ? resultsForPeople?.Invoke(results) ?? results : "(not written yet)")}");
        foreach (var (name, url) in run.Links.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            Line($"link      {name}: {url}");
        }

        Line("");
        Line($"plan ({run.Plan.Count(p => p.Selected)} of {run.Plan.Count} entries selected):");
        foreach (var entry in run.Plan)
        {
            var decision = !entry.Selected ? "skip" : entry.Supported ? "run " : "ERR ";
            Line($"  {decision} #{entry.Index.ToString(CultureInfo.InvariantCulture)} {entry.Name}: {entry.Reason}{(entry.WorkflowName is null ? "" : $" -> {entry.WorkflowName}")}");
        }

        Line("");
        Line($"workflows ({run.Workflows.Count}):");
        foreach (var workflow in run.Workflows)
        {
            Line($"  {workflow.Name}  {workflow.Phase ?? (workflow.Submitted ? "Submitted" : "NotSubmitted")}  {Duration(workflow.StartedAt, workflow.FinishedAt)}");
            if (workflow.Message is { Length: > 0 } message)
            {
                Line($"    message: {message}");
            }

            if (workflow.UiLink is not null)
            {
                Line($"    ui: {workflow.UiLink}");
            }

            foreach (var node in workflow.FailedNodes)
            {
                Line($"    failed step {node.DisplayName} ({node.Phase}){(node.Message is null ? "" : $": {node.Message}")}");
            }
        }

        if (run.Errors.Count > 0)
        {
            Line("");
            Line("errors:");
            foreach (var error in run.Errors)
            {
                Line($"  {error}");
            }
        }

        Line("");
        Line("history:");
        foreach (var entry in run.History)
        {
            Line($"  {Time(entry.At)}  {entry.State.ToWire()}{(entry.Note is null ? "" : $"  {entry.Note}")}");
        }

        return text.ToString();
    }

    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string Duration(DateTimeOffset? start, DateTimeOffset? end)
    {
        if (start is not { } s)
        {
            return "";
        }

        var span = (end ?? DateTimeOffset.UtcNow) - s;
        return span.TotalHours >= 1
            ? span.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
            : span.ToString(@"m\:ss", CultureInfo.InvariantCulture);
    }

    private static readonly System.Text.Json.JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Runs as JSON for scripts: the document's own field names, states in their wire form.</summary>
    public static string Json(object value) => System.Text.Json.JsonSerializer.Serialize(value, s_json) + Environment.NewLine;
}
