using Kfci.Firestore;
using Kfci.Janitor;

namespace Kfci.Dashboard.Data;

/// <summary>A resource type's line of a sweep report, as the Janitor stored it.</summary>
public sealed record SweptType(string Type, long Listed, long Planned, long Deleted, long AlreadyGone, IReadOnlyDictionary<string, long> Kept, IReadOnlyList<string> Errors, string? Skipped);

/// <summary>A sweep report read back from <c>sweeps/{id}</c>.</summary>
public sealed record SweepSummary(string Id, DateTimeOffset StartedAt, double DurationSeconds, bool DryRun, string Outcome, long Planned, long Deleted, long Errors, IReadOnlyList<SweptType> Types);

/// <summary>The Janitor's last sweeps, newest first.</summary>
public interface ISweepHistory
{
    Task<IReadOnlyList<SweepSummary>> LatestAsync(int count, CancellationToken cancellationToken);
}

/// <summary><see cref="ISweepHistory"/> over the reports <see cref="FirestoreSweepStore"/> writes.</summary>
public sealed class FirestoreSweepHistory(FirestoreClient firestore) : ISweepHistory
{
    public async Task<IReadOnlyList<SweepSummary>> LatestAsync(int count, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var documents = await firestore.QueryAsync(
            new FirestoreQuery(FirestoreSweepStore.SweepsCollection).OrderByDescending("startedAt").Limit(count), cancellationToken);
        return [.. documents.Select(Read)];
    }

    private static SweepSummary Read(FirestoreDocument d) => new(
        d.Id,
        d.TryGet<DateTimeOffset>("startedAt", out var started) ? started : default,
        Number(d.Fields, "durationSeconds"),
        d.TryGet<bool>("dryRun", out var dry) && dry,
        d.TryGet<string>("outcome", out var outcome) ? outcome : "unknown",
        (long)Number(d.Fields, "planned"),
        (long)Number(d.Fields, "deleted"),
        (long)Number(d.Fields, "errors"),
        [.. (d.TryGet<IReadOnlyDictionary<string, object?>>("types", out var types) ? types : new Dictionary<string, object?>())
            .Where(t => t.Value is IReadOnlyDictionary<string, object?>)
            .Select(t => Type(t.Key, (IReadOnlyDictionary<string, object?>)t.Value!))
            .OrderBy(t => t.Type, StringComparer.Ordinal)]);

    private static SweptType Type(string name, IReadOnlyDictionary<string, object?> f) => new(
        name,
        (long)Number(f, "listed"),
        (long)Number(f, "planned"),
        (long)Number(f, "deleted"),
        (long)Number(f, "alreadyGone"),
        (f.TryGetValue("kept", out var kept) ? kept as IReadOnlyDictionary<string, object?> : null)?.ToDictionary(k => k.Key, k => k.Value is long n ? n : 0, StringComparer.Ordinal)
            ?? new Dictionary<string, long>(StringComparer.Ordinal),
        [.. (f.TryGetValue("errors", out var errors) ? errors as IReadOnlyList<object?> : null)?.OfType<string>() ?? []],
        f.TryGetValue("skipped", out var skipped) ? skipped as string : null);

    private static double Number(IReadOnlyDictionary<string, object?> fields, string key) =>
        fields.TryGetValue(key, out var value) ? value switch { long l => l, double d => d, _ => 0 } : 0;
}
