using System.Text;

namespace Kfci.Hosting;

/// <summary>One Pub/Sub message as delivered to a push endpoint (the <c>google.pubsub.v1.PubsubMessage</c> fields).</summary>
public sealed record PubSubMessage
{
    /// <summary>The payload; empty when the publisher sent none (Pub/Sub then omits <c>data</c>).</summary>
    public ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>The payload decoded as UTF-8.</summary>
    public string TextData => Encoding.UTF8.GetString(Data.Span);

    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();

    public required string MessageId { get; init; }

    public DateTimeOffset? PublishTime { get; init; }

    public string? OrderingKey { get; init; }

    /// <summary>How many times Pub/Sub has tried to deliver this message; only present on subscriptions with a dead-letter policy.</summary>
    public int? DeliveryAttempt { get; init; }
}

/// <summary>The data of a <c>google.cloud.pubsub.topic.v1.messagePublished</c> event.</summary>
public sealed record MessagePublishedData(PubSubMessage Message, string? Subscription)
{
    public const string CloudEventType = "google.cloud.pubsub.topic.v1.messagePublished";
}
