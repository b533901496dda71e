using System.Text.Json;
using Kfci.Cli.CommandLine;
using Kfci.Prow;

namespace Kfci.Cli.Commands;

/// <summary>
/// A Prow event as it was published, read from a file for <c>kfci plan --event</c>: a Pub/Sub message
/// (<c>{"data": base64, "attributes": {...}}</c>, also inside a push envelope's <c>message</c>), a crier
/// <c>ReportMessage</c>, or the data of a <c>sub</c>-style trigger event, whose type comes from <c>--event-type</c> or
/// is inferred from its refs (none: periodic; pulls: presubmit; else postsubmit). Parsed by
/// <see cref="ProwEventParser"/>, exactly as the Trigger would.
/// </summary>
internal static class EventFile
{
    // A message's data is at most ProwEventParser.MaxEventBytes; base64 and the envelope add a third and a little.
    private const int MaxFileBytes = (ProwEventParser.MaxEventBytes * 2) + 4096;

    private const string MessageId = "kfci-plan";

    public static async Task<ProwJobSpec> ReadAsync(FileInfo file, string? eventType, TimeProvider time, CancellationToken cancellationToken)
    {
        if (file.Exists && file.Length > MaxFileBytes)
        {
            throw new CliException($"{file.FullName}: {file.Length} bytes is more than a Prow event can be");
        }

        var bytes = await File.ReadAllBytesAsync(file.FullName, cancellationToken);
        var explicitType = eventType is null ? null : TypeAttribute(eventType);
        try
        {
            using var doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 32 });
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("message", out var envelope) && envelope.ValueKind == JsonValueKind.Object)
            {
                root = envelope;
            }

            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.String)
            {
                var attributes = Attributes(root);
                if (explicitType is not null)
                {
                    attributes[ProwEventParser.EventTypeAttribute] = explicitType;
                }

                var publishTime = root.TryGetProperty("publishTime", out var published) && published.TryGetDateTimeOffset(out var at) ? at : time.GetUtcNow();
                var id = root.TryGetProperty("messageId", out var messageId) && messageId.GetString() is { Length: > 0 } text ? text : MessageId;
                return ProwEventParser.Parse(Convert.FromBase64String(data.GetString()!), attributes, id, publishTime).Job;
            }

            var type = explicitType ?? (IsCrierReport(root) ? null : InferType(root));
            var typeAttribute = type is null ? null : new Dictionary<string, string> { [ProwEventParser.EventTypeAttribute] = type };
            return ProwEventParser.Parse(bytes, typeAttribute, MessageId, time.GetUtcNow()).Job;
        }
        catch (Exception e) when (e is JsonException or InvalidEventException or FormatException)
        {
            throw new CliException($"--event {file.FullName}: {e.Message}");
        }
    }

    private static string TypeAttribute(string eventType) => eventType switch
    {
        "periodic" => ProwEventParser.PeriodicEvent,
        "postsubmit" => ProwEventParser.PostsubmitEvent,
        "presubmit" => ProwEventParser.PresubmitEvent,
        _ => throw new CliException($"--event-type must be periodic, postsubmit or presubmit, not '{eventType}'"),
    };

    private static Dictionary<string, string> Attributes(JsonElement message)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (message.TryGetProperty("attributes", out var values) && values.ValueKind == JsonValueKind.Object)
        {
            foreach (var attribute in values.EnumerateObject())
            {
                attributes[attribute.Name] = attribute.Value.ValueKind == JsonValueKind.String ? attribute.Value.GetString()! : attribute.Value.GetRawText();
            }
        }

        return attributes;
    }

    // Crier's ReportMessage always carries job_type and status; a sub-style request has neither.
    private static bool IsCrierReport(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && (root.TryGetProperty("job_type", out _) || root.TryGetProperty("status", out _));

    private static string InferType(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("refs", out var refs) || refs.ValueKind != JsonValueKind.Object)
        {
            return ProwEventParser.PeriodicEvent;
        }

        return refs.TryGetProperty("pulls", out var pulls) && pulls.ValueKind == JsonValueKind.Array && pulls.GetArrayLength() > 0
            ? ProwEventParser.PresubmitEvent
            : ProwEventParser.PostsubmitEvent;
    }
}
