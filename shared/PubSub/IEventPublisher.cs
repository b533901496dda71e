namespace Kfci.PubSub;

/// <summary>kfci's way out: publish an event message to one of the chain's topics.</summary>
public interface IEventPublisher
{
    /// <summary>
    /// Publishes <paramref name="message"/> to the topic <paramref name="topicId"/> (an id, not a full name,
    /// in the publisher's project) and returns the server-assigned message id once the service has accepted it.
    /// Messages with the same ordering key are published in the order of the calls.
    /// </summary>
    /// <exception cref="ArgumentException">The topic id breaks Pub/Sub's naming rules, or the message breaks Pub/Sub's
    /// limits (<see cref="PubSubLimits"/>); nothing is sent, and no other caller's message is affected.</exception>
    /// <exception cref="Http.ApiException">The service refused the message, or still failed after retries
    /// (connection failures surface as <see cref="HttpRequestException"/>, an exhausted deadline as a timeout).</exception>
    /// <exception cref="InvalidOperationException">An earlier message with the same ordering key failed, and this
    /// one was queued behind it: it is not published, so that it cannot overtake the failed one.</exception>
    /// <exception cref="OperationCanceledException">
    /// <paramref name="cancellationToken"/> fired; the message may still be published.
    /// </exception>
    Task<string> PublishAsync(string topicId, OutgoingMessage message, CancellationToken cancellationToken = default);
}
