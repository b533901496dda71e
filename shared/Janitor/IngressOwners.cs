using System.Text.RegularExpressions;

namespace Kfci.Janitor;

/// <summary>
/// Which GKE cluster a load-balancer part named by GKE's ingress controller belongs to. The controller names its parts
/// after a cluster id, not the cluster: <c>k8s-um-ns-name--&lt;uid&gt;</c>, <c>k8s-ig--&lt;uid&gt;</c> (v1) and
/// <c>k8s2-um-&lt;uid8&gt;-ns-name-…</c> (v2). The one part that names the cluster is its L7 firewall rule, whose target
/// tags are the cluster's node tag <c>gke-&lt;cluster&gt;-&lt;hash&gt;-node</c>; so the firewall rules listed in a
/// sweep map ids to clusters, and a part whose id maps to no cluster has an unknown owner.
/// </summary>
internal sealed partial class IngressOwners
{
    private static readonly string[] s_prefixes = ["k8s-", "k8s1-", "k8s2-"];

    private readonly Dictionary<string, string> _clusterById = new(StringComparer.Ordinal);

    public IngressOwners(IEnumerable<CloudResource> resources)
    {
        foreach (var resource in resources)
        {
            if (resource.OwnerCluster is { Length: > 0 } cluster && IdOf(resource.Name) is { } id)
            {
                _clusterById.TryAdd(id, cluster);
            }
        }
    }

    /// <summary>True for a name GKE's ingress controller gives its parts (<c>k8s-</c>, <c>k8s1-</c>, <c>k8s2-</c>).</summary>
    public static bool HasIngressName(CloudResource resource) =>
        s_prefixes.Any(prefix => resource.Name.StartsWith(prefix, StringComparison.Ordinal));

    /// <summary>The cluster a node tag (<c>gke-&lt;cluster&gt;-&lt;8 hex&gt;-node</c>) belongs to; null for other tags.</summary>
    public static string? ClusterOfNodeTag(string tag) => NodeTag().Match(tag) is { Success: true } match ? match.Groups["cluster"].Value : null;

    /// <summary>The cluster id in a part's name: after the last <c>--</c> (v1), or the 8-character id of a v2 name; null when there is none.</summary>
    public static string? IdOf(string name)
    {
        var separator = name.LastIndexOf("--", StringComparison.Ordinal);
        if (separator > 0 && separator + 2 < name.Length)
        {
            return name[(separator + 2)..];
        }

        var segments = name.Split('-');
        return segments is ["k8s1" or "k8s2", ..] ? segments.Skip(1).Take(2).FirstOrDefault(s => s.Length == 8) : null;
    }

    /// <summary>The cluster the part belongs to; null when no listed firewall rule names it (a v2 id matches a v1 id's first 8 characters).</summary>
    public string? OwnerOf(CloudResource resource)
    {
        if (resource.OwnerCluster is { Length: > 0 } named)
        {
            return named;
        }

        if (IdOf(resource.Name) is not { } id)
        {
            return null;
        }

        if (_clusterById.TryGetValue(id, out var cluster))
        {
            return cluster;
        }

        var candidates = _clusterById.Where(pair => id.Length == 8 && pair.Key.StartsWith(id, StringComparison.Ordinal)).Select(pair => pair.Value).Distinct().ToList();
        return candidates.Count == 1 ? candidates[0] : null;
    }

    [GeneratedRegex(@"^gke-(?<cluster>[a-z][-a-z0-9]*)-[0-9a-f]{8}-node\z", RegexOptions.CultureInvariant)]
    private static partial Regex NodeTag();
}
