using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kfci.Kubernetes;
using Kfci.Runs;

namespace Kfci.Argo;

/// <summary>
/// What kfci records of an Argo workflow object: its run (by kfci's labels), phase, message, times and failed Pod
/// nodes. Read from the object as the cluster returns it (<c>status.nodes</c>, or Argo's gzip+base64
/// <c>status.compressedNodes</c> for large workflows).
/// </summary>
public sealed record WorkflowOutcome
{
    public required string Name { get; init; }

    public required string Namespace { get; init; }

    /// <summary>The <c>kfci.dev/run-id</c> label; null on workflows kfci does not manage.</summary>
    public string? RunId { get; init; }

    public string? Phase { get; init; }

    public string? Message { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Pod nodes in phase Failed or Error, in start order.</summary>
    public IReadOnlyList<FailedNode> FailedNodes { get; init; } = [];

    public bool IsFinished => WorkflowPhases.IsFinished(Phase);

    /// <summary>Reads a workflow object.</summary>
    /// <exception cref="FormatException">It has no <c>metadata.name</c>.</exception>
    public static WorkflowOutcome From(JsonObject workflow)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        var labels = workflow.Labels;
        var managed = labels.TryGetValue(WorkflowLabels.Managed, out var m) && m == "true";
        var status = workflow["status"] as JsonObject;
        return new WorkflowOutcome
        {
            Name = workflow.Name ?? throw new FormatException("workflow object has no metadata.name"),
            Namespace = workflow.Namespace ?? "",
            RunId = managed && labels.TryGetValue(WorkflowLabels.RunId, out var runId) && RunIds.IsValid(runId) ? runId : null,
            Phase = workflow.Phase,
            Message = Text(status, "message"),
            StartedAt = Time(status, "startedAt"),
            FinishedAt = Time(status, "finishedAt"),
            FailedNodes = FailedPodNodes(status),
        };
    }

    /// <summary><paramref name="record"/> with this outcome; the record itself when it is already finished (the first completion wins).</summary>
    public WorkflowRecord ApplyTo(WorkflowRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return record.IsFinished ? record : record with
        {
            Phase = Phase,
            Message = Message,
            StartedAt = StartedAt ?? record.StartedAt,
            FinishedAt = FinishedAt ?? record.FinishedAt,
            FailedNodes = FailedNodes,
        };
    }

    /// <summary>
    /// A workflow's <c>status.nodes</c>, also when Argo compressed them into <c>status.compressedNodes</c>; null when it has
    /// none (not started, or offloaded to Argo's database).
    /// </summary>
    public static JsonObject? Nodes(JsonObject workflow)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        var status = workflow["status"] as JsonObject;
        return status?["nodes"] as JsonObject ?? Decompress(status?["compressedNodes"]);
    }

    private static List<FailedNode> FailedPodNodes(JsonObject? status)
    {
        var nodes = status?["nodes"] as JsonObject ?? Decompress(status?["compressedNodes"]);
        if (nodes is null)
        {
            return [];
        }

        return [.. nodes
            .Select(n => n.Value as JsonObject)
            .Where(n => n is not null && Text(n, "type") == "Pod" && Text(n, "phase") is WorkflowPhases.Failed or WorkflowPhases.Error)
            .OrderBy(n => Time(n, "startedAt") ?? DateTimeOffset.MaxValue)
            .ThenBy(n => Text(n, "id"), StringComparer.Ordinal)
            .Select(n => new FailedNode(
                Text(n, "id") ?? "",
                Text(n, "name") ?? "",
                Text(n, "displayName") ?? Text(n, "name") ?? "",
                Text(n, "phase")!,
                Text(n, "message")))];
    }

    // Argo stores status.nodes as base64(gzip(json)) when the object would pass etcd's size limit.
    private static JsonObject? Decompress(JsonNode? compressed)
    {
        if (compressed is not JsonValue value || !value.TryGetValue<string>(out var text) || text.Length == 0)
        {
            return null;
        }

        try
        {
            using var gzip = new GZipStream(new MemoryStream(Convert.FromBase64String(text)), CompressionMode.Decompress);
            return JsonNode.Parse(gzip) as JsonObject;
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or JsonException)
        {
            return null;
        }
    }

    private static string? Text(JsonObject? obj, string field) =>
        obj?[field] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static DateTimeOffset? Time(JsonObject? obj, string field) =>
        Text(obj, field) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;
}
