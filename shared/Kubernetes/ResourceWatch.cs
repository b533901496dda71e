using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Kfci.Http;
using Microsoft.Extensions.Logging;

namespace Kfci.Kubernetes;

/// <summary>
/// A watch that does not end until the caller cancels: it resumes from the last resourceVersion when the
/// server ends a request or the connection drops, and when the server no longer has that version
/// (410 Gone/Expired) it re-lists and emits synthetic events for what changed meanwhile — ADDED and MODIFIED
/// for objects it had not seen at their current version, DELETED for objects that disappeared — so a
/// consumer always ends up with every object's current state.
/// </summary>
internal sealed class ResourceWatch(KubernetesApiClient api, string path, WatchOptions options, ILogger logger)
{
    // The objects seen so far, by namespace/name, so a re-list can tell what changed and what vanished.
    private readonly Dictionary<string, JsonObject> _known = new(StringComparer.Ordinal);
    private string? _resourceVersion = options.ResourceVersion;

    public async IAsyncEnumerable<WatchEvent> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (_resourceVersion is null)
        {
            await foreach (var synthetic in RelistAsync(cancellationToken))
            {
                yield return synthetic;
            }
        }

        while (true)
        {
            var outcome = StreamOutcome.Ended;
            await using (var events = api.WatchOnceAsync(path, _resourceVersion, options.LabelSelector, options.RequestTimeout, cancellationToken).GetAsyncEnumerator(cancellationToken))
            {
                while (true)
                {
                    (outcome, var next) = await NextAsync(events, cancellationToken);
                    if (next is null)
                    {
                        break;
                    }

                    Remember(next);
                    yield return next;
                }
            }

            if (outcome == StreamOutcome.Gone)
            {
                await foreach (var synthetic in RelistAsync(cancellationToken))
                {
                    yield return synthetic;
                }
            }
            else if (outcome == StreamOutcome.Dropped)
            {
                await Task.Delay(options.ReconnectDelay, cancellationToken);
            }
        }
    }

    private async Task<(StreamOutcome Outcome, WatchEvent? Next)> NextAsync(IAsyncEnumerator<WatchEvent> events, CancellationToken cancellationToken)
    {
        try
        {
            return await events.MoveNextAsync() ? (StreamOutcome.Ended, events.Current) : (StreamOutcome.Ended, null);
        }
        catch (ApiException e) when (e.IsGone)
        {
            logger.LogInformation("Watch {Path} from resourceVersion {ResourceVersion} expired; re-listing", path, _resourceVersion);
            return (StreamOutcome.Gone, null);
        }
        catch (Exception e) when (Transience.IsTransient(e, cancellationToken))
        {
            logger.LogWarning("Watch {Path} dropped at resourceVersion {ResourceVersion}: {Error}; resuming", path, _resourceVersion, e.Message);
            return (StreamOutcome.Dropped, null);
        }
    }

    private void Remember(WatchEvent change)
    {
        if (change.ResourceVersion is { Length: > 0 } version)
        {
            _resourceVersion = version;
        }

        if (change.Type == WatchEventType.Bookmark)
        {
            return;
        }

        var key = Key(change.Resource);
        if (change.Type == WatchEventType.Deleted)
        {
            _known.Remove(key);
        }
        else
        {
            _known[key] = change.Resource;
        }
    }

    private async IAsyncEnumerable<WatchEvent> RelistAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var listOptions = new ListOptions { LabelSelector = options.LabelSelector };
        var current = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        string? next = null;
        string listVersion;
        do
        {
            var page = await api.ListPageAsync(path, listOptions, next, cancellationToken);
            foreach (var item in page.Items)
            {
                current[Key(item)] = item;
            }

            listVersion = page.ResourceVersion;
            next = page.Continue;
        }
        while (next is not null);

        var changes = Diff(current).ToList();
        _known.Clear();
        foreach (var (key, item) in current)
        {
            _known[key] = item;
        }

        _resourceVersion = listVersion;
        foreach (var change in changes)
        {
            yield return change;
        }
    }

    private IEnumerable<WatchEvent> Diff(Dictionary<string, JsonObject> current)
    {
        foreach (var (key, item) in current)
        {
            if (!_known.TryGetValue(key, out var seen))
            {
                yield return new WatchEvent(WatchEventType.Added, item, IsSynthetic: true);
            }
            else if (seen.ResourceVersion != item.ResourceVersion)
            {
                yield return new WatchEvent(WatchEventType.Modified, item, IsSynthetic: true);
            }
        }

        foreach (var (key, seen) in _known)
        {
            if (!current.ContainsKey(key))
            {
                yield return new WatchEvent(WatchEventType.Deleted, seen, IsSynthetic: true);
            }
        }
    }

    private static string Key(JsonObject item) => $"{item.Namespace}/{item.Name}";

    private enum StreamOutcome
    {
        Ended,
        Gone,
        Dropped,
    }
}
