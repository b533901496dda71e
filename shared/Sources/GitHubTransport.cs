using System.Net;
using Octokit;
using Octokit.Caching;
using Octokit.Internal;

namespace Kfci.Sources;

/// <summary>
/// Octokit's HTTP client with the two guarantees kfci needs from anything reading a repository a pull request controls:
/// every answer is read with a byte limit (the caller's, set with <see cref="Limit"/>), and it is buffered, so
/// <see cref="GitHubResponseCache"/> can replay it on a <c>304</c> (Octokit hands raw file contents over as a live
/// network stream otherwise, which a cache cannot keep).
/// </summary>
internal sealed class GitHubHttpAdapter(Func<HttpMessageHandler> handler) : HttpClientAdapter(handler)
{
    /// <summary>Any one answer kfci reads from GitHub: a list page or a file far larger than kfci's own file limits.</summary>
    public const long DefaultMaxBytes = 16L << 20;

    private static readonly AsyncLocal<long?> s_limit = new();

    /// <summary>Reads within <paramref name="action"/> fail with <see cref="SourceLimitException"/> beyond <paramref name="maxBytes"/>.</summary>
    public static async Task<T> Limit<T>(long maxBytes, Func<Task<T>> action)
    {
        // An async method restores the caller's AsyncLocal values when it returns, so the limit never leaks.
        s_limit.Value = maxBytes;
        return await action();
    }

    protected override async Task<IResponse> BuildResponse(HttpResponseMessage responseMessage, Func<object, object> preprocessResponseBody)
    {
        ArgumentNullException.ThrowIfNull(responseMessage);
        var limit = s_limit.Value ?? DefaultMaxBytes;
        var path = responseMessage.RequestMessage?.RequestUri?.AbsolutePath ?? "(unknown)";
        if (responseMessage.Content is { } content)
        {
            if (content.Headers.ContentLength > limit)
            {
                throw new SourceLimitException($"GitHub's answer for {path} is {content.Headers.ContentLength} bytes, more than the {limit} kfci reads");
            }

            var body = await GitProcess.ReadBoundedAsync(await content.ReadAsStreamAsync(), limit, CancellationToken.None)
                ?? throw new SourceLimitException($"GitHub's answer for {path} is more than the {limit} bytes kfci reads");
            var buffered = new ByteArrayContent(body);
            foreach (var header in content.Headers)
            {
                buffered.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            content.Dispose();
            responseMessage.Content = buffered;
        }

        return await base.BuildResponse(responseMessage, preprocessResponseBody);
    }
}

/// <summary>
/// Refuses every request outside the configured API origin before it leaves the machine, so the token in its
/// <c>Authorization</c> header never reaches another host, whatever a <c>Link</c> header or a redirect names.
/// </summary>
internal sealed class SameOriginHandler(Uri apiBase) : DelegatingHandler
{
    private readonly string _origin = apiBase.GetLeftPart(UriPartial.Authority);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var target = request.RequestUri?.GetLeftPart(UriPartial.Authority);
        return string.Equals(target, _origin, StringComparison.OrdinalIgnoreCase)
            ? base.SendAsync(request, cancellationToken)
            : throw new InvalidDataException($"GitHub pointed to {target}, outside {_origin}; kfci does not follow it");
    }
}

/// <summary>
/// Octokit's conditional-request memory (<see cref="IResponseCache"/>): the last answer per URL and media type, least
/// recently used dropped first, bounded in entries and in bytes (a big answer is simply not remembered). A <c>304</c>
/// to a request carrying a remembered ETag costs no rate limit.
/// </summary>
internal sealed class GitHubResponseCache(int capacity) : IResponseCache
{
    private const long MaxBytes = 64L << 20;
    private const long MaxEntryBytes = 4L << 20;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<(string Key, CachedResponse.V1 Value, long Bytes)>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, CachedResponse.V1 Value, long Bytes)> _order = new();
    private long _bytes;

    public Task<CachedResponse.V1> GetAsync(IRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (_gate)
        {
            if (!_entries.TryGetValue(Key(request), out var node))
            {
                return Task.FromResult<CachedResponse.V1>(null!);
            }

            _order.Remove(node);
            _order.AddFirst(node);
            return Task.FromResult(node.Value.Value);
        }
    }

    public Task SetAsync(IRequest request, CachedResponse.V1 cachedResponse)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(cachedResponse);
        var bytes = cachedResponse.Body switch
        {
            string text => text.Length * 2L,
            MemoryStream stream => stream.Length,
            _ => long.MaxValue, // A body that cannot be replayed is not remembered.
        };
        if (capacity <= 0 || bytes > MaxEntryBytes || cachedResponse.StatusCode != HttpStatusCode.OK)
        {
            return Task.CompletedTask;
        }

        var key = Key(request);
        lock (_gate)
        {
            if (_entries.Remove(key, out var old))
            {
                _order.Remove(old);
                _bytes -= old.Value.Bytes;
            }

            _entries[key] = _order.AddFirst((key, cachedResponse, bytes));
            _bytes += bytes;
            while (_entries.Count > capacity || _bytes > MaxBytes)
            {
                var last = _order.Last!.Value;
                _entries.Remove(last.Key);
                _order.RemoveLast();
                _bytes -= last.Bytes;
            }
        }

        return Task.CompletedTask;
    }

    private static string Key(IRequest request) =>
        $"{request.Headers.GetValueOrDefault("Accept")} {new Uri(request.BaseAddress, request.Endpoint).AbsoluteUri}";
}
