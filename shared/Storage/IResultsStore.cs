namespace Kfci.Storage;

/// <summary>
/// kfci's results bucket: the objects Prow's Spyglass, Gubernator and TestGrid read. Paths are object
/// names relative to the bucket (<c>logs/job/123/started.json</c>): non-empty, '/'-separated, no empty,
/// <c>.</c> or <c>..</c> segments, no leading '/'; an invalid path throws <see cref="ArgumentException"/>.
/// Implementations are thread-safe singletons. Transient service failures are retried inside; what
/// escapes is permanent (an <see cref="Http.ApiException"/> or <see cref="IOException"/>).
/// </summary>
public interface IResultsStore
{
    /// <summary>
    /// Writes <paramref name="content"/> (read from its current position to its end) as the object at
    /// <paramref name="path"/>, replacing any existing object unless <see cref="ObjectWriteOptions.CreateOnly"/>.
    /// The stream is never buffered whole; it is not disposed.
    /// </summary>
    /// <returns>
    /// The stored object; or null exactly when <see cref="ObjectWriteOptions.CreateOnly"/> was set and an
    /// object already existed at the path (that object is left untouched).
    /// </returns>
    Task<StoredObject?> WriteAsync(string path, Stream content, ObjectWriteOptions? options, CancellationToken cancellationToken);

    /// <summary>Opens the object's content for streaming; the caller disposes the stream. Null when there is no such object.</summary>
    Task<Stream?> OpenReadAsync(string path, CancellationToken cancellationToken);

    /// <summary>The object's metadata; null when there is no such object.</summary>
    Task<StoredObject?> GetAsync(string path, CancellationToken cancellationToken);

    /// <summary>
    /// Lists objects whose names start with <paramref name="prefix"/> (empty for all), in lexicographic
    /// order of name, with GCS semantics: with a <paramref name="delimiter"/>, names that contain it after
    /// the prefix are grouped into one <see cref="ResultsListEntry.IsPrefix"/> entry ending with the
    /// delimiter. Pages are fetched transparently as the caller enumerates.
    /// </summary>
    IAsyncEnumerable<ResultsListEntry> ListAsync(string prefix, string? delimiter, CancellationToken cancellationToken);

    /// <summary>Deletes the object. Returns false when there was none (not an error).</summary>
    Task<bool> DeleteAsync(string path, CancellationToken cancellationToken);

    /// <summary>Where the object lives, for messages and links: <c>gs://bucket/path</c> (a local directory names the bucket it stands in for). Does not validate.</summary>
    string Describe(string path);
}

/// <summary>How an object is written. Immutable; <see cref="Default"/> is an overwrite with no metadata.</summary>
public sealed record ObjectWriteOptions
{
    public static ObjectWriteOptions Default { get; } = new();

    /// <summary>Media type served with the object; <c>application/octet-stream</c> when null.</summary>
    public string? ContentType { get; init; }

    /// <summary><c>Cache-Control</c> served with the object (e.g. <c>no-cache</c> for files that change); none when null.</summary>
    public string? CacheControl { get; init; }

    /// <summary>Custom metadata (<c>x-goog-meta-*</c> in GCS), e.g. <c>link</c> for Spyglass log links.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>Write only if no object exists at the path (GCS <c>ifGenerationMatch=0</c>).</summary>
    public bool CreateOnly { get; init; }
}

/// <summary>An object's metadata as the store reports it.</summary>
/// <param name="Name">The object name (path relative to the bucket).</param>
/// <param name="Size">Length of the content in bytes.</param>
/// <param name="Generation">Changes on every write of the content; a rewrite never reuses one.</param>
/// <param name="ContentType">The media type; <c>application/octet-stream</c> when none was given.</param>
/// <param name="Metadata">Custom metadata; empty when none.</param>
/// <param name="Updated">When this generation was written.</param>
/// <param name="CacheControl">The stored <c>Cache-Control</c>, or null.</param>
public sealed record StoredObject(
    string Name,
    long Size,
    long Generation,
    string ContentType,
    IReadOnlyDictionary<string, string> Metadata,
    DateTimeOffset Updated,
    string? CacheControl);

/// <summary>One listing entry: an object, or a prefix grouping several names under a delimiter.</summary>
/// <param name="Name">The object name, or the prefix including its trailing delimiter.</param>
/// <param name="Item">The object's metadata; null for a prefix.</param>
public sealed record ResultsListEntry(string Name, StoredObject? Item)
{
    public bool IsPrefix => Item is null;
}
