using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Kfci.Configuration;
using Kfci.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kfci.Storage;

/// <summary>How <see cref="GcsResultsStore"/> uploads. Immutable; start from <see cref="Default"/>.</summary>
public sealed record GcsUploadOptions
{
    /// <summary>GCS requires every chunk of a resumable upload but the last to be a multiple of this.</summary>
    public const int ChunkGranularity = 256 * 1024;

    public static GcsUploadOptions Default { get; } = new();

    /// <summary>
    /// Bytes per resumable-upload chunk, and the size of the one buffer an upload holds. An object that
    /// fits in one chunk goes in a single multipart request instead. A positive multiple of 256 KiB.
    /// </summary>
    public int ChunkSize { get; init; } = 8 * 1024 * 1024;

    internal void Validate()
    {
        if (ChunkSize <= 0 || ChunkSize % ChunkGranularity != 0)
        {
            throw new ArgumentException($"ChunkSize {ChunkSize} must be a positive multiple of {ChunkGranularity} bytes (256 KiB).", nameof(ChunkSize));
        }
    }
}

/// <summary>
/// <see cref="IResultsStore"/> on a Cloud Storage bucket through the JSON API
/// (<c>storage/v1</c> and <c>upload/storage/v1</c>). Honours <c>STORAGE_EMULATOR_HOST</c> through
/// <see cref="Create"/>.
/// </summary>
public sealed class GcsResultsStore : IResultsStore
{
    public const string ProductionBase = "https://storage.googleapis.com/";

    private const int MaxSessionRestarts = 2;

    private readonly RestClient _client;
    private readonly GcsUploadOptions _upload;
    private readonly ILogger _logger;
    private readonly string _objectsPath;
    private readonly string _uploadPath;

    /// <param name="bucket">The bucket name (no <c>gs://</c>).</param>
    /// <param name="client">A client whose base address is the storage endpoint (e.g. <see cref="ProductionBase"/>).</param>
    public GcsResultsStore(string bucket, RestClient client, GcsUploadOptions? upload = null, ILogger<GcsResultsStore>? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(bucket);
        ArgumentNullException.ThrowIfNull(client);
        if (client.Http.BaseAddress is null)
        {
            throw new ArgumentException("The client needs a base address (the storage endpoint).", nameof(client));
        }

        _upload = upload ?? GcsUploadOptions.Default;
        _upload.Validate();
        Bucket = bucket;
        _client = client;
        _logger = logger ?? NullLogger<GcsResultsStore>.Instance;
        _objectsPath = $"storage/v1/b/{Uri.EscapeDataString(bucket)}/o";
        _uploadPath = $"upload/storage/v1/b/{Uri.EscapeDataString(bucket)}/o";
    }

    public string Bucket { get; }

    /// <summary>
    /// A store on <paramref name="bucket"/> at Google's endpoint with Application Default Credentials, or at
    /// <c>STORAGE_EMULATOR_HOST</c> (host:port or a full URL) without credentials when that is set.
    /// </summary>
    public static GcsResultsStore Create(
        string bucket,
        RetryOptions? retry = null,
        GcsUploadOptions? upload = null,
        ILogger<GcsResultsStore>? logger = null,
        Func<string, string?>? getEnv = null)
    {
        var endpoint = GoogleEndpoint.Resolve(KfciEnvironment.StorageEmulatorHost, ProductionBase, getEnv);
        return new GcsResultsStore(bucket, endpoint.CreateClient(retry), upload, logger);
    }

    public string Describe(string path) => $"gs://{Bucket}/{path}";

    public async Task<StoredObject?> WriteAsync(string path, Stream content, ObjectWriteOptions? options, CancellationToken cancellationToken)
    {
        ObjectPaths.Validate(path);
        ArgumentNullException.ThrowIfNull(content);
        options ??= ObjectWriteOptions.Default;
        var buffer = ArrayPool<byte>.Shared.Rent(_upload.ChunkSize);
        try
        {
            var origin = content.CanSeek ? content.Position : -1;
            var count = await FillAsync(content, buffer, 0, _upload.ChunkSize, cancellationToken);
            var resource = count < _upload.ChunkSize
                ? await UploadMultipartAsync(path, options, buffer.AsMemory(0, count), cancellationToken)
                : await UploadResumableAsync(path, options, content, origin, buffer, count, cancellationToken);
            return GcsJson.ToStoredObject(resource);
        }
        catch (ApiException e) when (options.CreateOnly && e.IsPreconditionFailed)
        {
            _logger.LogDebug("{Object} already exists; create-only write skipped", Describe(path));
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async Task<Stream?> OpenReadAsync(string path, CancellationToken cancellationToken)
    {
        ObjectPaths.Validate(path);
        HttpResponseMessage response;
        try
        {
            response = await _client.SendAsync(
                () => new HttpRequestMessage(HttpMethod.Get, ObjectUri(path) + "?alt=media"),
                cancellationToken,
                HttpCompletionOption.ResponseHeadersRead);
        }
        catch (ApiException e) when (e.IsNotFound)
        {
            return null;
        }

        try
        {
            return new ResponseStream(response, await response.Content.ReadAsStreamAsync(cancellationToken));
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public async Task<StoredObject?> GetAsync(string path, CancellationToken cancellationToken)
    {
        ObjectPaths.Validate(path);
        try
        {
            return GcsJson.ToStoredObject(await _client.GetJsonAsync(ObjectUri(path), cancellationToken));
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
            var page = await _client.GetJsonAsync(ListUri(prefix, delimiter, pageToken), cancellationToken);
            foreach (var entry in MergePage(page))
            {
                yield return entry;
            }

            pageToken = page?["nextPageToken"]?.GetValue<string>();
        }
        while (!string.IsNullOrEmpty(pageToken));
    }

    public async Task<bool> DeleteAsync(string path, CancellationToken cancellationToken)
    {
        ObjectPaths.Validate(path);
        try
        {
            using var response = await _client.SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, ObjectUri(path)), cancellationToken);
            return true;
        }
        catch (ApiException e) when (e.IsNotFound)
        {
            return false;
        }
    }

    /// <summary>Reads until <paramref name="count"/> bytes are in or the stream ends; returns how many were read.</summary>
    internal static async Task<int> FillAsync(Stream stream, byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < count)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(offset + total, count - total), cancellationToken);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    // Object names go in one path segment, so '/' must be %2F; EscapeDataString also covers ' ', '#', '?', '%' and non-ASCII.
    private string ObjectUri(string path) => $"{_objectsPath}/{Uri.EscapeDataString(path)}";

    private string ListUri(string prefix, string? delimiter, string? pageToken)
    {
        var uri = $"{_objectsPath}?prefix={Uri.EscapeDataString(prefix)}";
        if (!string.IsNullOrEmpty(delimiter))
        {
            uri += $"&delimiter={Uri.EscapeDataString(delimiter)}";
        }

        return pageToken is null ? uri : uri + $"&pageToken={Uri.EscapeDataString(pageToken)}";
    }

    private string UploadUri(string uploadType, string path, ObjectWriteOptions options) =>
        $"{_uploadPath}?uploadType={uploadType}&name={Uri.EscapeDataString(path)}" + (options.CreateOnly ? "&ifGenerationMatch=0" : string.Empty);

    /// <summary>A page holds items and prefixes in two sorted arrays; the caller sees one sorted sequence.</summary>
    private static List<ResultsListEntry> MergePage(JsonNode? page)
    {
        var objects = (page?["items"] as JsonArray ?? []).Select(item => GcsJson.ToStoredObject(item)).Select(o => new ResultsListEntry(o.Name, o));
        var prefixes = (page?["prefixes"] as JsonArray ?? []).Select(p => new ResultsListEntry(p!.GetValue<string>(), null));
        var merged = objects.Concat(prefixes).ToList();
        merged.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return merged;
    }

    private async Task<JsonNode?> UploadMultipartAsync(string path, ObjectWriteOptions options, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var metadata = GcsJson.ObjectResource(path, options).ToJsonString();
        using var response = await _client.SendAsync(
            () =>
            {
                var media = new ReadOnlyMemoryContent(body);
                media.Headers.ContentType = MediaTypeHeaderValue.Parse(options.ContentType ?? ObjectPaths.DefaultContentType);
                return new HttpRequestMessage(HttpMethod.Post, UploadUri("multipart", path, options))
                {
                    Content = new MultipartContent("related")
                    {
                        new StringContent(metadata, System.Text.Encoding.UTF8, "application/json"),
                        media,
                    },
                };
            },
            cancellationToken);
        return await RestClient.ReadJsonAsync(response, cancellationToken);
    }

    private async Task<JsonNode?> UploadResumableAsync(
        string path, ObjectWriteOptions options, Stream content, long origin, byte[] buffer, int count, CancellationToken cancellationToken)
    {
        long? knownLength = origin >= 0 ? content.Length - origin : null;
        for (var restarts = 0; ; restarts++)
        {
            var session = await StartSessionAsync(path, options, knownLength, cancellationToken);
            var upload = new GcsResumableUpload(_client, session, content, buffer, _upload.ChunkSize, knownLength, _logger);
            try
            {
                return await upload.RunAsync(count, cancellationToken);
            }
            catch (ApiException e) when (e.Status is HttpStatusCode.NotFound or HttpStatusCode.Gone)
            {
                if (origin < 0)
                {
                    throw new IOException(
                        $"Upload of {Describe(path)} failed: the resumable session was lost ({(int)e.Status}) and the source stream cannot be rewound to start again.", e);
                }

                if (restarts == MaxSessionRestarts)
                {
                    throw new IOException($"Upload of {Describe(path)} failed: the resumable session was lost {restarts + 1} times.", e);
                }

                // The session expired or lost bytes we no longer hold; a seekable stream can simply start over.
                _logger.LogWarning("Upload session for {Object} was lost ({Status}); restarting from the beginning", Describe(path), (int)e.Status);
                content.Position = origin;
                count = await FillAsync(content, buffer, 0, _upload.ChunkSize, cancellationToken);
            }
        }
    }

    private async Task<Uri> StartSessionAsync(string path, ObjectWriteOptions options, long? knownLength, CancellationToken cancellationToken)
    {
        var resource = GcsJson.ObjectResource(path, options);
        using var response = await _client.SendAsync(
            () =>
            {
                var request = RestClient.JsonRequest(HttpMethod.Post, UploadUri("resumable", path, options), resource);
                request.Headers.Add("X-Upload-Content-Type", options.ContentType ?? ObjectPaths.DefaultContentType);
                if (knownLength is { } length)
                {
                    request.Headers.Add("X-Upload-Content-Length", length.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }

                return request;
            },
            cancellationToken);
        var location = response.Headers.Location
            ?? throw new ApiException(HttpStatusCode.BadGateway, null, $"Starting a resumable upload of {Describe(path)} returned no session URI (Location).");
        return location.IsAbsoluteUri ? location : new Uri(_client.Http.BaseAddress!, location);
    }
}
