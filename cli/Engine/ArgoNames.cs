using System.Globalization;
using System.Text;

namespace Kfci.Cli.Engine;

/// <summary>How Argo names things: node ids (and, with v1 pod names, pods), labels, node types and phases.</summary>
public static class ArgoNames
{
    public const string PhaseLabel = "workflows.argoproj.io/phase";
    public const string CompletedLabel = "workflows.argoproj.io/completed";
    public const string WorkflowLabel = "workflows.argoproj.io/workflow";
    public const string MainContainer = "main";
    public const string PodNameFormatAnnotation = "workflows.argoproj.io/pod-name-format";

    /// <summary>
    /// Argo's <c>NodeID</c>: the workflow name for the root node, else <c>&lt;workflow&gt;-&lt;fnv32a(nodeName)&gt;</c>.
    /// The engine names each step's pod after its node id, as Argo's v1 pod names do.
    /// </summary>
    public static string NodeId(string workflow, string nodeName)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        ArgumentNullException.ThrowIfNull(nodeName);
        if (nodeName == workflow)
        {
            return workflow;
        }

        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(nodeName))
        {
            hash ^= b;
            hash *= 16777619u;
        }

        return workflow + "-" + hash.ToString(CultureInfo.InvariantCulture);
    }

    public static bool IsFinal(string? phase) => phase is "Succeeded" or "Failed" or "Error";

    public static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
