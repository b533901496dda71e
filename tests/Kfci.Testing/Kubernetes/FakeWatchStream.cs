using Kfci.Kubernetes;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Kfci.Testing.Kubernetes;

/// <summary>
/// Serves one watch request as the API server does: <c>200</c>, then one JSON event per line, flushed as it
/// happens, until <c>timeoutSeconds</c> pass, the client leaves, or the fake stops. A label selector turns
/// changes that move an object in or out of the selection into ADDED or DELETED, as the watch cache does.
/// </summary>
internal sealed class FakeWatchStream(FakeObjectStore store, FakeResource resource, LabelSelector selector, TimeSpan bookmarkInterval)
{
    public async Task ServeAsync(HttpResponse response, WatchSubscription subscription, bool bookmarks, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout is { } t)
        {
            deadline.CancelAfter(t);
        }

        response.StatusCode = 200;
        response.ContentType = "application/json";
        await response.StartAsync(cancellationToken);
        // The API server flushes the headers at once, so clients know the watch is established before any event.
        await response.Body.FlushAsync(cancellationToken);
        try
        {
            foreach (var entry in subscription.Initial)
            {
                await SendAsync(response, entry, deadline.Token);
            }

            while (!deadline.IsCancellationRequested)
            {
                using var tick = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
                tick.CancelAfter(bookmarkInterval);
                try
                {
                    var entry = await subscription.Events.Reader.ReadAsync(tick.Token);
                    await SendAsync(response, entry, deadline.Token);
                }
                catch (OperationCanceledException) when (!deadline.IsCancellationRequested)
                {
                    if (bookmarks && store.BookmarkVersion(subscription) is { } version)
                    {
                        await WriteLineAsync(response, Bookmark(version), deadline.Token);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            // The request's time is up or the client left: end the stream the way the server does, by closing it.
        }
    }

    public static async Task SendErrorAsync(HttpResponse response, FakeStatusException error, CancellationToken cancellationToken)
    {
        response.StatusCode = 200;
        response.ContentType = "application/json";
        await WriteLineAsync(response, $"{{\"type\":\"ERROR\",\"object\":{error.ToStatus().ToJsonString()}}}", cancellationToken);
    }

    private Task SendAsync(HttpResponse response, HistoryEntry entry, CancellationToken cancellationToken)
    {
        var type = Visible(entry);
        return type is null
            ? Task.CompletedTask
            : WriteLineAsync(response, $"{{\"type\":\"{type}\",\"object\":{entry.Object.Json}}}", cancellationToken);
    }

    private string? Visible(HistoryEntry entry)
    {
        var now = selector.Matches(entry.Object.Labels);
        var before = entry.Previous is not null && selector.Matches(entry.Previous.Labels);
        return entry.Type switch
        {
            "MODIFIED" when now && !before => "ADDED",
            "MODIFIED" when !now && before => "DELETED",
            "MODIFIED" when now => "MODIFIED",
            "ADDED" when now => "ADDED",
            "DELETED" when now => "DELETED",
            _ => null,
        };
    }

    private string Bookmark(long version) =>
        $"{{\"type\":\"BOOKMARK\",\"object\":{{\"kind\":\"{resource.Kind}\",\"apiVersion\":\"{resource.ApiVersion}\",\"metadata\":{{\"resourceVersion\":\"{FakeObjectStore.Text(version)}\"}}}}}}";

    private static async Task WriteLineAsync(HttpResponse response, string line, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
