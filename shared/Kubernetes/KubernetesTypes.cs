using System.Text.Json.Nodes;

namespace Kfci.Kubernetes;

/// <summary>What to list. Immutable; <see cref="PageSize"/> is the <c>limit</c> of each page request.</summary>
public sealed record ListOptions
{
    public static ListOptions All { get; } = new();

    /// <summary>A label selector (<c>a=b,c!=d,e in (x,y),!f</c>); null lists everything.</summary>
    public string? LabelSelector { get; init; }

    /// <summary>A field selector (<c>involvedObject.name=x</c>); null lists everything.</summary>
    public string? FieldSelector { get; init; }

    public int PageSize { get; init; } = 500;

    /// <summary>
    /// With <see cref="ResourceVersionMatch"/>: <c>NotOlderThan</c> (at least this fresh) or <c>Exact</c> (the state
    /// at this version, 410 once compacted). Null reads the latest state. Sent with the first page only.
    /// </summary>
    public string? ResourceVersion { get; init; }

    public string? ResourceVersionMatch { get; init; }
}

/// <summary>One page of a list: its items, the snapshot's resourceVersion, and the token for the next page (null on the last).</summary>
public sealed record ListPage(IReadOnlyList<JsonObject> Items, string ResourceVersion, string? Continue)
{
    /// <summary>The first page of a list that started over because its continue token expired (410): earlier pages are void.</summary>
    public bool IsRestart { get; init; }
}

public enum WatchEventType
{
    Added,
    Modified,
    Deleted,
    Bookmark,
}

/// <summary>
/// A change to an object. <see cref="IsSynthetic"/> marks events the client made up from a (re-)list rather
/// than received from the server: the object's current state, which may fold several server-side changes.
/// </summary>
public sealed record WatchEvent(WatchEventType Type, JsonObject Resource, bool IsSynthetic = false)
{
    public string? ResourceVersion => Resource.ResourceVersion;
}

/// <summary>Where a watch starts and how it behaves. Immutable.</summary>
public sealed record WatchOptions
{
    /// <summary>
    /// Continue after this resourceVersion. Null starts with a list: every existing object arrives first as
    /// a synthetic <see cref="WatchEventType.Added"/>.
    /// </summary>
    public string? ResourceVersion { get; init; }

    public string? LabelSelector { get; init; }

    /// <summary>Each watch request asks the server to end it after this long; the watch then resumes from the last resourceVersion.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Pause before reconnecting after a dropped stream or a failed re-list, doubled on each further failure up to
    /// <see cref="MaxReconnectDelay"/>, so a flapping server is not hammered; the watch itself never gives up.
    /// </summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The <c>limit</c> of each page when the watch (re-)lists.</summary>
    public int ListPageSize { get; init; } = ListOptions.All.PageSize;
}

/// <summary>Which part of a pod's log to read. Null fields use the server's defaults (the only container, the whole log).</summary>
public sealed record PodLogOptions
{
    public static PodLogOptions Whole { get; } = new();

    public string? Container { get; init; }

    public int? TailLines { get; init; }

    public long? LimitBytes { get; init; }

    /// <summary>The log of the previous, terminated instance of the container.</summary>
    public bool Previous { get; init; }
}
