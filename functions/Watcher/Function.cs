using System.Text.Json.Nodes;
using CloudNative.CloudEvents;
using Kfci.Argo;
using Kfci.Hosting;
using Kfci.Http;
using Kfci.Kubernetes;
using Kfci.PubSub;
using Kfci.Runs;
using Microsoft.Extensions.Logging;

namespace Kfci.Functions.Watcher;

/// <summary>
/// Notices every finished workflow and completes its run. Two subscriptions feed it: <c>argo-events</c> (Argo's
/// Kubernetes events as Cloud Logging LogEntries: fast) and <c>watcher-ticks</c> (Cloud Scheduler, any body: the
/// reconcile that guarantees completeness when events are lost). A message with a LogEntry's shape, or any message
/// from the argo-events subscription, is an event; anything else is a tick.
/// </summary>
public sealed class Function(
    IRunStore runs, IWorkflowCluster cluster, IEventPublisher publisher, TimeProvider clock, WatcherSettings settings, ILogger<Function> logger)
    : IMessagePublishedFunction
{
    private readonly RunRecorder _recorder = new(runs, publisher, clock, settings, logger);

    public async Task<FunctionOutcome> HandleAsync(CloudEvent cloudEvent, MessagePublishedData data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cloudEvent);
        ArgumentNullException.ThrowIfNull(data);
        var entry = WorkflowEventEntry.AsLogEntry(data.Message.Data);
        try
        {
            if (entry is not null)
            {
                return await HandleEventAsync(entry, cancellationToken);
            }

            if (FromArgoEvents(data.Subscription))
            {
                return FunctionOutcome.Reject("argo-events message is not a Cloud Logging LogEntry (JSON object with jsonPayload)");
            }

            var report = await new Reconciler(runs, cluster, _recorder, clock, settings, logger).RunAsync(cancellationToken);
            return report.Failures.Count == 0
                ? FunctionOutcome.Success()
                : FunctionOutcome.Transient($"{report.Failures.Count} runs failed transiently, e.g. {report.Failures[0]}");
        }
        catch (Exception e) when (Faults.IsTransient(e, cancellationToken))
        {
            return FunctionOutcome.Transient($"{e.GetType().Name}: {e.Message}");
        }
        catch (FormatException e)
        {
            // A run document kfci cannot read: retrying will not fix it.
            return FunctionOutcome.Reject(e.Message);
        }
    }

    private async Task<FunctionOutcome> HandleEventAsync(JsonObject entry, CancellationToken cancellationToken)
    {
        KubernetesEventNotice notice;
        try
        {
            notice = WorkflowEventEntry.Parse(entry);
        }
        catch (FormatException e)
        {
            return FunctionOutcome.Reject(e.Message);
        }

        if (!notice.IsWorkflowCompletion)
        {
            logger.LogDebug("Ignored {Reason} event about {Kind} {Name}: not a workflow completion", notice.Reason, notice.InvolvedKind, notice.Name);
            return FunctionOutcome.Success();
        }

        var workflow = await cluster.GetWorkflowAsync(notice.Namespace, notice.Name, cancellationToken);
        var outcome = workflow is null ? null : WorkflowOutcome.From(workflow);
        if (outcome?.RunId is not { } runId)
        {
            logger.LogDebug("Ignored {Reason} of workflow {Namespace}/{Name}: {Why}", notice.Reason, notice.Namespace, notice.Name, outcome is null ? "gone (the tick records it)" : "not managed by kfci");
            return FunctionOutcome.Success();
        }

        if (!outcome.IsFinished)
        {
            logger.LogDebug("Workflow {Name} is {Phase} although {Reason} was reported; the tick will record it", notice.Name, outcome.Phase, notice.Reason);
            return FunctionOutcome.Success();
        }

        var result = await _recorder.RecordAsync(runId, [outcome], cancellationToken);
        logger.LogInformation("Workflow {Name} of run {RunId} {Phase}: {Result}", outcome.Name, runId, outcome.Phase, result);
        return FunctionOutcome.Success();
    }

    private static bool FromArgoEvents(string? subscription) =>
        subscription is not null && PubSubNames.IdOf(subscription).StartsWith(KfciTopics.ArgoEvents, StringComparison.Ordinal);
}

/// <summary>Which failures are worth a redelivery.</summary>
internal static class Faults
{
    /// <summary>5xx, 429, timeouts and dropped connections (<see cref="Transience"/>), and Firestore contention that outlasted the transaction's retries.</summary>
    public static bool IsTransient(Exception exception, CancellationToken cancellationToken) =>
        Transience.IsTransient(exception, cancellationToken)
        || exception is ApiException { Reason: "ABORTED" }
        || (exception is AggregateException aggregate && aggregate.InnerExceptions.All(e => IsTransient(e, cancellationToken)));
}
