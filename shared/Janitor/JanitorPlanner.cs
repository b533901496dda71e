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
    public IReadOnlyList<JanitorDecision> Plan(IEnumerable<CloudResource> resources, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(resources);
        var ordered = SweepOrder(resources);
        var early = ordered.Select(resource => _rules.ClassifyIndependent(resource, now)).ToList();
        var ranking = new AutoDeployRanking(ordered
            .Where((resource, i) => early[i] is null && JanitorRules.IsAutoDeployType(resource)));
        return [.. ordered.Select((resource, i) => early[i] ?? _rules.ClassifyDependent(resource, now, ranking))];
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
