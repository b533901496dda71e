using System.Text.Json;
using Kfci.Hosting;
using Microsoft.Extensions.Logging;

namespace Kfci.Functions.Trigger;

/// <summary>
/// PLACEHOLDER until the Trigger issue: logs a summary of each Prow event and rejects a message whose data is
/// not JSON, so the host's rejection path runs end to end. The real planning and submission replace the body.
/// </summary>
public sealed class Function(ILogger<Function> logger) : IMessagePublishedFunction
{
    public Task<FunctionOutcome> HandleAsync(CloudEvent cloudEvent, MessagePublishedData data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cloudEvent);
        ArgumentNullException.ThrowIfNull(data);
        if (!IsJson(data.Message.Data))
        {
            return Task.FromResult(FunctionOutcome.Reject("message data is not JSON (a Prow ReportMessage is expected)"));
        }

        logger.LogInformation("Received Prow event {EventId}: {Bytes} bytes, {Attributes} attributes", cloudEvent.Id, data.Message.Data.Length, data.Message.Attributes.Count);
        return Task.FromResult(FunctionOutcome.Success());
    }

    private static bool IsJson(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            using var document = JsonDocument.Parse(bytes);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
