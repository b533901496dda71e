using System.Collections.Concurrent;
using Kfci.Firestore;

namespace Kfci.Runs;

/// <summary>A filter for <see cref="IRunStore.ListAsync"/>; null fields do not filter.</summary>
public sealed record RunQuery(string? JobName = null, RunState? State = null, int Limit = 50)
{
    /// <summary>Only runs of this <c>org/repo</c> (the dashboard's filter); null does not filter.</summary>
    public string? Repo { get; init; }

    /// <summary>Start after this run in the order of the list (the next page); null starts at the newest.</summary>
    public RunCursor? After { get; init; }
}

/// <summary>A position in a list of runs (newest first): the last run of a page.</summary>
public sealed record RunCursor(DateTimeOffset CreatedAt, string RunId)
{
    public static RunCursor Of(RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return new RunCursor(run.CreatedAt, run.RunId);
    }
}

/// <summary>Paging over <see cref="IRunStore.ListAsync"/>.</summary>
public static class RunStoreExtensions
{
    /// <summary>
    /// Every run matching <paramref name="query"/> (its <see cref="RunQuery.Limit"/> is the page size), newest first,
    /// fetched page by page, so a caller holds one page at a time however many runs there are.
    /// </summary>
    public static async IAsyncEnumerable<RunRecord> ListAllAsync(
        this IRunStore store, RunQuery query, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1);
        while (true)
        {
            var page = await store.ListAsync(query, cancellationToken);
            foreach (var run in page)
            {
                yield return run;
            }

            if (page.Count < query.Limit)
            {
                yield break;
            }

            query = query with { After = RunCursor.Of(page[^1]) };
        }
    }
}

/// <summary>
/// Where runs live (Firestore <c>runs/{runId}</c>, each finished workflow in <c>runs/{runId}/workflows/{name}</c>). A change
/// of the run is an atomic read-modify-write of its document, so concurrent handlers (redelivered events, the Watcher's
/// tick beside its event path) cannot lose each other's updates; a workflow's outcome is written once to its own document,
/// so a run's workflows finishing together never contend for one document (Firestore sustains about one write per
/// second per document). Readers see the run with every recorded outcome.
/// </summary>
public interface IRunStore
{
    /// <summary>The run, or null when there is none with this id.</summary>
    Task<RunRecord?> GetAsync(string runId, CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="run"/> unless a run with its id exists. Returns the stored run and whether this call
    /// created it; exactly one of any number of concurrent callers gets <c>Created = true</c>.
    /// </summary>
    Task<(RunRecord Run, bool Created)> CreateAsync(RunRecord run, CancellationToken cancellationToken);

    /// <summary>
    /// Reads the run, applies <paramref name="change"/> and writes the result atomically; retried from the read on
    /// contention, so <paramref name="change"/> must be a pure function of its input. Returning null (or the same
    /// instance) writes nothing. Returns the run as stored afterwards; null when there is no such run.
    /// </summary>
    Task<RunRecord?> UpdateAsync(string runId, Func<RunRecord, RunRecord?> change, CancellationToken cancellationToken);

    /// <summary>
    /// Records finished workflows of the run, each in a document of its own; the first outcome recorded for a workflow
    /// wins and a repeated one changes nothing. The run document is not written (it changes only on state transitions,
    /// through <see cref="UpdateAsync"/>). Returns the run as stored afterwards, with the outcomes others recorded
    /// meanwhile; null when there is no such run.
    /// </summary>
    Task<RunRecord?> RecordWorkflowsAsync(string runId, IReadOnlyList<WorkflowRecord> finished, CancellationToken cancellationToken);

    /// <summary>
    /// Runs matching <paramref name="query"/>, newest first (by <c>createdAt</c>, then id), at most <see cref="RunQuery.Limit"/>,
    /// starting after <see cref="RunQuery.After"/>; <see cref="RunStoreExtensions.ListAllAsync"/> pages through all of them.
    /// </summary>
    Task<IReadOnlyList<RunRecord>> ListAsync(RunQuery query, CancellationToken cancellationToken);
}

/// <summary><see cref="IRunStore"/> on Firestore (or its emulator) through <see cref="FirestoreClient"/>.</summary>
/// <param name="firestore">The database.</param>
/// <param name="updateOptions">How often <see cref="UpdateAsync"/> tries (its <c>MaxAttempts</c>); <see cref="DefaultUpdateOptions"/> when null.</param>
public sealed class FirestoreRunStore(FirestoreClient firestore, FirestoreTransactionOptions? updateOptions = null) : IRunStore
{
    /// <summary>
    /// Ten attempts: a run's document changes only on state transitions, but a transition can race a redelivery, the
    /// Watcher's tick or an abort; each lost race costs a read, and retries back off with jitter.
    /// </summary>
    public static FirestoreTransactionOptions DefaultUpdateOptions { get; } = new() { MaxAttempts = 10 };

    private const string DocumentNameField = "__name__";

    /// <summary>Firestore's limit on the values of one <c>IN</c> filter.</summary>
    private const int MaxInValues = 30;

    /// <summary>Runs whose last version this instance knows; a handful are busy at any time, so a small bound is plenty.</summary>
    private const int MaxKnownRuns = 1024;

    // The last version of each run this instance read or wrote, so an update right after can skip its read.
    private readonly ConcurrentDictionary<string, (RunRecord Run, FirestoreTimestamp Version)> _known = new(StringComparer.Ordinal);

    public async Task<RunRecord?> GetAsync(string runId, CancellationToken cancellationToken) =>
        (await ReadAsync(runId, RunDocument.PathOf(runId), cancellationToken))?.Run;

    public async Task<RunRecord?> RecordWorkflowsAsync(string runId, IReadOnlyList<WorkflowRecord> finished, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(finished);
        if (finished.FirstOrDefault(w => !w.IsFinished) is { } unfinished)
        {
            throw new ArgumentException($"workflow {unfinished.Name} of run {runId} has not finished ({unfinished.Phase ?? "no phase"})", nameof(finished));
        }

        // Create-only: the first outcome of a workflow wins, and a repeated notice is a no-op (also when its reply was lost).
        await Task.WhenAll(finished.Select(w =>
            firestore.CreateIfAbsentAsync(RunDocument.WorkflowPathOf(runId, w.Name), RunDocument.OutcomeFields(runId, w), cancellationToken)));
        return await GetAsync(runId, cancellationToken);
    }

    public async Task<(RunRecord Run, bool Created)> CreateAsync(RunRecord run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        var path = RunDocument.PathOf(run.RunId);
        try
        {
            var result = await firestore.CommitAsync([FirestoreWrite.Create(path, RunDocument.ToFields(run))], cancellationToken);
            Remember(run, VersionOf(result));
            return (run, true);
        }
        catch (FirestorePreconditionException e) when (e.Reason == "ALREADY_EXISTS")
        {
            // Also what a retried create whose first attempt was applied (answer lost) sees: the run exists.
        }

        var existing = await GetAsync(run.RunId, cancellationToken)
            ?? throw new InvalidOperationException($"run {run.RunId} existed a moment ago and is gone");
        return (existing, false);
    }

    /// <summary>
    /// Optimistic concurrency rather than a Firestore transaction: read the run, write the changed run only if the
    /// document is still at the version read (an <c>updateTime</c> precondition), else read again. One read and one
    /// write, no locks: lock-based transactions queue up behind each other on a busy document (and the emulator's
    /// lock timeouts made contending updaters fail), while a lost race here just costs one more read.
    /// </summary>
    public async Task<RunRecord?> UpdateAsync(string runId, Func<RunRecord, RunRecord?> change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        var path = RunDocument.PathOf(runId);
        var attempts = (updateOptions ?? DefaultUpdateOptions).MaxAttempts;

        // The first attempt may start from the version this instance last read or wrote (saving the read); it is only a
        // guess, so a change that writes nothing, or a lost race, is decided again on a fresh read.
        (RunRecord Run, FirestoreTimestamp Version)? guess = _known.TryGetValue(runId, out var known) ? known : null;
        for (var attempt = 1; ; attempt++)
        {
            if ((guess ?? await ReadAsync(runId, path, cancellationToken)) is not { } state)
            {
                return null;
            }

            var (current, version) = state;
            var next = change(current);
            if (next is null || ReferenceEquals(next, current))
            {
                if (guess is null)
                {
                    return current;
                }

                guess = null;
                continue;
            }

            if (next.RunId != runId)
            {
                throw new InvalidOperationException($"an update of run {runId} may not change its id to {next.RunId}");
            }

            try
            {
                var result = await firestore.CommitAsync(
                    [FirestoreWrite.Set(path, RunDocument.ToFields(next), FirestorePrecondition.LastUpdated(version))], cancellationToken);
                Remember(next, VersionOf(result));
                return next;
            }
            catch (FirestorePreconditionException e) when (e.Reason is "FAILED_PRECONDITION" or "NOT_FOUND" && (guess is not null || attempt < attempts))
            {
                // Someone else changed the run since that version: read again. A lost race after a real read backs off a
                // little (with jitter, so racers spread out); a stale guess costs nothing extra.
                if (guess is null)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20) * attempt), cancellationToken);
                }

                guess = null;
            }
        }
    }

    /// <summary>
    /// The run document merged with its outcome documents, which are read only while a workflow waits for one (an absent
    /// run, the Trigger's usual case, and a Completed run, whose document holds every outcome, cost one read).
    /// </summary>
    private async Task<(RunRecord Run, FirestoreTimestamp Version)?> ReadAsync(string runId, string path, CancellationToken cancellationToken)
    {
        if (await firestore.GetAsync(path, cancellationToken) is not { } document)
        {
            _known.TryRemove(runId, out _);
            return null;
        }

        var run = RunDocument.FromFields(document.Fields);
        if (run.Workflows.Any(w => !w.IsFinished))
        {
            var outcomes = await firestore.QueryAsync(new FirestoreQuery(RunDocument.WorkflowsCollection, path), cancellationToken);
            run = RunDocument.WithOutcomes(run, ByName(OutcomesByRun(outcomes)[runId]));
        }

        Remember(run, document.UpdateTime);
        return (run, document.UpdateTime);
    }

    /// <summary>Outcome documents by run id.</summary>
    private static ILookup<string, (WorkflowRecord Workflow, DateTimeOffset RecordedAt)> OutcomesByRun(IEnumerable<FirestoreDocument> documents) =>
        documents.Select(d => (Outcome: RunDocument.ReadOutcome(d.Fields), RecordedAt: d.UpdateTime.ToDateTimeOffset()))
            .ToLookup(o => o.Outcome.RunId, o => (o.Outcome.Workflow, o.RecordedAt), StringComparer.Ordinal);

    private static Dictionary<string, (WorkflowRecord Workflow, DateTimeOffset RecordedAt)> ByName(IEnumerable<(WorkflowRecord Workflow, DateTimeOffset RecordedAt)> outcomes) =>
        outcomes.GroupBy(o => o.Workflow.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);

    private void Remember(RunRecord run, FirestoreTimestamp version)
    {
        if (_known.Count >= MaxKnownRuns)
        {
            _known.Clear();
        }

        _known[run.RunId] = (run, version);
    }

    private static FirestoreTimestamp VersionOf(FirestoreCommitResult result) => result.WriteResults[0].UpdateTime ?? result.CommitTime;

    public async Task<IReadOnlyList<RunRecord>> ListAsync(RunQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var firestoreQuery = new FirestoreQuery(RunDocument.Collection);
        if (query.JobName is not null)
        {
            firestoreQuery = firestoreQuery.Where("jobName", FilterOperator.Equal, query.JobName);
        }

        if (query.Repo is not null)
        {
            firestoreQuery = firestoreQuery.Where("repo", FilterOperator.Equal, query.Repo);
        }

        if (query.State is { } state)
        {
            firestoreQuery = firestoreQuery.Where("state", FilterOperator.Equal, state.ToWire());
        }

        // The id breaks ties between runs created in the same microsecond, so a page boundary never skips or repeats one.
        // Firestore orders by the document name after the last ordering anyway: the indexes stay the same.
        firestoreQuery = firestoreQuery.OrderByDescending("createdAt").OrderByDescending(DocumentNameField).Limit(query.Limit);
        if (query.After is { } after)
        {
            firestoreQuery = firestoreQuery.StartAfter(after.CreatedAt, firestore.Reference(RunDocument.PathOf(after.RunId)));
        }

        var documents = await firestore.QueryAsync(firestoreQuery, cancellationToken);
        var page = documents.Select(d => RunDocument.FromFields(d.Fields)).ToList();
        return await WithOutcomesAsync(page, cancellationToken);
    }

    /// <summary>
    /// The page's runs with their recorded outcomes: one collection-group query per 30 runs that still wait for a
    /// workflow (a run's document holds every outcome once it is Completed, so finished runs cost nothing).
    /// </summary>
    private async Task<IReadOnlyList<RunRecord>> WithOutcomesAsync(List<RunRecord> page, CancellationToken cancellationToken)
    {
        var waiting = page.Where(r => r.Workflows.Any(w => !w.IsFinished)).Select(r => r.RunId).ToList();
        if (waiting.Count == 0)
        {
            return page;
        }

        var queries = waiting.Chunk(MaxInValues).Select(ids => firestore.QueryAsync(
            FirestoreQuery.CollectionGroup(RunDocument.WorkflowsCollection).Where("runId", FilterOperator.In, ids), cancellationToken));
        var outcomes = OutcomesByRun((await Task.WhenAll(queries)).SelectMany(d => d));
        return page.Select(r => RunDocument.WithOutcomes(r, ByName(outcomes[r.RunId]))).ToList();
    }
}
