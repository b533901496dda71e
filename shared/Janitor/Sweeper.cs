using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Kfci.Http;
using Microsoft.Extensions.Logging;

namespace Kfci.Janitor;

/// <summary>How hard a sweep pushes the APIs.</summary>
public sealed record SweepOptions
{
    public static SweepOptions Default { get; } = new();

    /// <summary>Deletes in flight at once within a type (each waits on its own operation).</summary>
    public int Parallelism { get; init; } = 32;

    /// <summary>Delete calls started per second, per API (Compute's mutation quota is per project and API).</summary>
    public int DeletesPerSecond { get; init; } = 20;
}

/// <summary>
/// One sweep: list every configured type, plan with <see cref="JanitorPlanner"/>, then delete exactly the planned set,
/// type after type in sweep order (a type's deletes finish before the next type starts, so dependants go before what
/// they depend on). Within a type deletes run in parallel, rate-limited per API. A type whose listing fails is reported
/// and skipped, never guessed at; a failed delete is reported and the rest go on. Only what this sweep listed can be
/// deleted: the plan is made from the listing, and the delete list is the plan.
/// </summary>
public sealed partial class Sweeper : IDisposable
{
    private readonly Dictionary<ResourceType, IResourceApi> _apis = [];
    private readonly Dictionary<string, RateLimiter> _limiters = new(StringComparer.Ordinal);
    private readonly ISweepStore _store;
    private readonly TimeProvider _clock;
    private readonly ILogger<Sweeper> _logger;
    private readonly SweepOptions _options;

    public Sweeper(IEnumerable<IResourceApi> apis, ISweepStore store, TimeProvider clock, ILogger<Sweeper> logger, SweepOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(apis);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(logger);
        _store = store;
        _clock = clock;
        _logger = logger;
        _options = options ?? SweepOptions.Default;
        foreach (var api in apis)
        {
            foreach (var type in api.Types)
            {
                _apis[type] = api;
            }

            _limiters[api.Api] = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = _options.DeletesPerSecond,
                TokensPerPeriod = _options.DeletesPerSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = int.MaxValue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            });
        }
    }

    /// <summary>Sweeps with <paramref name="config"/> (its <see cref="JanitorConfig.DryRun"/> decides whether anything is deleted).</summary>
    /// <returns>The report, already saved to the store and logged.</returns>
    public async Task<SweepReport> SweepAsync(string sweepId, JanitorConfig config, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(sweepId);
        ArgumentNullException.ThrowIfNull(config);
        config.EnsureScoped("janitor configuration");
        var started = _clock.GetUtcNow();
        var types = ResourceTypes.SweepOrder.Where(type => config.Types.Contains(type) && _apis.ContainsKey(type)).ToList();
        var tallies = types.ToDictionary(type => type, _ => new Tally());

        var listed = await ListAllAsync(types, config, tallies, cancellationToken);
        listed = await WithFirstSightingsAsync(listed, started, tallies, cancellationToken);
        await PruneSightingsAsync(types.Where(type => tallies[type].IsComplete).ToList(), listed, cancellationToken);
        var existing = types.Any(type => type.IsIngressPart()) ? await ClusterExistenceAsync(config, cancellationToken) : ClusterDirectory.Unknown;
        var plan = new JanitorPlanner(config).Plan(listed, started, existing);
        foreach (var decision in plan.Where(decision => decision.Action == JanitorAction.Keep))
        {
            tallies[decision.Resource.Type].Keep(decision.Rule);
        }

        foreach (var type in types)
        {
            var deletes = plan.Where(d => d.Action == JanitorAction.Delete && d.Resource.Type == type).Select(d => d.Resource).ToList();
            tallies[type].Planned = deletes.Count;
            if (!config.DryRun && deletes.Count > 0)
            {
                await DeleteAllAsync(_apis[type], deletes, tallies[type], cancellationToken);
            }
        }

        var report = new SweepReport(sweepId, started, _clock.GetUtcNow() - started, config.DryRun, [.. types.Select(type => tallies[type].ToReport(type))]);
        await _store.SaveReportAsync(report, cancellationToken);
        LogFinished(report);
        return report;
    }

    public void Dispose()
    {
        foreach (var limiter in _limiters.Values)
        {
            limiter.Dispose();
        }
    }

    private async Task<List<CloudResource>> ListAllAsync(List<ResourceType> types, JanitorConfig config, Dictionary<ResourceType, Tally> tallies, CancellationToken cancellationToken)
    {
        // Listings are reads and independent: all types at once. Their deletes are what must keep the order.
        var lists = await Task.WhenAll(types.Select(async type =>
        {
            try
            {
                var resources = await _apis[type].ListAsync(type, config, cancellationToken);
                tallies[type].Listed = resources.Count;
                return resources;
            }
            catch (ApiUnavailableException e)
            {
                tallies[type].Skipped = $"skipped: API unavailable ({e.Api}: {e.Message})";
                LogApiUnavailable(type.WireName(), e.Api);
                return [];
            }
            catch (Exception e) when (IsApiFailure(e, cancellationToken))
            {
                tallies[type].Fail($"list failed: {e.Message}");
                LogListFailed(type.WireName(), e.Message);
                return [];
            }
        }));
        return [.. lists.SelectMany(list => list)];
    }

    /// <summary>Which clusters exist, for the ingress owner check only; unknown (every owner kept) when it cannot be had.</summary>
    private async Task<ClusterDirectory> ClusterExistenceAsync(JanitorConfig config, CancellationToken cancellationToken)
    {
        if (_apis.GetValueOrDefault(ResourceType.GkeCluster) is not IClusterExistence directory)
        {
            return ClusterDirectory.Unknown;
        }

        try
        {
            return await directory.ListExistingAsync(config.Projects, cancellationToken);
        }
        catch (Exception e) when (e is ApiUnavailableException || IsApiFailure(e, cancellationToken))
        {
            LogExistenceUnknown(e.Message);
            return ClusterDirectory.Unknown;
        }
    }

    private async Task PruneSightingsAsync(List<ResourceType> complete, List<CloudResource> listed, CancellationToken cancellationToken)
    {
        try
        {
            var pruned = await _store.PruneSightingsAsync(complete, listed.Select(resource => resource.Key).ToHashSet(StringComparer.Ordinal), cancellationToken);
            if (pruned > 0)
            {
                LogPruned(pruned);
            }
        }
        catch (Exception e) when (IsApiFailure(e, cancellationToken))
        {
            // Stale sightings cost storage, not safety: the next sweep prunes them.
            LogPruneFailed(e.Message);
        }
    }

    private async Task<List<CloudResource>> WithFirstSightingsAsync(List<CloudResource> listed, DateTimeOffset now, Dictionary<ResourceType, Tally> tallies, CancellationToken cancellationToken)
    {
        var undated = listed.Where(resource => resource.Created is null).ToList();
        if (undated.Count == 0)
        {
            return listed;
        }

        try
        {
            var seen = await _store.FirstSightingsAsync(undated, now, cancellationToken);
            return [.. listed.Select(resource => resource.Created is null && seen.TryGetValue(resource.Key, out var first) ? resource with { FirstSeen = first } : resource)];
        }
        catch (Exception e) when (IsApiFailure(e, cancellationToken))
        {
            // Without a first sighting an undated resource has no age and is kept: the safe side.
            foreach (var type in undated.Select(resource => resource.Type).Distinct())
            {
                tallies[type].Fail($"first sightings unavailable, undated resources kept: {e.Message}");
            }

            return listed;
        }
    }

    private async Task DeleteAllAsync(IResourceApi api, List<CloudResource> deletes, Tally tally, CancellationToken cancellationToken)
    {
        var limiter = _limiters[api.Api];
        await Parallel.ForEachAsync(
            deletes,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.Parallelism), CancellationToken = cancellationToken },
            async (resource, token) =>
            {
                using var lease = await limiter.AcquireAsync(1, token);
                try
                {
                    if (await api.DeleteAsync(resource, token))
                    {
                        tally.Delete();
                    }
                    else
                    {
                        tally.Gone();
                    }
                }
                catch (Exception e) when (IsApiFailure(e, token))
                {
                    tally.Fail($"delete {resource.Name} ({resource.Location}): {e.Message}");
                    LogDeleteFailed(resource.Type.WireName(), resource.Name, e.Message);
                }
            });
    }

    /// <summary>
    /// What one type's or one resource's failure may be, as opposed to a bug or the sweep being cancelled. A test cluster
    /// the Janitor cannot connect to fails its Kubernetes types only; the cloud types are still swept.
    /// </summary>
    private static bool IsApiFailure(Exception e, CancellationToken token) =>
        e is ApiException or Kfci.Kubernetes.KubernetesConfigurationException or HttpRequestException or IOException or TimeoutException or Gcp.GcpOperationException or Polly.Timeout.TimeoutRejectedException or System.Text.Json.JsonException
        || (e is OperationCanceledException && !token.IsCancellationRequested);

    private void LogFinished(SweepReport report)
    {
        // event/outcome/deleted/dryRun are what the log-based metrics in infra/terraform/monitoring.tf filter on.
        var level = report.Outcome == SweepOutcomes.Succeeded ? LogLevel.Information : LogLevel.Warning;
#pragma warning disable CA1727 // The lower-case field names are the metrics' contract, not a style choice.
        _logger.Log(level, "{event} {SweepId} {outcome}: {deleted} deleted, {errors} errors, dryRun={dryRun}\n{Summary}",
            "sweep.finished", report.Id, report.Outcome, report.Deleted, report.Errors, report.DryRun, report.Summary());
#pragma warning restore CA1727
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "janitor: cannot tell which GKE clusters exist, ingress parts of clusters this sweep did not list are kept: {Error}")]
    private partial void LogExistenceUnknown(string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "janitor: forgot {Count} first sightings of resources that are gone")]
    private partial void LogPruned(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "janitor: pruning first sightings failed, left for the next sweep: {Error}")]
    private partial void LogPruneFailed(string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "janitor: {Api} is not available in this project; {Type} skipped")]
    private partial void LogApiUnavailable(string type, string api);

    [LoggerMessage(Level = LogLevel.Warning, Message = "janitor: listing {Type} failed, type skipped: {Error}")]
    private partial void LogListFailed(string type, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "janitor: deleting {Type} {Name} failed: {Error}")]
    private partial void LogDeleteFailed(string type, string name, string error);

    /// <summary>One type's counters; deletes update it from several threads.</summary>
    private sealed class Tally
    {
        private readonly ConcurrentDictionary<string, int> _kept = new(StringComparer.Ordinal);
        private readonly ConcurrentQueue<string> _errors = new();
        private int _deleted;
        private int _gone;
        private int _errorCount;

        public int Listed { get; set; }

        public int Planned { get; set; }

        public string? Skipped { get; set; }

        /// <summary>True when the listing answered in full: neither skipped nor failed.</summary>
        public bool IsComplete => Skipped is null && _errorCount == 0;

        public void Keep(string rule) => _kept.AddOrUpdate(rule, 1, (_, count) => count + 1);

        public void Delete() => Interlocked.Increment(ref _deleted);

        public void Gone() => Interlocked.Increment(ref _gone);

        public void Fail(string error)
        {
            if (Interlocked.Increment(ref _errorCount) <= TypeReport.MaxErrors)
            {
                _errors.Enqueue(error);
            }
        }

        public TypeReport ToReport(ResourceType type) =>
            new(type, Listed, Planned, _deleted, _gone, new Dictionary<string, int>(_kept, StringComparer.Ordinal), [.. _errors], _errorCount) { Skipped = Skipped };
    }
}
