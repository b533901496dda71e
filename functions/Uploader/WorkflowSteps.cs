using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Kfci.Functions.Uploader;

/// <summary>One Pod node of a finished Argo workflow: a step whose log, junit test case and pod info the Uploader writes.</summary>
/// <param name="NodeId">Argo's node id (<c>status.nodes</c> key).</param>
/// <param name="NodeName">Argo's full node name (<c>wf[0].step</c>).</param>
/// <param name="DisplayName">What people see (<c>step</c>, <c>C(1)</c>).</param>
/// <param name="FileName">A name for the step's files, unique within the workflow and safe in a path.</param>
/// <param name="PodName">The pod Argo ran the step in.</param>
/// <param name="Phase">The node's phase (Succeeded, Failed, Error, ...).</param>
public sealed record WorkflowStep(
    string NodeId,
    string NodeName,
    string DisplayName,
    string FileName,
    string PodName,
    string Phase,
    string? Message,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt)
{
    public bool IsFailed => Phase is "Failed" or "Error";

    /// <summary>Seconds the step ran; 0 when a time is missing.</summary>
    public double Seconds => StartedAt is { } start && FinishedAt is { } end && end > start ? (end - start).TotalSeconds : 0;
}

/// <summary>
/// Reads the Pod nodes of an Argo workflow object (<c>status.nodes</c>), in start order, and names their pods the
/// way Argo's controller does (<c>workflow/util/pod_name.go</c>): <c>v2</c> (the default since Argo 3.4)
/// <c>&lt;workflow&gt;-&lt;template&gt;-&lt;fnv32a(node name)&gt;</c>, <c>v1</c> the node id.
/// </summary>
public static class WorkflowSteps
{
    public const string PodNameFormatAnnotation = "workflows.argoproj.io/pod-name-format";

    // Argo: maxK8sResourceNameLength (253) - k8sNamingHashLength (10) - 1.
    private const int MaxPodNamePrefix = 253 - 10 - 1;

    /// <summary>The Pod nodes of <paramref name="workflow"/>, ordered by start time (then node name); empty when it has none.</summary>
    public static IReadOnlyList<WorkflowStep> Read(JsonObject workflow)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        var workflowName = workflow["metadata"]?["name"]?.GetValue<string>() ?? "";
        var v1 = workflow["metadata"]?["annotations"]?[PodNameFormatAnnotation] is JsonValue format && format.GetValue<string>() == "v1";
        var pods = Kfci.Argo.WorkflowOutcome.PodNodes(workflow)
            .Select(n => (n.Id, n.Node, Name: Text(n.Node, "name") ?? n.Id, Started: Time(n.Node, "startedAt")))
            .ToList();

        var used = new HashSet<string>(StringComparer.Ordinal);
        var steps = new List<WorkflowStep>(pods.Count);
        foreach (var (id, node, name, started) in pods)
        {
            var display = Text(node, "displayName") ?? name;
            var template = Text(node, "templateName") ?? node["templateRef"]?["template"]?.GetValue<string>() ?? "";
            steps.Add(new WorkflowStep(
                id,
                name,
                display,
                UniqueFileName(display, id, used),
                v1 ? id : PodName(workflowName, name, template),
                Text(node, "phase") ?? "Unknown",
                Text(node, "message"),
                started,
                Time(node, "finishedAt")));
        }

        return steps;
    }

    /// <summary>Argo's v2 pod name of a node.</summary>
    public static string PodName(string workflowName, string nodeName, string templateName)
    {
        ArgumentNullException.ThrowIfNull(workflowName);
        ArgumentNullException.ThrowIfNull(nodeName);
        if (workflowName == nodeName)
        {
            return workflowName;
        }

        var prefix = nodeName.Contains(".inline", StringComparison.Ordinal) ? workflowName : $"{workflowName}-{templateName}";
        if (prefix.Length > MaxPodNamePrefix)
        {
            prefix = prefix[..MaxPodNamePrefix];
        }

        return $"{prefix}-{Fnv32a(nodeName).ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>A path segment for a step's files: the display name with anything but <c>[A-Za-z0-9._-]</c> as '_'.</summary>
    public static string SafeSegment(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' ? c : '_');
        }

        var safe = builder.ToString().Trim('.');
        return safe.Length == 0 ? "step" : safe[..Math.Min(safe.Length, 200)];
    }

    internal static uint Fnv32a(string text)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 16777619u;
        }

        return hash;
    }

    // Loops and recursion reuse display names; the node id keeps the files of two such steps apart, the same way on every redelivery.
    private static string UniqueFileName(string display, string nodeId, HashSet<string> used)
    {
        var name = SafeSegment(display);
        if (used.Add(name))
        {
            return name;
        }

        var suffix = nodeId[(nodeId.LastIndexOf('-') + 1)..];
        var candidate = $"{name}-{SafeSegment(suffix)}";
        for (var i = 2; !used.Add(candidate); i++)
        {
            candidate = $"{name}-{SafeSegment(suffix)}-{i.ToString(CultureInfo.InvariantCulture)}";
        }

        return candidate;
    }

    private static string? Text(JsonObject node, string field) =>
        node[field] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;

    private static DateTimeOffset? Time(JsonObject node, string field) =>
        Text(node, field) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;
}
