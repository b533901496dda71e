namespace Kfci.PubSub;

/// <summary>kfci's way out: publish an event message to one of the chain's topics.</summary>
public interface IEventPublisher
{
    /// <summary>
    /// Publishes <paramref name="message"/> to the topic <paramref name="topicId"/> (an id, not a full name,
    /// in the publisher's project) and returns the server-assigned message id once the service has accepted it.
    /// Messages with the same ordering key are published in the order of the calls.
    /// </summary>
    /// <exception cref="ArgumentException">The topic id breaks Pub/Sub's naming rules.</exception>
    /// <exception cref="Http.ApiException">The service refused the message, or still failed after retries.</exception>
    /// <exception cref="OperationCanceledException">
    /// <paramref name="cancellationToken"/> fired; the message may still be published.
    /// </exception>
    Task<string> PublishAsync(string topicId, OutgoingMessage message, CancellationToken cancellationToken = default);
}
