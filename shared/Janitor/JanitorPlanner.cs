namespace Kfci.Janitor;

/// <summary>
/// Decides, for every listed resource, whether a sweep deletes or keeps it. Pure: the clock is an input, so
/// <c>kfci janitor plan --now</c> and a sweep at that instant decide the same.
/// </summary>
public sealed class JanitorPlanner
{
    private readonly JanitorConfig _config;
    private readonly JanitorRules _rules;

    /// <param name="config">The rules' tuning; <see cref="JanitorConfig.Default"/> for the defaults.</param>
    public JanitorPlanner(JanitorConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        _config = config;
        _rules = new JanitorRules(config);
    }

    /// <summary>The configuration this planner decides with.</summary>
    public JanitorConfig Config => _config;

    /// <summary>
    /// One decision per resource, in sweep order (<see cref="SweepOrder"/>). Duplicates are decided (and returned) as
    /// often as they are given.
    /// </summary>
    /// <param name="clusters">
    /// Which clusters exist (a complete read-only listing of every location); an ingress part whose owner this sweep did
    /// not list is deleted only when it says the owner is gone. <see cref="ClusterDirectory.Unknown"/> when omitted.
    /// </param>
    public IReadOnlyList<JanitorDecision> Plan(IEnumerable<CloudResource> resources, DateTimeOffset now, ClusterDirectory? clusters = null)
    {
        ArgumentNullException.ThrowIfNull(resources);
        var ordered = SweepOrder(resources);
        var early = ordered.Select(resource => _rules.ClassifyIndependent(resource, now)).ToList();
        var ranking = new AutoDeployRanking(ordered
            .Where((resource, i) => early[i] is null && JanitorRules.IsAutoDeployType(resource)));
        var decisions = ordered.Select((resource, i) => early[i] ?? _rules.ClassifyDependent(resource, now, ranking)).ToList();
        return WithIngressOwners(decisions, clusters ?? ClusterDirectory.Unknown);
    }

    /// <summary>
    /// A GKE ingress part the rules would delete is kept unless it belongs to a cluster that is itself going or gone:
    /// its owner unknown, protected, listed and kept, or not listed and not known to be gone (its listing failed, its type
    /// or location not swept), deleting it would break that cluster's load balancer. Clusters are (project, name): two
    /// projects may each have a cluster of the same name.
    /// </summary>
    private List<JanitorDecision> WithIngressOwners(List<JanitorDecision> decisions, ClusterDirectory existing)
    {
        var owners = new IngressOwners(decisions.Select(decision => decision.Resource));
        var clusters = decisions.Where(decision => decision.Resource.Type == ResourceType.GkeCluster)
            .GroupBy(decision => (decision.Resource.Project, decision.Resource.Name))
            .ToDictionary(group => group.Key, group => group.All(decision => decision.Action == JanitorAction.Delete));
        return [.. decisions.Select(decision =>
        {
            var resource = decision.Resource;
            if (decision.Action != JanitorAction.Delete || !resource.Type.IsIngressPart() || !IngressOwners.HasIngressName(resource))
            {
                return decision;
            }

            if (owners.OwnerOf(resource) is not { } owner)
            {
                return JanitorDecision.Keep(resource, RuleIds.IngressOwner, $"{decision.Reason}; but no listed firewall rule ties it to a cluster, so it may serve a protected one");
            }

            if (_rules.ProtectionOf(new CloudResource(ResourceType.GkeCluster, owner)) is { } protection)
            {
                return JanitorDecision.Keep(resource, RuleIds.Protected, $"part of GKE cluster {owner}'s ingress, and that cluster is protected ({protection})");
            }

            if (clusters.TryGetValue((resource.Project, owner), out var deleted))
            {
                return deleted ? decision : JanitorDecision.Keep(resource, RuleIds.IngressOwner, $"part of GKE cluster {owner}'s ingress, and that cluster is kept");
            }

            return existing.IsGone(resource.Project, owner)
                ? decision
                : JanitorDecision.Keep(resource, RuleIds.IngressOwner, $"part of GKE cluster {owner}'s ingress, and no complete listing says that cluster is gone");
        })];
    }

    /// <summary>The plan at the time <paramref name="clock"/> gives.</summary>
    public IReadOnlyList<JanitorDecision> Plan(IEnumerable<CloudResource> resources, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        return Plan(resources, clock.GetUtcNow());
    }

    /// <summary>
    /// Sweep order: by type (<see cref="ResourceType"/>'s order), then location, namespace and name (ordinal), so plans
    /// are reproducible and diffable.
    /// </summary>
    public static IReadOnlyList<CloudResource> SweepOrder(IEnumerable<CloudResource> resources)
    {
        ArgumentNullException.ThrowIfNull(resources);
        return [.. resources
            .OrderBy(resource => resource.Type)
            .ThenBy(resource => resource.Project ?? "", StringComparer.Ordinal)
            .ThenBy(resource => resource.Location, StringComparer.Ordinal)
            .ThenBy(resource => resource.Namespace ?? "", StringComparer.Ordinal)
            .ThenBy(resource => resource.Name, StringComparer.Ordinal)];
    }
}
