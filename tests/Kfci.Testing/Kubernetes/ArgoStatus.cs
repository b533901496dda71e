using System.Text.Json.Nodes;

namespace Kfci.Testing.Kubernetes;

/// <summary>How Argo's controller records a phase change on a Workflow (workflow_types.go, operator.go).</summary>
public static class ArgoStatus
{
    public const string PhaseLabel = "workflows.argoproj.io/phase";
    public const string CompletedLabel = "workflows.argoproj.io/completed";

    public static bool IsFinal(string phase) => phase is "Succeeded" or "Failed" or "Error";

    public static void SetPhase(JsonObject workflow, string phase, string? message, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        var metadata = workflow["metadata"] as JsonObject ?? [];
        workflow["metadata"] = metadata;
        var labels = metadata["labels"] as JsonObject ?? [];
        metadata["labels"] = labels;
        var status = workflow["status"] as JsonObject ?? [];
        workflow["status"] = status;
        var timestamp = FakeObjectStore.Timestamp(now);

        status["phase"] = phase;
        labels[PhaseLabel] = phase;
        labels[CompletedLabel] = IsFinal(phase) ? "true" : "false";
        if (message is not null)
        {
            status["message"] = message;
        }

        if (phase != "Pending" && status["startedAt"] is null)
        {
            status["startedAt"] = timestamp;
        }

        if (IsFinal(phase))
        {
            status["finishedAt"] = timestamp;
            status["conditions"] = new JsonArray(new JsonObject { ["type"] = "Completed", ["status"] = "True" });
        }
        else
        {
            status["finishedAt"] = null;
        }
    }
}
