using System.Security.Cryptography;
using System.Text;
using Kfci.Firestore;

namespace Kfci.Janitor;

/// <summary>The janitor's memory between sweeps: first sightings (<c>leaks/</c>), reports (<c>sweeps/</c>) and the sweep lease.</summary>
public interface ISweepStore
{
    /// <summary>
    /// When each resource was first seen (create-if-absent: the first sweep to see it records <paramref name="now"/>),
    /// keyed by <see cref="CloudResource.Key"/>.
    /// </summary>
    Task<IReadOnlyDictionary<string, DateTimeOffset>> FirstSightingsAsync(IReadOnlyList<CloudResource> resources, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>
    /// Forgets the first sightings of resources of <paramref name="types"/> that are not in <paramref name="present"/>
    /// (keys): the resource is gone, and a record of it would only grow <c>leaks/</c> for ever. Only types whose listing
    /// was complete may be given: a resource missing from a failed listing is not gone.
    /// </summary>
    /// <returns>How many sightings were forgotten.</returns>
    Task<int> PruneSightingsAsync(IReadOnlyCollection<ResourceType> types, IReadOnlySet<string> present, CancellationToken cancellationToken);

    Task SaveReportAsync(SweepReport report, CancellationToken cancellationToken);

    /// <summary>True when a report with this id exists: that sweep already ran (a redelivered tick).</summary>
    Task<bool> HasReportAsync(string sweepId, CancellationToken cancellationToken);

    /// <summary>Takes the one sweep lease unless another holder's lease is still valid; true when <paramref name="holder"/> holds it now.</summary>
    Task<bool> TryAcquireLeaseAsync(string holder, DateTimeOffset now, TimeSpan ttl, CancellationToken cancellationToken);

    /// <summary>Gives the lease up if <paramref name="holder"/> still holds it.</summary>
    Task ReleaseLeaseAsync(string holder, CancellationToken cancellationToken);
}

/// <summary><see cref="ISweepStore"/> on Firestore.</summary>
public sealed class FirestoreSweepStore : ISweepStore
{
    public const string LeaksCollection = "leaks";
    public const string SweepsCollection = "sweeps";
    public const string LeasePath = "locks/janitor-sweep";

    private const int Parallelism = 8;

    private readonly Lazy<FirestoreClient> _firestore;

    public FirestoreSweepStore(FirestoreClient firestore)
    {
        ArgumentNullException.ThrowIfNull(firestore);
        _firestore = new Lazy<FirestoreClient>(() => firestore);
    }

    /// <summary>Creates the client on first use: a tick with a bad body is rejected even where Firestore is not configured.</summary>
    public FirestoreSweepStore(Func<FirestoreClient> firestore)
    {
        _firestore = new Lazy<FirestoreClient>(firestore);
    }

    /// <summary>A resource key holds '/', which a document id may not: the id is a hash, the key a field.</summary>
    public static string LeakPath(CloudResource resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return $"{LeaksCollection}/{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(resource.Key)))[..40]}";
    }

    public async Task<IReadOnlyDictionary<string, DateTimeOffset>> FirstSightingsAsync(IReadOnlyList<CloudResource> resources, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resources);
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(
            resources.DistinctBy(resource => resource.Key),
            new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (resource, token) => seen[resource.Key] = await FirstSightingAsync(resource, now, token));
        return seen;
    }

    public async Task<int> PruneSightingsAsync(IReadOnlyCollection<ResourceType> types, IReadOnlySet<string> present, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(types);
        ArgumentNullException.ThrowIfNull(present);
        // By the key's type prefix, not the type field: documents written before the field existed are pruned too.
        var prefixes = types.Select(type => type.WireName() + "/").ToList();
        var pruned = 0;
        foreach (var sighting in await _firestore.Value.QueryAsync(new FirestoreQuery(LeaksCollection), cancellationToken))
        {
            if (sighting.TryGet<string>("key", out var key) && key is not null && !present.Contains(key)
                && prefixes.Any(prefix => key.StartsWith(prefix, StringComparison.Ordinal)))
            {
                await _firestore.Value.DeleteAsync($"{LeaksCollection}/{sighting.Id}", cancellationToken: cancellationToken);
                pruned++;
            }
        }

        return pruned;
    }

    public Task SaveReportAsync(SweepReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        return _firestore.Value.SetAsync($"{SweepsCollection}/{report.Id}", report.ToFields(), cancellationToken);
    }

    public async Task<bool> HasReportAsync(string sweepId, CancellationToken cancellationToken) =>
        await _firestore.Value.GetAsync($"{SweepsCollection}/{sweepId}", cancellationToken) is not null;

    public Task<bool> TryAcquireLeaseAsync(string holder, DateTimeOffset now, TimeSpan ttl, CancellationToken cancellationToken) =>
        _firestore.Value.RunTransactionAsync(
            async (transaction, token) =>
            {
                if (await transaction.GetAsync(LeasePath, token) is { } lease
                    && lease.TryGet<string>("holder", out var current) && current != holder
                    && lease.TryGet<DateTimeOffset>("expiresAt", out var expires) && expires > now)
                {
                    return false;
                }

                transaction.Set(LeasePath, new Dictionary<string, object?> { ["holder"] = holder, ["expiresAt"] = now + ttl });
                return true;
            },
            cancellationToken: cancellationToken);

    public Task ReleaseLeaseAsync(string holder, CancellationToken cancellationToken) =>
        _firestore.Value.RunTransactionAsync(
            async (transaction, token) =>
            {
                if (await transaction.GetAsync(LeasePath, token) is { } lease && lease.TryGet<string>("holder", out var current) && current == holder)
                {
                    transaction.Delete(LeasePath);
                }

                return true;
            },
            cancellationToken: cancellationToken);

    private async Task<DateTimeOffset> FirstSightingAsync(CloudResource resource, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var path = LeakPath(resource);
        if (await _firestore.Value.GetAsync(path, cancellationToken) is { } existing && existing.TryGet<DateTimeOffset>("firstSeen", out var firstSeen))
        {
            return firstSeen;
        }

        var fields = new Dictionary<string, object?>
        {
            ["key"] = resource.Key,
            ["type"] = resource.Type.WireName(),
            ["name"] = resource.Name,
            ["firstSeen"] = now,
        };
        if (await _firestore.Value.CreateIfAbsentAsync(path, fields, cancellationToken))
        {
            return now;
        }

        // Another sweep created it between our read and our create: theirs is the first sighting.
        var winner = await _firestore.Value.GetAsync(path, cancellationToken);
        return winner is not null && winner.TryGet<DateTimeOffset>("firstSeen", out var theirs) ? theirs : now;
    }
}
