using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Kfci.Testing.Gcs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kfci.Testing.GitHub;

/// <summary>A file a commit or pull request changed, as GitHub lists it.</summary>
/// <param name="Filename">The path after the change.</param>
/// <param name="Status">added, removed, modified, renamed...</param>
/// <param name="PreviousFilename">The path before a rename.</param>
public sealed record FakeFileChange(string Filename, string Status = "modified", string? PreviousFilename = null);

/// <summary>One repository of the fake: commits (full trees plus what they changed) and pull requests.</summary>
public sealed class FakeGitHubRepository
{
    internal ConcurrentDictionary<string, (IReadOnlyDictionary<string, byte[]> Tree, IReadOnlyList<FakeFileChange> Changes)> Commits { get; } = new(StringComparer.OrdinalIgnoreCase);

    internal ConcurrentDictionary<int, IReadOnlyList<FakeFileChange>> Pulls { get; } = new();

    /// <summary>Adds a commit with its whole tree (path → content) and the files it changed.</summary>
    public void AddCommit(string sha, IReadOnlyDictionary<string, byte[]> tree, IReadOnlyList<FakeFileChange>? changes = null) =>
        Commits[sha] = (tree, changes ?? []);

    public void AddPull(int number, IReadOnlyList<FakeFileChange> files) => Pulls[number] = files;

    internal ConcurrentDictionary<string, string> Branches { get; } = new(StringComparer.Ordinal);

    /// <summary>Points branch <paramref name="name"/> at commit <paramref name="sha"/> (moving it when it exists).</summary>
    public void SetBranch(string name, string sha) => Branches[name] = sha;

    internal ConcurrentDictionary<string, List<JsonObject>> CommitStatuses { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The statuses posted on a commit, oldest first: (context, state, description, target URL).</summary>
    public IReadOnlyList<(string Context, string State, string? Description, string? TargetUrl)> StatusesOf(string sha)
    {
        if (!CommitStatuses.TryGetValue(sha, out var list))
        {
            return [];
        }

        lock (list)
        {
            return list.Select(s => (s["context"]!.GetValue<string>(), s["state"]!.GetValue<string>(), s["description"]?.GetValue<string>(), s["target_url"]?.GetValue<string>())).ToList();
        }
    }
}

/// <summary>
/// A faithful loopback fake of the GitHub REST v3 subset kfci reads through Octokit: contents at a ref (raw or JSON
/// media type, directories as listings), <c>/branches/{branch}</c> (404 "Branch not found"), <c>/git/commits/{sha}</c>,
/// <c>/commits/{sha}</c> (JSON with paginated <c>files</c>, or the bare sha for the sha media
/// type; 422 for an unknown sha), <c>/pulls/{n}/files</c> (paginated, capped at 3000 like GitHub). Every 200 carries a
/// strong ETag; <c>If-None-Match</c> answers 304 without spending rate limit. Rate-limit headers on every answer; once
/// the limit is spent, 403 "API rate limit exceeded" until the reset. Faults as in <see cref="FakeGcsServer"/>.
/// </summary>
public sealed class FakeGitHubServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, FakeGitHubRepository> _repositories = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _gate = new();
    private readonly List<GitHubRequest> _requests = [];
    private int _remaining;
    private DateTimeOffset _reset;

    private FakeGitHubServer(WebApplication app)
    {
        _app = app;
        RateLimit = 5000;
        _remaining = RateLimit;
        _reset = DateTimeOffset.UtcNow.AddHours(1);
    }

    public Uri BaseAddress { get; private set; } = null!;

    public FaultQueue Faults { get; } = new();

    /// <summary>The scheme and host written into <c>Link</c> URLs (GitHub writes absolute ones); the fake's own when null.</summary>
    public Uri? LinkOrigin { get; set; }

    /// <summary>The rate limit per window (<c>X-RateLimit-Limit</c>).</summary>
    public int RateLimit { get; }

    /// <summary>What a spent primary rate limit answers: GitHub documents 403 or 429.</summary>
    public int PrimaryLimitStatus { get; set; } = 403;

    /// <summary>Requests left in this window.</summary>
    public int RateLimitRemaining
    {
        get
        {
            lock (_gate)
            {
                return _remaining;
            }
        }
    }

    /// <summary>Every request answered so far, in order of completion.</summary>
    public IReadOnlyList<GitHubRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    public static async Task<FakeGitHubServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new FakeGitHubServer(app);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        server.BaseAddress = new Uri(address.EndsWith('/') ? address : address + "/");
        return server;
    }

    public FakeGitHubRepository AddRepository(string org, string repo) => _repositories.GetOrAdd($"{org}/{repo}", _ => new FakeGitHubRepository());

    /// <summary>Spends the rate limit: every counted request answers 403 until <paramref name="resetIn"/> has passed.</summary>
    public void ExhaustRateLimit(TimeSpan resetIn)
    {
        lock (_gate)
        {
            _remaining = 0;
            _reset = DateTimeOffset.UtcNow + resetIn;
        }
    }

    public void ClearRequests()
    {
        lock (_gate)
        {
            _requests.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var status = -1;
        try
        {
            status = await AnswerAsync(context);
        }
        catch (Exception e) when (e is IOException or BadHttpRequestException or OperationCanceledException)
        {
            status = -1; // The client went away.
        }
        finally
        {
            Record(context.Request, status);
        }
    }

    private async Task<int> AnswerAsync(HttpContext context)
    {
        if (Faults.Take(context.Request) is { } fault)
        {
            if (fault.Delay > TimeSpan.Zero)
            {
                await Task.Delay(fault.Delay, context.RequestAborted);
            }

            if (fault.DropConnection)
            {
                context.Abort();
                return -1;
            }

            if (fault.Status is { } faultStatus)
            {
                if (fault.RetryAfter is { } after)
                {
                    context.Response.Headers.RetryAfter = ((int)Math.Ceiling(after.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                }

                if (fault.Message is { } message)
                {
                    return await ErrorAsync(context, faultStatus, message);
                }

                // GitHub answers a secondary rate limit with 403 or 429, its message, and the primary limit's headers.
                if (faultStatus is 403 or 429)
                {
                    WriteRateHeaders(context, count: false);
                    return await ErrorAsync(context, faultStatus, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.");
                }

                return await ErrorAsync(context, faultStatus, "Server Error");
            }
        }

        var (status, body, contentType, link) = await StatusesAsync(context) ?? Route(context);
        if (status == 200)
        {
            var etag = $"\"{Convert.ToHexStringLower(SHA256.HashData(body))[..32]}\"";
            context.Response.Headers.ETag = etag;
            if (context.Request.Headers.IfNoneMatch.Contains(etag))
            {
                // GitHub: a 304 to a conditional request does not count against the rate limit.
                WriteRateHeaders(context, count: false);
                context.Response.StatusCode = 304;
                return 304;
            }
        }

        if (!WriteRateHeaders(context, count: true))
        {
            return await ErrorAsync(context, PrimaryLimitStatus, "API rate limit exceeded for user. (But here's the good news: Authenticated requests get a higher rate limit.)");
        }

        if (link is not null)
        {
            context.Response.Headers.Link = link;
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
        return status;
    }

    /// <summary>Adds the X-RateLimit headers, spending one request when <paramref name="count"/>; false when none was left.</summary>
    private bool WriteRateHeaders(HttpContext context, bool count)
    {
        int remaining;
        DateTimeOffset reset;
        bool allowed;
        lock (_gate)
        {
            if (_reset <= DateTimeOffset.UtcNow)
            {
                _remaining = RateLimit;
                _reset = DateTimeOffset.UtcNow.AddHours(1);
            }

            allowed = !count || _remaining > 0;
            if (count && allowed)
            {
                _remaining--;
            }

            remaining = _remaining;
            reset = _reset;
        }

        var headers = context.Response.Headers;
        headers["X-RateLimit-Limit"] = RateLimit.ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Remaining"] = remaining.ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Reset"] = reset.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Resource"] = "core";
        return allowed;
    }

    private (int Status, byte[] Body, string ContentType, string? Link) Route(HttpContext context)
    {
        var raw = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        var split = raw.IndexOf('?', StringComparison.Ordinal);
        var query = split < 0 ? [] : QueryHelpers.ParseQuery(raw[split..]);
        var segments = (split < 0 ? raw : raw[..split]).Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        var accept = context.Request.Headers.Accept.ToString();
        var origin = (LinkOrigin ?? BaseAddress).GetLeftPart(UriPartial.Authority);
        if (context.Request.Method != "GET" || segments is not ["repos", var org, var name, ..] || !_repositories.TryGetValue($"{org}/{name}", out var repository))
        {
            return NotFound();
        }

        switch (segments[3..])
        {
            case ["contents", .. var pathParts] when query.TryGetValue("ref", out var reference):
                return Contents(repository, reference.ToString(), string.Join('/', pathParts), accept);
            case ["commits", var sha] when repository.Commits.TryGetValue(sha, out var commit):
                return accept.Contains("application/vnd.github.sha", StringComparison.Ordinal)
                    ? (200, Encoding.UTF8.GetBytes(sha), "application/vnd.github.sha; charset=utf-8", null)
                    : Page(origin + raw, query, commit.Changes, files => new JsonObject { ["sha"] = sha, ["files"] = files });
            case ["commits", var sha]:
                return Error(422, $"No commit found for SHA: {sha}");
            case ["pulls", var number, "files"] when int.TryParse(number, CultureInfo.InvariantCulture, out var n) && repository.Pulls.TryGetValue(n, out var files):
                return Page(origin + raw, query, files.Take(3000).ToList(), array => array);

            // Branch heads and bare commits (GitHub's git data API: no file list), as Octokit asks for them.
            case ["branches", .. var branchParts] when repository.Branches.TryGetValue(string.Join('/', branchParts), out var head):
                return Json(new JsonObject { ["name"] = string.Join('/', branchParts), ["commit"] = new JsonObject { ["sha"] = head }, ["protected"] = false });
            case ["branches", ..]:
                return Error(404, "Branch not found");
            case ["git", "commits", var sha] when repository.Commits.ContainsKey(sha):
                return Json(new JsonObject { ["sha"] = sha, ["message"] = "commit", ["parents"] = new JsonArray() });
            default:
                return NotFound();
        }
    }

    /// <summary>
    /// Commit statuses as GitHub serves them (and Octokit asks for them, under <c>/api/v3/</c> on a host that is not
    /// api.github.com): <c>POST /repos/{o}/{r}/statuses/{sha}</c> needs a token, a known commit, a state GitHub knows and
    /// a description of at most 140 characters (else 401/422), and answers 201 with the status; <c>GET
    /// /repos/{o}/{r}/commits/{ref}/statuses</c> lists them newest first, paginated; <c>GET /repos/{o}/{r}/commits/{ref}/status</c>
    /// is the combined status: the latest status of each context and their overall state. Null for any other request.
    /// </summary>
    private async Task<(int Status, byte[] Body, string ContentType, string? Link)?> StatusesAsync(HttpContext context)
    {
        var raw = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        var split = raw.IndexOf('?', StringComparison.Ordinal);
        var segments = (split < 0 ? raw : raw[..split]).Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        if (segments is ["api", "v3", .. var rest])
        {
            segments = rest;
        }

        if (segments is not ["repos", var org, var name, ..] || !_repositories.TryGetValue($"{org}/{name}", out var repository))
        {
            return null;
        }

        switch (context.Request.Method, segments[3..])
        {
            case ("POST", ["statuses", var sha]):
                if (string.IsNullOrEmpty(context.Request.Headers.Authorization.ToString()))
                {
                    return Error(401, "Requires authentication");
                }

                if (!repository.Commits.ContainsKey(sha))
                {
                    return Error(422, $"No commit found for SHA: {sha}");
                }

                JsonObject? request;
                try
                {
                    request = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
                }
                catch (System.Text.Json.JsonException)
                {
                    return Error(400, "Problems parsing JSON");
                }

                var state = request?["state"]?.GetValue<string>();
                var description = request?["description"]?.GetValue<string>();
                if (state is not ("error" or "failure" or "pending" or "success") || description is { Length: > 140 })
                {
                    return Error(422, "Validation Failed");
                }

                var statuses = repository.CommitStatuses.GetOrAdd(sha, _ => []);
                var statusContext = request!["context"]?.GetValue<string>() ?? "default";
                var now = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
                JsonObject created;
                lock (statuses)
                {
                    if (statuses.Count(s => s["context"]!.GetValue<string>() == statusContext) >= 1000)
                    {
                        return Error(422, "This SHA and context has reached the maximum number of statuses.");
                    }

                    var id = Interlocked.Increment(ref _statusIds);
                    created = new JsonObject
                    {
                        ["url"] = $"{BaseAddress}repos/{org}/{name}/statuses/{sha}",
                        ["id"] = id,
                        ["node_id"] = $"SC_{id}",
                        ["state"] = state,
                        ["description"] = description,
                        ["target_url"] = request["target_url"]?.GetValue<string>(),
                        ["context"] = statusContext,
                        ["created_at"] = now,
                        ["updated_at"] = now,
                        ["creator"] = new JsonObject { ["login"] = "kfci-bot", ["id"] = 1, ["type"] = "Bot" },
                    };
                    statuses.Add(created);
                }

                return (201, Encoding.UTF8.GetBytes(created.ToJsonString()), "application/json; charset=utf-8", null);
            case ("GET", ["commits", var reference, "statuses"]):
                var query = split < 0 ? [] : QueryHelpers.ParseQuery(raw[split..]);
                var perPage = Math.Clamp(Int(query, "per_page", 30), 1, 100);
                var page = Math.Max(1, Int(query, "page", 1));
                var all = repository.CommitStatuses.TryGetValue(reference, out var list) ? list : [];
                JsonArray items;
                lock (all)
                {
                    items = new JsonArray([.. Enumerable.Reverse(all).Skip((page - 1) * perPage).Take(perPage).Select(s => s.DeepClone())]);
                }

                return Json(items);
            case ("GET", ["commits", var reference, "status"]):
                return Json(CombinedStatus(repository, $"{org}/{name}", reference));
            default:
                return null;
        }
    }

    /// <summary>
    /// GitHub's combined status: the newest status of each context; the state is failure if any is error or failure,
    /// pending if any is pending or there is none, else success.
    /// </summary>
    private JsonObject CombinedStatus(FakeGitHubRepository repository, string fullName, string reference)
    {
        var all = repository.CommitStatuses.TryGetValue(reference, out var list) ? list : [];
        List<JsonNode> latest;
        lock (all)
        {
            latest = [.. Enumerable.Reverse(all).DistinctBy(s => s["context"]!.GetValue<string>()).Select(s => s.DeepClone())];
        }

        var states = latest.Select(s => s["state"]!.GetValue<string>()).ToList();
        var state = states.Any(s => s is "error" or "failure") ? "failure" : states.Count == 0 || states.Contains("pending") ? "pending" : "success";
        return new JsonObject
        {
            ["state"] = state,
            ["statuses"] = new JsonArray([.. latest]),
            ["sha"] = reference,
            ["total_count"] = latest.Count,
            ["repository"] = new JsonObject { ["id"] = 1, ["name"] = fullName.Split('/')[1], ["full_name"] = fullName },
            ["commit_url"] = $"{BaseAddress}repos/{fullName}/commits/{reference}",
            ["url"] = $"{BaseAddress}repos/{fullName}/commits/{reference}/status",
        };
    }

    private long _statusIds;

    private static (int, byte[], string, string?) Contents(FakeGitHubRepository repository, string reference, string path, string accept)
    {
        if (!repository.Commits.TryGetValue(reference, out var commit))
        {
            return Error(404, $"No commit found for the ref {reference}");
        }

        if (commit.Tree.TryGetValue(path, out var content))
        {
            // GitHub echoes the raw media type asked for (v3 or not), which is what Octokit recognises as a binary body.
            return accept.Contains("raw", StringComparison.Ordinal)
                ? (200, content, $"{(accept.Contains("v3.raw", StringComparison.Ordinal) ? "application/vnd.github.v3.raw" : "application/vnd.github.raw")}; charset=utf-8", null)
                : Json(new JsonObject { ["type"] = "file", ["path"] = path, ["size"] = content.Length, ["encoding"] = "base64", ["content"] = Convert.ToBase64String(content) });
        }

        var prefix = path + "/";
        var children = commit.Tree.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        return children.Count == 0
            ? NotFound()
            : Json(new JsonArray([.. children.Select(c => (JsonNode)new JsonObject { ["type"] = "file", ["path"] = c })]));
    }

    private static (int, byte[], string, string?) Page(
        string url, Dictionary<string, Microsoft.Extensions.Primitives.StringValues> query, IReadOnlyList<FakeFileChange> all, Func<JsonArray, JsonNode> wrap)
    {
        var perPage = Math.Clamp(Int(query, "per_page", 30), 1, 100);
        var page = Math.Max(1, Int(query, "page", 1));
        var items = all.Skip((page - 1) * perPage).Take(perPage).Select(f =>
        {
            var item = new JsonObject { ["filename"] = f.Filename, ["status"] = f.Status };
            if (f.PreviousFilename is not null)
            {
                item["previous_filename"] = f.PreviousFilename;
            }

            return (JsonNode)item;
        });
        var answer = Json(wrap(new JsonArray([.. items])));
        var pages = Math.Max(1, (all.Count + perPage - 1) / perPage);
        if (page >= pages)
        {
            return answer;
        }

        var path = url.Split('?')[0];
        string Url(int p) => $"<{path}?per_page={perPage}&page={p}>";
        return answer with { Item4 = $"{Url(page + 1)}; rel=\"next\", {Url(pages)}; rel=\"last\"" };
    }

    private static int Int(Dictionary<string, Microsoft.Extensions.Primitives.StringValues> query, string name, int fallback) =>
        query.TryGetValue(name, out var value) && int.TryParse(value.ToString(), CultureInfo.InvariantCulture, out var number) ? number : fallback;

    private static (int, byte[], string, string?) Json(JsonNode json) =>
        (200, Encoding.UTF8.GetBytes(json.ToJsonString()), "application/json; charset=utf-8", null);

    private static (int, byte[], string, string?) NotFound() => Error(404, "Not Found");

    private static (int, byte[], string, string?) Error(int status, string message) =>
        (status, Encoding.UTF8.GetBytes(new JsonObject { ["message"] = message, ["documentation_url"] = "https://docs.github.com/rest" }.ToJsonString()), "application/json; charset=utf-8", null);

    private static async Task<int> ErrorAsync(HttpContext context, int status, string message)
    {
        var (_, body, contentType, _) = Error(status, message);
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
        return status;
    }

    private void Record(HttpRequest request, int status)
    {
        var raw = request.HttpContext.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        var entry = new GitHubRequest(
            request.Method,
            raw,
            request.Headers.Authorization.ToString() is { Length: > 0 } auth ? auth : null,
            request.Headers.IfNoneMatch.ToString() is { Length: > 0 } etag ? etag : null,
            status)
        {
            UserAgent = request.Headers.UserAgent.ToString(),
            Accept = request.Headers.Accept.ToString(),
        };
        lock (_gate)
        {
            _requests.Add(entry);
        }
    }
}

/// <summary>One request the fake saw. <see cref="Status"/> is -1 when the connection was dropped.</summary>
/// <param name="Method">HTTP method.</param>
/// <param name="Target">The raw request target (path and query).</param>
/// <param name="Authorization">The Authorization header, or null.</param>
/// <param name="IfNoneMatch">The If-None-Match header, or null.</param>
/// <param name="Status">The status answered.</param>
public sealed record GitHubRequest(string Method, string Target, string? Authorization, string? IfNoneMatch, int Status)
{
    /// <summary>The client's User-Agent and Accept headers as sent.</summary>
    public string UserAgent { get; init; } = "";

    public string Accept { get; init; } = "";
}
