using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kfci.IO;
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
    /// A workflow's Pod nodes (its steps), in start order (unstarted last, ties by node name), read from
    /// <c>status.nodes</c> or, when Argo compressed them, <c>status.compressedNodes</c>; empty when it has none (not
    /// started, or offloaded to Argo's database). Every reader of steps (Watcher, Uploader, local run) uses this.
    /// </summary>
    public static IReadOnlyList<(string Id, JsonObject Node)> PodNodes(JsonObject workflow)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        return PodNodesOf(workflow["status"] as JsonObject);
    }

    private static List<(string Id, JsonObject Node)> PodNodesOf(JsonObject? status)
    {
        var nodes = status?["nodes"] as JsonObject ?? Decompress(status?["compressedNodes"]);
        return [.. (nodes ?? [])
            .Where(n => n.Value is JsonObject node && Text(node, "type") == "Pod")
            .Select(n => (Id: n.Key, Node: (JsonObject)n.Value!))
            .OrderBy(n => Time(n.Node, "startedAt") ?? DateTimeOffset.MaxValue)
            .ThenBy(n => Text(n.Node, "name") ?? n.Id, StringComparer.Ordinal)];
    }

    private static List<FailedNode> FailedPodNodes(JsonObject? status) =>
    [
        .. PodNodesOf(status)
            .Select(n => n.Node)
            .Where(n => Text(n, "phase") is WorkflowPhases.Failed or WorkflowPhases.Error)
            .Select(n => new FailedNode(
                Text(n, "id") ?? "",
                Text(n, "name") ?? "",
                Text(n, "displayName") ?? Text(n, "name") ?? "",
                Text(n, "phase")!,
                Text(n, "message"))),
    ];

    /// <summary>
    /// The most <c>status.compressedNodes</c> may inflate to: etcd stores objects up to ~1.5 MiB, and node JSON compresses
    /// about tenfold, so this leaves room for any real workflow and stops a zip bomb.
    /// </summary>
    public const int MaxNodesBytes = 32 * 1024 * 1024;

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
            using var bounded = new BoundedReadStream(gzip, MaxNodesBytes);
            return JsonNode.Parse(bounded) as JsonObject;
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or JsonException or BoundedReadStream.LimitException)
        {
            return null;
        }
    }

    private static string? Text(JsonObject? obj, string field) =>
        obj?[field] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static DateTimeOffset? Time(JsonObject? obj, string field) =>
        Text(obj, field) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;
}
