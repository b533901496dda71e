using Microsoft.AspNetCore.Http;

namespace Kfci.Testing.Gcs;

/// <summary>
/// A failure the fake injects into the next <paramref name="count"/> requests that <paramref name="match"/>
/// accepts (all requests when null): an error <paramref name="status"/> with Google's error body, optionally
/// after a <see cref="Delay"/>; or, with <see cref="DropConnection"/>, a connection aborted while the request
/// body is still arriving. A <paramref name="status"/> of null with a delay injects latency only.
/// </summary>
public sealed class Fault(Func<HttpRequest, bool>? match = null, int? status = 503, int count = 1)
{
    private readonly int _count = count;
    private int _remaining = count;

    public Func<HttpRequest, bool> Match { get; } = match ?? (_ => true);

    public int? Status { get; } = status;

    public TimeSpan Delay { get; init; }

    /// <summary>Sent as <c>Retry-After</c> (whole seconds) with the status.</summary>
    public TimeSpan? RetryAfter { get; init; }

    public bool DropConnection { get; init; }

    /// <summary>The error message to answer with, where the fake would otherwise pick its own (GitHub's 403 is a secondary rate limit unless told).</summary>
    public string? Message { get; init; }

    /// <summary>How many requests this fault hit so far.</summary>
    public int Hits => _count - Math.Max(0, Volatile.Read(ref _remaining));

    public static Fault Latency(TimeSpan delay, Func<HttpRequest, bool>? match = null, int count = 1) =>
        new(match, status: null, count) { Delay = delay };

    public static Fault Drop(Func<HttpRequest, bool>? match = null, int count = 1) =>
        new(match, status: null, count) { DropConnection = true };

    internal bool TryTake(HttpRequest request)
    {
        if (Volatile.Read(ref _remaining) <= 0 || !Match(request))
        {
            return false;
        }

        return Interlocked.Decrement(ref _remaining) >= 0;
    }
}

/// <summary>The fake's pending faults; the first pending fault that matches a request applies to it.</summary>
public sealed class FaultQueue
{
    private readonly Lock _gate = new();
    private readonly List<Fault> _faults = [];

    public void Enqueue(Fault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        lock (_gate)
        {
            _faults.Add(fault);
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _faults.Clear();
        }
    }

    internal Fault? Take(HttpRequest request)
    {
        lock (_gate)
        {
            return _faults.FirstOrDefault(f => f.TryTake(request));
        }
    }
}

/// <summary>One request the fake saw, for assertions. <see cref="Status"/> is -1 when the connection was dropped.</summary>
/// <param name="Method">HTTP method.</param>
/// <param name="Path">The raw (still percent-encoded) path.</param>
/// <param name="Query">The raw query string without '?'.</param>
/// <param name="ContentRange">The <c>Content-Range</c> header, or null.</param>
/// <param name="ContentLength">The <c>Content-Length</c> header, or null.</param>
/// <param name="Status">The status answered.</param>
/// <param name="ObjectName">The object an upload request writes (its session's object for a chunk), when the fake knew it.</param>
public sealed record RecordedRequest(string Method, string Path, string Query, string? ContentRange, long? ContentLength, int Status, string? ObjectName = null)
{
    public bool IsChunk => Method == "PUT" && ContentRange is { } range && !range.StartsWith("bytes */", StringComparison.Ordinal);

    public bool IsStatusQuery => Method == "PUT" && ContentRange is { } range && range.StartsWith("bytes */", StringComparison.Ordinal);

    /// <summary>First byte offset of a chunk (<c>bytes a-b/t</c>), or null.</summary>
    public long? ChunkStart => IsChunk ? long.Parse(ContentRange!.AsSpan(6, ContentRange!.IndexOf('-', StringComparison.Ordinal) - 6), System.Globalization.CultureInfo.InvariantCulture) : null;
}
