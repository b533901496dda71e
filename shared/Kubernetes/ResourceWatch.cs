using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Kfci.Http;
using Microsoft.Extensions.Logging;
using Polly.Timeout;

namespace Kfci.Kubernetes;

/// <summary>
/// A watch that does not end until the caller cancels. KubernetesClient makes each watch request and parses its
/// events; this resumes from the last resourceVersion when the server ends a request or the connection drops,
/// and when the server no longer has that version (410 Gone/Expired) it re-lists and emits synthetic events for
/// what changed meanwhile — ADDED and MODIFIED for objects it had not seen at their current version, DELETED for
/// objects that disappeared — so a consumer always ends up with every object's current state. A re-list whose
/// continue token expires starts over; transient failures that outlast the retry policy, and requests the server
/// ends early without a single event, are retried after a growing pause. Only failures that cannot heal
/// (forbidden, a missing CRD, a broken credential plugin) end the watch.
/// </summary>
internal sealed class ResourceWatch(ResourceClient client, string ns, WatchOptions options, ILogger logger)
{
    // The objects seen so far, by namespace/name, so a re-list can tell what changed and what vanished.
    private readonly Dictionary<string, JsonObject> _known = new(StringComparer.Ordinal);
    private string? _resourceVersion = options.ResourceVersion;
    private TimeSpan _delay = options.ReconnectDelay;

    public async IAsyncEnumerable<WatchEvent> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var relist = _resourceVersion is null;
        while (true)
        {
            if (relist)
            {
                var changes = await TryRelistAsync(cancellationToken);
                if (changes is null)
                {
                    await PauseAsync(cancellationToken);
                    continue;
                }

                foreach (var change in changes)
                {
                    yield return change;
                }

                relist = false;
                _delay = options.ReconnectDelay;
            }

            var outcome = StreamOutcome.Ended;
            var delivered = 0;
            var started = Stopwatch.GetTimestamp();
            await using (var events = client.WatchOnceAsync(ns, _resourceVersion, options, cancellationToken).GetAsyncEnumerator(cancellationToken))
            {
                while (true)
                {
                    (outcome, var next) = await NextAsync(events, cancellationToken);
                    if (next is null)
                    {
                        break;
                    }

                    delivered++;
                    _delay = options.ReconnectDelay;
                    Remember(next);
                    yield return next;
                }
            }

            if (outcome == StreamOutcome.Gone)
            {
                relist = true;
            }
            else if (outcome == StreamOutcome.Dropped || (delivered == 0 && EndedEarly(started)))
            {
                // A server (or proxy) that ends every watch at once without an event would otherwise be asked again
                // in a tight loop; an idle watch that ran its requested time reconnects at once.
                await PauseAsync(cancellationToken);
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
            logger.LogInformation("Watch of {Resource} from resourceVersion {ResourceVersion} expired; re-listing", client.Resource, _resourceVersion);
            return (StreamOutcome.Gone, null);
        }
        catch (Exception e) when (Transience.IsTransient(e, cancellationToken))
        {
            logger.LogWarning("Watch of {Resource} dropped at resourceVersion {ResourceVersion}: {Error}; resuming", client.Resource, _resourceVersion, e.Message);
            return (StreamOutcome.Dropped, null);
        }
    }

    /// <summary>The synthetic changes since what was known, or null when the list failed transiently (even after the retry policy).</summary>
    private async Task<List<WatchEvent>?> TryRelistAsync(CancellationToken cancellationToken)
    {
        var current = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        var listVersion = "";
        try
        {
            await foreach (var page in client.PagesAsync(ns, new ListOptions { LabelSelector = options.LabelSelector, PageSize = options.ListPageSize }, cancellationToken))
            {
                if (page.IsRestart)
                {
                    logger.LogInformation("Re-list of {Resource} met an expired continue token; starting over", client.Resource);
                    current.Clear();
                }

                foreach (var item in page.Items)
                {
                    current[ResourceClient.Key(item)] = item;
                }

                listVersion = page.ResourceVersion;
            }
        }
        catch (Exception e) when (Transience.IsTransient(e, cancellationToken) || e is TimeoutRejectedException)
        {
            logger.LogWarning("Re-list of {Resource} failed: {Error}; trying again in {Delay}", client.Resource, e.Message, _delay);
            return null;
        }

        var changes = Diff(current).ToList();
        _known.Clear();
        foreach (var (key, item) in current)
        {
            _known[key] = item;
        }

        _resourceVersion = listVersion;
        return changes;
    }

    private bool EndedEarly(long started) => Stopwatch.GetElapsedTime(started) < options.RequestTimeout / 2;

    private async Task PauseAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(_delay, cancellationToken);
        _delay = TimeSpan.FromTicks(Math.Min(_delay.Ticks * 2, options.MaxReconnectDelay.Ticks));
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

        var key = ResourceClient.Key(change.Resource);
        if (change.Type == WatchEventType.Deleted)
        {
            _known.Remove(key);
        }
        else
        {
            _known[key] = change.Resource;
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

    private enum StreamOutcome
    {
        Ended,
        Gone,
        Dropped,
    }
}
