using Kfci.Workflows;
using System.Text.Json.Nodes;
using Kfci.Http;
using Kfci.Kubernetes;
using Kfci.Prow;
using Kfci.PubSub;
using Kfci.Runs;
using Kfci.Sources;
using Microsoft.Extensions.Logging;

namespace Kfci.Functions.Trigger;

/// <summary>
/// Starts a run: plan it at the commit under test, record it with its plan, submit its workflows, move it to Submitted and tell the Uploader. Every step is
/// idempotent and keyed by the run document's state, so a redelivered or duplicated event converges on the same run:
/// the run is created once (Firestore create-if-absent), workflow names are deterministic and a 409 for a workflow
/// this run owns is success, and the state moves forward only from where it is.
/// </summary>
public sealed class RunStarter(
    IRunStore runs,
    CachingRepositorySource source,
    IWorkflowCluster cluster,
    IEventPublisher publisher,
    TriggerSettings settings,
    TimeProvider time,
    ILogger<RunStarter> logger)
{
    /// <summary>
    /// Handles the event that starts a run (a trigger request, or crier's first start state of a build). The plan is
    /// made first and stored with the run in the one create-if-absent write, so concurrent duplicates agree on it
    /// (planning is deterministic, and reads of a commit are cached).
    /// </summary>
    public async Task<Hosting.FunctionOutcome> StartAsync(ProwEvent prowEvent, string eventId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prowEvent);
        RunPlan? plan = null;
        string? planningError = null;
        try
        {
            plan = await RunPlan.BuildAsync(source, prowEvent.Job, prowEvent.Envs, settings.Render, cancellationToken);
        }
        catch (RunPlanningException e)
        {
            planningError = e.Message;
        }

        var (run, created) = await runs.CreateAsync(NewRun(prowEvent, eventId, plan, planningError), cancellationToken);
        if (!created && run.EventId != eventId)
        {
            logger.LogInformation("Run {RunId} was started by event {FirstEvent}; {State} report {EventId} changes nothing", run.RunId, run.EventId, prowEvent.State?.ToProwString(), eventId);
            return Hosting.FunctionOutcome.Success();
        }

        switch (run.State)
        {
            case RunState.Planning when run.AbortedAt is null && plan is not null:
                break;
            case RunState.Submitted:
                // A redelivery after the move: the announcement may not have gone out.
                await PublishAsync(RunEventTypes.Submitted, run, cancellationToken);
                return Hosting.FunctionOutcome.Success();
            case RunState.Completed when run.Workflows.Count == 0:
                await PublishAsync(RunEventTypes.Submitted, run, cancellationToken);
                await PublishAsync(RunEventTypes.Completed, run, cancellationToken);
                return Hosting.FunctionOutcome.Success();
            case RunState.Error:
                if (created)
                {
                    logger.LogWarning("Run {RunId} cannot be planned: {Reason}", run.RunId, planningError);
                }

                return Hosting.FunctionOutcome.Reject(string.Join("; ", run.Errors));
            default:
                logger.LogInformation("Run {RunId} is {State}; event {EventId} changes nothing", run.RunId, run.State.ToWire(), eventId);
                return Hosting.FunctionOutcome.Success();
        }

        // The workflows are independent: submit them side by side (bounded), so a run's start does not grow with its size.
        var refused = new System.Collections.Concurrent.ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(
            plan!.Workflows,
            new ParallelOptions { MaxDegreeOfParallelism = MaxParallelSubmissions, CancellationToken = cancellationToken },
            async (workflow, token) =>
            {
                if (await SubmitAsync(run.RunId, workflow, token) is { } reason)
                {
                    refused[workflow.Name] = reason;
                }
            });

        return await FinishSubmissionAsync(run.RunId, new SortedDictionary<string, string>(refused, StringComparer.Ordinal), cancellationToken);
    }

    private const int MaxParallelSubmissions = 8;

    private DateTimeOffset Now => time.GetUtcNow();

    private RunRecord NewRun(ProwEvent prowEvent, string eventId, RunPlan? plan, string? planningError)
    {
        var job = prowEvent.Job;
        var refs = job.PrimaryRefs;
        var now = Now;
        var run = new RunRecord
        {
            RunId = job.Run.RunId,
            JobName = job.JobName,
            BuildId = job.BuildId,
            JobType = job.Type.ToProwString(),
            JobSpec = job.ToJson(),
            Repo = refs is null ? null : $"{refs.Org}/{refs.Repo}",
            BaseRef = refs?.BaseRef,
            BaseSha = refs?.BaseSha,
            PullNumber = job.Type == JobType.Presubmit ? refs?.FirstPull?.Number : null,
            PullSha = job.Type == JobType.Presubmit ? refs?.FirstPull?.Sha : null,
            Envs = prowEvent.Envs,
            Source = prowEvent.Kind == ProwEventKind.CrierReport ? "crier" : "trigger",
            Owner = prowEvent.Kind == ProwEventKind.CrierReport ? BuildOwners.Prow : BuildOwners.Kfci,
            EventId = eventId,
            CreatedAt = now,
            UpdatedAt = now,
            History = [new RunHistoryEntry(RunState.Planning, now, $"event {eventId}")],
            Links = prowEvent.Url is { } url ? new Dictionary<string, string>(StringComparer.Ordinal) { ["prow"] = url } : new Dictionary<string, string>(StringComparer.Ordinal),
        };
        if (plan is null)
        {
            return run.MoveTo(RunState.Error, now, "cannot plan") with { Errors = [planningError ?? "cannot plan"] };
        }

        var ns = settings.Render.Namespace;
        return run with
        {
            Plan = plan.Recorded,
            Workflows = plan.Workflows.Select(w => new WorkflowRecord
            {
                Name = w.Name,
                Namespace = ns,
                EntryName = w.Entry.Name,
                EntryIndex = w.Entry.Index,
                TestTarget = w.Entry.Entry.TestTargetName,
                UiLink = settings.UiLink(ns, w.Name),
            }).ToList(),
            Errors = plan.Errors,
        };
    }

    /// <summary>Creates the workflow; null when it exists (created now or before by this run), else why the cluster refused it.</summary>
    private async Task<string?> SubmitAsync(string runId, RenderedWorkflow workflow, CancellationToken cancellationToken)
    {
        var ns = settings.Render.Namespace;
        try
        {
            await cluster.CreateWorkflowAsync(ns, (JsonObject)workflow.Workflow.DeepClone(), cancellationToken);
            logger.LogInformation("Run {RunId}: submitted workflow {Workflow} for entry {Entry}", runId, workflow.Name, workflow.Entry.Name);
            return null;
        }
        catch (ApiException e) when (e.IsAlreadyExists)
        {
            var existing = await cluster.GetWorkflowAsync(ns, workflow.Name, cancellationToken);
            var owner = existing?.Labels.GetValueOrDefault(WorkflowLabels.RunId);
            if (owner == runId)
            {
                return null;
            }

            // Gone between the 409 and the read (deleted by hand): let the redelivery create it again.
            return existing is null
                ? throw new ApiException(System.Net.HttpStatusCode.ServiceUnavailable, null, $"workflow {workflow.Name} existed and vanished; retry")
                : $"entry {workflow.Entry.Index} ({workflow.Entry.Name}): workflow name {workflow.Name} is taken by run {owner ?? "(not kfci's)"}";
        }
        catch (ApiException e) when (e.IsInvalid || e.Status == System.Net.HttpStatusCode.BadRequest)
        {
            return $"entry {workflow.Entry.Index} ({workflow.Entry.Name}): the cluster refused workflow {workflow.Name}: {e.Message.ReplaceLineEndings(" ")}";
        }
    }

    /// <summary>
    /// Moves the run from Planning to Submitted (or on to Completed when nothing runs), keeping only the workflows the
    /// cluster accepted, and announces it. Only the call that made the move announces it.
    /// </summary>
    private async Task<Hosting.FunctionOutcome> FinishSubmissionAsync(string runId, IReadOnlyDictionary<string, string> refused, CancellationToken cancellationToken)
    {
        var now = Now;
        var moved = false;
        var run = await runs.UpdateAsync(
            runId,
            r =>
            {
                moved = r.State == RunState.Planning && r.AbortedAt is null;
                if (!moved)
                {
                    return null;
                }

                var submitted = r.Workflows.Where(w => !refused.ContainsKey(w.Name)).Select(w => w with { Submitted = true }).ToList();
                var next = r with
                {
                    Workflows = submitted,
                    Errors = [.. r.Errors, .. refused.Values.Where(e => !r.Errors.Contains(e))],
                    StartedAt = now,
                    Deadline = now + settings.RunDeadline,
                };
                next = next.MoveTo(RunState.Submitted, now, $"{submitted.Count} workflows submitted");
                return submitted.Count > 0 ? next : next.MoveTo(RunState.Completed, now, "no workflow to run") with { CompletedAt = now };
            },
            cancellationToken) ?? throw new InvalidOperationException($"run {runId} vanished while it was being submitted");

        if (!moved)
        {
            // Aborted while this call submitted: what it created must not keep running.
            if (run.AbortedAt is not null)
            {
                await RunAborter.TerminateAsync(cluster, settings.Render.Namespace, runId, logger, cancellationToken);
            }

            return Hosting.FunctionOutcome.Success();
        }

        logger.LogInformation("Run {RunId} submitted {Count} workflows ({Errors} errors)", runId, run.Workflows.Count, run.Errors.Count);
        await PublishAsync(RunEventTypes.Submitted, run, cancellationToken);
        if (run.State == RunState.Completed)
        {
            await PublishAsync(RunEventTypes.Completed, run, cancellationToken);
        }

        return Hosting.FunctionOutcome.Success();
    }

    private Task<string> PublishAsync(string eventType, RunRecord run, CancellationToken cancellationToken) =>
        publisher.PublishAsync(eventType == RunEventTypes.Completed ? settings.RunCompletedTopic : settings.RunSubmittedTopic, RunEvent.For(eventType, run).ToMessage(), cancellationToken);
}
