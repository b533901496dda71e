using System.Globalization;
using System.Text.Json.Nodes;
using Kfci.Cli.OnCall;
using Kfci.Kubernetes;
using Kfci.Runs;
using Spectre.Console;

namespace Kfci.Cli.Local;

/// <summary>One step (Argo Pod node) of a workflow as the cluster reports it.</summary>
public sealed record StepView(string Name, string Phase, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt);

/// <summary>One workflow of a run: the run's record of it, and its steps from the cluster.</summary>
public sealed record WorkflowView(string Name, string Phase, IReadOnlyList<StepView> Steps, string? UiLink = null);

/// <summary>
/// Follows a run in the run store until it reaches a terminal state: line by line (each state and phase change once,
/// for logs and pipes), or as a live table of each workflow's steps with phase and duration (a terminal). Steps come
/// from the cluster (the local engine); when it cannot be asked, workflows are shown without steps.
/// </summary>
public sealed class RunFollower(IRunStore runs, IWorkflowCluster? cluster, TextWriter output, TimeSpan? poll = null)
{
    private readonly TimeSpan _poll = poll ?? TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// A run Completed for longer than this is returned as it is: the Uploader finishes a run in seconds, so one still
    /// Completed after minutes is stuck (its events in the dead letter) and waiting on is pointless. Null: wait on.
    /// </summary>
    public TimeSpan? StuckCompletedAfter { get; init; }

    private readonly Dictionary<string, string> _printed = new(StringComparer.Ordinal);

    /// <summary>The run once terminal; null when <paramref name="timeout"/> passed first.</summary>
    public async Task<RunRecord?> FollowAsync(string runId, TimeSpan timeout, bool live, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        if (!live)
        {
            return await LoopAsync(runId, deadline, PrintChanges, cancellationToken);
        }

        RunRecord? final = null;
        var table = new Table().AddColumns("workflow / step", "phase", "duration");
        await AnsiConsole.Live(table).StartAsync(async context =>
        {
            final = await LoopAsync(runId, deadline, (run, views) =>
            {
                Render(table, run, views);
                context.Refresh();
            }, cancellationToken);
        });
        return final;
    }

    private async Task<RunRecord?> LoopAsync(string runId, DateTimeOffset deadline, Action<RunRecord, IReadOnlyList<WorkflowView>> show, CancellationToken cancellationToken)
    {
        while (DateTimeOffset.UtcNow < deadline)
        {
            RunRecord run;
            try
            {
                run = await runs.GetAsync(runId, cancellationToken)
                    ?? throw new InvalidOperationException($"run {runId} disappeared from the run store");
            }
            catch (Exception e) when (Kfci.Http.Transience.IsTransient(e, cancellationToken))
            {
                // The store's own retries gave up on this read; the run goes on, and so does following it.
                await Task.Delay(_poll, cancellationToken);
                continue;
            }

            show(run, await ViewsAsync(run, cancellationToken));
            if (run.State.IsTerminal() || IsStuck(run))
            {
                return run;
            }

            await Task.Delay(_poll, cancellationToken);
        }

        return null;
    }

    private bool IsStuck(RunRecord run) =>
        StuckCompletedAfter is { } limit && run.State == RunState.Completed && DateTimeOffset.UtcNow - (run.CompletedAt ?? run.UpdatedAt) > limit;

    private async Task<IReadOnlyList<WorkflowView>> ViewsAsync(RunRecord run, CancellationToken cancellationToken)
    {
        var views = new List<WorkflowView>();
        foreach (var workflow in run.Workflows)
        {
            JsonObject? obj = null;
            if (cluster is not null && workflow.Submitted)
            {
                try
                {
                    obj = await cluster.GetWorkflowAsync(workflow.Namespace, workflow.Name, cancellationToken);
                }
                catch (Exception e) when (e is Http.ApiException or HttpRequestException or InvalidOperationException)
                {
                    // The view is a convenience: the run's own record still says how the workflow ends.
                }
            }

            var phase = workflow.Phase ?? obj?.Phase ?? (workflow.Submitted ? WorkflowPhases.Pending : "NotSubmitted");
            views.Add(new WorkflowView(workflow.Name, phase, obj is null ? [] : Steps(obj), workflow.UiLink));
        }

        return views;
    }

    /// <summary>The Pod nodes of an Argo workflow's <c>status.nodes</c>, in start order.</summary>
    public static IReadOnlyList<StepView> Steps(JsonObject workflow)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        return Kfci.Argo.WorkflowOutcome.PodNodes(workflow)
            .Select(n => new StepView(Text(n.Node, "displayName") ?? Text(n.Node, "name") ?? "?", Text(n.Node, "phase") ?? WorkflowPhases.Pending, Time(n.Node, "startedAt"), Time(n.Node, "finishedAt")))
            .ToList();
    }

    private void PrintChanges(RunRecord run, IReadOnlyList<WorkflowView> views)
    {
        Print("run", run.State.ToWire() + (run.Result is null ? "" : $" {run.Result}"), $"run {run.RunId}: {run.State.ToWire()}{(run.Result is null ? "" : $" ({run.Result})")}");
        foreach (var view in views)
        {
            Print(view.Name, view.Phase, $"  workflow {view.Name}: {view.Phase}{(view.UiLink is null || _printed.ContainsKey(view.Name) ? "" : "  " + view.UiLink)}");
            foreach (var step in view.Steps)
            {
                Print($"{view.Name}/{step.Name}", step.Phase, $"    step {step.Name}: {step.Phase} {RunText.Duration(step.StartedAt, step.FinishedAt)}".TrimEnd());
            }
        }
    }

    private void Print(string key, string value, string line)
    {
        if (_printed.TryGetValue(key, out var last) && last == value)
        {
            return;
        }

        _printed[key] = value;
        output.WriteLine($"{DateTimeOffset.UtcNow.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} {line}");
    }

    private static void Render(Table table, RunRecord run, IReadOnlyList<WorkflowView> views)
    {
        table.Rows.Clear();
        table.Title = new TableTitle(Markup.Escape($"{run.RunId}: {run.State.ToWire()}{(run.Result is null ? "" : $" {run.Result}")}"));
        foreach (var view in views)
        {
            table.AddRow(new Markup($"[bold]{Markup.Escape(view.Name)}[/]"), Phase(view.Phase), new Text(""));
            foreach (var step in view.Steps)
            {
                table.AddRow(new Text("  " + step.Name), Phase(step.Phase), new Text(RunText.Duration(step.StartedAt, step.FinishedAt)));
            }
        }
    }

    private static Markup Phase(string phase) => new(phase switch
    {
        WorkflowPhases.Succeeded => "[green]Succeeded[/]",
        WorkflowPhases.Failed or WorkflowPhases.Error => $"[red]{phase}[/]",
        WorkflowPhases.Running => "[yellow]Running[/]",
        _ => Markup.Escape(phase),
    });

    private static string? Text(JsonObject node, string field) =>
        node[field] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static DateTimeOffset? Time(JsonObject node, string field) =>
        Text(node, field) is { Length: > 0 } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;
}
