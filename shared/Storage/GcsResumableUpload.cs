using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Kfci.Http;
using Microsoft.Extensions.Logging;

namespace Kfci.Storage;

/// <summary>
/// One resumable upload session: sends the stream in chunks from a single reused buffer. After a failed
/// chunk it asks the session how much was persisted (<c>Content-Range: bytes */*</c>) and resends only
/// the rest, so a retry resumes rather than restarts. A session that is gone, or that lost bytes the
/// buffer no longer holds, surfaces as a 404/410 <see cref="ApiException"/> for the caller to decide.
/// </summary>
internal sealed class GcsResumableUpload(
    RestClient client, Uri session, Stream content, byte[] buffer, int chunkSize, long? knownLength, ILogger logger)
{
    // GCS answers an incomplete chunk with 308 ("Resume Incomplete"), not a redirect.
    private const HttpStatusCode ResumeIncomplete = (HttpStatusCode)308;

    private long _bufferStart;
    private int _count;
    private long _persisted;

    /// <summary>Runs the upload; <paramref name="count"/> bytes of the stream are already in the buffer.</summary>
    /// <returns>The object resource the server answered with.</returns>
    public async Task<JsonNode?> RunAsync(int count, CancellationToken cancellationToken)
    {
        _count = count;
        while (true)
        {
            var end = _bufferStart + _count;
            long? total = _count < chunkSize || end == knownLength ? end : null;
            if (await SendWithRetryAsync(total, cancellationToken) is { } resource)
            {
                return resource;
            }

            if (total is not null && _persisted == total)
            {
                throw new ApiException(HttpStatusCode.BadGateway, null, $"Upload session {session.AbsolutePath} stayed incomplete after all {total} bytes were sent.");
            }

            await RefillAsync(cancellationToken);
        }
    }

    private async Task<JsonNode?> SendWithRetryAsync(long? total, CancellationToken cancellationToken)
    {
        var attempt = 0;
        return await client.Retry.ExecuteAsync(
            async token =>
            {
                if (attempt++ > 0)
                {
                    logger.LogInformation("Chunk at {Offset} failed; asking the session how much it persisted", _persisted);
                    if (await PutAsync(StatusQuery(total), token) is { } done)
                    {
                        return done;
                    }
                }

                return await PutAsync(NextChunk(total), token);
            },
            cancellationToken);
    }

    /// <summary>Keeps the bytes the server has not persisted at the front of the buffer and fills the rest from the stream.</summary>
    private async Task RefillAsync(CancellationToken cancellationToken)
    {
        var keep = (int)(_bufferStart + _count - _persisted);
        Buffer.BlockCopy(buffer, _count - keep, buffer, 0, keep);
        _bufferStart = _persisted;
        _count = keep + await GcsResultsStore.FillAsync(content, buffer, keep, chunkSize - keep, cancellationToken);
    }

    private ByteArrayContent NextChunk(long? total)
    {
        var offset = (int)(_persisted - _bufferStart);
        var length = _count - offset;
        var chunk = new ByteArrayContent(buffer, offset, length);
        if (length == 0)
        {
            // Nothing left to send but the total: the final empty request of a stream whose length was a chunk multiple.
            chunk.Headers.TryAddWithoutValidation("Content-Range", $"bytes */{total}");
        }
        else
        {
            chunk.Headers.ContentRange = total is { } t
                ? new ContentRangeHeaderValue(_persisted, _persisted + length - 1, t)
                : new ContentRangeHeaderValue(_persisted, _persisted + length - 1);
        }

        return chunk;
    }

    private static ByteArrayContent StatusQuery(long? total)
    {
        var query = new ByteArrayContent([]);
        query.Headers.TryAddWithoutValidation("Content-Range", total is { } t ? $"bytes */{t}" : "bytes */*");
        return query;
    }

    /// <summary>One PUT to the session: the finished object's resource, or null after recording the persisted size.</summary>
    private async ValueTask<JsonNode?> PutAsync(HttpContent body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, session) { Content = body };
        using var response = await client.Http.SendAsync(request, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return await RestClient.ReadJsonAsync(response, cancellationToken) ?? new JsonObject();
        }

        if (response.StatusCode != ResumeIncomplete)
        {
            throw await ApiErrors.ReadAsync(response, cancellationToken);
        }

        _persisted = PersistedBytes(response);
        if (_persisted < _bufferStart || _persisted > _bufferStart + _count)
        {
            // The server lost bytes we no longer hold (or claims bytes we never sent): this session cannot continue.
            throw new ApiException(HttpStatusCode.Gone, "sessionLost", $"Upload session reports {_persisted} bytes persisted; this upload holds {_bufferStart}..{_bufferStart + _count}.");
        }

        return null;
    }

    /// <summary>The 308's <c>Range: bytes=0-N</c> means N+1 bytes are persisted; no Range header means none.</summary>
    private static long PersistedBytes(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Range", out var values))
        {
            return 0;
        }

        var range = values.First();
        var dash = range.IndexOf('-', StringComparison.Ordinal);
        return dash > 0 && long.TryParse(range.AsSpan(dash + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out var last)
            ? last + 1
            : throw new ApiException(HttpStatusCode.BadGateway, null, $"Unreadable Range header in a 308 answer: '{range}'.");
    }
}
