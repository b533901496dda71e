using System.Collections.Concurrent;
using Kfci.Prow;
using Kfci.Sources;

namespace Kfci.Functions.Trigger;

/// <summary>
/// Remembers what a commit holds: a file at a commit sha, and the changed files of a job whose refs name commit
/// shas, never change, so crier's several start reports of a build, redeliveries, and builds of the same commit read
/// git or GitHub once. Bounded: when full it is simply cleared (entries are cheap to read again).
/// </summary>
public sealed class CachingRepositorySource(IRepositorySource inner, int capacity = 512) : IRepositorySource
{
    private readonly ConcurrentDictionary<string, Lazy<Task<byte[]?>>> _files = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<IReadOnlyList<string>>>> _changes = new(StringComparer.Ordinal);

    public Task<byte[]?> ReadFileAsync(RepositoryName repository, string commitSha, string path, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(repository);
        return CachedAsync(_files, $"{repository}\n{commitSha}\n{path}\n{maxBytes}", () => inner.ReadFileAsync(repository, commitSha, path, maxBytes, CancellationToken.None), cancellationToken);
    }

    /// <summary>Never cached: a branch moves, and its head is read once per run (the run remembers it).</summary>
    public Task<string> ResolveBranchAsync(RepositoryName repository, string branch, CancellationToken cancellationToken) =>
        inner.ResolveBranchAsync(repository, branch, cancellationToken);

    public Task<IReadOnlyList<string>> ChangedFilesAsync(ProwJobSpec job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.PrimaryRefs is not { } refs || string.IsNullOrEmpty(refs.BaseSha) || (refs.Pulls ?? []).Any(p => string.IsNullOrEmpty(p.Sha)))
        {
            return inner.ChangedFilesAsync(job, cancellationToken); // a branch name moves: not cacheable
        }

        // Keyed by everything the answer depends on: the type and the refs (shas included), not the job's name or build.
        return CachedAsync(_changes, $"{job.Type}\n{job.PrimaryRefs?.ToPullRefs()}\n{job.PrimaryRefs?.Org}/{job.PrimaryRefs?.Repo}", () => inner.ChangedFilesAsync(job, CancellationToken.None), cancellationToken);
    }

    private async Task<T> CachedAsync<T>(ConcurrentDictionary<string, Lazy<Task<T>>> cache, string key, Func<Task<T>> read, CancellationToken cancellationToken)
    {
        if (cache.Count >= capacity)
        {
            cache.Clear();
        }

        var entry = cache.GetOrAdd(key, _ => new Lazy<Task<T>>(read));
        try
        {
            return await entry.Value.WaitAsync(cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Failures (a transient fault, a commit not fetched yet) are not remembered.
            cache.TryRemove(new KeyValuePair<string, Lazy<Task<T>>>(key, entry));
            throw;
        }
    }
}
