namespace Kfci.PubSub;

/// <summary>
/// When <see cref="BatchingEventPublisher"/> sends a batch: as soon as it holds <see cref="MaxMessages"/>
/// messages or <see cref="MaxBytes"/> of request body, or <see cref="MaxDelay"/> after its first message,
/// whichever comes first. Immutable; start from <see cref="Default"/>.
/// </summary>
public sealed record PublisherBatchOptions
{
    /// <summary>The service's request limit (<see cref="PubSubLimits.MaxPublishRequestBytes"/>), less room for the JSON around the messages.</summary>
    public const int MaxRequestBytes = PubSubLimits.MaxPublishRequestBytes - 1024;

    public static PublisherBatchOptions Default { get; } = new();

    /// <summary>Each message in its own request, sent at once: for comparison and for latency-critical callers.</summary>
    public static PublisherBatchOptions Unbatched { get; } = new() { MaxMessages = 1, MaxDelay = TimeSpan.Zero };

    /// <summary>1 to <see cref="PubSubClient.MaxMessagesPerPublish"/>.</summary>
    public int MaxMessages { get; init; } = 100;

    /// <summary>1 to <see cref="MaxRequestBytes"/>. A single larger message is still sent, alone.</summary>
    public int MaxBytes { get; init; } = 1_000_000;

    /// <summary>How long a batch waits for company while an earlier request of its lane is in flight; zero sends each message at once.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxMessages);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxMessages, PubSubClient.MaxMessagesPerPublish);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxBytes, MaxRequestBytes);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxDelay, TimeSpan.Zero);
    }
}
