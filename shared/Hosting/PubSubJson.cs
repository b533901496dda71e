using System.Text.Json;

namespace Kfci.Hosting;

/// <summary>
/// Reads <see cref="MessagePublishedData"/> from its JSON form, which is also the push envelope's shape.
/// Pub/Sub and its emulator send both camelCase and snake_case spellings (<c>messageId</c>/<c>message_id</c>), so both are read.
/// </summary>
internal static class PubSubJson
{
    public static MessagePublishedData ReadMessagePublished(JsonElement root, string what)
    {
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("message", out var message)
            || message.ValueKind != JsonValueKind.Object)
        {
            throw EventDecodingException.BadRequest($"{what} has no 'message' object");
        }

        var pubSubMessage = new PubSubMessage
        {
            Data = OptionalString(message, "data") is { } data ? DecodeBase64(data, "message.data") : ReadOnlyMemory<byte>.Empty,
            Attributes = Attributes(message),
            MessageId = OptionalString(message, "messageId", "message_id")
                ?? throw EventDecodingException.BadRequest($"{what} message has no 'messageId'"),
            PublishTime = OptionalString(message, "publishTime", "publish_time") is { } time ? Timestamps.Parse(time, "message.publishTime") : null,
            OrderingKey = OptionalString(message, "orderingKey", "ordering_key"),
            DeliveryAttempt = OptionalInt(root, "deliveryAttempt", "delivery_attempt") ?? OptionalInt(message, "deliveryAttempt", "delivery_attempt"),
        };
        return new MessagePublishedData(pubSubMessage, OptionalString(root, "subscription"));
    }

    private static ReadOnlyMemory<byte> DecodeBase64(string text, string field)
    {
        var buffer = new byte[text.Length * 3 / 4 + 3];
        return Convert.TryFromBase64String(text, buffer, out var written)
            ? buffer.AsMemory(0, written)
            : throw EventDecodingException.BadRequest($"'{field}' is not valid base64");
    }

    private static Dictionary<string, string> Attributes(JsonElement message)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!message.TryGetProperty("attributes", out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return attributes;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            throw EventDecodingException.BadRequest("message.attributes must be an object");
        }

        foreach (var attribute in element.EnumerateObject())
        {
            attributes[attribute.Name] = attribute.Value.ValueKind == JsonValueKind.String
                ? attribute.Value.GetString()!
                : throw EventDecodingException.BadRequest($"message attribute '{attribute.Name}' must be a string");
        }

        return attributes;
    }

    private static string? OptionalString(JsonElement element, params string[] names)
    {
        foreach (var name in names)
        {
            if (element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
            {
                return value.ValueKind == JsonValueKind.String
                    ? value.GetString()
                    : throw EventDecodingException.BadRequest($"'{name}' must be a string");
            }
        }

        return null;
    }

    private static int? OptionalInt(JsonElement element, params string[] names)
    {
        foreach (var name in names)
        {
            if (element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
            {
                return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number)
                    ? number
                    : throw EventDecodingException.BadRequest($"'{name}' must be an integer");
            }
        }

        return null;
    }
}
