using System.Text;

namespace Kfci.PubSub;

/// <summary>
/// Pub/Sub's resource limits on one message and one publish request, in bytes as the service counts them, and what
/// follows from them: whether a message may be published at all, and how large a push request for a legal message can be.
/// </summary>
public static class PubSubLimits
{
    /// <summary>A message's <c>data</c> ("10 MB").</summary>
    public const int MaxDataBytes = 10_000_000;

    public const int MaxAttributes = 100;

    public const int MaxAttributeKeyBytes = 256;

    public const int MaxAttributeValueBytes = 1024;

    public const int MaxOrderingKeyBytes = 1024;

    /// <summary>
    /// One publish request: the service refuses larger ones ("Request payload size exceeds the limit: 10485760 bytes").
    /// Over REST that is the JSON body, so base64 counts: a message whose data is over about 7.8 MB cannot be published
    /// over REST even though it is under <see cref="MaxDataBytes"/>.
    /// </summary>
    public const int MaxPublishRequestBytes = 10 * 1024 * 1024;

    // JSON can spell one byte of an attribute or ordering key as six (\u0001); a push body is never larger than that.
    private const int WorstJsonEscapeFactor = 6;

    // messageId, publishTime, both spellings of each (message_id, publish_time), deliveryAttempt, a subscription name
    // of at most 255 characters, and the punctuation around them, rounded up generously.
    private const int PushEnvelopeFieldBytes = 16 * 1024;

    /// <summary>
    /// The largest push request body a legal message can make: its data (at most a whole publish request) base64-encoded,
    /// every attribute and the ordering key at their limits and escaped at worst, both spellings of the ordering key,
    /// and the envelope's own fields. About 14.8 MB: a 10 MiB cap on the body refuses legal messages from about 7.5 MB up.
    /// </summary>
    public const long MaxPushBodyBytes =
        (MaxPublishRequestBytes + 2L) / 3 * 4
        + MaxAttributes * ((MaxAttributeKeyBytes + MaxAttributeValueBytes) * (long)WorstJsonEscapeFactor + 6)
        + 2L * MaxOrderingKeyBytes * WorstJsonEscapeFactor
        + PushEnvelopeFieldBytes;

    /// <summary>Why Pub/Sub would refuse <paramref name="message"/> whatever it is batched with, or null when it would not.</summary>
    public static string? Violation(OutgoingMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Data.Length > MaxDataBytes)
        {
            return $"its data is {message.Data.Length} bytes; Pub/Sub's limit is {MaxDataBytes}";
        }

        if (message.Attributes.Count > MaxAttributes)
        {
            return $"it has {message.Attributes.Count} attributes; Pub/Sub's limit is {MaxAttributes}";
        }

        foreach (var (key, value) in message.Attributes)
        {
            if (Encoding.UTF8.GetByteCount(key) > MaxAttributeKeyBytes)
            {
                return $"attribute key '{Shorten(key)}' is {Encoding.UTF8.GetByteCount(key)} bytes; Pub/Sub's limit is {MaxAttributeKeyBytes}";
            }

            if (Encoding.UTF8.GetByteCount(value) > MaxAttributeValueBytes)
            {
                return $"attribute '{Shorten(key)}' has a value of {Encoding.UTF8.GetByteCount(value)} bytes; Pub/Sub's limit is {MaxAttributeValueBytes}";
            }
        }

        if (message.OrderingKey is { } orderingKey && Encoding.UTF8.GetByteCount(orderingKey) > MaxOrderingKeyBytes)
        {
            return $"its ordering key is {Encoding.UTF8.GetByteCount(orderingKey)} bytes; Pub/Sub's limit is {MaxOrderingKeyBytes}";
        }

        var requestBytes = PubSubJson.PublishRequestSize([message]);
        return requestBytes > MaxPublishRequestBytes
            ? $"a publish request holding it alone is {requestBytes} bytes (data base64-encoded); Pub/Sub's limit is {MaxPublishRequestBytes}"
            : null;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
