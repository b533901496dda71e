namespace Kfci.Janitor;

/// <summary>
/// One cloud API as the janitor needs it: list the resources of the types it serves, delete one. Adapters are
/// singletons and thread-safe; the sweep calls them in parallel.
/// </summary>
public interface IResourceApi
{
    /// <summary>The API's short name (<c>compute</c>, <c>container</c>…): the unit of rate limiting and of reports.</summary>
    string Api { get; }

    /// <summary>The resource types this API lists and deletes.</summary>
    IReadOnlyCollection<ResourceType> Types { get; }

    /// <summary>
    /// Every resource of <paramref name="type"/> in the configuration's scope (projects, zones/regions, namespaces),
    /// all pages read. Throws (<see cref="Kfci.Http.ApiException"/> and the like) when the listing is incomplete: a
    /// partial listing must never be planned on as if it were whole.
    /// </summary>
    Task<IReadOnlyList<CloudResource>> ListAsync(ResourceType type, JanitorConfig config, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the resource and waits until the deletion has finished (long-running operations polled to completion).
    /// True when this call deleted it, false when it was already gone (404). Throws when the delete or its operation failed.
    /// </summary>
    Task<bool> DeleteAsync(CloudResource resource, CancellationToken cancellationToken);
}

/// <summary>
/// The API is switched off or retired where this sweep runs (e.g. Deployment Manager after its end of support): its types
/// are reported as skipped, not as a failed sweep.
/// </summary>
public sealed class ApiUnavailableException(string api, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Api { get; } = api;
}
