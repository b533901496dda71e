using System.Net.Mime;
using System.Text.Json;
using System.Text.RegularExpressions;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.Core;
using CloudNative.CloudEvents.Http;
using CloudNative.CloudEvents.SystemTextJson;

namespace Kfci.Hosting;

/// <summary>An event decoded from a request, with its typed Pub/Sub data when it is a messagePublished event.</summary>
public sealed record DecodedEvent(CloudEvent Event, MessagePublishedData? MessagePublished);

/// <summary>
/// Turns an HTTP request into a <see cref="CloudEvent"/> as the Functions Framework does, with the CloudEvents SDK:
/// HTTP binary mode (<c>ce-*</c> headers) and structured mode (<c>application/cloudevents+json</c>) are decoded by the
/// SDK's JSON formatter; a raw Pub/Sub push envelope becomes a messagePublished event. For messagePublished events
/// the event's <see cref="CloudEvent.Data"/> is the typed <see cref="MessagePublishedData"/>. Pure: no I/O, so it is
/// tested without a server.
/// </summary>
public static partial class EventRequestDecoder
{
    // The Functions Framework's placeholder when the push endpoint URL does not name the topic.
    private const string UnknownTopic = "projects/unknown-project!/topics/unknown-topic!";

    private static readonly JsonEventFormatter s_formatter = new();

    /// <summary>The formatter the host decodes with; senders (tests, tools) encode with the same one.</summary>
    public static CloudEventFormatter Formatter => s_formatter;

    /// <summary>
    /// Decodes one request. Throws <see cref="EventDecodingException"/> (400 or 415, with a one-line reason)
    /// for anything that is not a well-formed event; never returns null.
    /// </summary>
    /// <param name="contentType">The Content-Type header, or null when absent.</param>
    /// <param name="headers">All request headers (names compared case-insensitively).</param>
    /// <param name="path">The request path; a push endpoint's <c>/projects/P/topics/T</c> names the topic.</param>
    /// <param name="body">The whole request body.</param>
    public static DecodedEvent Decode(string? contentType, IEnumerable<KeyValuePair<string, string>> headers, string path, ReadOnlyMemory<byte> body)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (MimeUtilities.IsCloudEventsBatchContentType(contentType))
        {
            throw EventDecodingException.UnsupportedMediaType("batched CloudEvents are not supported; send one event per request");
        }

        if (MimeUtilities.IsCloudEventsContentType(contentType))
        {
            return WithMessagePublished(SdkDecode("structured CloudEvent", () => s_formatter.DecodeStructuredModeMessage(body, new ContentType(contentType), null)), string.Empty);
        }

        var ceHeaders = headers.Where(h => HttpUtilities.GetAttributeNameFromHeaderName(h.Key) is not null).ToList();
        if (ceHeaders.Count > 0)
        {
            return WithMessagePublished(DecodeBinary(ceHeaders, contentType, body), HttpUtilities.HttpHeaderPrefix);
        }

        if (!IsJson(MediaType(contentType)))
        {
            throw EventDecodingException.UnsupportedMediaType(
                $"unsupported content type '{contentType}': expected CloudEvents (ce-* headers or {MimeUtilities.MediaType}+json) or a Pub/Sub push envelope (application/json)");
        }

        return DecodePushEnvelope(path ?? string.Empty, body);
    }

    private static CloudEvent DecodeBinary(List<KeyValuePair<string, string>> ceHeaders, string? contentType, ReadOnlyMemory<byte> body)
    {
        var versionId = ceHeaders.FirstOrDefault(h => string.Equals(h.Key, HttpUtilities.SpecVersionHttpHeader, StringComparison.OrdinalIgnoreCase)).Value;
        if (string.IsNullOrEmpty(versionId))
        {
            throw EventDecodingException.BadRequest($"missing required CloudEvent header {HttpUtilities.SpecVersionHttpHeader}");
        }

        var version = CloudEventsSpecVersion.FromVersionId(versionId)
            ?? throw EventDecodingException.BadRequest($"unsupported CloudEvents specversion '{versionId}'; only {CloudEventsSpecVersion.Default.VersionId} is accepted");
        return SdkDecode("binary-mode CloudEvent", () =>
        {
            var cloudEvent = new CloudEvent(version);
            foreach (var (name, value) in ceHeaders)
            {
                var attribute = HttpUtilities.GetAttributeNameFromHeaderName(name)!;
                if (attribute != CloudEventsSpecVersion.SpecVersionAttribute.Name)
                {
                    cloudEvent.SetAttributeFromString(attribute, HttpUtilities.DecodeHeaderValue(value));
                }
            }

            cloudEvent.DataContentType = contentType;
            s_formatter.DecodeBinaryModeEventData(body, cloudEvent);
            return cloudEvent;
        });
    }

    /// <summary>Runs an SDK decode, turning its complaints about the input into a 400 with the SDK's one-line reason.</summary>
    private static CloudEvent SdkDecode(string what, Func<CloudEvent> decode)
    {
        try
        {
            return decode();
        }
        catch (Exception e) when (e is ArgumentException or JsonException or FormatException or InvalidOperationException)
        {
            throw EventDecodingException.BadRequest($"{what}: {e.Message}");
        }
    }

    private static DecodedEvent WithMessagePublished(CloudEvent cloudEvent, string attributePrefix)
    {
        var missing = cloudEvent.SpecVersion.RequiredAttributes.Where(a => cloudEvent[a] is null).Select(a => attributePrefix + a.Name).ToList();
        if (missing.Count > 0)
        {
            throw EventDecodingException.BadRequest($"missing required CloudEvent attribute(s): {string.Join(", ", missing)}");
        }

        if (cloudEvent.Type != MessagePublishedData.CloudEventType)
        {
            return new DecodedEvent(cloudEvent, null);
        }

        var data = cloudEvent.Data switch
        {
            JsonElement json => PubSubJson.ReadMessagePublished(json, "event data"),
            null => throw EventDecodingException.BadRequest("messagePublished event has no data; expected JSON"),
            _ => throw EventDecodingException.UnsupportedMediaType($"messagePublished data must be JSON, not '{cloudEvent.DataContentType}'"),
        };
        cloudEvent.Data = data;
        return new DecodedEvent(cloudEvent, data);
    }

    private static DecodedEvent DecodePushEnvelope(string path, ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty)
        {
            throw EventDecodingException.BadRequest("request body is empty; expected JSON");
        }

        MessagePublishedData data;
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("message", out _))
            {
                throw EventDecodingException.BadRequest("body is neither a CloudEvent nor a Pub/Sub push envelope (no 'message')");
            }

            data = PubSubJson.ReadMessagePublished(document.RootElement, "envelope");
        }
        catch (JsonException e)
        {
            throw EventDecodingException.BadRequest($"request body is not valid JSON: {e.Message}");
        }

        var cloudEvent = new CloudEvent
        {
            Id = data.Message.MessageId,
            Source = new Uri("//pubsub.googleapis.com/" + TopicFromPath(path), UriKind.RelativeOrAbsolute),
            Type = MessagePublishedData.CloudEventType,
            Time = data.Message.PublishTime,
            DataContentType = MediaTypeNames.Application.Json,
            Data = data,
        };
        return new DecodedEvent(cloudEvent, data);
    }

    private static string TopicFromPath(string path)
    {
        var match = TopicPathPattern().Match(path);
        return match.Success ? $"projects/{match.Groups[1].Value}/topics/{match.Groups[2].Value}" : UnknownTopic;
    }

    private static string? MediaType(string? contentType)
    {
        try
        {
            return MimeUtilities.CreateContentTypeOrNull(contentType)?.MediaType.ToLowerInvariant();
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static bool IsJson(string? mediaType) =>
        mediaType is not null && (mediaType == MediaTypeNames.Application.Json || mediaType.EndsWith("+json", StringComparison.Ordinal) || mediaType == "text/json");

    [GeneratedRegex("/projects/([^/]+)/topics/([^/]+)")]
    private static partial Regex TopicPathPattern();
}
