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
/// Starts a run: plan it at the commit under test, submit its workflows, record it as Submitted in one create-only write
/// and tell the Uploader. One Firestore write per run, not two: a run is Submitted only once its workflows are in the
/// cluster (what the Watcher's tick relies on), and a start or abort racing this one meets it at that write. A run whose
/// branches kfci resolved is the exception: it is recorded in Planning first, so the commits it tests are fixed before
/// any workflow exists (a redelivery must not pick a newer head), and moved to Submitted after. Every step is
/// idempotent, so a redelivered or duplicated event converges on the same run: the run is created once (Firestore
/// create-if-absent), workflow names are deterministic and a 409 for a workflow this run owns is success, and an event for
/// a run that exists changes only what its state still allows.
/// </summary>
public sealed class RunStarter(
    IRunStore runs,
    CachingRepositorySource source,
    JobResolver resolver,
    IWorkflowCluster cluster,
    IEventPublisher publisher,
    TriggerSettings settings,
    TimeProvider time,
    ILogger<RunStarter> logger)
{
    /// <summary>
    /// Handles the event that starts a run (a trigger request, or crier's first start state of a build). Planning is
    /// deterministic (and reads of a commit are cached), so concurrent duplicates submit the same workflows and agree on
    /// the run; the first create wins.
    /// </summary>
    public async Task<Hosting.FunctionOutcome> StartAsync(ProwEvent prowEvent, string eventId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prowEvent);

        // A run that exists is never submitted again (a late redelivery must not re-create workflows of a finished run),
        // and it remembers what its branches resolved to: a redelivery tests that commit, not a newer head.
        if (await runs.GetAsync(prowEvent.Run.RunId, cancellationToken) is { } existing)
        {
            return await ContinueAsync(existing, prowEvent, eventId, created: false, plan: null, planningError: null, cancellationToken);
        }

        var (job, planningError) = JobResolver.NeedsResolution(prowEvent.Job)
            ? await ResolveAsync(prowEvent.Job, cancellationToken)
            : (new ResolvedJob(prowEvent.Job, []), null);
        RunPlan? plan;
        (plan, planningError) = planningError is null ? await PlanAsync(job.Job, prowEvent.Envs, cancellationToken) : (null, planningError);

        // A run whose branches were resolved just now is recorded (Planning, with the shas) before any workflow is
        // submitted: a redelivery after a partial submission then finishes it at those commits, never at a newer head
        // the branch has moved to since. Runs whose event names its commits need no such write.
        var recordFirst = JobResolver.NeedsResolution(prowEvent.Job);
        var refused = plan is null || recordFirst ? null : await SubmitAllAsync(prowEvent.Run.RunId, plan, cancellationToken);
        var (run, created) = await runs.CreateAsync(NewRun(prowEvent, job, eventId, plan, planningError, refused), cancellationToken);

        // A plan of this call is used only when it is the stored run's: a duplicate that lost the create re-plans at the winner's commits.
        return await ContinueAsync(run, prowEvent, eventId, created, recordFirst && !created ? null : plan, planningError, cancellationToken);
    }

    /// <summary>What is left to do for the run as stored, after this call created it or found it.</summary>
    private async Task<Hosting.FunctionOutcome> ContinueAsync(
        RunRecord run, ProwEvent prowEvent, string eventId, bool created, RunPlan? plan, string? planningError, CancellationToken cancellationToken)
    {
        if (run.AbortedAt is not null && plan is not null)
        {
            // Prow aborted the build while this call submitted: what it created must not keep running.
            await RunAborter.TerminateAsync(cluster, settings.Render.Namespace, run.RunId, logger, cancellationToken);
            return Hosting.FunctionOutcome.Success();
        }

        if (!created && run.EventId != eventId)
        {
            return AlreadyStarted(run, prowEvent, eventId);
        }

        switch (run.State)
        {
            case RunState.Submitted:
                // Created now, or a redelivery after the create: the announcement may not have gone out.
                if (created)
                {
                    logger.LogInformation("Run {RunId} submitted {Count} workflows ({Errors} errors)", run.RunId, run.Workflows.Count, run.Errors.Count);
                }

                await PublishAsync(RunEventTypes.Submitted, run, cancellationToken);
                return Hosting.FunctionOutcome.Success();
            case RunState.Completed when run.Workflows.Count == 0:
                await PublishAsync(RunEventTypes.Submitted, run, cancellationToken);
                await PublishAsync(RunEventTypes.Completed, run, cancellationToken);
                return Hosting.FunctionOutcome.Success();
            case RunState.Planning when run.AbortedAt is null:
                // Recorded before submitting (a run whose branches were resolved, now or by an earlier delivery of this
                // event, or a run of an earlier kfci): finish its submission at the commits it recorded.
                plan ??= await RunPlan.BuildAsync(source, ProwJobSpec.FromJson(run.JobSpec), prowEvent.Envs, settings.Render, cancellationToken);
                return await FinishSubmissionAsync(run.RunId, await SubmitAllAsync(run.RunId, plan, cancellationToken), cancellationToken);
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
    }

    /// <summary>Submits the plan's workflows side by side (bounded), so a run's start does not grow with its size; returns why the cluster refused some.</summary>
    private async Task<IReadOnlyDictionary<string, string>> SubmitAllAsync(string runId, RunPlan plan, CancellationToken cancellationToken)
    {
        var refused = new System.Collections.Concurrent.ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(
            plan.Workflows,
            new ParallelOptions { MaxDegreeOfParallelism = MaxParallelSubmissions, CancellationToken = cancellationToken },
            async (workflow, token) =>
            {
                if (await SubmitAsync(runId, workflow, token) is { } reason)
                {
                    refused[workflow.Name] = reason;
                }
            });
        return new SortedDictionary<string, string>(refused, StringComparer.Ordinal);
    }

    private const int MaxParallelSubmissions = 8;

    private Hosting.FunctionOutcome AlreadyStarted(RunRecord run, ProwEvent prowEvent, string eventId)
    {
        logger.LogInformation("Run {RunId} was started by event {FirstEvent}; {State} report {EventId} changes nothing", run.RunId, run.EventId, prowEvent.State?.ToProwString(), eventId);
        return Hosting.FunctionOutcome.Success();
    }

    private async Task<(ResolvedJob Job, string? Error)> ResolveAsync(ProwJobSpec job, CancellationToken cancellationToken)
    {
        try
        {
            return (await resolver.ResolveAsync(job, cancellationToken), null);
        }
        catch (RunPlanningException e)
        {
            return (new ResolvedJob(job, []), e.Message);
        }
    }

    private async Task<(RunPlan? Plan, string? Error)> PlanAsync(ProwJobSpec job, IReadOnlyDictionary<string, string> envs, CancellationToken cancellationToken)
    {
        try
        {
            return (await RunPlan.BuildAsync(source, job, envs, settings.Render, cancellationToken), null);
        }
        catch (RunPlanningException e)
        {
            return (null, e.Message);
        }
    }

    private DateTimeOffset Now => time.GetUtcNow();

    /// <summary>
    /// The run as this event records it: Error when it cannot be planned; Planning with its plan when nothing was
    /// submitted yet (<paramref name="refused"/> null); else moved on by <see cref="Submit"/> with the workflows the
    /// cluster accepted.
    /// </summary>
    private RunRecord NewRun(ProwEvent prowEvent, ResolvedJob resolved, string eventId, RunPlan? plan, string? planningError, IReadOnlyDictionary<string, string>? refused)
    {
        var run = Identity(prowEvent, resolved, eventId, Now);
        if (plan is null)
        {
            return run.MoveTo(RunState.Error, run.CreatedAt, "cannot plan") with { Errors = [planningError ?? "cannot plan"] };
        }

        var ns = settings.Render.Namespace;
        var planned = run with
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
        return refused is null ? planned : Submit(planned, refused, run.CreatedAt);
    }

    /// <summary>
    /// A planned run moved to Submitted, keeping only the workflows the cluster accepted and recording why it refused the
    /// others, or straight on to Completed when none runs.
    /// </summary>
    private RunRecord Submit(RunRecord planned, IReadOnlyDictionary<string, string> refused, DateTimeOffset now)
    {
        var submitted = planned.Workflows.Where(w => !refused.ContainsKey(w.Name)).Select(w => w with { Submitted = true }).ToList();
        var next = (planned with
        {
            Workflows = submitted,
            Errors = [.. planned.Errors, .. refused.Values.Where(e => !planned.Errors.Contains(e))],
            StartedAt = now,
            Deadline = now + settings.RunDeadline,
        }).MoveTo(RunState.Submitted, now, $"{submitted.Count} workflows submitted");
        return submitted.Count > 0 ? next : next.MoveTo(RunState.Completed, now, "no workflow to run") with { CompletedAt = now };
    }

    /// <summary>A new run's identity from the event that names its build, in Planning: who it is, nothing decided yet.</summary>
    internal static RunRecord Identity(ProwEvent prowEvent, string eventId, DateTimeOffset now) =>
        Identity(prowEvent, new ResolvedJob(prowEvent.Job, []), eventId, now);

    /// <summary>The same, for the job with its branches resolved (the notes say to what).</summary>
    private static RunRecord Identity(ProwEvent prowEvent, ResolvedJob resolved, string eventId, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(prowEvent);
        var job = resolved.Job;
        var refs = job.PrimaryRefs;
        return new RunRecord
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
            History = [new RunHistoryEntry(RunState.Planning, now, $"event {eventId}"), .. resolved.Notes.Select(note => new RunHistoryEntry(RunState.Planning, now, note))],
            Links = CrierLinks(prowEvent),
        };
    }

    /// <summary>Crier's url (Spyglass) and gcs_path: the build folder Prow chose, where kfci writes a Prow-owned build's artifacts.</summary>
    private static Dictionary<string, string> CrierLinks(ProwEvent prowEvent)
    {
        var links = new Dictionary<string, string>(StringComparer.Ordinal);
        if (prowEvent.Url is { } url)
        {
            links["prow"] = url;
        }

        if (prowEvent.GcsPath is { } gcsPath)
        {
            links[RunLinks.ProwGcsPath] = gcsPath;
        }

        return links;
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
    /// Moves a run an earlier kfci recorded in Planning to Submitted (<see cref="Submit"/>) and announces it. Only the
    /// call that made the move announces it.
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
                return moved ? Submit(r, refused, now) : null;
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
