namespace Kfci.Runs;

/// <summary>
/// The labels kfci puts on every workflow it submits, and Argo's own, so the Watcher and Janitor can find
/// kfci's workflows by label selector.
/// </summary>
public static class WorkflowLabels
{
    /// <summary>The run (<c>RunRecord.RunId</c>) a workflow belongs to.</summary>
    public const string RunId = "kfci.dev/run-id";

    /// <summary>"true" on everything kfci submits.</summary>
    public const string Managed = "kfci.dev/managed";

    /// <summary>Argo sets this to "true" when a workflow has finished (phase Succeeded, Failed or Error).</summary>
    public const string ArgoCompleted = "workflows.argoproj.io/completed";

    /// <summary>Selector for every kfci-managed workflow.</summary>
    public const string ManagedSelector = Managed + "=true";

    /// <summary>Selector for the workflows of one run.</summary>
    public static string RunSelector(string runId) => $"{Managed}=true,{RunId}={runId}";
}
