using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kfci.Http;

namespace Kfci.Kubernetes;

/// <summary>
/// The Kubernetes REST verbs over <see cref="RestClient"/>: ordinary calls go through kfci's retry policy;
/// watches and log streams only use it to open the connection, so the per-attempt timeout never cuts a
/// long-lived stream. Paths are relative to the server URL (e.g. <c>api/v1/namespaces</c>). Failures are
/// <see cref="ApiException"/> carrying the <c>Status</c> reason (see <see cref="KubernetesErrors"/>).
/// </summary>
public sealed class KubernetesApiClient
{
    private const string MergePatchType = "application/merge-patch+json";

    private readonly RestClient _rest;

    public KubernetesApiClient(RestClient rest)
    {
        ArgumentNullException.ThrowIfNull(rest);
        _rest = rest;
    }

    /// <summary>A client for <paramref name="connection"/>; it owns its HttpClient for the process's lifetime.</summary>
    public static KubernetesApiClient Create(KubernetesConnection connection, RetryOptions? retry = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var baseAddress = connection.Server.ToString();
        var http = new HttpClient(connection.CreateHandler())
        {
            BaseAddress = new Uri(baseAddress.EndsWith('/') ? baseAddress : baseAddress + "/"),
            Timeout = Timeout.InfiniteTimeSpan,
        };
        return new KubernetesApiClient(new RestClient(http, new RetryPolicy(retry ?? RetryOptions.Default)));
    }

    /// <summary>The object, or null when the server answers 404.</summary>
    public async Task<JsonObject?> GetAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await SendAsync(HttpMethod.Get, path, null, cancellationToken);
        }
        catch (ApiException e) when (e.IsNotFound)
        {
            return null;
        }
    }

    /// <summary>Creates the object; a taken name throws <see cref="ApiException"/> with <c>IsAlreadyExists</c>.</summary>
    public Task<JsonObject> CreateAsync(string path, JsonObject body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        return SendAsync(HttpMethod.Post, path, body, cancellationToken);
    }

    /// <summary>An RFC 7386 merge patch; returns the patched object. 404 throws.</summary>
    public Task<JsonObject> MergePatchAsync(string path, JsonNode patch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(patch);
        return SendAsync(HttpMethod.Patch, path, patch, cancellationToken, MergePatchType);
    }

    /// <summary>Deletes the object; false when it was already gone (404).</summary>
    public async Task<bool> DeleteAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            await SendAsync(HttpMethod.Delete, path, null, cancellationToken);
            return true;
        }
        catch (ApiException e) when (e.IsNotFound)
        {
            return false;
        }
    }

    public async Task<ListPage> ListPageAsync(string path, ListOptions options, string? continueToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var uri = path + Query(
            ("labelSelector", options.LabelSelector),
            ("fieldSelector", options.FieldSelector),
            ("limit", options.PageSize.ToString(CultureInfo.InvariantCulture)),
            ("continue", continueToken),
            // The server rejects resourceVersion together with a continue token: the token carries the version.
            ("resourceVersion", continueToken is null ? options.ResourceVersion : null),
            ("resourceVersionMatch", continueToken is null ? options.ResourceVersionMatch : null));
        var list = await SendAsync(HttpMethod.Get, uri, null, cancellationToken);
        var items = (list["items"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var metadata = list["metadata"];
        var next = metadata?["continue"]?.GetValue<string>();
        return new ListPage(items, metadata?["resourceVersion"]?.GetValue<string>() ?? "", string.IsNullOrEmpty(next) ? null : next);
    }

    /// <summary>Every item, page by page with continue tokens. An expired token (410) throws: the caller re-lists.</summary>
    public async IAsyncEnumerable<JsonObject> ListAsync(string path, ListOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? next = null;
        do
        {
            var page = await ListPageAsync(path, options, next, cancellationToken);
            foreach (var item in page.Items)
            {
                yield return item;
            }

            next = page.Continue;
        }
        while (next is not null);
    }

    /// <summary>
    /// One watch request: the events the server streams until it ends the request. A watch <c>ERROR</c>
    /// event throws its <c>Status</c> as <see cref="ApiException"/> (410 Expired: <c>IsGone</c>).
    /// </summary>
    public async IAsyncEnumerable<WatchEvent> WatchOnceAsync(
        string path, string? resourceVersion, string? labelSelector, TimeSpan timeout, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var uri = path + Query(
            ("watch", "true"),
            ("allowWatchBookmarks", "true"),
            ("resourceVersion", resourceVersion),
            ("labelSelector", labelSelector),
            ("timeoutSeconds", ((int)Math.Ceiling(timeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture)));
        using var response = await OpenStreamAsync(uri, cancellationToken);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (!string.IsNullOrWhiteSpace(line))
            {
                yield return ParseWatchLine(line, path);
            }
        }
    }

    /// <summary>
    /// GET with the response headers read and the body left streaming; retried (429, 5xx, resets) only until
    /// the headers arrive. The caller owns the response.
    /// </summary>
    public Task<HttpResponseMessage> OpenStreamAsync(string pathAndQuery, CancellationToken cancellationToken) =>
        _rest.SendAsync(() => new HttpRequestMessage(HttpMethod.Get, pathAndQuery), cancellationToken, HttpCompletionOption.ResponseHeadersRead);

    public static string Query(params (string Name, string? Value)[] parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var present = parameters.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return present.Count == 0 ? "" : "?" + string.Join('&', present);
    }

    public static string Segment(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        return Uri.EscapeDataString(value);
    }

    internal static WatchEvent ParseWatchLine(string line, string path)
    {
        JsonObject? frame;
        try
        {
            frame = JsonNode.Parse(line) as JsonObject;
        }
        catch (JsonException e)
        {
            throw new IOException($"watch {path} sent a line that is not JSON: {e.Message}", e);
        }

        var type = frame?["type"]?.GetValue<string>();
        var obj = frame?["object"] as JsonObject ?? throw new IOException($"watch {path} sent an event without an object");
        return type switch
        {
            "ADDED" => new WatchEvent(WatchEventType.Added, obj),
            "MODIFIED" => new WatchEvent(WatchEventType.Modified, obj),
            "DELETED" => new WatchEvent(WatchEventType.Deleted, obj),
            "BOOKMARK" => new WatchEvent(WatchEventType.Bookmark, obj),
            "ERROR" => throw KubernetesErrors.FromStatus(obj, $"watch {path}"),
            _ => throw new IOException($"watch {path} sent an unknown event type '{type}'"),
        };
    }

    private async Task<JsonObject> SendAsync(HttpMethod method, string uri, JsonNode? body, CancellationToken cancellationToken, string contentType = "application/json")
    {
        var text = body?.ToJsonString();
        using var response = await _rest.SendAsync(() => Request(method, uri, text, contentType), cancellationToken);
        var node = await RestClient.ReadJsonAsync(response, cancellationToken);
        return node as JsonObject ?? throw new ApiException(HttpStatusCode.BadGateway, null, $"{method} {uri}: the server answered {response.StatusCode} without a JSON object");
    }

    private static HttpRequestMessage Request(HttpMethod method, string uri, string? body, string contentType)
    {
        var request = new HttpRequestMessage(method, uri);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue(contentType));
        }

        return request;
    }
}
