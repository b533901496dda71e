using System.Collections.Concurrent;
using System.Globalization;
using Kfci.PubSub;

namespace Kfci.Testing.PubSub;

/// <summary>A message an <see cref="InMemoryEventPublisher"/> accepted.</summary>
public sealed record PublishedMessage(string TopicId, string MessageId, OutgoingMessage Message);

/// <summary>
/// An <see cref="IEventPublisher"/> for unit tests of functions: it records what was published, in order,
/// and can be told to fail the next publishes to check how a function handles that.
/// </summary>
public sealed class InMemoryEventPublisher : IEventPublisher
{
    private readonly ConcurrentQueue<PublishedMessage> _published = new();
    private readonly ConcurrentQueue<Exception> _failures = new();
    private long _nextId;

    /// <summary>Everything published so far, in publish order.</summary>
    public IReadOnlyList<PublishedMessage> Published => [.. _published];

    public IReadOnlyList<PublishedMessage> PublishedTo(string topicId) =>
        [.. _published.Where(m => m.TopicId == topicId)];

    /// <summary>The next publish throws <paramref name="failure"/> instead of recording (one per call, in order).</summary>
    public void FailNextWith(Exception failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        _failures.Enqueue(failure);
    }

    public Task<string> PublishAsync(string topicId, OutgoingMessage message, CancellationToken cancellationToken = default)
    {
        PubSubNames.ValidateId(topicId, nameof(topicId));
        ArgumentNullException.ThrowIfNull(message);
        if (PubSubLimits.Violation(message) is { } violation)
        {
            // As strict as the real publisher: a message Pub/Sub would refuse is never recorded as published.
            throw new ArgumentException($"Not published to '{topicId}': Pub/Sub would refuse this message: {violation}.", nameof(message));
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (_failures.TryDequeue(out var failure))
        {
            return Task.FromException<string>(failure);
        }

        var id = Interlocked.Increment(ref _nextId).ToString(CultureInfo.InvariantCulture);
        _published.Enqueue(new PublishedMessage(topicId, id, message));
        return Task.FromResult(id);
    }
}
