using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kfci.PubSub;

/// <summary>
/// The JSON mapping of Pub/Sub v1 resources (pubsub.v1 discovery document, plus the later fields
/// <c>orderingKey</c>, <c>deliveryAttempt</c>, <c>enableMessageOrdering</c>, <c>deadLetterPolicy</c> and
/// <c>retryPolicy</c> that the 2019 fixture predates but the service and the emulator speak).
/// </summary>
internal static class PubSubJson
{
    // {"messages":[]} around the messages.
    private const int PublishEnvelopeBytes = 15;

    // "data":"" around the base64 text.
    private const int DataFieldBytes = 9;

    public static JsonObject Message(OutgoingMessage message)
    {
        var json = new JsonObject();
        if (!message.Data.IsEmpty)
        {
            json["data"] = Convert.ToBase64String(message.Data.Span);
        }

        AddAttributesAndOrderingKey(json, message);
        return json;
    }

    /// <summary>
    /// Bytes <paramref name="message"/> adds to a publish request body as it is sent (JSON escaping and base64 included,
    /// and the comma between messages), computed without encoding its data.
    /// </summary>
    public static int EncodedSize(OutgoingMessage message)
    {
        var withoutData = new JsonObject();
        AddAttributesAndOrderingKey(withoutData, message);
        var size = Encoding.UTF8.GetByteCount(withoutData.ToJsonString(JsonSerializerOptions.Web)) + 1;
        if (!message.Data.IsEmpty)
        {
            // "data":"<base64>" and, when other members follow, a comma.
            size += DataFieldBytes + ((message.Data.Length + 2) / 3 * 4) + (withoutData.Count > 0 ? 1 : 0);
        }

        return size;
    }

    /// <summary>Bytes of the <c>topics.publish</c> request body for <paramref name="messages"/>.</summary>
    public static long PublishRequestSize(IEnumerable<OutgoingMessage> messages) =>
        PublishEnvelopeBytes + messages.Sum(m => (long)EncodedSize(m));

    private static void AddAttributesAndOrderingKey(JsonObject json, OutgoingMessage message)
    {
        if (message.Attributes.Count > 0)
        {
            var attributes = new JsonObject();
            foreach (var (name, value) in message.Attributes)
            {
                attributes[name] = value;
            }

            json["attributes"] = attributes;
        }

        if (message.OrderingKey is { } orderingKey)
        {
            json["orderingKey"] = orderingKey;
        }
    }

    public static ReceivedMessage Received(JsonNode received)
    {
        var message = received["message"] ?? throw Malformed("receivedMessages[].message");
        return new ReceivedMessage(
            AckId: Required(received, "ackId"),
            MessageId: Required(message, "messageId"),
            Data: message["data"]?.GetValue<string>() is { Length: > 0 } data ? Base64(data) : ReadOnlyMemory<byte>.Empty,
            Attributes: Attributes(message["attributes"]),
            PublishTime: Timestamp(Required(message, "publishTime")),
            OrderingKey: message["orderingKey"]?.GetValue<string>() is { Length: > 0 } key ? key : null,
            DeliveryAttempt: received["deliveryAttempt"]?.GetValue<int>());
    }

    public static JsonObject Subscription(string project, SubscriptionConfig config)
    {
        var json = new JsonObject { ["topic"] = PubSubNames.Topic(project, config.TopicId) };
        if (config.Push is { } push)
        {
            var pushJson = new JsonObject { ["pushEndpoint"] = push.Endpoint.AbsoluteUri };
            if (push.OidcToken is { } oidc)
            {
                var token = new JsonObject { ["serviceAccountEmail"] = oidc.ServiceAccountEmail };
                if (oidc.Audience is { } audience)
                {
                    token["audience"] = audience;
                }

                pushJson["oidcToken"] = token;
            }

            json["pushConfig"] = pushJson;
        }

        if (config.AckDeadlineSeconds is { } ackDeadline)
        {
            json["ackDeadlineSeconds"] = ackDeadline;
        }

        if (config.DeadLetter is { } deadLetter)
        {
            json["deadLetterPolicy"] = new JsonObject
            {
                ["deadLetterTopic"] = PubSubNames.Topic(project, deadLetter.TopicId),
                ["maxDeliveryAttempts"] = deadLetter.MaxDeliveryAttempts,
            };
        }

        if (config.Redelivery is { } redelivery)
        {
            json["retryPolicy"] = new JsonObject
            {
                ["minimumBackoff"] = Duration(redelivery.MinimumBackoff),
                ["maximumBackoff"] = Duration(redelivery.MaximumBackoff),
            };
        }

        if (config.EnableMessageOrdering)
        {
            json["enableMessageOrdering"] = true;
        }

        return json;
    }

    public static SubscriptionConfig Subscription(JsonNode json)
    {
        var push = json["pushConfig"];
        var deadLetter = json["deadLetterPolicy"];
        var retry = json["retryPolicy"];
        return new SubscriptionConfig
        {
            Id = PubSubNames.IdOf(Required(json, "name")),
            TopicId = PubSubNames.IdOf(Required(json, "topic")),
            Push = push?["pushEndpoint"]?.GetValue<string>() is { Length: > 0 } endpoint
                ? new PushConfig(new Uri(endpoint), OidcToken(push["oidcToken"]))
                : null,
            AckDeadlineSeconds = json["ackDeadlineSeconds"]?.GetValue<int>(),
            DeadLetter = deadLetter is null
                ? null
                : new DeadLetterPolicy(
                    PubSubNames.IdOf(Required(deadLetter, "deadLetterTopic")),
                    deadLetter["maxDeliveryAttempts"]?.GetValue<int>() ?? 0),
            Redelivery = retry is null
                ? null
                : new RedeliveryPolicy(
                    retry["minimumBackoff"]?.GetValue<string>() is { } min ? ParseDuration(min) : TimeSpan.Zero,
                    retry["maximumBackoff"]?.GetValue<string>() is { } max ? ParseDuration(max) : TimeSpan.Zero),
            EnableMessageOrdering = json["enableMessageOrdering"]?.GetValue<bool>() ?? false,
        };
    }

    /// <summary>google-duration: seconds with up to nine fractional digits and an <c>s</c> suffix, e.g. <c>10s</c>, <c>2.500s</c>.</summary>
    public static string Duration(TimeSpan value) =>
        (value.Ticks / (decimal)TimeSpan.TicksPerSecond).ToString("0.#######", CultureInfo.InvariantCulture) + "s";

    public static TimeSpan ParseDuration(string text)
    {
        if (text.EndsWith('s')
            && decimal.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromTicks((long)(seconds * TimeSpan.TicksPerSecond));
        }

        throw new FormatException($"'{text}' is not a google-duration such as '10s'.");
    }

    /// <summary>RFC 3339 timestamps; the service sends up to nine fractional digits, more than .NET parses.</summary>
    public static DateTimeOffset Timestamp(string text)
    {
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot >= 0)
        {
            var end = dot + 1;
            while (end < text.Length && char.IsAsciiDigit(text[end]))
            {
                end++;
            }

            if (end - dot - 1 > 7)
            {
                text = string.Concat(text.AsSpan(0, dot + 8), text.AsSpan(end));
            }
        }

        return DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
    }

    /// <summary>Proto3 JSON bytes: standard base64, though parsers must also accept the URL-safe alphabet and missing padding.</summary>
    public static byte[] Base64(string text)
    {
        if (text.AsSpan().IndexOfAny('-', '_') >= 0 || text.Length % 4 != 0)
        {
            text = text.Replace('-', '+').Replace('_', '/').PadRight((text.Length + 3) / 4 * 4, '=');
        }

        return Convert.FromBase64String(text);
    }

    public static string Required(JsonNode node, string name) =>
        node[name]?.GetValue<string>() ?? throw Malformed(name);

    private static PushOidcToken? OidcToken(JsonNode? json) =>
        json?["serviceAccountEmail"]?.GetValue<string>() is { Length: > 0 } email
            ? new PushOidcToken(email, json["audience"]?.GetValue<string>() is { Length: > 0 } audience ? audience : null)
            : null;

    private static Dictionary<string, string> Attributes(JsonNode? json)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (json is JsonObject obj)
        {
            foreach (var (key, value) in obj)
            {
                attributes[key] = value?.GetValue<string>() ?? string.Empty;
            }
        }

        return attributes;
    }

    private static int Utf8Length(string? text) => text is null ? 0 : Encoding.UTF8.GetByteCount(text);

    private static FormatException Malformed(string field) => new($"Pub/Sub answer lacks '{field}'.");
}
