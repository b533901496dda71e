using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kfci.Argo;

/// <summary>What a Kubernetes Event says about an object: who it involves and why (Argo's reason).</summary>
public sealed record KubernetesEventNotice(string InvolvedKind, string Namespace, string Name, string Reason, string? Message)
{
    /// <summary>True for Argo's event of a workflow reaching a final phase (<see cref="WorkflowEventEntry.CompletionReasons"/>).</summary>
    public bool IsWorkflowCompletion => InvolvedKind == "Workflow" && WorkflowEventEntry.CompletionReasons.Contains(Reason);
}

/// <summary>
/// Argo's workflow events as they reach the Watcher: a Cloud Logging <c>LogEntry</c> (what a log sink publishes to
/// Pub/Sub) whose <c>jsonPayload</c> is the Kubernetes <c>Event</c> object (<c>involvedObject</c>, <c>reason</c>,
/// <c>message</c>). The local workflow engine publishes the same shape (<see cref="Create"/>), so one parser serves both.
/// </summary>
public static class WorkflowEventEntry
{
    public const string Succeeded = "WorkflowSucceeded";

    /// <summary>Argo uses this reason for the Error phase too.</summary>
    public const string Failed = "WorkflowFailed";

    public const string TimedOut = "WorkflowTimedOut";

    public static IReadOnlySet<string> CompletionReasons { get; } = new HashSet<string>(StringComparer.Ordinal) { Succeeded, Failed, TimedOut };

    // Every LogEntry carries at least one of these; a scheduler tick or anything else carries none.
    private static readonly string[] s_logEntryFields = ["jsonPayload", "logName", "insertId", "textPayload", "protoPayload"];

    /// <summary>
    /// The message parsed as a LogEntry, or null when it does not have a LogEntry's shape (not a JSON object with a
    /// LogEntry field): such a message is something else, e.g. a scheduler tick, and not malformed.
    /// </summary>
    public static JsonObject? AsLogEntry(ReadOnlyMemory<byte> data)
    {
        JsonNode? node;
        try
        {
            node = data.IsEmpty ? null : JsonNode.Parse(data.Span);
        }
        catch (JsonException)
        {
            return null;
        }

        return node is JsonObject entry && s_logEntryFields.Any(entry.ContainsKey) ? entry : null;
    }

    /// <summary>The Kubernetes Event a LogEntry carries.</summary>
    /// <exception cref="FormatException">The entry has no Kubernetes Event as its <c>jsonPayload</c>; the message says what is missing.</exception>
    public static KubernetesEventNotice Parse(JsonObject entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry["jsonPayload"] is not JsonObject payload)
        {
            throw new FormatException("log entry has no jsonPayload object (not a Kubernetes event)");
        }

        if (payload["involvedObject"] is not JsonObject involved)
        {
            throw new FormatException("log entry's event has no involvedObject");
        }

        return new KubernetesEventNotice(
            Required(involved, "kind", "involvedObject.kind"),
            Required(involved, "namespace", "involvedObject.namespace"),
            Required(involved, "name", "involvedObject.name"),
            Required(payload, "reason", "reason"),
            Text(payload, "message"));
    }

    /// <summary>A LogEntry as the Cloud Logging sink publishes Argo's event about a workflow (GKE's event exporter shape).</summary>
    public static JsonObject Create(string ns, string workflow, string reason, string message, DateTimeOffset at, string project = "local", string cluster = "local")
    {
        var time = Timestamp(at);
        var kubernetesEvent = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Event",
            ["metadata"] = new JsonObject { ["name"] = $"{workflow}.{at.ToUnixTimeMilliseconds():x}", ["namespace"] = ns, ["creationTimestamp"] = time },
            ["involvedObject"] = new JsonObject { ["apiVersion"] = "argoproj.io/v1alpha1", ["kind"] = "Workflow", ["namespace"] = ns, ["name"] = workflow },
            ["reason"] = reason,
            ["message"] = message,
            ["source"] = new JsonObject { ["component"] = "workflow-controller" },
            ["firstTimestamp"] = time,
            ["lastTimestamp"] = time,
            ["count"] = 1,
            ["type"] = reason == Succeeded ? "Normal" : "Warning",
            ["reportingComponent"] = "workflow-controller",
        };
        return Wrap(kubernetesEvent, at, project, cluster);
    }

    /// <summary>
    /// The LogEntry GKE's event exporter writes for <paramref name="kubernetesEvent"/>: the Event as <c>jsonPayload</c>,
    /// <c>logName</c> <c>projects/P/logs/events</c>, a <c>k8s_cluster</c> resource, severity from the Event's type.
    /// </summary>
    public static JsonObject Wrap(JsonObject kubernetesEvent, DateTimeOffset received, string project, string cluster, string location = "local")
    {
        ArgumentNullException.ThrowIfNull(kubernetesEvent);
        var timestamp = Text(kubernetesEvent, "lastTimestamp") ?? Timestamp(received);
        return new JsonObject
        {
            ["insertId"] = kubernetesEvent["metadata"]?["uid"]?.ToString() ?? Guid.NewGuid().ToString("N")[..14],
            ["jsonPayload"] = kubernetesEvent.DeepClone(),
            ["resource"] = new JsonObject
            {
                ["type"] = "k8s_cluster",
                ["labels"] = new JsonObject { ["project_id"] = project, ["location"] = location, ["cluster_name"] = cluster },
            },
            ["timestamp"] = timestamp,
            ["severity"] = Text(kubernetesEvent, "type") == "Warning" ? "WARNING" : "INFO",
            ["logName"] = $"projects/{project}/logs/events",
            ["receiveTimestamp"] = Timestamp(received),
        };
    }

    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static string Required(JsonObject obj, string field, string path) =>
        Text(obj, field) is { Length: > 0 } text ? text : throw new FormatException($"log entry's event lacks {path}");

    private static string? Text(JsonObject obj, string field) =>
        obj[field] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
