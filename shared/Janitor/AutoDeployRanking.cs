namespace Kfci.Janitor;

/// <summary>
/// Ranks auto-deployed instances newest first within each version (rule 5). An instance's time is the newest creation
/// (else first-seen) time among its resources. Instances of unknown age rank after every dated one: they are never
/// deleted by age anyway, and must not push a dated instance out of the kept few.
/// </summary>
internal sealed class AutoDeployRanking
{
    private readonly Dictionary<string, (int Rank, int Of)> _ranks = new(StringComparer.Ordinal);

    public AutoDeployRanking(IEnumerable<CloudResource> candidates)
    {
        var instances = candidates
            .Select(resource => (Instance: KubeflowNames.ParseInstance(resource.Name)!, Time: resource.Created ?? resource.FirstSeen))
            .GroupBy(member => member.Instance)
            .Select(group => (group.Key, Time: group.Max(member => member.Time)));
        foreach (var version in instances.GroupBy(instance => instance.Key.Version))
        {
            var ordered = version
                .OrderBy(instance => instance.Time is null)
                .ThenByDescending(instance => instance.Time)
                .ThenBy(instance => instance.Key.Instance, StringComparer.Ordinal)
                .ToList();
            for (var i = 0; i < ordered.Count; i++)
            {
                _ranks[ordered[i].Key.Instance] = (i + 1, ordered.Count);
            }
        }
    }

    /// <summary>1 for the newest instance of its version, and how many instances that version has.</summary>
    public (int Rank, int Of) RankOf(KubeflowInstance instance) => _ranks[instance.Instance];
}
