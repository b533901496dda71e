using System.Collections.Concurrent;
using Kfci.Janitor;

namespace Kfci.Testing.Gcp;

/// <summary>An <see cref="ISweepStore"/> in memory, for the benchmark (which measures the cloud APIs, not Firestore).</summary>
public sealed class InMemorySweepStore : ISweepStore
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _firstSeen = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SweepReport> _reports = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private (string Holder, DateTimeOffset Expires)? _lease;

    public IReadOnlyDictionary<string, SweepReport> Reports => _reports;

    public Task<IReadOnlyDictionary<string, DateTimeOffset>> FirstSightingsAsync(IReadOnlyList<CloudResource> resources, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resources);
        return Task.FromResult<IReadOnlyDictionary<string, DateTimeOffset>>(
            resources.DistinctBy(r => r.Key).ToDictionary(r => r.Key, r => _firstSeen.GetOrAdd(r.Key, now), StringComparer.Ordinal));
    }

    public Task<int> PruneSightingsAsync(IReadOnlyCollection<ResourceType> types, IReadOnlySet<string> present, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(types);
        ArgumentNullException.ThrowIfNull(present);
        var gone = _firstSeen.Keys.Where(key => types.Any(type => key.StartsWith(type.WireName() + "/", StringComparison.Ordinal)) && !present.Contains(key)).ToList();
        return Task.FromResult(gone.Count(key => _firstSeen.TryRemove(key, out _)));
    }

    public Task SaveReportAsync(SweepReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        _reports[report.Id] = report;
        return Task.CompletedTask;
    }

    public Task<bool> HasReportAsync(string sweepId, CancellationToken cancellationToken) => Task.FromResult(_reports.ContainsKey(sweepId));

    public Task<bool> TryAcquireLeaseAsync(string holder, DateTimeOffset now, TimeSpan ttl, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_lease is { } lease && lease.Holder != holder && lease.Expires > now)
            {
                return Task.FromResult(false);
            }

            _lease = (holder, now + ttl);
            return Task.FromResult(true);
        }
    }

    public Task ReleaseLeaseAsync(string holder, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_lease?.Holder == holder)
            {
                _lease = null;
            }
        }

        return Task.CompletedTask;
    }
}
