using Kfci.Hosting;
using Microsoft.Extensions.Logging;

namespace Kfci.Functions.Janitor;

/// <summary>
/// PLACEHOLDER until the Janitor issue: logs a one-line summary of each janitor tick and acknowledges it.
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
