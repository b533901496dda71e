using System.Text.Json.Nodes;
using Kfci.Http;
using Kfci.Kubernetes;
using Kfci.Prow;
using Kfci.Runs;
using Microsoft.Extensions.Logging;

namespace Kfci.Functions.Trigger;

/// <summary>
/// Crier's later reports of a build: <c>aborted</c> (Prow superseded or cancelled it) stops the run's workflows; the
/// other terminal states are noted in the run's history and otherwise ignored, since kfci decides the result itself.
/// </summary>
public sealed class RunAborter(IRunStore runs, IWorkflowCluster cluster, TriggerSettings settings, TimeProvider time, ILogger<RunAborter> logger)
{
    public async Task<Hosting.FunctionOutcome> AbortAsync(ProwEvent prowEvent, string eventId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prowEvent);
        var runId = prowEvent.Run.RunId;
        var now = time.GetUtcNow();
        RunRecord? Abort(RunRecord r)
        {
            if (r.State.IsTerminal() || r.AbortedAt is not null)
            {
                return null;
            }

            var next = r with { AbortedAt = now, UpdatedAt = now };
            return next.State == RunState.Planning && !next.Workflows.Any(w => w.Submitted)
                ? next.MoveTo(RunState.Aborted, now, AbortedBeforeSubmission)
                : next;
        }

        if (await runs.UpdateAsync(runId, Abort, cancellationToken) is null)
        {
            // The Trigger records a run only once its workflows are submitted, so a start may be submitting right now: the
            // aborted run recorded here is what its create meets, and it then terminates what it submitted.
            var (stored, created) = await runs.CreateAsync(Aborted(prowEvent, eventId, now), cancellationToken);
            if (!created)
            {
                await runs.UpdateAsync(runId, Abort, cancellationToken);
            }

            logger.LogInformation("Prow aborted {RunId} before kfci recorded it: recorded as {State}", runId, stored.State.ToWire());
        }

        // Always sweep, even when AbortedAt was already set: a redelivery must finish a sweep a fault interrupted.
        var stopped = await TerminateAsync(cluster, settings.Render.Namespace, runId, logger, cancellationToken);
        logger.LogInformation("Prow aborted run {RunId}: {Stopped} workflows told to terminate", runId, stopped);
        return Hosting.FunctionOutcome.Success();
    }

    private const string AbortedBeforeSubmission = "Prow aborted the build before its workflows were submitted";

    private static RunRecord Aborted(ProwEvent prowEvent, string eventId, DateTimeOffset now) =>
        RunStarter.Identity(prowEvent, eventId, now).MoveTo(RunState.Aborted, now, AbortedBeforeSubmission) with { AbortedAt = now };

    /// <summary>Records a terminal report other than <c>aborted</c> in the run's history (once).</summary>
    /// <summary>
    /// Crier's <c>failure</c> or <c>error</c>: Prow is done with the build (its pod gave up, timed out or was lost). A run
    /// whose workflows still run would write into a build nobody reads any more, so it is stopped as on an abort; a run
    /// past its workflows (or none at all) only gets the note.
    /// </summary>
    public async Task<Hosting.FunctionOutcome> EndAsync(ProwEvent prowEvent, string eventId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prowEvent);
        var run = await runs.GetAsync(prowEvent.Run.RunId, cancellationToken);
        return run is { State: RunState.Planning or RunState.Submitted, AbortedAt: null }
            ? await AbortAsync(prowEvent, eventId, cancellationToken)
            : await NoteAsync(prowEvent, cancellationToken);
    }

    public async Task<Hosting.FunctionOutcome> NoteAsync(ProwEvent prowEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prowEvent);
        var note = $"Prow reported {prowEvent.State?.ToProwString()}";
        await runs.UpdateAsync(
            prowEvent.Run.RunId,
            r => r.History.Any(h => h.Note == note) ? null : r with { History = [.. r.History, new RunHistoryEntry(r.State, time.GetUtcNow(), note)] },
            cancellationToken);
        return Hosting.FunctionOutcome.Success();
    }

    /// <summary>Sets <c>spec.shutdown=Terminate</c> on every unfinished workflow of the run; returns how many were told.</summary>
    public static async Task<int> TerminateAsync(IWorkflowCluster cluster, string ns, string runId, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(logger);
        var stopped = 0;
        await foreach (var workflow in cluster.ListWorkflowsAsync(ns, new ListOptions { LabelSelector = WorkflowLabels.RunSelector(runId) }, cancellationToken))
        {
            var name = workflow.Name!;
            if (workflow.Labels.GetValueOrDefault(WorkflowLabels.ArgoCompleted) == "true" || workflow["spec"]?["shutdown"]?.ToString() == "Terminate")
            {
                continue;
            }

            try
            {
                await cluster.PatchWorkflowAsync(ns, name, new JsonObject { ["spec"] = new JsonObject { ["shutdown"] = "Terminate" } }, cancellationToken);
                stopped++;
            }
            catch (ApiException e) when (e.IsNotFound)
            {
                logger.LogInformation("Workflow {Workflow} of run {RunId} vanished before it could be terminated", name, runId);
            }
        }

        return stopped;
    }
}
