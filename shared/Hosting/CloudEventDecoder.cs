using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kfci.Hosting;

/// <summary>An event decoded from a request, with its typed Pub/Sub data when it is a messagePublished event.</summary>
public sealed record DecodedEvent(CloudEvent Event, MessagePublishedData? MessagePublished);

/// <summary>
/// Turns an HTTP request into a <see cref="CloudEvent"/>, as the Functions Framework does: CloudEvents
/// HTTP binary mode (<c>ce-*</c> headers), structured mode (<c>application/cloudevents+json</c>), or a raw
/// Pub/Sub push envelope converted to a messagePublished event. Pure: no I/O, so it is tested without a server.
/// </summary>
public static partial class CloudEventDecoder
{
    private const string HeaderPrefix = "ce-";
    private const string StructuredMediaType = "application/cloudevents+json";
    private const string BatchMediaType = "application/cloudevents-batch+json";

    // The Functions Framework's placeholder when the push endpoint URL does not name the topic.
    private const string UnknownTopic = "projects/unknown-project!/topics/unknown-topic!";

    private static readonly string[] s_requiredAttributes = ["id", "source", "type", "specversion"];

    // Context attributes with a property of their own; every other attribute is an extension.
    private static readonly HashSet<string> s_contextAttributes = ["id", "source", "type", "specversion", "time", "subject", "datacontenttype"];

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
        var mediaType = MediaTypeOf(contentType);
        if (mediaType == StructuredMediaType)
        {
            return WithMessagePublished(DecodeStructured(body));
        }

        if (mediaType == BatchMediaType)
        {
            throw EventDecodingException.UnsupportedMediaType("batched CloudEvents are not supported; send one event per request");
        }

        var ceHeaders = CloudEventHeaders(headers);
        if (ceHeaders.Count > 0)
        {
            return WithMessagePublished(DecodeBinary(ceHeaders, contentType, body));
        }

        if (!IsJson(mediaType))
        {
            throw EventDecodingException.UnsupportedMediaType(
                $"unsupported content type '{contentType}': expected CloudEvents (ce-* headers or {StructuredMediaType}) or a Pub/Sub push envelope (application/json)");
        }

        return DecodePushEnvelope(path ?? string.Empty, body);
    }

    private static DecodedEvent WithMessagePublished(CloudEvent cloudEvent)
    {
        if (cloudEvent.Type != MessagePublishedData.CloudEventType)
        {
            return new DecodedEvent(cloudEvent, null);
        }

        if (cloudEvent.DataContentType is not null && !IsJson(MediaTypeOf(cloudEvent.DataContentType)))
        {
            throw EventDecodingException.UnsupportedMediaType($"messagePublished data must be JSON, not '{cloudEvent.DataContentType}'");
        }

        using var document = ParseJson(cloudEvent.Data, "event data");
        return new DecodedEvent(cloudEvent, PubSubJson.ReadMessagePublished(document.RootElement, "data"));
    }

    private static CloudEvent DecodeBinary(Dictionary<string, string> attributes, string? contentType, ReadOnlyMemory<byte> body)
    {
        foreach (var name in s_requiredAttributes)
        {
            if (!attributes.TryGetValue(name, out var value) || value.Length == 0)
            {
                throw EventDecodingException.BadRequest($"missing required CloudEvent header ce-{name}");
            }
        }

        return Build(attributes, contentType, body, "ce-");
    }

    private static CloudEvent DecodeStructured(ReadOnlyMemory<byte> body)
    {
        using var document = ParseJson(body, "structured CloudEvent");
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw EventDecodingException.BadRequest("structured CloudEvent must be a JSON object");
        }

        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var member in root.EnumerateObject())
        {
            if (member.Name is not ("data" or "data_base64"))
            {
                attributes[member.Name] = member.Value.ValueKind == JsonValueKind.String ? member.Value.GetString()! : member.Value.GetRawText();
            }
        }

        foreach (var name in s_requiredAttributes)
        {
            if (!root.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String || value.GetString()!.Length == 0)
            {
                throw EventDecodingException.BadRequest($"missing required CloudEvent attribute '{name}'");
            }
        }

        attributes.TryGetValue("datacontenttype", out var dataContentType);
        return Build(attributes, dataContentType, StructuredData(root, dataContentType), string.Empty);
    }

    private static ReadOnlyMemory<byte> StructuredData(JsonElement root, string? dataContentType)
    {
        var hasData = root.TryGetProperty("data", out var data);
        var hasBase64 = root.TryGetProperty("data_base64", out var base64);
        if (hasData && hasBase64)
        {
            throw EventDecodingException.BadRequest("structured CloudEvent has both 'data' and 'data_base64'");
        }

        if (hasBase64)
        {
            return base64.ValueKind == JsonValueKind.String
                ? DecodeBase64(base64.GetString()!, "data_base64")
                : throw EventDecodingException.BadRequest("'data_base64' must be a string");
        }

        if (!hasData || data.ValueKind == JsonValueKind.Null)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        // JSON data stays JSON text; a string under a non-JSON content type is the payload itself.
        var isJson = dataContentType is null || IsJson(MediaTypeOf(dataContentType));
        return isJson || data.ValueKind != JsonValueKind.String
            ? System.Text.Encoding.UTF8.GetBytes(data.GetRawText())
            : System.Text.Encoding.UTF8.GetBytes(data.GetString()!);
    }

    private static CloudEvent Build(Dictionary<string, string> attributes, string? dataContentType, ReadOnlyMemory<byte> data, string namePrefix)
    {
        var specVersion = attributes["specversion"];
        if (specVersion != CloudEvent.SpecVersion1)
        {
            throw EventDecodingException.BadRequest($"unsupported CloudEvents specversion '{specVersion}'; only {CloudEvent.SpecVersion1} is accepted");
        }

        return new CloudEvent
        {
            Id = attributes["id"],
            Source = attributes["source"],
            Type = attributes["type"],
            SpecVersion = specVersion,
            Time = attributes.TryGetValue("time", out var time) ? Timestamps.Parse(time, namePrefix + "time") : null,
            Subject = attributes.GetValueOrDefault("subject"),
            DataContentType = dataContentType,
            Data = data,
            Extensions = attributes.Where(a => !s_contextAttributes.Contains(a.Key)).ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal),
        };
    }

    private static DecodedEvent DecodePushEnvelope(string path, ReadOnlyMemory<byte> body)
    {
        using var document = ParseJson(body, "request body");
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("message", out _))
        {
            throw EventDecodingException.BadRequest("body is neither a CloudEvent nor a Pub/Sub push envelope (no 'message')");
        }

        var data = PubSubJson.ReadMessagePublished(root, "envelope");
        var cloudEvent = new CloudEvent
        {
            Id = data.Message.MessageId,
            Source = "//pubsub.googleapis.com/" + TopicFromPath(path),
            Type = MessagePublishedData.CloudEventType,
            Time = data.Message.PublishTime,
            DataContentType = "application/json",
            Data = body,
        };
        return new DecodedEvent(cloudEvent, data);
    }

    private static string TopicFromPath(string path)
    {
        var match = TopicPathPattern().Match(path);
        return match.Success ? $"projects/{match.Groups[1].Value}/topics/{match.Groups[2].Value}" : UnknownTopic;
    }

    private static Dictionary<string, string> CloudEventHeaders(IEnumerable<KeyValuePair<string, string>> headers)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in headers)
        {
            if (name.Length > HeaderPrefix.Length && name.StartsWith(HeaderPrefix, StringComparison.OrdinalIgnoreCase))
            {
                // The HTTP binding percent-encodes attribute values that are not plain printable ASCII.
                attributes[name[HeaderPrefix.Length..].ToLowerInvariant()] = Uri.UnescapeDataString(value);
            }
        }

        return attributes;
    }

    private static JsonDocument ParseJson(ReadOnlyMemory<byte> json, string what)
    {
        if (json.IsEmpty)
        {
            throw EventDecodingException.BadRequest($"{what} is empty; expected JSON");
        }

        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw EventDecodingException.BadRequest($"{what} is not valid JSON: {e.Message}");
        }
    }

    internal static ReadOnlyMemory<byte> DecodeBase64(string text, string field)
    {
        var buffer = new byte[text.Length * 3 / 4 + 3];
        return Convert.TryFromBase64String(text, buffer, out var written)
            ? buffer.AsMemory(0, written)
            : throw EventDecodingException.BadRequest($"'{field}' is not valid base64");
    }

    private static string? MediaTypeOf(string? contentType) =>
        contentType is not null && MediaTypeHeaderValue.TryParse(contentType, out var parsed) ? parsed.MediaType?.ToLowerInvariant() : null;

    private static bool IsJson(string? mediaType) =>
        mediaType is not null && (mediaType == "application/json" || mediaType.EndsWith("+json", StringComparison.Ordinal) || mediaType == "text/json");

    [GeneratedRegex("/projects/([^/]+)/topics/([^/]+)")]
    private static partial Regex TopicPathPattern();
}
