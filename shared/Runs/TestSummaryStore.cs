using Kfci.Firestore;

namespace Kfci.Runs;

/// <summary>Where the Uploader keeps each run's test summary and where the dashboard reads grids and flakiness from.</summary>
public interface ITestSummaryStore
{
    /// <summary>
    /// Writes the summaries (overwriting: the same run gives the same documents, so redelivery changes nothing), and
    /// deletes the parts an earlier write of the same workflows left beyond the new count.
    /// </summary>
    Task WriteAsync(IReadOnlyList<WorkflowTestSummary> summaries, CancellationToken cancellationToken);

    /// <summary>The summaries of one run, one per workflow; empty when the Uploader has not written any.</summary>
    Task<IReadOnlyList<WorkflowTestSummary>> ForRunAsync(string runId, CancellationToken cancellationToken);

    /// <summary>
    /// Summaries created at or after <paramref name="since"/>, newest first, of one job (or of every job when
    /// <paramref name="jobName"/> is null); at most <paramref name="maxDocuments"/> documents are read.
    /// </summary>
    Task<IReadOnlyList<WorkflowTestSummary>> SinceAsync(string? jobName, DateTimeOffset since, int maxDocuments, CancellationToken cancellationToken);

    /// <summary>
    /// Like <see cref="SinceAsync"/>, but from the compact columns (<see cref="TestColumns"/>): each case's name, result
    /// and (for the first failures) message, without durations or logs. What pages drawing many builds at once read:
    /// at most <paramref name="maxColumns"/> workflow summaries and <paramref name="maxCases"/> cases in all.
    /// </summary>
    Task<TestResultsWindow> ResultsSinceAsync(string? jobName, DateTimeOffset since, int maxColumns, long maxCases, CancellationToken cancellationToken);
}

/// <summary>
/// <see cref="ITestSummaryStore"/> on Firestore: <c>runs/{runId}/tests/{workflowKey}-{part}</c>, and beside it the compact
/// <see cref="TestColumns"/>, read by <see cref="TestColumnReader"/>.
/// </summary>
public sealed class FirestoreTestSummaryStore(FirestoreClient firestore) : ITestSummaryStore
{
    private readonly TestColumnReader _columns = new(firestore);

    public async Task WriteAsync(IReadOnlyList<WorkflowTestSummary> summaries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(summaries);
        var documents = summaries.SelectMany(Documents).ToList();

        // Each summary's name list precedes its column, and commits apply in order: no reader meets a column whose names
        // are not stored. Both are overwrites of content that a redelivery computes the same way.
        var writes = summaries.SelectMany(TestColumns.Documents).Concat(documents).Select(d => FirestoreWrite.Set(d.Path, d.Fields)).ToList();

        // A redelivery with fewer tests writes fewer parts: the old parts beyond the new count would otherwise stay
        // and join the new summary on read. Deleting them in the same commits keeps the summary whole.
        var written = documents.Select(d => d.Path).ToHashSet(StringComparer.Ordinal);
        foreach (var runId in summaries.Select(s => s.RunId).Distinct(StringComparer.Ordinal))
        {
            writes.AddRange((await ExistingPartsAsync(runId, summaries, cancellationToken)).Where(p => !written.Contains(p)).Select(p => FirestoreWrite.Delete(p)));
        }

        // Each write is an idempotent overwrite (or delete), so a partly applied set is finished by redelivery.
        foreach (var chunk in FirestoreCommits.Chunk(writes))
        {
            await firestore.CommitAsync(chunk, cancellationToken);
        }
    }

    /// <summary>The paths of the summary parts already stored for <paramref name="runId"/>'s workflows among <paramref name="summaries"/>.</summary>
    private async Task<IEnumerable<string>> ExistingPartsAsync(string runId, IReadOnlyList<WorkflowTestSummary> summaries, CancellationToken cancellationToken)
    {
        var workflows = summaries.Where(s => s.RunId == runId).Select(s => s.Workflow).ToHashSet(StringComparer.Ordinal);
        var documents = await firestore.QueryAsync(new FirestoreQuery(TestSummaries.Collection, RunDocument.PathOf(runId)), cancellationToken);
        return documents
            .Where(d => d.TryGet<string>("workflow", out var workflow) && workflows.Contains(workflow))
            .Select(d => TestSummaries.DocumentPath(runId, d.Get<string>("workflow"), d.TryGet<long>("part", out var part) ? (int)part : 0));
    }

    public async Task<IReadOnlyList<WorkflowTestSummary>> ForRunAsync(string runId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        var documents = await firestore.QueryAsync(new FirestoreQuery(TestSummaries.Collection, RunDocument.PathOf(runId)), cancellationToken);
        return Merge(documents);
    }

    public async Task<IReadOnlyList<WorkflowTestSummary>> SinceAsync(string? jobName, DateTimeOffset since, int maxDocuments, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDocuments, 1);
        var query = FirestoreQuery.CollectionGroup(TestSummaries.Collection);
        if (jobName is not null)
        {
            query = query.Where("jobName", FilterOperator.Equal, jobName);
        }

        query = query.Where("createdAt", FilterOperator.GreaterThanOrEqual, since).OrderByDescending("createdAt").Limit(maxDocuments);
        return Merge(await firestore.QueryAsync(query, cancellationToken));
    }

    public Task<TestResultsWindow> ResultsSinceAsync(string? jobName, DateTimeOffset since, int maxColumns, long maxCases, CancellationToken cancellationToken) =>
        _columns.ReadAsync(jobName, since, maxColumns, maxCases, cancellationToken);

    private static IEnumerable<(string Path, Dictionary<string, object?> Fields)> Documents(WorkflowTestSummary summary)
    {
        var parts = summary.Tests.Chunk(TestSummaries.TestsPerDocument).ToList();
        if (parts.Count == 0)
        {
            parts.Add([]);
        }

        for (var part = 0; part < parts.Count; part++)
        {
            var fields = TestSummaries.IdentityFields(summary);
            fields["part"] = part;
            fields["parts"] = parts.Count;
            fields["tests"] = parts[part].Select(t => (object?)new Dictionary<string, object?>
            {
                ["name"] = t.Name,
                ["result"] = t.Result,
                ["seconds"] = t.Seconds,
                ["message"] = t.Message,
                ["start"] = t.StartSeconds,
                ["log"] = t.Log,
            }).ToList();
            yield return (TestSummaries.DocumentPath(summary.RunId, summary.Workflow, part), fields);
        }
    }

    /// <summary>A workflow's parts joined again, in part order; newest run first as the documents came.</summary>
    private static List<WorkflowTestSummary> Merge(IReadOnlyList<FirestoreDocument> documents) =>
        [.. documents
            .Select(d => (Document: d, Part: d.TryGet<long>("part", out var p) ? p : 0))
            .GroupBy(d => (RunId: d.Document.Get<string>("runId"), Workflow: d.Document.Get<string>("workflow")))
            .Select(g =>
            {
                // Part 0 says how many parts the last write made; a leftover beyond that is not part of this summary.
                var ordered = g.OrderBy(d => d.Part).ToList();
                var count = ordered[0].Document.TryGet<long>("parts", out var n) ? n : long.MaxValue;
                var parts = ordered.Where(d => d.Part < count).Select(d => d.Document).ToList();
                return TestSummaries.FromIdentity(parts[0], [.. parts.SelectMany(Cases)]);
            })];

    private static IEnumerable<TestCaseResult> Cases(FirestoreDocument document) =>
        (document.TryGet<IReadOnlyList<object?>>("tests", out var tests) ? tests : [])
            .OfType<IReadOnlyDictionary<string, object?>>()
            .Select(t => new TestCaseResult(
                t.TryGetValue("name", out var n) && n is string name ? name : "(unnamed)",
                t.TryGetValue("result", out var r) && r is string result ? result : TestOutcomes.Fail,
                Number(t, "seconds") ?? 0,
                t.TryGetValue("message", out var m) ? m as string : null,
                Number(t, "start"),
                t.TryGetValue("log", out var l) ? l as string : null));

    private static double? Number(IReadOnlyDictionary<string, object?> map, string key) =>
        map.TryGetValue(key, out var value) ? value switch { double d => d, long l => l, _ => null } : null;
}
