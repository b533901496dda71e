namespace Kfci.Janitor;

/// <summary>
/// One resource the janitor has listed, reduced to what the rules need. Adapters fill it from the GCP and Kubernetes
/// listings; <see cref="InventoryJson"/> reads and writes it for offline planning.
/// </summary>
/// <param name="Type">What kind of resource this is.</param>
/// <param name="Name">The resource's name (for a service account, its e-mail); never empty.</param>
public sealed record CloudResource(ResourceType Type, string Name)
{
    /// <summary>Zone, region, <c>global</c>, or the cluster of a Kubernetes object; empty when not known.</summary>
    public string Location { get; init; } = "";

    /// <summary>
    /// Where the API keeps it, as its URLs name it (Compute: <c>zones/us-east1-b</c>, <c>regions/us-east1</c>,
    /// <c>global</c>): a disk or instance group may be zonal or regional, and only its listing says which. Null when unknown.
    /// </summary>
    public string? Scope { get; init; }

    /// <summary>The GCP project, when the lister knows it; null otherwise.</summary>
    public string? Project { get; init; }

    /// <summary>Creation time from the API; null for types that have none (service accounts).</summary>
    public DateTimeOffset? Created { get; init; }

    /// <summary>When kfci first saw the resource (Firestore <c>leaks/</c>); gives an age to resources without <see cref="Created"/>.</summary>
    public DateTimeOffset? FirstSeen { get; init; }

    /// <summary>GCP labels or Kubernetes labels; never null.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = s_noLabels;

    /// <summary>The API's status word (GKE <c>RUNNING</c>, <c>ERROR</c>, <c>STOPPING</c>…); null when there is none.</summary>
    public string? Status { get; init; }

    /// <summary>True when the resource's last operation failed (a Deployment Manager deployment's <c>operation.error</c>).</summary>
    public bool Error { get; init; }

    /// <summary>The Kubernetes namespace of a namespaced object (an Argo workflow); null for everything else.</summary>
    public string? Namespace { get; init; }

    /// <summary>
    /// The GKE cluster the resource serves, when its listing names it (an ingress firewall rule's target tags are the
    /// cluster's node tag); null otherwise. <see cref="IngressOwners"/> uses it to tie load-balancer parts to clusters.
    /// </summary>
    public string? OwnerCluster { get; init; }

    /// <summary>An Argo workflow's <c>status.startedAt</c>; null when it never started or for other types.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>Identifies the resource across sweeps (the Firestore <c>leaks/</c> key): type, project, location, namespace, name.</summary>
    public string Key => $"{Type.WireName()}/{Project}/{Location}/{Namespace}/{Name}";

    /// <summary>True when the resource carries <paramref name="key"/>=<paramref name="value"/> among its labels.</summary>
    public bool HasLabel(string key, string value) =>
        Labels.TryGetValue(key, out var actual) && string.Equals(actual, value, StringComparison.Ordinal);

    private static readonly IReadOnlyDictionary<string, string> s_noLabels = new Dictionary<string, string>();
}
