using CloudNative.CloudEvents;
using Kfci.Hosting;
using Kfci.Janitor;

namespace Kfci.Functions.Janitor;

/// <summary>
/// A <c>janitor-ticks</c> message (Cloud Scheduler, or on-call with gcloud): sweep leaked test resources. The body is
/// empty (the configured sweep) or a <see cref="SweepRequest"/>. A redelivered tick finds its report and does nothing;
/// a tick during another sweep steps aside. A partial sweep is still acknowledged: redelivery would not fix a 403,
/// and the next tick retries everything; the log metric on <c>sweep.finished</c> is what alerts.
/// </summary>
public sealed class Function(SweepRunner runner, JanitorConfig config) : IMessagePublishedFunction
{
    public async Task<FunctionOutcome> HandleAsync(CloudEvent cloudEvent, MessagePublishedData data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cloudEvent);
        ArgumentNullException.ThrowIfNull(data);
        SweepRequest request;
        try
        {
            request = SweepRequest.Parse(data.Message.Data.Span);
        }
        catch (SweepRequestException e)
        {
            return FunctionOutcome.Reject(e.Message);
        }

        var sweepId = SweepRunner.IdFor(data.Message.MessageId, data.Message.PublishTime ?? cloudEvent.Time ?? DateTimeOffset.UnixEpoch);
        await runner.RunAsync(sweepId, request.Apply(config), cancellationToken);
        return FunctionOutcome.Success();
    }
}
