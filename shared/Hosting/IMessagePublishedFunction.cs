using CloudNative.CloudEvents;

namespace Kfci.Hosting;

/// <summary>
/// A function triggered by Pub/Sub messages. The host creates one instance per request (scoped), so
/// a function may take scoped or singleton dependencies in its constructor.
/// </summary>
public interface IMessagePublishedFunction
{
    /// <summary>
    /// Handles one delivery. Delivery is at least once: the same message may arrive again or concurrently.
    /// Return <see cref="FunctionOutcome.Reject"/> (or throw <see cref="PermanentEventException"/>) for input
    /// no retry will fix; return <see cref="FunctionOutcome.Transient"/> (or throw any other exception) to
    /// have Pub/Sub redeliver. <paramref name="cancellationToken"/> fires when the caller gives up on the request.
    /// </summary>
    Task<FunctionOutcome> HandleAsync(CloudEvent cloudEvent, MessagePublishedData data, CancellationToken cancellationToken);
}
