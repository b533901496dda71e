using CloudNative.CloudEvents;
using Kfci.Hosting;
using Kfci.Http;
using Kfci.Prow;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kfci.Functions.Trigger;

/// <summary>
/// The front door (topic <c>prow-events</c>): a Prow event becomes a kfci run with exactly the right Argo workflows.
/// Trigger requests and crier's first start state of a build start a run; crier's <c>aborted</c> stops it, and so does
/// its <c>failure</c> or <c>error</c> while the workflows still run (Prow gave up on the build); other reports are noted. Malformed events are rejected with one line; transient faults ask for redelivery, which every
/// step survives (see <see cref="RunStarter"/>).
/// </summary>
public sealed class Function(IServiceProvider services, ILogger<Function> logger) : IMessagePublishedFunction
{
    public async Task<FunctionOutcome> HandleAsync(CloudEvent cloudEvent, MessagePublishedData data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cloudEvent);
        ArgumentNullException.ThrowIfNull(data);
        var message = data.Message;
        ProwEvent prowEvent;
        try
        {
            var published = message.PublishTime ?? cloudEvent.Time ?? DateTimeOffset.MinValue;
            prowEvent = ProwEventParser.Parse(message.Data.Span, message.Attributes, message.MessageId, published);
        }
        catch (InvalidEventException e)
        {
            return FunctionOutcome.Reject(e.Message);
        }
        catch (UnscheduledReportException e)
        {
            // Not a fault: Prow has not given the job a build yet, and its pending report will.
            logger.LogInformation("Event {EventId} ignored: {Reason}", cloudEvent.Id, e.Message);
            return FunctionOutcome.Success();
        }

        // Resolved only for a valid event: rejecting garbage needs no adapter (and no configuration) at all.
        try
        {
            return prowEvent switch
            {
                { Kind: ProwEventKind.TriggerRequest } => await Starter.StartAsync(prowEvent, message.MessageId, cancellationToken),
                { State: { } state } when state.IsStart() => await Starter.StartAsync(prowEvent, message.MessageId, cancellationToken),
                { State: ProwJobState.Aborted } => await Aborter.AbortAsync(prowEvent, message.MessageId, cancellationToken),
                { State: ProwJobState.Failure or ProwJobState.Error } => await Aborter.EndAsync(prowEvent, message.MessageId, cancellationToken),
                _ => await Aborter.NoteAsync(prowEvent, cancellationToken),
            };
        }
        catch (Exception e) when (Transience.IsTransient(e, cancellationToken))
        {
            logger.LogWarning(e, "Event {EventId} for run {RunId} hit a transient fault; it will be redelivered", cloudEvent.Id, prowEvent.Run.RunId);
            return FunctionOutcome.Transient($"run {prowEvent.Run.RunId}: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    private RunStarter Starter => services.GetRequiredService<RunStarter>();

    private RunAborter Aborter => services.GetRequiredService<RunAborter>();
}
