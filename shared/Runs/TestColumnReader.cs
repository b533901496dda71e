using System.Collections.Concurrent;
using Kfci.Firestore;

namespace Kfci.Runs;

/// <summary>A window of compact test results: the summaries read, newest first, and whether a bound ended the read early.</summary>
public sealed record TestResultsWindow(IReadOnlyList<WorkflowTestSummary> Summaries, bool Truncated);

/// <summary>
/// Reads <see cref="TestColumns"/> a page at a time, newest first, until the window ends or a bound is reached, and the
/// name lists they refer to (a few reads at a time; each list kept in memory once read: content-addressed, never stale).
/// </summary>
internal sealed class TestColumnReader(FirestoreClient firestore)
{
    private const int PageSize = 300;
    private const int MaxConcurrentReads = 8;

    /// <summary>Characters of names kept in memory (about 64 MB) before the cache starts again.</summary>
    private const long MaxCachedChars = 32L * 1024 * 1024;

    private const string DocumentNameField = "__name__";

    private readonly ConcurrentDictionary<string, IReadOnlyList<string>> _names = new(StringComparer.Ordinal);
    private long _cachedChars;

    public async Task<TestResultsWindow> ReadAsync(string? jobName, DateTimeOffset since, int maxColumns, long maxCases, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxColumns, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCases, 1);
        var summaries = new List<WorkflowTestSummary>();
        long cases = 0;
        var columns = 0;
        FirestoreDocument? last = null;
        while (columns < maxColumns)
        {
            var limit = Math.Min(PageSize, maxColumns - columns);
            var page = await firestore.QueryAsync(Query(jobName, since, limit, last), cancellationToken);
            var kept = new List<FirestoreDocument>(page.Count);
            foreach (var column in page)
            {
                cases += TestColumns.NamesOf(column).Count;
                if (cases > maxCases)
                {
                    summaries.AddRange(await SummariesAsync(kept, cancellationToken));
                    return new TestResultsWindow(summaries, Truncated: true);
                }

                kept.Add(column);
            }

            summaries.AddRange(await SummariesAsync(kept, cancellationToken));
            columns += page.Count;
            if (page.Count < limit)
            {
                return new TestResultsWindow(summaries, Truncated: false);
            }

            last = page[^1];
        }

        return new TestResultsWindow(summaries, Truncated: true);
    }

    private static FirestoreQuery Query(string? jobName, DateTimeOffset since, int limit, FirestoreDocument? after)
    {
        var query = FirestoreQuery.CollectionGroup(TestColumns.Collection);
        if (jobName is not null)
        {
            query = query.Where("jobName", FilterOperator.Equal, jobName);
        }

        // The document name breaks ties between columns of one instant, so a page boundary never skips or repeats one.
        query = query.Where("createdAt", FilterOperator.GreaterThanOrEqual, since)
            .OrderByDescending("createdAt").OrderByDescending(DocumentNameField).Limit(limit);
        return after is null ? query : query.StartAfter(after.Get<DateTimeOffset>("createdAt"), new DocumentReference(after.Name));
    }

    /// <summary>The columns as summaries; a column whose name list is missing (a write cut short) is left out, as an unwritten one is.</summary>
    private async Task<IEnumerable<WorkflowTestSummary>> SummariesAsync(List<FirestoreDocument> columns, CancellationToken cancellationToken)
    {
        var lists = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var wanted = new List<(string Key, int Count)>();
        foreach (var (key, count) in columns.Select(TestColumns.NamesOf).Distinct())
        {
            if (_names.TryGetValue(key, out var cached))
            {
                lists[key] = cached;
            }
            else
            {
                wanted.Add((key, count));
            }
        }

        // A few reads at a time, whatever the number of lists: a page of columns must not open hundreds of requests.
        var paths = wanted.SelectMany(n => Enumerable.Range(0, TestColumns.NameParts(n.Count)).Select(part => TestColumns.NamesPath(n.Key, part))).ToList();
        var parts = new ConcurrentDictionary<string, FirestoreDocument?>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(
            paths,
            new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentReads, CancellationToken = cancellationToken },
            async (path, token) => parts[path] = await firestore.GetAsync(path, token));
        foreach (var (key, count) in wanted)
        {
            var documents = Enumerable.Range(0, TestColumns.NameParts(count)).Select(part => parts.GetValueOrDefault(TestColumns.NamesPath(key, part))).ToList();
            if (documents.All(d => d is not null) && documents.SelectMany(d => TestColumns.Names(d!)).ToList() is { } names && names.Count == count)
            {
                lists[key] = names;
                Remember(key, names);
            }
        }

        return columns
            .Select(c => lists.TryGetValue(TestColumns.NamesOf(c).Key, out var list) ? TestColumns.Summary(c, list) : null)
            .OfType<WorkflowTestSummary>();
    }

    private void Remember(string key, List<string> names)
    {
        var chars = names.Sum(n => (long)n.Length);
        if (chars > MaxCachedChars)
        {
            return;
        }

        if (Interlocked.Add(ref _cachedChars, chars) > MaxCachedChars)
        {
            _names.Clear();
            Interlocked.Exchange(ref _cachedChars, chars);
        }

        _names[key] = names;
    }
}
