namespace Kfci.Janitor;

/// <summary>What the janitor does with a resource.</summary>
public enum JanitorAction
{
    Keep,
    Delete,
}

/// <summary>The stable short ids of the rules, as reported in plans and sweep reports.</summary>
public static class RuleIds
{
    /// <summary>Rule 1: release pools, the CI's own resources, keep labels, configured patterns, system namespaces.</summary>
    public const string Protected = "protected";

    /// <summary>The resource's type is not among the configuration's <c>types</c>.</summary>
    public const string Disabled = "disabled";

    /// <summary>A GKE cluster or a Kubernetes namespace already being deleted.</summary>
    public const string Stopping = "stopping";

    /// <summary>A GKE ingress part some rule would delete, kept: its cluster is unknown, or listed and kept.</summary>
    public const string IngressOwner = "ingress-owner";

    /// <summary>A regional instance group: it is its managed group's, and deleting it deletes that group and its instances.</summary>
    public const string ManagedGroup = "managed-group";

    /// <summary>Rule 2: Argo workflows older than the workflow limit.</summary>
    public const string WorkflowAge = "workflow-age";

    /// <summary>Rule 3: failed test deployments and broken test clusters.</summary>
    public const string Errored = "errored";

    /// <summary>Rule 4: end-to-end test resources.</summary>
    public const string E2eAge = "e2e-age";

    /// <summary>Rule 5: auto-deployed Kubeflow instances beyond the newest few of their version.</summary>
    public const string AutoDeploy = "auto-deploy";

    /// <summary>Rule 5: one of the newest auto-deployed instances of its version, kept whatever its age.</summary>
    public const string AutoDeployNewest = "auto-deploy-newest";

    /// <summary>Rule 6: GKE ingress leftovers (only with <c>gcIngress: true</c>).</summary>
    public const string GcIngress = "gc-ingress";

    /// <summary>Rule 7: no rule applies, so the resource is kept.</summary>
    public const string Unmatched = "unmatched";
}

/// <summary>The janitor's verdict on one resource, with the rule that decided and a reason a person can check.</summary>
/// <param name="Resource">The resource decided on.</param>
/// <param name="Action">Delete or keep.</param>
/// <param name="Rule">One of <see cref="RuleIds"/>.</param>
/// <param name="Reason">Why, with the numbers (age, limit) where an age decided.</param>
public sealed record JanitorDecision(CloudResource Resource, JanitorAction Action, string Rule, string Reason)
{
    internal static JanitorDecision Keep(CloudResource resource, string rule, string reason) =>
        new(resource, JanitorAction.Keep, rule, reason);

    internal static JanitorDecision Delete(CloudResource resource, string rule, string reason) =>
        new(resource, JanitorAction.Delete, rule, reason);
}
