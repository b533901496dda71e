using Kfci.Argo;
using Kfci.PubSub;
using Kfci.Runs;
using Microsoft.Extensions.Logging;

namespace Kfci.Functions.Watcher;

/// <summary>What recording did to a run.</summary>
public enum RecordResult
{
    /// <summary>No run with this id: nothing to do.</summary>
    UnknownRun,

    /// <summary>Nothing new (the same completion again, or the run is past waiting).</summary>
    Unchanged,

    /// <summary>Outcomes recorded; the run still waits for others.</summary>
    Recorded,

    /// <summary>This update moved the run to Completed and published <c>run.completed</c>.</summary>
    Completed,
}

/// <summary>
/// Records workflow outcomes on their run in one transaction and, when that makes every workflow finished, moves the
/// run to Completed in the same transaction. Only the update that made the transition publishes <c>run.completed</c>,
/// so concurrent and repeated notices of one completion give one message.
/// </summary>
public sealed class RunRecorder(IRunStore runs, IEventPublisher publisher, TimeProvider clock, WatcherSettings settings, ILogger logger)
{
    /// <exception cref="Exception">Store or publisher failures propagate (the caller decides transient or not).</exception>
    public async Task<RecordResult> RecordAsync(string runId, IReadOnlyList<WorkflowOutcome> outcomes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        var now = clock.GetUtcNow();
        var transitioned = false;
        var changed = false;
        var stored = await runs.UpdateAsync(
            runId,
            run =>
            {
                // Runs again from the read on contention: the flags describe the attempt that committed.
                var next = Apply(run, outcomes, now);
                changed = next is not null;
                transitioned = next is { State: RunState.Completed } && run.State != RunState.Completed;
                return next;
            },
            cancellationToken);
        if (stored is null)
        {
            return RecordResult.UnknownRun;
        }

        if (!transitioned)
        {
            return changed ? RecordResult.Recorded : RecordResult.Unchanged;
        }

        await PublishCompletedAsync(stored, cancellationToken);
        logger.LogInformation("Run {RunId} completed: {Workflows}", runId, string.Join(", ", stored.Workflows.Select(w => $"{w.Name} {w.Phase}")));
        return RecordResult.Completed;
    }

    public Task PublishCompletedAsync(RunRecord run, CancellationToken cancellationToken) =>
        publisher.PublishAsync(settings.RunCompletedTopic, RunEvent.For(RunEventTypes.Completed, run).ToMessage(), cancellationToken);

    /// <summary>
    /// The run with <paramref name="outcomes"/> recorded (the first completion of a workflow wins) and, when every
    /// workflow has finished, Completed; null when nothing changes. Pure: safe to re-run on transaction retries.
    /// </summary>
    public static RunRecord? Apply(RunRecord run, IReadOnlyList<WorkflowOutcome> outcomes, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(outcomes);
        if (run.State is not (RunState.Planning or RunState.Submitted))
        {
            return null;
        }

        var next = run;
        foreach (var outcome in outcomes.Where(o => o.IsFinished))
        {
            if (next.Workflow(outcome.Name) is { } record && outcome.ApplyTo(record) is var applied && !ReferenceEquals(applied, record))
            {
                next = next.WithWorkflow(applied);
            }
        }

        // Submitted means every workflow is in the cluster (or recorded as not submitted); a Planning run may still get more.
        if (next.State == RunState.Submitted && (next.Workflows.Count == 0 || next.AllWorkflowsFinished))
        {
            var finished = next.Workflows.Count(w => w.Phase == WorkflowPhases.Succeeded);
            next = next.MoveTo(RunState.Completed, now, $"{finished} of {next.Workflows.Count} workflows succeeded") with { CompletedAt = now };
        }

        return ReferenceEquals(next, run) ? null : next with { UpdatedAt = now };
    }
}
