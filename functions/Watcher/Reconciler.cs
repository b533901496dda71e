using Kfci.Workflows;
using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Kfci.Argo;
using Kfci.Http;
using Kfci.Kubernetes;
using Kfci.Runs;
using Microsoft.Extensions.Logging;

namespace Kfci.Functions.Watcher;

/// <summary>
/// What one tick did, for its log line (and tests). <see cref="Failures"/> failed transiently (the tick is redelivered);
/// <see cref="Refused"/> were refused by the cluster (403, 422), which a redelivery would not change: they are logged
/// as errors and the next scheduled tick tries them again.
/// </summary>
public sealed record TickReport(int SubmittedRuns, int Recorded, int Completed, int TimedOut, int Vanished, int Republished, IReadOnlyList<string> Failures)
{
    public IReadOnlyList<string> Refused { get; init; } = [];

    /// <summary>Runs left in Planning past <see cref="WatcherSettings.StrandedAfter"/> that this tick moved to Error.</summary>
    public int Stranded { get; init; }
}

/// <summary>
/// The reconcile tick: what guarantees completeness when events are lost. Reads the runs Firestore holds as Submitted
/// and, in one consistent list, every kfci-managed workflow; records what finished, records vanished workflows as
/// Error and stops and records workflows past their run's deadline; re-publishes <c>run.completed</c> for runs stuck
/// in Completed; ends runs stranded in Planning (their workflows terminated, the run moved to Error). A run that needs nothing costs no call beyond the two lists, so hundreds of running runs stay cheap.
/// </summary>
public sealed class Reconciler(IRunStore runs, IWorkflowCluster cluster, RunRecorder recorder, TimeProvider clock, WatcherSettings settings, ILogger logger)
{
    private static readonly JsonObject s_terminate = new() { ["spec"] = new JsonObject { ["shutdown"] = "Terminate" } };

    public async Task<TickReport> RunAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();

        // Runs before workflows: a run Submitted now had all its workflows created already, so a later list that
        // lacks one means it vanished rather than "not created yet".
        var submitted = await runs.ListAllAsync(new RunQuery(State: RunState.Submitted, Limit: settings.PageSize), cancellationToken).ToListAsync(cancellationToken);
        var wanted = submitted.Select(r => r.RunId).ToHashSet(StringComparer.Ordinal);

        // Planning is meant to last one event's handling. A run still in it long after was left by an event that
        // dead-lettered part way through its submission: no redelivery will finish it and nothing watches its workflows.
        var strandedCutoff = now - settings.StrandedAfter;
        var stranded = await runs.ListAllAsync(new RunQuery(State: RunState.Planning, Limit: settings.PageSize), cancellationToken)
            .Where(r => r.UpdatedAt <= strandedCutoff).ToListAsync(cancellationToken);
        var strandedWorkflows = stranded.ToDictionary(r => r.RunId, _ => new List<WorkflowOutcome>(), StringComparer.Ordinal);

        // One list of all of kfci's workflows (not two for completed and running: a workflow finishing between them would be in neither).
        var inCluster = new Dictionary<string, WorkflowOutcome>(StringComparer.Ordinal);
        await foreach (var workflow in cluster.ListWorkflowsAsync(settings.Namespace, new ListOptions { LabelSelector = WorkflowLabels.ManagedSelector }, cancellationToken))
        {
            var outcome = WorkflowOutcome.From(workflow);
            if (outcome.RunId is { } runId && wanted.Contains(runId))
            {
                inCluster[outcome.Name] = outcome;
            }
            else if (outcome.RunId is { } strandedId && strandedWorkflows.TryGetValue(strandedId, out var ofStranded))
            {
                ofStranded.Add(outcome);
            }
        }

        var counts = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var failures = new ConcurrentQueue<string>();
        var refused = new ConcurrentQueue<string>();
        var work = submitted.Select(run => Plan(run, inCluster, now)).Where(p => p.NeedsWork);
        await Parallel.ForEachAsync(work, Options(cancellationToken), async (plan, token) =>
        {
            try
            {
                await ReconcileAsync(plan, now, counts, token);
            }
            catch (Exception e) when (Faults.IsTransient(e, token))
            {
                failures.Enqueue($"run {plan.Run.RunId}: {e.Message}");
            }
            catch (ApiException e) when (!token.IsCancellationRequested)
            {
                // A refusal about one run (403 from a Role that lacks a verb, 422 for one workflow) must not fail the tick
                // for every other run; it is logged as an error, and the next tick tries this run again.
                logger.LogError(e, "Reconciling run {RunId} was refused ({Status}): {Message}", plan.Run.RunId, (int)e.Status, e.Message);
                refused.Enqueue($"run {plan.Run.RunId}: {(int)e.Status} {e.Message}");
            }
        });

        var republished = await RepublishStuckAsync(now, failures, cancellationToken);
        var errored = await EndStrandedAsync(stranded, strandedWorkflows, strandedCutoff, now, failures, cancellationToken);
        var report = new TickReport(
            submitted.Count, Count(counts, nameof(TickReport.Recorded)), Count(counts, nameof(TickReport.Completed)),
            Count(counts, nameof(TickReport.TimedOut)), Count(counts, nameof(TickReport.Vanished)), republished, [.. failures])
        {
            Refused = [.. refused],
            Stranded = errored,
        };
        logger.LogInformation(
            "Tick: {Submitted} submitted runs, {Workflows} of their workflows in the cluster; recorded {Recorded}, completed {Completed}, timed out {TimedOut}, vanished {Vanished}, republished {Republished}, stranded {Stranded}, failed {Failed}, refused {Refused}",
            report.SubmittedRuns, inCluster.Count, report.Recorded, report.Completed, report.TimedOut, report.Vanished, report.Republished, report.Stranded, report.Failures.Count, report.Refused.Count);
        return report;
    }

    /// <summary>What a run needs, decided from the two lists alone (no calls).</summary>
    private RunPlan Plan(RunRecord run, Dictionary<string, WorkflowOutcome> inCluster, DateTimeOffset now)
    {
        var deadline = run.Deadline ?? (run.StartedAt ?? run.CreatedAt) + settings.RunDeadline;
        var finished = new List<WorkflowOutcome>();
        var overdue = new List<WorkflowRecord>();
        var missing = new List<WorkflowRecord>();
        foreach (var workflow in run.Workflows.Where(w => !w.IsFinished))
        {
            if (!inCluster.TryGetValue(workflow.Name, out var outcome))
            {
                missing.Add(workflow);
            }
            else if (outcome.IsFinished)
            {
                finished.Add(outcome);
            }
            else if (now > deadline)
            {
                overdue.Add(workflow);
            }
        }

        return new RunPlan(run, deadline, finished, overdue, missing);
    }

    private async Task ReconcileAsync(RunPlan plan, DateTimeOffset now, ConcurrentDictionary<string, int> counts, CancellationToken cancellationToken)
    {
        var outcomes = new List<WorkflowOutcome>(plan.Finished);
        foreach (var workflow in plan.Missing)
        {
            // The list is a snapshot; look again before declaring a workflow gone.
            var current = await cluster.GetWorkflowAsync(workflow.Namespace, workflow.Name, cancellationToken) is { } found ? WorkflowOutcome.From(found) : null;
            if (current is null)
            {
                outcomes.Add(Vanished(workflow, now));
                counts.AddOrUpdate(nameof(TickReport.Vanished), 1, (_, n) => n + 1);
            }
            else if (current.IsFinished)
            {
                outcomes.Add(current);
            }
            else if (now > plan.Deadline)
            {
                plan.Overdue.Add(workflow);
            }
        }

        foreach (var workflow in plan.Overdue)
        {
            // Stopped before it is recorded: once the run is Completed no tick looks at this workflow again.
            await StopAsync(workflow.Namespace, workflow.Name, "it ran past its run's deadline", cancellationToken);
            outcomes.Add(TimedOut(workflow, plan.Deadline, now));
            counts.AddOrUpdate(nameof(TickReport.TimedOut), 1, (_, n) => n + 1);
        }

        var result = await recorder.RecordAsync(plan.Run.RunId, outcomes, cancellationToken);
        if (result is RecordResult.Recorded or RecordResult.Completed)
        {
            counts.AddOrUpdate(nameof(TickReport.Recorded), 1, (_, n) => n + 1);
        }

        if (result == RecordResult.Completed)
        {
            counts.AddOrUpdate(nameof(TickReport.Completed), 1, (_, n) => n + 1);
        }
    }

    private async Task StopAsync(string ns, string name, string why, CancellationToken cancellationToken)
    {
        try
        {
            await cluster.PatchWorkflowAsync(ns, name, (JsonObject)s_terminate.DeepClone(), cancellationToken);
            logger.LogWarning("Workflow {Workflow} terminated: {Why}", name, why);
        }
        catch (ApiException e) when (e.IsNotFound)
        {
            // Gone already: nothing left to stop.
        }
    }

    /// <summary>Publishes <c>run.completed</c> again for runs Completed too long ago, each claimed by one tick in a transaction.</summary>
    private async Task<int> RepublishStuckAsync(DateTimeOffset now, ConcurrentQueue<string> failures, CancellationToken cancellationToken)
    {
        var cutoff = now - settings.RepublishAfter;
        var stuck = runs.ListAllAsync(new RunQuery(State: RunState.Completed, Limit: settings.PageSize), cancellationToken).Where(r => r.UpdatedAt <= cutoff);
        var republished = 0;
        await Parallel.ForEachAsync(stuck, Options(cancellationToken), async (run, token) =>
        {
            try
            {
                var claimed = false;
                var stored = await runs.UpdateAsync(
                    run.RunId,
                    current =>
                    {
                        // The bumped updatedAt is the claim: a concurrent tick reads it and leaves the run alone.
                        claimed = current.State == RunState.Completed && current.UpdatedAt <= cutoff;
                        return claimed ? current with { UpdatedAt = now } : null;
                    },
                    token);
                if (claimed && stored is not null)
                {
                    await recorder.PublishCompletedAsync(stored, token);
                    Interlocked.Increment(ref republished);
                    logger.LogWarning("Run {RunId} was still Completed {Minutes:0} minutes after its last change: run.completed published again", run.RunId, (now - run.UpdatedAt).TotalMinutes);
                }
            }
            catch (Exception e) when (Faults.IsTransient(e, token))
            {
                failures.Enqueue($"run {run.RunId}: {e.Message}");
            }
        });
        return republished;
    }

    /// <summary>
    /// Ends runs stranded in Planning: their workflows are terminated first (so none runs unwatched once the run leaves
    /// Planning), then the run moves to Error with the reason, claimed in a transaction so a Trigger that finishes the
    /// submission meanwhile wins. Terminating is idempotent, so a tick that fails half way is simply repeated.
    /// </summary>
    private async Task<int> EndStrandedAsync(
        List<RunRecord> stranded, Dictionary<string, List<WorkflowOutcome>> workflows, DateTimeOffset cutoff, DateTimeOffset now, ConcurrentQueue<string> failures, CancellationToken cancellationToken)
    {
        var errored = 0;
        await Parallel.ForEachAsync(stranded, Options(cancellationToken), async (run, token) =>
        {
            try
            {
                var running = workflows[run.RunId].Where(w => !w.IsFinished).ToList();
                foreach (var workflow in running)
                {
                    await StopAsync(workflow.Namespace, workflow.Name, "its run was stranded in planning", token);
                }

                var reason = $"the run stayed in planning for more than {settings.StrandedAfter.TotalMinutes:0} minutes (the event that started it was given up part way through its submission); kfci terminated its {running.Count} running workflows";
                var moved = false;
                await runs.UpdateAsync(
                    run.RunId,
                    current =>
                    {
                        moved = current.State == RunState.Planning && current.UpdatedAt <= cutoff;
                        return moved ? current.MoveTo(RunState.Error, now, "stranded in planning") with { Errors = [.. current.Errors, reason] } : null;
                    },
                    token);
                if (moved)
                {
                    Interlocked.Increment(ref errored);
                    logger.LogError("Run {RunId} was stranded in planning since {UpdatedAt:o}: {Reason}", run.RunId, run.UpdatedAt, reason);
                }
            }
            catch (Exception e) when (Faults.IsTransient(e, token))
            {
                failures.Enqueue($"run {run.RunId}: {e.Message}");
            }
        });
        return errored;
    }

    private ParallelOptions Options(CancellationToken cancellationToken) =>
        new() { MaxDegreeOfParallelism = settings.Parallelism, CancellationToken = cancellationToken };

    private static WorkflowOutcome Vanished(WorkflowRecord workflow, DateTimeOffset now) => new()
    {
        Name = workflow.Name,
        Namespace = workflow.Namespace,
        Phase = WorkflowPhases.Error,
        Message = workflow.Submitted
            ? "the workflow vanished from the cluster before it finished"
            : "the workflow was never submitted to the cluster",
        FinishedAt = now,
    };

    private static WorkflowOutcome TimedOut(WorkflowRecord workflow, DateTimeOffset deadline, DateTimeOffset now) => new()
    {
        Name = workflow.Name,
        Namespace = workflow.Namespace,
        Phase = WorkflowPhases.Failed,
        Message = $"TimedOut: the run passed its deadline ({deadline:yyyy-MM-ddTHH:mm:ssZ}); kfci terminated the workflow",
        FinishedAt = now,
    };

    private static int Count(ConcurrentDictionary<string, int> counts, string key) => counts.TryGetValue(key, out var n) ? n : 0;

    private sealed record RunPlan(RunRecord Run, DateTimeOffset Deadline, List<WorkflowOutcome> Finished, List<WorkflowRecord> Overdue, List<WorkflowRecord> Missing)
    {
        // A run whose workflows were all recorded without the transition (e.g. while it was Planning) also needs one.
        public bool NeedsWork => Finished.Count > 0 || Overdue.Count > 0 || Missing.Count > 0 || Run.Workflows.Count == 0 || Run.AllWorkflowsFinished;
    }
}
