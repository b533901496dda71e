namespace Kfci.Hosting;

/// <summary>
/// A CloudEvents 1.0 event as the host received it. <see cref="Data"/> is the raw payload; for a Pub/Sub
/// push envelope it is the envelope itself, which has the same shape as <see cref="MessagePublishedData"/>.
/// </summary>
public sealed record CloudEvent
{
    /// <summary>The only CloudEvents version the host accepts.</summary>
    public const string SpecVersion1 = "1.0";

    public required string Id { get; init; }

    public required string Source { get; init; }

    public required string Type { get; init; }

    public string SpecVersion { get; init; } = SpecVersion1;

    public DateTimeOffset? Time { get; init; }

    public string? Subject { get; init; }

    public string? DataContentType { get; init; }

    public ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>Extension attributes by lowercase name (binary-mode <c>ce-*</c> headers or extra structured members).</summary>
    public IReadOnlyDictionary<string, string> Extensions { get; init; } = new Dictionary<string, string>();
}
