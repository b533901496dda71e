using Kfci.Hosting;
using Microsoft.Extensions.Logging;

namespace Kfci.Functions.Watcher;

/// <summary>
/// PLACEHOLDER until the Watcher issue: logs a one-line summary of each Argo workflow event or reconcile tick and acknowledges it.
/// </summary>
public sealed class Function(ILogger<Function> logger) : IMessagePublishedFunction
{
    public Task<FunctionOutcome> HandleAsync(CloudEvent cloudEvent, MessagePublishedData data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cloudEvent);
        ArgumentNullException.ThrowIfNull(data);
        logger.LogInformation("Received {EventType} {EventId} from {Source}: {Bytes} bytes", cloudEvent.Type, cloudEvent.Id, cloudEvent.Source, data.Message.Data.Length);
        return Task.FromResult(FunctionOutcome.Success());
    }
}
