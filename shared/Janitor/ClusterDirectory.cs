namespace Kfci.Janitor;

/// <summary>
/// Which GKE clusters exist, keyed by (project, name), from a complete read-only listing of every location. It answers
/// one question, whether an ingress part's owner is gone; it is never deletion scope (a cluster is deleted only when the
/// sweep listed it in a configured location). Unknown when the listing failed or was not made: then no owner is gone.
/// </summary>
public sealed class ClusterDirectory
{
    private readonly HashSet<(string Project, string Name)>? _existing;

    /// <param name="existing">Every cluster a complete listing found; null when there is no complete listing.</param>
    public ClusterDirectory(IEnumerable<(string Project, string Name)>? existing) =>
        _existing = existing?.ToHashSet();

    /// <summary>Nothing is known: every owner may still exist.</summary>
    public static ClusterDirectory Unknown { get; } = new(null);

    /// <summary>True when the listing was complete.</summary>
    public bool IsComplete => _existing is not null;

    /// <summary>True only when a complete listing of <paramref name="project"/> has no cluster <paramref name="name"/>.</summary>
    public bool IsGone(string? project, string name) =>
        _existing is not null && project is not null && !_existing.Contains((project, name));
}

/// <summary>An API that can say, read-only, which clusters exist in a project in any location.</summary>
public interface IClusterExistence
{
    /// <summary>Every cluster of every project, all locations. Throws when any project's listing is incomplete.</summary>
    Task<ClusterDirectory> ListExistingAsync(IReadOnlyList<string> projects, CancellationToken cancellationToken);
}
