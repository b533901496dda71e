using System.Buffers;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Kfci.Testing.Gcs;

/// <summary>
/// Maps one HTTP request of the GCS JSON API onto <see cref="FakeGcsBackend"/>. Routing reads the raw
/// request target, because object names travel percent-encoded in one path segment (<c>a%2Fb</c>) and
/// must not be confused with path structure.
/// </summary>
internal sealed class FakeGcsApi(FakeGcsBackend backend, HttpContext context, int maxPageSize)
{
    private const int ChunkGranularity = 256 * 1024;

    private HttpRequest Request => context.Request;

    private HttpResponse Response => context.Response;

    private Dictionary<string, StringValues> _query = [];

    public async Task HandleAsync()
    {
        var raw = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        var split = raw.IndexOf('?', StringComparison.Ordinal);
        _query = split < 0 ? [] : QueryHelpers.ParseQuery(raw[split..]);
        var segments = (split < 0 ? raw : raw[..split]).Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        var method = Request.Method;
        switch (segments)
        {
            case ["storage", "v1", "b"] when method == "POST":
                await CreateBucketAsync();
                break;
            case ["storage", "v1", "b", var bucket] when method == "GET":
                await WriteJsonAsync(backend.BucketExists(bucket) ? FakeGcsServer.BucketJson(bucket) : throw GcsError.NoBucket(bucket));
                break;
            case ["storage", "v1", "b", var bucket, "o"] when method == "GET":
                await ListAsync(bucket);
                break;
            case ["storage", "v1", "b", var bucket, "o", var name] when method == "GET":
                await GetAsync(bucket, name, Query("alt") == "media");
                break;
            case ["download", "storage", "v1", "b", var bucket, "o", var name] when method == "GET":
                await GetAsync(bucket, name, media: true);
                break;
            case ["storage", "v1", "b", var bucket, "o", var name] when method == "DELETE":
                RequestedGeneration(bucket, name);
                backend.Delete(bucket, name, ReadPreconditions());
                Response.StatusCode = 204;
                break;
            case ["upload", "storage", "v1", "b", var bucket, "o"] when method == "POST":
                await StartUploadAsync(bucket);
                break;
            case ["upload", "storage", "v1", "b", _, "o"] when method == "PUT" && Query("upload_id") is { } id:
                await PutToSessionAsync(backend.Session(id));
                break;
            case ["upload", "storage", "v1", "b", _, "o"] when method == "DELETE" && Query("upload_id") is { } id:
                backend.CancelSession(backend.Session(id));
                Response.StatusCode = 499;
                break;
            default:
                throw new GcsError(404, "notFound", $"Not Found: {method} {raw}");
        }
    }

    private string? Query(string name) => _query.TryGetValue(name, out var value) ? value.ToString() : null;

    private long? QueryInt64(string name) =>
        Query(name) is not { } text ? null
        : long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
        : throw GcsError.BadRequest($"Invalid value for {name}: {text}");

    private Preconditions ReadPreconditions() => new(QueryInt64("ifGenerationMatch"), QueryInt64("ifGenerationNotMatch"));

    /// <summary>
    /// A JSON request body, or null when there is none. The official client gzips request bodies
    /// (<c>Content-Encoding: gzip</c>), which GCS accepts; any other encoding is refused.
    /// </summary>
    private async Task<JsonNode?> ReadJsonBodyAsync()
    {
        var encoding = Request.Headers.ContentEncoding.ToString();
        Stream body = encoding switch
        {
            "" or "identity" => Request.Body,
            "gzip" => new System.IO.Compression.GZipStream(Request.Body, System.IO.Compression.CompressionMode.Decompress, leaveOpen: true),
            _ => throw GcsError.BadRequest($"Unsupported Content-Encoding: {encoding}"),
        };
        await using (body.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            await body.CopyToAsync(buffer, context.RequestAborted);
            return buffer.Length == 0 ? null : JsonNode.Parse(buffer.ToArray());
        }
    }

    private async Task WriteJsonAsync(JsonNode json, int status = 200)
    {
        Response.StatusCode = status;
        Response.ContentType = "application/json; charset=UTF-8";
        await Response.WriteAsync(json.ToJsonString(), context.RequestAborted);
    }

    private async Task CreateBucketAsync()
    {
        var body = await ReadJsonBodyAsync();
        var name = body?["name"]?.GetValue<string>() ?? throw GcsError.BadRequest("Bucket name is required.");
        backend.CreateBucket(name);
        await WriteJsonAsync(FakeGcsServer.BucketJson(name));
    }

    private async Task ListAsync(string bucket)
    {
        var maxResults = (int)Math.Clamp(QueryInt64("maxResults") ?? maxPageSize, 1, maxPageSize);
        var (items, prefixes, next) = backend.List(bucket, Query("prefix") ?? string.Empty, Query("delimiter"), maxResults, Query("pageToken"));
        var json = new JsonObject { ["kind"] = "storage#objects" };
        if (next is not null)
        {
            json["nextPageToken"] = next;
        }

        if (prefixes.Count > 0)
        {
            json["prefixes"] = new JsonArray([.. prefixes.Select(p => (JsonNode)p)]);
        }

        if (items.Count > 0)
        {
            json["items"] = new JsonArray([.. items.Select(i => (JsonNode)i.ToJson())]);
        }

        await WriteJsonAsync(json);
    }

    private async Task GetAsync(string bucket, string name, bool media)
    {
        var obj = RequestedGeneration(bucket, name);
        var preconditions = ReadPreconditions();
        if (preconditions.IfGenerationNotMatch == obj.Generation)
        {
            Response.StatusCode = 304;
            return;
        }

        if (!preconditions.Hold(obj))
        {
            throw GcsError.ConditionNotMet();
        }

        if (!media)
        {
            await WriteJsonAsync(obj.ToJson());
            return;
        }

        await SendContentAsync(obj);
    }

    /// <summary>
    /// The live object, or the generation the request names (<c>generation=</c>). The fake keeps no noncurrent
    /// generations, as a bucket without versioning: a replaced or deleted generation is 404, as GCS answers it.
    /// </summary>
    private FakeObject RequestedGeneration(string bucket, string name)
    {
        var obj = backend.Get(bucket, name);
        if (Query("generation") is { } wanted && wanted != obj.Generation.ToString(CultureInfo.InvariantCulture))
        {
            throw new GcsError(404, "notFound", $"No such object: {bucket}/{name}#{wanted}");
        }

        return obj;
    }

    private async Task SendContentAsync(FakeObject obj)
    {
        // FileShare.Delete: an overwrite may delete this generation's file while it is being served.
        await using var file = new FileStream(obj.File, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, useAsync: true);
        var (from, to) = (0L, obj.Size - 1);
        if (Request.Headers.Range.Count > 0)
        {
            (from, to) = ParseRange(Request.Headers.Range.ToString(), obj.Size);
            Response.StatusCode = 206;
            Response.Headers.ContentRange = $"bytes {from}-{to}/{obj.Size}";
        }

        Response.ContentType = obj.ContentType;
        Response.Headers["x-goog-generation"] = obj.Generation.ToString(CultureInfo.InvariantCulture);
        Response.Headers["x-goog-stored-content-length"] = obj.Size.ToString(CultureInfo.InvariantCulture);
        Response.Headers["x-goog-hash"] = $"crc32c={obj.Crc32c},md5={obj.Md5}";
        if (obj.CacheControl is not null)
        {
            Response.Headers.CacheControl = obj.CacheControl;
        }

        Response.ContentLength = Math.Max(0, to - from + 1);
        file.Position = from;
        var remaining = Response.ContentLength.Value;
        var buffer = new byte[81920];
        while (remaining > 0)
        {
            var read = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), context.RequestAborted);
            await Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
            remaining -= read;
        }
    }

    private static (long From, long To) ParseRange(string header, long size)
    {
        if (!RangeHeaderValue.TryParse(header, out var range) || range.Ranges.Count != 1)
        {
            throw new GcsError(416, "requestedRangeNotSatisfiable", $"Unsupported Range: {header}");
        }

        var r = range.Ranges.First();
        var (from, to) = r.From is { } f ? (f, Math.Min(r.To ?? size - 1, size - 1)) : (Math.Max(0, size - r.To!.Value), size - 1);
        return from < size && from <= to ? (from, to) : throw new GcsError(416, "requestedRangeNotSatisfiable", $"Range {header} is outside 0-{size - 1}.");
    }

    private async Task StartUploadAsync(string bucket)
    {
        if (!backend.BucketExists(bucket))
        {
            throw GcsError.NoBucket(bucket);
        }

        switch (Query("uploadType"))
        {
            case "media":
                {
                    var write = WriteFrom(bucket, null, Request.ContentType);
                    backend.CheckPreconditions(write);
                    await CommitAsync(write, await backend.ReceiveAsync(Request.Body, context.RequestAborted));
                    break;
                }

            case "multipart":
                await MultipartAsync(bucket);
                break;
            case "resumable":
                {
                    var resource = await ReadJsonBodyAsync();
                    var session = backend.StartSession(WriteFrom(bucket, resource as JsonObject, Request.Headers["X-Upload-Content-Type"]));
                    Response.Headers.Location = $"{Request.Scheme}://{Request.Host}/upload/storage/v1/b/{Uri.EscapeDataString(bucket)}/o?uploadType=resumable&upload_id={session.Id}";
                    Response.ContentLength = 0;
                    break;
                }

            default:
                throw GcsError.BadRequest($"Unsupported uploadType: {Query("uploadType")}");
        }
    }

    private async Task MultipartAsync(string bucket)
    {
        if (!MediaTypeHeaderValue.TryParse(Request.ContentType, out var type) || !type.MediaType.Equals("multipart/related", StringComparison.OrdinalIgnoreCase))
        {
            throw GcsError.BadRequest($"A multipart upload needs Content-Type multipart/related, not '{Request.ContentType}'.");
        }

        var reader = new MultipartReader(HeaderUtilities.RemoveQuotes(type.Boundary).Value!, Request.Body);
        var metadata = await reader.ReadNextSectionAsync(context.RequestAborted) ?? throw GcsError.BadRequest("Multipart body has no metadata part.");
        var resource = await JsonNode.ParseAsync(metadata.Body, cancellationToken: context.RequestAborted) as JsonObject;
        var media = await reader.ReadNextSectionAsync(context.RequestAborted) ?? throw GcsError.BadRequest("Multipart body has no media part.");
        var write = WriteFrom(bucket, resource, media.ContentType);
        backend.CheckPreconditions(write);
        await CommitAsync(write, await backend.ReceiveAsync(media.Body, context.RequestAborted));
    }

    /// <summary>The object fields of a write: from the resource JSON where given, else the query and the media's own type.</summary>
    private WriteRequest WriteFrom(string bucket, JsonObject? resource, string? mediaType)
    {
        var name = resource?["name"]?.GetValue<string>() ?? Query("name");
        if (string.IsNullOrEmpty(name))
        {
            throw new GcsError(400, "required", "Required parameter: name");
        }

        context.Items[FakeGcsServer.ObjectItem] = name;

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (resource?["metadata"] is JsonObject map)
        {
            foreach (var (key, value) in map)
            {
                metadata[key] = value?.GetValue<string>() ?? string.Empty;
            }
        }

        var contentType = resource?["contentType"]?.GetValue<string>() ?? (string.IsNullOrEmpty(mediaType) ? "application/octet-stream" : mediaType);
        return new WriteRequest(bucket, name, contentType, resource?["cacheControl"]?.GetValue<string>(), metadata, ReadPreconditions());
    }

    private async Task CommitAsync(WriteRequest write, string file) => await WriteJsonAsync(backend.Commit(write, file, Request.Headers["x-goog-hash"].ToString()).ToJson());

    private async Task PutToSessionAsync(UploadSession session)
    {
        context.Items[FakeGcsServer.ObjectItem] = session.Write.Name;
        await session.Gate.WaitAsync(context.RequestAborted);
        try
        {
            if (session.Result is { } done)
            {
                await WriteJsonAsync(done.ToJson());
                return;
            }

            var (first, last, total) = ParseContentRange();
            if (first is { } start)
            {
                await AppendChunkAsync(session, start, last!.Value, total);
            }

            if (total is { } size && session.Persisted == size)
            {
                await FinishAsync(session);
                return;
            }

            // 308 "Resume Incomplete": Range says what is persisted; no Range at all means nothing is.
            Response.StatusCode = 308;
            if (session.Persisted > 0)
            {
                Response.Headers["Range"] = $"bytes=0-{session.Persisted - 1}";
            }
        }
        finally
        {
            session.Gate.Release();
        }
    }

    private async Task FinishAsync(UploadSession session)
    {
        try
        {
            session.Result = backend.Commit(session.Write, session.File, Request.Headers["x-goog-hash"].ToString());
        }
        catch (GcsError)
        {
            session.Expired = true;
            throw;
        }

        await WriteJsonAsync(session.Result.ToJson());
    }

    /// <summary><c>bytes a-b/t</c>, <c>bytes a-b/*</c>, <c>bytes */t</c>, <c>bytes */*</c>; absent means the whole object in this one request.</summary>
    private (long? First, long? Last, long? Total) ParseContentRange()
    {
        var header = Request.Headers.ContentRange.ToString();
        if (string.IsNullOrEmpty(header))
        {
            var length = Request.ContentLength ?? throw GcsError.BadRequest("A request without Content-Range needs Content-Length.");
            return length == 0 ? (null, null, 0) : (0, length - 1, length);
        }

        var parts = header.StartsWith("bytes ", StringComparison.Ordinal) ? header[6..].Split('/') : [];
        if (parts.Length != 2)
        {
            throw GcsError.BadRequest($"Malformed Content-Range: {header}");
        }

        long? total = parts[1] == "*" ? null : ParseLong(parts[1], header);
        if (parts[0] == "*")
        {
            return (null, null, total);
        }

        var bounds = parts[0].Split('-');
        var (first, last) = bounds.Length == 2 ? (ParseLong(bounds[0], header), ParseLong(bounds[1], header)) : throw GcsError.BadRequest($"Malformed Content-Range: {header}");
        return first > last || last >= total ? throw GcsError.BadRequest($"Content-Range {header} is inconsistent.") : (first, last, total);
    }

    private static long ParseLong(string text, string header) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : throw GcsError.BadRequest($"Malformed Content-Range: {header}");

    /// <summary>
    /// Appends a chunk, ignoring bytes the session already holds. Chunks other than the last must be
    /// multiples of 256 KiB. When the body breaks off, the session keeps whole 256 KiB blocks received, as GCS does.
    /// </summary>
    private async Task AppendChunkAsync(UploadSession session, long first, long last, long? total)
    {
        var length = last - first + 1;
        var isFinal = total == last + 1;
        if (first > session.Persisted)
        {
            throw GcsError.BadRequest($"Chunk starts at {first} but only {session.Persisted} bytes are persisted.");
        }

        if (!isFinal && length % ChunkGranularity != 0)
        {
            throw GcsError.BadRequest($"Invalid request. The number of bytes uploaded is required to be a multiple of {ChunkGranularity} except for the final request; got {length}.");
        }

        if (Request.ContentLength is { } declared && declared != length)
        {
            throw GcsError.BadRequest($"Content-Length {declared} does not match Content-Range {first}-{last}.");
        }

        var before = session.Persisted;
        var position = first;
        var buffer = ArrayPool<byte>.Shared.Rent(81920);
        await using var file = new FileStream(session.File, FileMode.Open, FileAccess.Write, FileShare.Read, 1, useAsync: true);
        file.Position = before;
        try
        {
            int read;
            while ((read = await Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                var skip = (int)Math.Clamp(before - position, 0, read);
                await file.WriteAsync(buffer.AsMemory(skip, read - skip), context.RequestAborted);
                position += read;
            }

            if (position != last + 1)
            {
                throw GcsError.BadRequest($"Chunk body ended at {position}, expected {last + 1}.");
            }

            session.Persisted = Math.Max(before, position);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or BadHttpRequestException or GcsError)
        {
            var kept = before + ((Math.Max(before, position) - before) / ChunkGranularity * ChunkGranularity);
            file.SetLength(kept);
            session.Persisted = kept;
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
