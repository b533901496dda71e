using System.Net;
using System.Runtime.CompilerServices;
using Google.Apis.Upload;
using Google.Cloud.Storage.V1;
using Kfci.Configuration;
using Kfci.Http;
using Kfci.IO;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using GcsObject = Google.Apis.Storage.v1.Data.Object;

namespace Kfci.Storage;

/// <summary>How <see cref="GcsResultsStore"/> uploads and lists. Immutable; start from <see cref="Default"/>.</summary>
public sealed record GcsUploadOptions
{
    /// <summary>GCS requires every chunk of a resumable upload but the last to be a multiple of this.</summary>
    public const int ChunkGranularity = UploadObjectOptions.MinimumChunkSize;

    public static GcsUploadOptions Default { get; } = new();

    /// <summary>
    /// Bytes per resumable-upload chunk: the client holds about one chunk of a stream in memory at a time.
    /// A positive multiple of 256 KiB.
    /// </summary>
    public int ChunkSize { get; init; } = 8 * 1024 * 1024;

    /// <summary>The client's buffer for a download (it asks for the object in one request and copies it through this).</summary>
    public int DownloadChunkSize { get; init; } = 1024 * 1024;

    /// <summary>Entries per listing page (GCS serves at most 1,000).</summary>
    public int PageSize { get; init; } = 1000;

    internal void Validate()
    {
        if (ChunkSize <= 0 || ChunkSize % ChunkGranularity != 0)
        {
            throw new ArgumentException($"ChunkSize {ChunkSize} must be a positive multiple of {ChunkGranularity} bytes (256 KiB).", nameof(ChunkSize));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(DownloadChunkSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(PageSize);
    }
}

/// <summary>
/// <see cref="IResultsStore"/> on a Cloud Storage bucket through the official client (<see cref="StorageClient"/>):
/// resumable uploads in chunks (bounded memory whatever the object's size), <c>ifGenerationMatch=0</c> for
/// create-only writes, custom metadata, paged listings and streamed downloads. Every call runs under kfci's
/// <see cref="RetryPolicy"/>; an upload that fails mid-way resumes its session where the service says it stopped.
/// A bucket that does not exist is a <see cref="ResultsBucketNotFoundException"/>, never an absent object.
/// </summary>
public sealed partial class GcsResultsStore : IResultsStore
{
    private const int MaxSessionRestarts = 2;

    private readonly StorageClient _client;
    private readonly RetryPolicy _retry;
    private readonly RetryPolicy _uploadRetry;
    private readonly GcsUploadOptions _options;
    private readonly ILogger _logger;

    /// <param name="bucket">The bucket name (no <c>gs://</c>).</param>
    /// <param name="client">The storage client; its own retrying is not used, <paramref name="retry"/> decides.</param>
    /// <param name="retry">Attempts and backoff for every call; <see cref="RetryOptions.Default"/> when null.</param>
    /// <param name="options">Chunk and page sizes.</param>
    /// <param name="logger">Where resumptions and restarts are logged.</param>
    public GcsResultsStore(string bucket, StorageClient client, Http.RetryOptions? retry = null, GcsUploadOptions? options = null, ILogger<GcsResultsStore>? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(bucket);
        ArgumentNullException.ThrowIfNull(client);
        _options = options ?? GcsUploadOptions.Default;
        _options.Validate();
        Bucket = bucket;
        _client = client;
        var retryOptions = retry ?? Http.RetryOptions.Default;
        _retry = new RetryPolicy(retryOptions);

        // An upload's attempt is the whole object (each chunk request has the client's own HTTP timeout), so the
        // per-attempt bound is what a large object needs, not what one request needs.
        _uploadRetry = new RetryPolicy(retryOptions with { AttemptTimeout = TimeSpan.FromHours(1), Deadline = TimeSpan.FromHours(2) }, retryOn: IsResumable);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public string Bucket { get; }

    /// <summary>
    /// A store on <paramref name="bucket"/> at Google's endpoint with Application Default Credentials, or at
    /// <c>STORAGE_EMULATOR_HOST</c> (host:port or a full URL, e.g. the fake in tests) without credentials when that is set.
    /// </summary>
    public static GcsResultsStore Create(
        string bucket,
        Http.RetryOptions? retry = null,
        GcsUploadOptions? upload = null,
        ILogger<GcsResultsStore>? logger = null,
        Func<string, string?>? getEnv = null)
    {
        var host = (getEnv ?? Environment.GetEnvironmentVariable)(KfciEnvironment.StorageEmulatorHost);
        var client = string.IsNullOrWhiteSpace(host)
            ? StorageClient.Create()
            : new StorageClientBuilder
            {
                BaseUri = new Uri(GoogleEndpoint.EmulatorUri(host), "storage/v1/").ToString(),
                UnauthenticatedAccess = true,
            }.Build();
        return new GcsResultsStore(bucket, client, retry, upload, logger);
    }

    public string Describe(string path) => $"gs://{Bucket}/{path}";

    public async Task<StoredObject?> WriteAsync(string path, Stream content, ObjectWriteOptions? options, CancellationToken cancellationToken)
    {
        ObjectPaths.Validate(path);
        ArgumentNullException.ThrowIfNull(content);
        options ??= ObjectWriteOptions.Default;
        var source = new UploadSource(content);
        var destination = new GcsObject
        {
            Bucket = Bucket,
            Name = path,
            ContentType = options.ContentType ?? ObjectPaths.DefaultContentType,
            CacheControl = options.CacheControl,
            Metadata = options.Metadata is { Count: > 0 } metadata ? new Dictionary<string, string>(metadata, StringComparer.Ordinal) : null,
        };
        var uploadOptions = new UploadObjectOptions
        {
            ChunkSize = _options.ChunkSize,
            IfGenerationMatch = options.CreateOnly ? 0 : null,
        };
        try
        {
            for (var restarts = 0; ; restarts++)
            {
                try
                {
                    return ToStoredObject(await UploadAsync(path, destination, source, uploadOptions, cancellationToken));
                }
                catch (ApiException e) when (e.Status is HttpStatusCode.NotFound or HttpStatusCode.Gone)
                {
                    RestartOrThrow(path, source, restarts, e);
                }
            }
        }
        catch (ApiException e) when (options.CreateOnly && e.IsPreconditionFailed)
        {
            LogCreateOnlySkipped(Describe(path));
            return null;
        }
    }

    public async Task<Stream?> OpenReadAsync(string path, CancellationToken cancellationToken)
    {
        if (await GetAsync(path, cancellationToken) is not { } stored)
        {
            return null;
        }

        return GcsDownloadStream.Start((destination, token) => DownloadAsync(path, stored.Generation, destination, token), cancellationToken);
    }

    /// <summary>
    /// Downloads under the retry policy: a retry after a failure part-way asks only for the bytes not yet delivered
    /// (a <c>Range</c> request), and every attempt is pinned to the generation first read, so an overwrite during the
    /// download can end it but never splice two generations. Hashes are checked when the whole object comes in one
    /// piece as stored (the client cannot check a range, or an object stored gzip-encoded and served decoded).
    /// </summary>
    private async Task DownloadAsync(string path, long? generation, Stream destination, CancellationToken cancellationToken)
    {
        var delivered = new CountingStream(destination);
        await _retry.ExecuteAsync(
            async token =>
            {
                var download = new DownloadObjectOptions
                {
                    Generation = generation,
                    ChunkSize = _options.DownloadChunkSize,
                    DownloadValidationMode = DownloadValidationMode.Automatic,
                    Range = delivered.Written > 0 ? new System.Net.Http.Headers.RangeHeaderValue(delivered.Written, null) : null,
                };
                return await CallAsync(path, t => _client.DownloadObjectAsync(Bucket, path, delivered, download, t), token);
            },
            cancellationToken);
    }

    public async Task<StoredObject?> GetAsync(string path, CancellationToken cancellationToken)
    {
        ObjectPaths.Validate(path);
        try
        {
            return ToStoredObject(await CallWithRetryAsync(path, token => _client.GetObjectAsync(Bucket, path, NoRetry.Get, token), cancellationToken));
        }
        catch (ApiException e) when (e.IsNotFound)
        {
            return null;
        }
    }

    public async IAsyncEnumerable<ResultsListEntry> ListAsync(
        string prefix, string? delimiter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ObjectPaths.ValidatePrefix(prefix);
        string? pageToken = null;
        do
        {
            var list = new ListObjectsOptions
            {
                Delimiter = string.IsNullOrEmpty(delimiter) ? null : delimiter,
                PageSize = _options.PageSize,
                PageToken = pageToken,
                RetryOptions = Google.Cloud.Storage.V1.RetryOptions.Never,
            };

            // One raw page at a time: the typed enumerable hides the prefixes a delimiter rolls names into.
            var page = await CallWithRetryAsync(
                prefix,
                async token =>
                {
                    await using var pages = _client.ListObjectsAsync(Bucket, prefix, list).AsRawResponses().GetAsyncEnumerator(token);
                    return await pages.MoveNextAsync() ? pages.Current : new Google.Apis.Storage.v1.Data.Objects();
                },
                cancellationToken);
            foreach (var entry in MergePage(page))
            {
                yield return entry;
            }

            pageToken = page.NextPageToken;
        }
        while (!string.IsNullOrEmpty(pageToken));
    }

    public async Task<bool> DeleteAsync(string path, CancellationToken cancellationToken)
    {
        ObjectPaths.Validate(path);
        try
        {
            // Retried although a bare delete is not idempotent: a retry after a lost reply finds 404 and reports false,
            // which callers read as "not there", the state they asked for.
            await CallWithRetryAsync<bool>(path, async token => { await _client.DeleteObjectAsync(Bucket, path, NoRetry.Delete, token); return true; }, cancellationToken);
            return true;
        }
        catch (ApiException e) when (e.IsNotFound)
        {
            return false;
        }
    }

    /// <summary>
    /// One upload: starts a session, and while the upload fails in a way the session survives (a 5xx, 408/429, a dropped
    /// connection) waits and resumes it; the client asks the session how much it holds and sends only the rest.
    /// </summary>
    private async Task<GcsObject> UploadAsync(string path, GcsObject destination, UploadSource source, UploadObjectOptions options, CancellationToken cancellationToken)
    {
        source.Rewind();
        var uploader = _client.CreateObjectUploader(destination, source, options);
        var attempt = 0;
        return await _uploadRetry.ExecuteAsync(
            async token =>
            {
                var resumed = attempt++ > 0;
                if (resumed)
                {
                    LogResuming(Describe(path), uploader.GetProgress().BytesSent);
                }

                var progress = resumed ? await uploader.ResumeAsync(token) : await uploader.UploadAsync(token);
                return progress.Status == UploadStatus.Completed
                    ? uploader.ResponseBody
                    : throw GcsErrors.Translate(Bucket, path, progress.Exception ?? new IOException($"Upload of {Describe(path)} ended as {progress.Status}."));
            },
            cancellationToken);
    }

    /// <summary>A lost session (404/410 on the session URI) starts over when the source can be rewound, a couple of times at most.</summary>
    private void RestartOrThrow(string path, UploadSource source, int restarts, ApiException lost)
    {
        if (!source.CanRewind)
        {
            throw new IOException(
                $"Upload of {Describe(path)} failed: the resumable session was lost ({(int)lost.Status}) and the source stream cannot be rewound to start again.", lost);
        }

        if (restarts == MaxSessionRestarts)
        {
            throw new IOException($"Upload of {Describe(path)} failed: the resumable session was lost {restarts + 1} times.", lost);
        }

        LogRestarting(Describe(path), (int)lost.Status);
    }

    private async Task<T> CallWithRetryAsync<T>(string path, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken) =>
        await _retry.ExecuteAsync(async token => await CallAsync(path, call, token), cancellationToken);

    /// <summary>One call to the client, its errors in kfci's terms (<see cref="ApiException"/>, <see cref="ResultsBucketNotFoundException"/>).</summary>
    private async Task<T> CallAsync<T>(string path, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call(cancellationToken);
        }
        catch (Google.GoogleApiException e)
        {
            throw GcsErrors.Translate(Bucket, path, e);
        }
    }

    /// <summary>Retries an upload where its session survives; a bucket that does not exist is final.</summary>
    private static bool IsResumable(Exception e) =>
        e is not ResultsBucketNotFoundException && (e is Polly.Timeout.TimeoutRejectedException || Transience.IsTransient(e));

    /// <summary>A page holds items and prefixes in two sorted arrays; the caller sees one sorted sequence.</summary>
    private static List<ResultsListEntry> MergePage(Google.Apis.Storage.v1.Data.Objects page)
    {
        var objects = (page.Items ?? []).Select(ToStoredObject).Select(o => new ResultsListEntry(o.Name, o));
        var prefixes = (page.Prefixes ?? []).Select(p => new ResultsListEntry(p, null));
        var merged = objects.Concat(prefixes).ToList();
        merged.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return merged;
    }

    private static StoredObject ToStoredObject(GcsObject resource) => new(
        Name: resource.Name ?? throw new FormatException("Object resource without a name."),
        Size: (long)(resource.Size ?? 0),
        Generation: resource.Generation ?? 0,
        ContentType: resource.ContentType ?? ObjectPaths.DefaultContentType,
        Metadata: resource.Metadata is { } metadata ? new Dictionary<string, string>(metadata, StringComparer.Ordinal) : new Dictionary<string, string>(StringComparer.Ordinal),
        Updated: resource.UpdatedDateTimeOffset ?? resource.TimeCreatedDateTimeOffset ?? DateTimeOffset.UnixEpoch,
        CacheControl: resource.CacheControl);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Object} already exists; create-only write skipped")]
    private partial void LogCreateOnlySkipped(string @object);

    [LoggerMessage(Level = LogLevel.Information, Message = "Upload of {Object} failed after {Bytes} bytes; resuming its session")]
    private partial void LogResuming(string @object, long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Upload session for {Object} was lost ({Status}); restarting from the beginning")]
    private partial void LogRestarting(string @object, int status);

    /// <summary>Per-call options that switch the client's own retrying off: kfci's policy retries, once, for every call.</summary>
    private static class NoRetry
    {
        public static readonly GetObjectOptions Get = new() { RetryOptions = Google.Cloud.Storage.V1.RetryOptions.Never };

        public static readonly DeleteObjectOptions Delete = new() { RetryOptions = Google.Cloud.Storage.V1.RetryOptions.Never };
    }
}
