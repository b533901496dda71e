namespace Kfci.PubSub;

/// <summary>
/// A message to publish. Pub/Sub rejects a message with neither data nor attributes, so one of them must
/// be non-empty. Messages that share an <see cref="OrderingKey"/> are delivered in publish order to
/// subscriptions with message ordering enabled.
/// </summary>
public sealed record OutgoingMessage
{
    public OutgoingMessage(ReadOnlyMemory<byte> data, IReadOnlyDictionary<string, string>? attributes = null, string? orderingKey = null)
    {
        attributes ??= EmptyAttributes;
        if (data.IsEmpty && attributes.Count == 0)
        {
            throw new ArgumentException("A Pub/Sub message needs data or at least one attribute.", nameof(data));
        }

        Data = data;
        Attributes = attributes;
        OrderingKey = string.IsNullOrEmpty(orderingKey) ? null : orderingKey;
    }

    public static IReadOnlyDictionary<string, string> EmptyAttributes { get; } = new Dictionary<string, string>();

    public ReadOnlyMemory<byte> Data { get; }

    public IReadOnlyDictionary<string, string> Attributes { get; }

    /// <summary>Null when the message has no ordering requirement.</summary>
    public string? OrderingKey { get; }
}

/// <summary>A message as a subscriber receives it from <c>pull</c>.</summary>
/// <param name="AckId">Token to acknowledge or to change the deadline of this delivery (not of the message).</param>
/// <param name="MessageId">Server-assigned id, unique within the topic; the same on every redelivery.</param>
/// <param name="Data">The payload; empty when the message carried only attributes.</param>
/// <param name="Attributes">Never null; empty when none were sent.</param>
/// <param name="PublishTime">When the service accepted the message.</param>
/// <param name="OrderingKey">Null when the message was published without one.</param>
/// <param name="DeliveryAttempt">
/// 1 on first delivery, counting up on each redelivery; the service only reports it for subscriptions with a
/// dead-letter policy, so it is null otherwise.
/// </param>
public sealed record ReceivedMessage(
    string AckId,
    string MessageId,
    ReadOnlyMemory<byte> Data,
    IReadOnlyDictionary<string, string> Attributes,
    DateTimeOffset PublishTime,
    string? OrderingKey,
    int? DeliveryAttempt);
