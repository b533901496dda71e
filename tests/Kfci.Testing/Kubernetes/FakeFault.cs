using Microsoft.AspNetCore.Http;

namespace Kfci.Testing.Kubernetes;

/// <summary>
/// A failure the fake injects into the next <see cref="Times"/> requests that match: a status answer (with a
/// proper <c>Status</c> body and optional <c>Retry-After</c>), a delay before the normal answer, a dropped
/// connection, or an empty 200. Null match fields match everything.
/// </summary>
public sealed class FakeFault
{
    private int _claims;

    public string? Method { get; init; }

    /// <summary>Matches when the request path contains this text (e.g. <c>/workflows</c>).</summary>
    public string? PathContains { get; init; }

    /// <summary>Any further condition, e.g. <c>r =&gt; r.Query["watch"] == "true"</c>.</summary>
    public Func<HttpRequest, bool>? When { get; init; }

    public int Times { get; init; } = 1;

    /// <summary>Answer with this code instead of serving the request; null serves it (after <see cref="Latency"/>).</summary>
    public int? StatusCode { get; init; }

    public TimeSpan? RetryAfter { get; init; }

    public TimeSpan Latency { get; init; }

    public bool DropConnection { get; init; }

    /// <summary>Answer 200 with an empty body, as a server (or proxy) that ends a watch before its first event.</summary>
    public bool EmptyBody { get; init; }

    /// <summary>How many requests this fault has hit so far.</summary>
    public int Hits => Math.Min(Volatile.Read(ref _claims), Times);

    internal bool TryClaim(HttpRequest request)
    {
        if ((Method is not null && !HttpMethods.Equals(Method, request.Method))
            || (PathContains is not null && !request.Path.Value!.Contains(PathContains, StringComparison.Ordinal))
            || (When is not null && !When(request)))
        {
            return false;
        }

        return Interlocked.Increment(ref _claims) <= Times;
    }
}
