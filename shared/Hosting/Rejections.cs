using System.Text;
using CloudNative.CloudEvents;
using Microsoft.Extensions.Logging;

namespace Kfci.Hosting;

/// <summary>The request exactly as received, minus credentials: enough to replay the event later.</summary>
/// <param name="Headers">Content-Type and the <c>ce-*</c> headers only; never Authorization.</param>
public sealed record RawEventRequest(string Path, string? ContentType, IReadOnlyDictionary<string, string> Headers, ReadOnlyMemory<byte> Body);

/// <summary>An event a function rejected as permanently bad, with the raw request so nothing is lost.</summary>
public sealed record RejectedEvent(string Function, CloudEvent Event, string Reason, DateTimeOffset RejectedAt, RawEventRequest Request);

/// <summary>
/// Keeps rejected events somewhere an operator can find and replay them. The host acknowledges a rejected
/// event only after <see cref="RecordAsync"/> returns; if it throws, the host answers 5xx and Pub/Sub redelivers.
/// </summary>
public interface IRejectionRecorder
{
    Task RecordAsync(RejectedEvent rejection, CancellationToken cancellationToken);
}

/// <summary>The default recorder: writes the rejected event, body included (bounded), into the log.</summary>
public sealed class LoggingRejectionRecorder(ILogger<LoggingRejectionRecorder> logger) : IRejectionRecorder
{
    /// <summary>Cloud Logging drops entries over 256 KB, so the body in the log is cut well below that.</summary>
    private const int MaxLoggedBodyBytes = 64 * 1024;

    public Task RecordAsync(RejectedEvent rejection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rejection);
        var body = rejection.Request.Body;
        var shown = body.Length > MaxLoggedBodyBytes ? body[..MaxLoggedBodyBytes] : body;
        logger.LogInformation(
            "Rejected event {EventId} of type {EventType} from {EventSource} (path {Path}, content type {ContentType}, {BodyBytes} bytes{Cut}): {Body}",
            rejection.Event.Id,
            rejection.Event.Type,
            rejection.Event.Source,
            rejection.Request.Path,
            rejection.Request.ContentType,
            body.Length,
            body.Length > shown.Length ? ", cut" : string.Empty,
            Encoding.UTF8.GetString(shown.Span));
        return Task.CompletedTask;
    }
}
