using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Kfci.Configuration;
using Kfci.Http;
using Kfci.Prow;
using Kfci.ProwConfig;
using Microsoft.Extensions.Logging;
using Octokit;
using Octokit.Internal;

namespace Kfci.Sources;

/// <summary>The rate-limit state GitHub last reported (<c>X-RateLimit-*</c>), for logs.</summary>
/// <param name="Limit">Requests allowed per window.</param>
/// <param name="Remaining">Requests left in this window.</param>
/// <param name="Reset">When the window resets.</param>
public sealed record GitHubRateLimit(int Limit, int Remaining, DateTimeOffset Reset);

/// <summary>
/// GitHub's rate limit (primary or secondary) forbids calls for longer than a call waits: transient (a <c>429</c>),
/// with <see cref="Http.ApiException.RetryAfter"/> saying how long GitHub asked kfci to stay away.
/// </summary>
public sealed class GitHubRateLimitException : Http.ApiException
{
    public GitHubRateLimitException(string message, TimeSpan retryAfter)
        : base(HttpStatusCode.TooManyRequests, "rate_limited", message, retryAfter)
    {
    }

    public GitHubRateLimitException()
        : this("GitHub rate limit exceeded", TimeSpan.FromMinutes(1))
    {
    }

    public GitHubRateLimitException(string message)
        : this(message, TimeSpan.FromMinutes(1))
    {
    }

    public GitHubRateLimitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public DateTimeOffset? Reset { get; init; }
}

/// <summary>Carries a <see cref="GitHubRateLimitException"/> out of the retry policy, which must not retry it.</summary>
internal sealed class GitHubRateLimitDeferral(GitHubRateLimitException limit) : Exception(limit.Message, limit)
{
    public GitHubRateLimitException Limit { get; } = limit;
}

/// <summary>
/// <see cref="IRepositorySource"/> over the GitHub REST API through Octokit: file contents at a commit (raw media
/// type), a branch's head, the files of a pull request or a commit (every page Octokit follows through <c>Link</c>).
/// Answers are remembered with their ETags (<see cref="GitHubResponseCache"/>), so repeated reads are <c>304</c>s that
/// cost no rate limit. A spent rate limit whose reset is near is waited for; a far one fails as transient. 5xx, 429,
/// resets and timeouts go through the shared <see cref="RetryPolicy"/>. Only the API origin is ever contacted
/// (<see cref="SameOriginHandler"/>); the token travels in the <c>Authorization</c> header only and is never logged.
/// </summary>
public sealed partial class GitHubSource : IRepositorySource, IDisposable
{
    /// <summary>GitHub lists at most this many files of a pull request or commit.</summary>
    public const int MaxListedFiles = 3000;

    private const int PageSize = 100;

    /// <summary>GitHub: after a secondary rate limit without Retry-After, "wait for at least one minute before retrying".</summary>
    private static readonly TimeSpan s_secondaryRateLimitWait = TimeSpan.FromMinutes(1);

    private readonly GitHubHttpAdapter _http;
    private readonly GitHubClient _client;
    private readonly ApiConnection _api;
    private readonly RetryPolicy _retry;
    private readonly TimeProvider _time;
    private readonly ILogger? _logger;

    /// <summary>Ticks (UTC) until which GitHub asked kfci to stay away; 0 when it did not. Shared by every event the instance serves.</summary>
    private long _blockedUntil;

    /// <param name="apiBase">The API root, e.g. <c>https://api.github.com/</c> (GitHub Enterprise: <c>https://HOST/api/v3/</c>).</param>
    /// <param name="token">A GitHub token, or null for anonymous reads (60 requests an hour).</param>
    /// <param name="retry">Retries for 5xx/429/timeouts; <see cref="RetryPolicy.Default"/> when null.</param>
    /// <param name="timeProvider">Clock for rate-limit resets.</param>
    /// <param name="logger">Where truncation and rate-limit waits are reported.</param>
    /// <param name="cacheEntries">How many conditional-request answers to remember.</param>
    /// <param name="handler">The innermost HTTP handler (tests); a pooled <see cref="SocketsHttpHandler"/> when null.</param>
    public GitHubSource(
        Uri apiBase, string? token, RetryPolicy? retry = null, TimeProvider? timeProvider = null, ILogger? logger = null, int cacheEntries = 512, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(apiBase);
        var root = apiBase.AbsoluteUri.EndsWith('/') ? apiBase : new Uri(apiBase.AbsoluteUri + "/");
        var credentials = string.IsNullOrWhiteSpace(token) ? Credentials.Anonymous : new Credentials(token.Trim(), AuthenticationType.Bearer);
        var http = _http = new GitHubHttpAdapter(() => new SameOriginHandler(root)
        {
            // Octokit follows redirects itself (dropping the token off-host); the handler must not do it behind its back.
            InnerHandler = handler ?? new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            },
        });
        var connection = new Connection(new ProductHeaderValue("kfci"), root, new InMemoryCredentialStore(credentials), http, new SimpleJsonSerializer())
        {
            ResponseCache = new GitHubResponseCache(cacheEntries),
        };
        _client = new GitHubClient(connection);
        _client.SetRequestTimeout(TimeSpan.FromSeconds(30));
        _api = new ApiConnection(connection);
        _retry = retry ?? RetryPolicy.Default;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger;
    }

    /// <summary>The longest wait for a rate-limit reset that a call sleeps through; beyond it the call fails as transient.</summary>
    public TimeSpan MaxRateLimitWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The rate-limit headers of the latest answer; null before the first.</summary>
    public GitHubRateLimit? LastRateLimit =>
        _client.GetLastApiInfo()?.RateLimit is { } rate ? new GitHubRateLimit(rate.Limit, rate.Remaining, rate.Reset) : null;

    /// <summary>From the environment: <c>KFCI_GITHUB_API_URL</c> (default <c>https://api.github.com/</c>) and <c>KFCI_GITHUB_TOKEN</c>.</summary>
    /// <exception cref="InvalidOperationException">The API URL is not https (http only on loopback).</exception>
    public static GitHubSource Create(Func<string, string?> getEnv, ILogger? logger = null, RetryPolicy? retry = null)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        var url = getEnv(KfciEnvironment.GitHubApiUrl) is { Length: > 0 } configured ? configured : "https://api.github.com/";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var apiBase) || (apiBase.Scheme != Uri.UriSchemeHttps && !(apiBase.Scheme == Uri.UriSchemeHttp && apiBase.IsLoopback)))
        {
            throw new InvalidOperationException($"{KfciEnvironment.GitHubApiUrl} must be an https URL (http only on loopback), not '{url}'");
        }

        return new GitHubSource(apiBase, getEnv(KfciEnvironment.GitHubToken), retry, null, logger);
    }

    /// <inheritdoc/>
    public async Task<byte[]?> ReadFileAsync(RepositoryName repository, string commitSha, string path, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(repository);
        RequireSha(commitSha, "commit sha");

        // Octokit puts the path into the URL as given: escaped here, so '?', '#' or '%' in a name stay part of it.
        var escaped = string.Join('/', WorkflowPath.Normalize(path).Split('/').Select(Uri.EscapeDataString));
        try
        {
            // Octokit answers null for a directory (GitHub lists it as JSON even when raw content is asked for).
            var bytes = await CallAsync(() => GitHubHttpAdapter.Limit(maxBytes, () => _client.Repository.Content.GetRawContentByRef(repository.Org, repository.Repo, escaped, commitSha)), cancellationToken);
            return bytes is { Length: var length } && length > maxBytes
                ? throw new SourceLimitException($"{repository}@{commitSha}:{path} is {length} bytes, more than the {maxBytes} kfci reads")
                : bytes;
        }
        catch (NotFoundException)
        {
            // 404 means "no such file" only if the repository and commit exist.
            await RequireCommitAsync(repository, commitSha, cancellationToken);
            return null;
        }
    }

    /// <inheritdoc/>
    public async Task<string> ResolveBranchAsync(RepositoryName repository, string branch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(repository);
        RequireBranch(branch);
        try
        {
            var found = await CallAsync(() => _client.Repository.Branch.Get(repository.Org, repository.Repo, branch), cancellationToken);
            return found.Commit?.Sha is { } sha && Sha().IsMatch(sha)
                ? sha
                : throw new InvalidDataException($"GitHub answered branch '{branch}' of {repository} without a commit sha");
        }
        catch (NotFoundException)
        {
            throw new SourceNotFoundException($"branch '{branch}' of {repository} not found on GitHub (or the repository is not visible to kfci's token)");
        }
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
            var pages = await ListAsync(() => _api.GetAll<GitHubCommit>(ApiUrls.RepositoryCommit(repository.Org, repository.Repo, sha), null, "application/vnd.github+json", Pages), $"commit {repository}@{sha}", cancellationToken);
            Add(changed, pages.SelectMany(c => c.Files ?? []).Select(f => ((string?)f.Filename, (string?)f.PreviousFileName)), $"commit {repository}@{sha}");
            return [.. changed];
        }

        var pulls = refs.Pulls is { Count: > 0 } p ? p : throw new ArgumentException($"a {job.Type.ToProwString()} job needs at least one pull");
        foreach (var pull in pulls)
        {
            var number = pull.Number > 0 ? pull.Number : throw new ArgumentException($"pull number {pull.Number} is not positive");
            var what = $"pull request {repository}#{number.ToString(CultureInfo.InvariantCulture)}";
            var files = await ListAsync(() => _client.PullRequest.Files(repository.Org, repository.Repo, number, Pages), what, cancellationToken);
            Add(changed, files.Select(f => ((string?)f.FileName, (string?)f.PreviousFileName)), what);
        }

        return [.. changed];
    }

    public void Dispose() => _http.Dispose();

    private static ApiOptions Pages => new() { PageSize = PageSize };

    private async Task<IReadOnlyList<T>> ListAsync<T>(Func<Task<IReadOnlyList<T>>> list, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await CallAsync(list, cancellationToken);
        }
        catch (Exception e) when (e is NotFoundException or ApiValidationException)
        {
            // GitHub answers 422 "No commit found for SHA" for a commit it does not have.
            throw new SourceNotFoundException($"{what} not found on GitHub");
        }
    }

    /// <summary>Every path a listed change touched: a rename also changes the directory it left (as <c>git diff --no-renames</c> says).</summary>
    private void Add(SortedSet<string> into, IEnumerable<(string? Path, string? PreviousPath)> files, string what)
    {
        var listed = 0;
        foreach (var (path, previous) in files)
        {
            listed++;
            foreach (var name in new[] { path, previous })
            {
                if (!string.IsNullOrEmpty(name))
                {
                    into.Add(name);
                }
            }
        }

        if (listed >= MaxListedFiles)
        {
            _logger?.LogWarning("GitHub lists at most {Max} files of {What}; changed files are truncated to the first {Listed}", MaxListedFiles, what, listed);
        }
    }

    private async Task RequireCommitAsync(RepositoryName repository, string sha, CancellationToken cancellationToken)
    {
        try
        {
            // The git data API answers a commit without its file list: the cheapest "does this commit exist".
            await CallAsync(() => _client.Git.Commit.Get(repository.Org, repository.Repo, sha), cancellationToken);
        }
        catch (Exception e) when (e is NotFoundException or ApiValidationException)
        {
            throw new SourceNotFoundException($"commit {sha} of {repository} not found on GitHub");
        }
    }

    /// <summary>One Octokit call through the retry policy, its failures translated into what the policy and callers understand.</summary>
    private async Task<T> CallAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        // A spent limit lasts until its reset for every event, not only the one that met it: asking again meanwhile only
        // spends GitHub's patience (it bans integrations that keep calling while limited).
        var blockedUntil = new DateTimeOffset(Interlocked.Read(ref _blockedUntil), TimeSpan.Zero);
        var now = _time.GetUtcNow();
        if (blockedUntil > now)
        {
            throw new GitHubRateLimitException($"GitHub rate limit: kfci was asked to wait until {blockedUntil:yyyy-MM-ddTHH:mm:ssZ} and does not call before", blockedUntil - now);
        }

        try
        {
            return await _retry.ExecuteAsync(
                async token =>
                {
                    try
                    {
                        // Octokit takes no cancellation token: stop waiting for it instead (its own request timeout ends the call).
                        return await call().WaitAsync(token);
                    }
                    catch (Octokit.ApiException e) when (Translate(e) is { } translated)
                    {
                        throw translated;
                    }
                },
                cancellationToken);
        }
        catch (GitHubRateLimitDeferral deferral)
        {
            if (deferral.Limit.RetryAfter is { } wait)
            {
                Interlocked.Exchange(ref _blockedUntil, (_time.GetUtcNow() + wait).UtcTicks);
            }

            // Asking again while rate limited is what GitHub warns gets an integration banned: the caller retries later.
            throw deferral.Limit;
        }
    }

    /// <summary>Rate limits and transient answers as kfci's exceptions; null for answers callers handle as Octokit's (404, 422).</summary>
    private Exception? Translate(Octokit.ApiException e)
    {
        var status = e.StatusCode;
        var headers = e.HttpResponse?.Headers;
        var retryAfter = Header(headers, "Retry-After") is { } after && int.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(seconds)
            : (TimeSpan?)null;
        var spent = Header(headers, "X-RateLimit-Remaining") == "0";
        var reset = Header(headers, "X-RateLimit-Reset") is { } epoch && long.TryParse(epoch, NumberStyles.None, CultureInfo.InvariantCulture, out var at)
            ? DateTimeOffset.FromUnixTimeSeconds(at)
            : (DateTimeOffset?)null;
        var secondary = e is SecondaryRateLimitExceededException or AbuseException
            || ((int)status is 403 or 429 && e.Message.Contains("secondary rate limit", StringComparison.OrdinalIgnoreCase));
        var primary = e is RateLimitExceededException || ((int)status is 403 or 429 && spent);
        if (!secondary && !primary)
        {
            return e is NotFoundException or ApiValidationException
                ? null
                : new Http.ApiException(status, null, $"GitHub answered {(int)status}: {OneLine(e.Message)}", retryAfter);
        }

        // GitHub's rules (REST API "rate limits"): Retry-After when it is sent; else, with no requests left, the reset
        // time; else, for a secondary limit, at least a minute.
        var wait = retryAfter
            ?? (spent || e is RateLimitExceededException ? (reset ?? (e as RateLimitExceededException)?.Reset ?? _time.GetUtcNow()) - _time.GetUtcNow() + TimeSpan.FromSeconds(1) : (TimeSpan?)null)
            ?? s_secondaryRateLimitWait;
        wait = wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        var which = secondary ? "secondary rate limit" : "rate limit";
        if (wait > MaxRateLimitWait)
        {
            var left = e is RateLimitExceededException limit ? $" ({limit.Remaining.ToString(CultureInfo.InvariantCulture)} of {limit.Limit.ToString(CultureInfo.InvariantCulture)} left)" : "";
            return new GitHubRateLimitDeferral(new GitHubRateLimitException(
                $"GitHub {which} exceeded{left}; GitHub asks kfci to wait {wait.TotalSeconds:0}s, longer than the {MaxRateLimitWait.TotalSeconds:0}s a call waits",
                wait)
            {
                Reset = reset,
            });
        }

        _logger?.LogWarning("GitHub {Which} hit; waiting {Wait} as GitHub asks", which, wait);
        return new Http.ApiException(HttpStatusCode.TooManyRequests, secondary ? "secondary_rate_limited" : "rate_limited", $"GitHub {which} exceeded", wait);
    }

    private static string? Header(IReadOnlyDictionary<string, string>? headers, string name) =>
        headers?.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

    private static string RequireSha(string? sha, string what) =>
        sha is not null && Sha().IsMatch(sha) ? sha : throw new ArgumentException($"{what} '{sha}' is not a hexadecimal commit sha");

    private static void RequireBranch(string branch)
    {
        if (!GitRefName.IsSafe(branch))
        {
            throw new ArgumentException($"'{branch}' is not a branch name");
        }
    }

    [GeneratedRegex(@"^[0-9a-fA-F]{7,64}\z")]
    private static partial Regex Sha();
}
