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
/// Records workflow outcomes of a run, each in its own document (<see cref="IRunStore.RecordWorkflowsAsync"/>: a run's
/// workflows finishing together never write one document), then, when every workflow has finished, moves the run to
/// Completed: the one write of the run document, conditional on the version read. Only the update that made the
/// transition publishes <c>run.completed</c>, so concurrent and repeated notices of one completion give one message.
/// </summary>
public sealed class RunRecorder(IRunStore runs, IEventPublisher publisher, TimeProvider clock, WatcherSettings settings, ILogger logger)
{
    /// <exception cref="Exception">Store or publisher failures propagate (the caller decides transient or not).</exception>
    public async Task<RecordResult> RecordAsync(string runId, IReadOnlyList<WorkflowOutcome> outcomes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        var now = clock.GetUtcNow();
        var run = await runs.GetAsync(runId, cancellationToken);
        if (run is null)
        {
            return RecordResult.UnknownRun;
        }

        if (!IsWaiting(run))
        {
            return RecordResult.Unchanged;
        }

        var finished = NewlyFinished(run, outcomes);
        if (finished.Count > 0 && await runs.RecordWorkflowsAsync(runId, finished, cancellationToken) is { } recorded)
        {
            run = recorded;
        }

        // Also when nothing was new: a redelivery must finish a transition that a fault interrupted after the outcome was stored.
        var transitioned = false;
        var stored = Complete(run, now) is null ? run : await runs.UpdateAsync(
            runId,
            current =>
            {
                // Runs again from the read on contention: the flag describes the attempt that committed.
                var next = Complete(current, now);
                transitioned = next is not null;
                return next;
            },
            cancellationToken);
        if (!transitioned || stored is null)
        {
            return finished.Count > 0 ? RecordResult.Recorded : RecordResult.Unchanged;
        }

        await PublishCompletedAsync(stored, cancellationToken);
        logger.LogInformation("Run {RunId} completed: {Workflows}", runId, string.Join(", ", stored.Workflows.Select(w => $"{w.Name} {w.Phase}")));
        return RecordResult.Completed;
    }

    public Task PublishCompletedAsync(RunRecord run, CancellationToken cancellationToken) =>
        publisher.PublishAsync(settings.RunCompletedTopic, RunEvent.For(RunEventTypes.Completed, run).ToMessage(), cancellationToken);

    /// <summary>
    /// The run's workflows that <paramref name="outcomes"/> finish and that have no outcome yet (the first completion of a
    /// workflow wins), as they are to be recorded; empty when the run is past waiting. Pure.
    /// </summary>
    public static IReadOnlyList<WorkflowRecord> NewlyFinished(RunRecord run, IReadOnlyList<WorkflowOutcome> outcomes)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(outcomes);
        if (!IsWaiting(run))
        {
            return [];
        }

        var finished = new Dictionary<string, WorkflowRecord>(StringComparer.Ordinal);
        foreach (var outcome in outcomes.Where(o => o.IsFinished))
        {
            if (!finished.ContainsKey(outcome.Name) && run.Workflow(outcome.Name) is { IsFinished: false } record
                && outcome.ApplyTo(record) is var applied && !ReferenceEquals(applied, record))
            {
                finished[outcome.Name] = applied;
            }
        }

        return [.. finished.Values];
    }

    /// <summary>
    /// The run moved to Completed when it is Submitted (every workflow is in the cluster, or recorded as not submitted)
    /// and every workflow has finished; null otherwise. Pure: safe to re-run on update retries. A Planning run may still get more.
    /// </summary>
    public static RunRecord? Complete(RunRecord run, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.State != RunState.Submitted || !(run.Workflows.Count == 0 || run.AllWorkflowsFinished))
        {
            return null;
        }

        var succeeded = run.Workflows.Count(w => w.Phase == WorkflowPhases.Succeeded);
        return run.MoveTo(RunState.Completed, now, $"{succeeded} of {run.Workflows.Count} workflows succeeded") with { CompletedAt = now, UpdatedAt = now };
    }

    private static bool IsWaiting(RunRecord run) => run.State is RunState.Planning or RunState.Submitted;
}
