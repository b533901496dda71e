using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kfci.Configuration;
using Kfci.Http;
using Kfci.Prow;
using Kfci.ProwConfig;
using Microsoft.Extensions.Logging;

namespace Kfci.Sources;

/// <summary>The rate-limit state GitHub last reported (<c>X-RateLimit-*</c>), for logs.</summary>
/// <param name="Limit">Requests allowed per window.</param>
/// <param name="Remaining">Requests left in this window.</param>
/// <param name="Reset">When the window resets.</param>
/// <param name="Resource">Which limit (<c>core</c>, <c>search</c>...).</param>
public sealed record GitHubRateLimit(int? Limit, int? Remaining, DateTimeOffset? Reset, string? Resource);

/// <summary>GitHub's rate limit is spent until a reset too far away to wait for: try again later (transient).</summary>
public sealed class GitHubRateLimitException : Exception
{
    public GitHubRateLimitException()
    {
    }

    public GitHubRateLimitException(string message)
        : base(message)
    {
    }

    public GitHubRateLimitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public DateTimeOffset? Reset { get; init; }
}

/// <summary>
/// <see cref="IRepositorySource"/> over the GitHub REST API v3: file contents at a commit (raw media type), PR files
/// and commit files (paginated through <c>Link</c>). Every GET is conditional (<c>If-None-Match</c> with a remembered
/// ETag), so repeated reads answer from a bounded cache with <c>304</c>s that cost no rate limit. Rate limits are
/// read from every answer; a short wait for a reset is slept through, a long one fails as transient. 5xx, 429 and
/// timeouts go through the shared <see cref="RetryPolicy"/>. The token is sent as a bearer header and never appears
/// in a log line or exception message.
/// </summary>
public sealed partial class GitHubSource : IRepositorySource, IDisposable
{
    /// <summary>GitHub lists at most this many files of a pull request or commit.</summary>
    public const int MaxListedFiles = 3000;

    private const string RawMediaType = "application/vnd.github.raw+json";
    private const string JsonMediaType = "application/vnd.github+json";
    private const long MaxListPageBytes = 16L << 20;

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly Uri _apiBase;
    private readonly string? _token;
    private readonly RetryPolicy _retry;
    private readonly TimeProvider _time;
    private readonly ILogger? _logger;
    private readonly EtagCache _cache;
    private GitHubRateLimit? _lastRateLimit;

    /// <param name="http">The client; its handler is not shared with anything that logs headers.</param>
    /// <param name="apiBase">The API root, e.g. <c>https://api.github.com/</c>.</param>
    /// <param name="token">A GitHub token, or null for anonymous reads (60 requests an hour).</param>
    /// <param name="retry">Retries for 5xx/429/timeouts; <see cref="RetryPolicy.Default"/> when null.</param>
    /// <param name="timeProvider">Clock for rate-limit resets and waits.</param>
    /// <param name="logger">Where truncation and rate-limit waits are reported.</param>
    /// <param name="cacheEntries">How many conditional-request answers to remember.</param>
    public GitHubSource(
        HttpClient http, Uri apiBase, string? token, RetryPolicy? retry = null, TimeProvider? timeProvider = null, ILogger? logger = null, int cacheEntries = 512)
        : this(http, ownsHttp: false, apiBase, token, retry, timeProvider, logger, cacheEntries)
    {
    }

    private GitHubSource(HttpClient http, bool ownsHttp, Uri apiBase, string? token, RetryPolicy? retry, TimeProvider? timeProvider, ILogger? logger, int cacheEntries)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(apiBase);
        _http = http;
        _ownsHttp = ownsHttp;
        _apiBase = apiBase.AbsoluteUri.EndsWith('/') ? apiBase : new Uri(apiBase.AbsoluteUri + "/");
        _token = string.IsNullOrWhiteSpace(token) ? null : token.Trim();
        _retry = retry ?? RetryPolicy.Default;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger;
        _cache = new EtagCache(cacheEntries);
    }

    /// <summary>The longest wait for a rate-limit reset that a call sleeps through; beyond it the call fails as transient.</summary>
    public TimeSpan MaxRateLimitWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The rate-limit headers of the latest answer; null before the first.</summary>
    public GitHubRateLimit? LastRateLimit => Volatile.Read(ref _lastRateLimit);

    /// <summary>From the environment: <c>KFCI_GITHUB_API_URL</c> (default <c>https://api.github.com/</c>) and <c>KFCI_GITHUB_TOKEN</c>.</summary>
    public static GitHubSource Create(Func<string, string?> getEnv, ILogger? logger = null, RetryPolicy? retry = null)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        var url = getEnv(KfciEnvironment.GitHubApiUrl) is { Length: > 0 } configured ? configured : "https://api.github.com/";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var apiBase) || (apiBase.Scheme != Uri.UriSchemeHttps && !(apiBase.Scheme == Uri.UriSchemeHttp && apiBase.IsLoopback)))
        {
            throw new InvalidOperationException($"{KfciEnvironment.GitHubApiUrl} must be an https URL (http only on loopback), not '{url}'");
        }

        var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
        return new GitHubSource(http, ownsHttp: true, apiBase, getEnv(KfciEnvironment.GitHubToken), retry, null, logger, 512);
    }

    /// <inheritdoc/>
    public async Task<byte[]?> ReadFileAsync(RepositoryName repository, string commitSha, string path, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(repository);
        RequireSha(commitSha, "commit sha");
        var normalized = WorkflowPath.Normalize(path);
        var escaped = string.Join('/', normalized.Split('/').Select(Uri.EscapeDataString));
        var answer = await GetAsync($"{RepoPath(repository)}/contents/{escaped}?ref={commitSha}", RawMediaType, maxBytes, cancellationToken);
        if (answer is null)
        {
            // 404 means "no such file" only if the repository and commit exist.
            await RequireCommitAsync(repository, commitSha, cancellationToken);
            return null;
        }

        // For a directory GitHub answers its listing as JSON even when raw content was asked for.
        return answer.MediaType == "application/json" && answer.Body is [(byte)'[', ..] ? null : answer.Body;
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<string>> ChangedFilesAsync(ProwJobSpec job, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.Type == JobType.Periodic)
        {
            return [];
        }

        var refs = job.Refs ?? throw new ArgumentException($"a {job.Type.ToProwString()} job needs refs");
        var repository = new RepositoryName(refs.Org, refs.Repo);
        var changed = new SortedSet<string>(StringComparer.Ordinal);
        if (job.Type == JobType.Postsubmit)
        {
            var sha = RequireSha(refs.BaseSha, "postsubmit base_sha");
            await ListFilesAsync($"{RepoPath(repository)}/commits/{sha}?per_page=100", "files", changed, $"commit {repository}@{sha}", cancellationToken);
            return [.. changed];
        }

        var pulls = refs.Pulls is { Count: > 0 } p ? p : throw new ArgumentException($"a {job.Type.ToProwString()} job needs at least one pull");
        foreach (var pull in pulls)
        {
            var number = pull.Number > 0 ? pull.Number.ToString(CultureInfo.InvariantCulture) : throw new ArgumentException($"pull number {pull.Number} is not positive");
            await ListFilesAsync($"{RepoPath(repository)}/pulls/{number}/files?per_page=100", null, changed, $"pull request {repository}#{number}", cancellationToken);
        }

        return [.. changed];
    }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    /// <summary>Walks a paginated file list (<paramref name="arrayProperty"/> of an object, or the array itself) through <c>Link: rel="next"</c>.</summary>
    private async Task ListFilesAsync(string firstPage, string? arrayProperty, SortedSet<string> into, string what, CancellationToken cancellationToken)
    {
        var url = firstPage;
        var listed = 0;
        while (url is not null)
        {
            var page = await GetAsync(url, JsonMediaType, MaxListPageBytes, cancellationToken)
                ?? throw new SourceNotFoundException($"{what} not found on GitHub");
            using var doc = JsonDocument.Parse(page.Body);
            var files = arrayProperty is null ? doc.RootElement : doc.RootElement.TryGetProperty(arrayProperty, out var a) ? a : default;
            if (files.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException($"GitHub answered {what} with no file list");
            }

            foreach (var file in files.EnumerateArray())
            {
                listed++;
                AddPath(into, file, "filename");

                // A rename also changes the directory it left (as `git diff --no-renames` would say).
                AddPath(into, file, "previous_filename");
            }

            url = page.Next;
        }

        if (listed >= MaxListedFiles)
        {
            _logger?.LogWarning("GitHub lists at most {Max} files of {What}; changed files are truncated to the first {Listed}", MaxListedFiles, what, listed);
        }
    }

    private static void AddPath(SortedSet<string> into, JsonElement file, string property)
    {
        if (file.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } path)
        {
            into.Add(path);
        }
    }

    private async Task RequireCommitAsync(RepositoryName repository, string sha, CancellationToken cancellationToken)
    {
        // The sha media type answers just the sha: the cheapest "does this commit exist".
        if (await GetAsync($"{RepoPath(repository)}/commits/{sha}", "application/vnd.github.sha", 4096, cancellationToken) is null)
        {
            throw new SourceNotFoundException($"commit {sha} of {repository} not found on GitHub");
        }
    }

    /// <summary>A GET through the cache, retries and rate limiting; null for 404 (and 422, GitHub's "no commit found for SHA").</summary>
    private async Task<Answer?> GetAsync(string relative, string accept, long maxBytes, CancellationToken cancellationToken)
    {
        var uri = new Uri(_apiBase, relative);
        if (!SameOrigin(uri))
        {
            // Link headers are followed: never send the token to another host.
            throw new InvalidDataException($"GitHub pointed to {uri.GetLeftPart(UriPartial.Authority)}, outside {_apiBase.GetLeftPart(UriPartial.Authority)}");
        }

        var key = $"{accept} {uri.AbsoluteUri}";
        return await _retry.ExecuteAsync(token => new ValueTask<Answer?>(SendOnceAsync(uri, key, accept, maxBytes, token)), cancellationToken);
    }

    private async Task<Answer?> SendOnceAsync(Uri uri, string key, string accept, long maxBytes, CancellationToken cancellationToken)
    {
        var cached = _cache.Get(key);
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Accept.ParseAdd(accept);
        request.Headers.UserAgent.ParseAdd("kfci");
        request.Headers.Add("X-GitHub-Api-Version", "2022-11-28");
        if (_token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        }

        if (cached is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", cached.ETag);
        }

        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var rate = ReadRateLimit(response);
        if (response.StatusCode == HttpStatusCode.NotModified && cached is not null)
        {
            return cached.Answer;
        }

        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.UnprocessableEntity)
        {
            return null;
        }

        if (!response.IsSuccessStatusCode)
        {
            throw await FailureAsync(response, rate, cancellationToken);
        }

        if (response.Content.Headers.ContentLength > maxBytes)
        {
            throw new SourceLimitException($"{uri.AbsolutePath} is {response.Content.Headers.ContentLength} bytes, more than the {maxBytes} kfci reads");
        }

        var body = await GitProcess.ReadBoundedAsync(await response.Content.ReadAsStreamAsync(cancellationToken), maxBytes, cancellationToken)
            ?? throw new SourceLimitException($"{uri.AbsolutePath} is more than the {maxBytes} bytes kfci reads");
        var answer = new Answer(body, response.Content.Headers.ContentType?.MediaType, NextLink(response));
        if (response.Headers.ETag is { } etag)
        {
            _cache.Put(key, new CachedAnswer(etag.ToString(), answer));
        }

        return answer;
    }

    private async Task<Exception> FailureAsync(HttpResponseMessage response, GitHubRateLimit rate, CancellationToken cancellationToken)
    {
        var error = await ApiErrors.ReadAsync(response, cancellationToken);
        var retryAfter = response.Headers.RetryAfter?.Delta;
        var rateLimited = response.StatusCode == HttpStatusCode.TooManyRequests
            || (response.StatusCode == HttpStatusCode.Forbidden
                && (rate.Remaining == 0 || retryAfter is not null || error.Message.Contains("rate limit", StringComparison.OrdinalIgnoreCase)));
        if (!rateLimited)
        {
            return error;
        }

        var wait = retryAfter ?? (rate.Reset is { } reset ? reset - _time.GetUtcNow() + TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(1));
        if (wait < TimeSpan.Zero)
        {
            wait = TimeSpan.Zero;
        }

        if (wait <= MaxRateLimitWait)
        {
            _logger?.LogWarning("GitHub rate limit hit ({Remaining} left); waiting {Wait} for the reset", rate.Remaining, wait);
            return new ApiException(HttpStatusCode.TooManyRequests, "rate_limited", "GitHub rate limit exceeded", wait);
        }

        return new GitHubRateLimitException(
            $"GitHub rate limit exceeded ({rate.Remaining?.ToString(CultureInfo.InvariantCulture) ?? "?"} of {rate.Limit?.ToString(CultureInfo.InvariantCulture) ?? "?"} left); resets in {wait.TotalSeconds:0}s, longer than the {MaxRateLimitWait.TotalSeconds:0}s kfci waits")
        {
            Reset = rate.Reset,
        };
    }

    private GitHubRateLimit ReadRateLimit(HttpResponseMessage response)
    {
        var rate = new GitHubRateLimit(
            Header(response, "X-RateLimit-Limit"),
            Header(response, "X-RateLimit-Remaining"),
            Header(response, "X-RateLimit-Reset") is { } epoch ? DateTimeOffset.FromUnixTimeSeconds(epoch) : null,
            response.Headers.TryGetValues("X-RateLimit-Resource", out var resource) ? resource.FirstOrDefault() : null);
        if (rate.Remaining is not null)
        {
            Volatile.Write(ref _lastRateLimit, rate);
        }

        return rate;
    }

    private static int? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values)
        && long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
        && value <= int.MaxValue
            ? (int)value
            : null;

    private static string? NextLink(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var values))
        {
            return null;
        }

        foreach (Match link in LinkEntry().Matches(string.Join(',', values)))
        {
            if (link.Groups["rel"].Value.Split(' ').Contains("next", StringComparer.Ordinal))
            {
                return link.Groups["url"].Value;
            }
        }

        return null;
    }

    private bool SameOrigin(Uri uri) =>
        Uri.Compare(uri, _apiBase, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    private static string RepoPath(RepositoryName repository) => $"repos/{repository.Org}/{repository.Repo}";

    private static string RequireSha(string? sha, string what) =>
        sha is not null && Sha().IsMatch(sha) ? sha : throw new ArgumentException($"{what} '{sha}' is not a hexadecimal commit sha");

    [GeneratedRegex(@"^[0-9a-fA-F]{7,64}\z")]
    private static partial Regex Sha();

    [GeneratedRegex("<(?<url>[^>]*)>\\s*;\\s*rel=\"(?<rel>[^\"]*)\"")]
    private static partial Regex LinkEntry();

    private sealed record Answer(byte[] Body, string? MediaType, string? Next);

    private sealed record CachedAnswer(string ETag, Answer Answer);

    /// <summary>
    /// Conditional-request memory: ETag and body per URL, least recently used dropped first, bounded in entries and
    /// in bytes (a big body is simply not remembered).
    /// </summary>
    private sealed class EtagCache(int capacity)
    {
        private const long MaxBytes = 64L << 20;
        private const long MaxEntryBytes = 4L << 20;

        private readonly Lock _gate = new();
        private readonly Dictionary<string, LinkedListNode<(string Key, CachedAnswer Value)>> _entries = new(StringComparer.Ordinal);
        private readonly LinkedList<(string Key, CachedAnswer Value)> _order = new();
        private long _bytes;

        public CachedAnswer? Get(string key)
        {
            lock (_gate)
            {
                if (!_entries.TryGetValue(key, out var node))
                {
                    return null;
                }

                _order.Remove(node);
                _order.AddFirst(node);
                return node.Value.Value;
            }
        }

        public void Put(string key, CachedAnswer value)
        {
            if (capacity <= 0 || value.Answer.Body.Length > MaxEntryBytes)
            {
                return;
            }

            lock (_gate)
            {
                if (_entries.Remove(key, out var old))
                {
                    _order.Remove(old);
                    _bytes -= old.Value.Value.Answer.Body.Length;
                }

                _entries[key] = _order.AddFirst((key, value));
                _bytes += value.Answer.Body.Length;
                while (_entries.Count > capacity || _bytes > MaxBytes)
                {
                    var last = _order.Last!.Value;
                    _entries.Remove(last.Key);
                    _order.RemoveLast();
                    _bytes -= last.Value.Answer.Body.Length;
                }
            }
        }
    }
}
