using Kfci.Hosting;
using Microsoft.Extensions.Logging;

namespace Kfci.Functions.Uploader;

/// <summary>
/// PLACEHOLDER until the Uploader issue: logs a one-line summary of each run.submitted/run.completed event and acknowledges it.
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
