using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Kfci.Storage;
using Kfci.Testing.Gcs;

namespace Kfci.Tests.Storage;

/// <summary>The GCS adapter's protocol behaviour on the fake: upload strategy, resumption, faults, encoding, paging.</summary>
public sealed class GcsResultsStoreTests(FakeGcsFixture fixture) : IClassFixture<FakeGcsFixture>
{
    private const int Chunk = GcsUploadOptions.ChunkGranularity;

    private FakeGcsServer Server => fixture.Server;

    [Fact]
    public async Task WriteAsync_SmallObject_OneResumableSessionWithOneFinalPut()
    {
        var store = fixture.NewStore();

        await store.WriteAsync("logs/job/1/started.json", new MemoryStream([1, 2, 3]), null, default);

        var uploads = UploadsOf(store);
        Assert.Equal(["POST", "PUT"], uploads.Select(r => r.Method));
        Assert.Contains("uploadType=resumable", uploads[0].Query, StringComparison.Ordinal);
        Assert.Equal("bytes 0-2/3", uploads[1].ContentRange);
        Assert.Equal([200, 200], uploads.Select(r => r.Status));
    }

    [Fact]
    public async Task WriteAsync_CreateOnly_SendsIfGenerationMatchZeroOnSessionStart()
    {
        var store = fixture.NewStore();

        await store.WriteAsync("logs/job/1/finished.json", new MemoryStream([1]), new ObjectWriteOptions { CreateOnly = true }, default);

        Assert.Contains("ifGenerationMatch=0", UploadsOf(store)[0].Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteAsync_ObjectName_IsOnePercentEncodedPathSegment()
    {
        var store = fixture.NewStore();
        await store.WriteAsync("logs/a b/#?%", new MemoryStream([1]), null, default);

        await store.GetAsync("logs/a b/#?%", default);

        Assert.Contains(Server.Requests, r => r.Method == "GET" && r.Path.EndsWith("/o/logs%2Fa%20b%2F%23%3F%25", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WriteAsync_503OnMiddleChunk_ResumesWithoutResendingEarlierChunks()
    {
        var store = fixture.NewStore(chunkSize: Chunk);
        var session = SessionOf(store);
        Server.Faults.Enqueue(new Fault(r => session(r) && r.Headers.ContentRange.ToString().StartsWith($"bytes {2 * Chunk}-", StringComparison.Ordinal), status: 503, count: 2));
        const int length = (4 * Chunk) + 100;

        var written = await store.WriteAsync("logs/job/big.log", new GeneratedStream(length), null, default);

        Assert.Equal(length, written!.Size);
        var puts = UploadsOf(store).Where(r => r.Method == "PUT").ToList();
        var chunkStarts = puts.Where(r => r.IsChunk).Select(r => r.ChunkStart!.Value).ToList();
        Assert.Equal([0, Chunk, 2 * Chunk, 2 * Chunk, 2 * Chunk, 3 * Chunk, 4 * Chunk], chunkStarts);
        Assert.Equal(2, puts.Count(r => r.IsStatusQuery));
        Assert.Equal(GeneratedStream.Sha256(length), await DownloadHashAsync(store, "logs/job/big.log"));
    }

    [Fact]
    public async Task WriteAsync_429OnSessionStart_RetriedAndSucceeds()
    {
        var store = fixture.NewStore();
        Server.Faults.Enqueue(new Fault(r => r.Path.Value!.Contains(store.Bucket, StringComparison.Ordinal) && r.Method == "POST", status: 429));

        var written = await store.WriteAsync("throttled.txt", new MemoryStream([42]), null, default);

        Assert.NotNull(written);
        Assert.Equal([("POST", 429), ("POST", 200), ("PUT", 200)], UploadsOf(store).Select(r => (r.Method, r.Status)));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(429)]
    public async Task WriteAsync_FaultOnMiddleChunk_OfficialClientResumesSessionFromPersistedOffset(int status)
    {
        var store = fixture.NewStore(chunkSize: Chunk);
        var session = SessionOf(store);
        Server.Faults.Enqueue(new Fault(r => session(r) && r.Headers.ContentRange.ToString().StartsWith($"bytes {Chunk}-", StringComparison.Ordinal), status: status));
        const int length = (3 * Chunk) + 7;

        var written = await store.WriteAsync("logs/job/resumed.log", new GeneratedStream(length), null, default);

        Assert.Equal(length, written!.Size);
        var uploads = UploadsOf(store);
        Assert.Single(uploads, r => r.Method == "POST");
        Assert.Equal([0, Chunk, Chunk, 2 * Chunk, 3 * Chunk], uploads.Where(r => r.IsChunk).Select(r => r.ChunkStart!.Value));
        Assert.Contains(uploads, r => r.IsStatusQuery && r.Status == 308);
        Assert.Equal(GeneratedStream.Sha256(length), await DownloadHashAsync(store, "logs/job/resumed.log"));
    }

    [Fact]
    public async Task WriteAsync_ConnectionDroppedDuringChunk_RetriesAndCompletes()
    {
        var store = fixture.NewStore(chunkSize: Chunk);
        var session = SessionOf(store);
        Server.Faults.Enqueue(Fault.Drop(r => session(r) && r.Headers.ContentRange.ToString().StartsWith($"bytes {Chunk}-", StringComparison.Ordinal)));
        const int length = 3 * Chunk;

        await store.WriteAsync("dropped.bin", new GeneratedStream(length), null, default);

        Assert.Contains(UploadsOf(store), r => r.Status == -1);
        Assert.Equal(GeneratedStream.Sha256(length), await DownloadHashAsync(store, "dropped.bin"));
    }

    [Fact]
    public async Task WriteAsync_ConnectionDroppedOnSmallUpload_Retried()
    {
        var store = fixture.NewStore();
        Server.Faults.Enqueue(Fault.Drop(r => r.Path.Value!.Contains(store.Bucket, StringComparison.Ordinal) && r.Method == "POST"));

        var written = await store.WriteAsync("small-dropped.txt", new MemoryStream(Encoding.UTF8.GetBytes("hello")), null, default);

        Assert.Equal(5, written!.Size);
        Assert.Equal([("POST", -1), ("POST", 200), ("PUT", 200)], UploadsOf(store).Select(r => (r.Method, r.Status)));
    }

    [Fact]
    public async Task WriteAsync_SessionExpiredWithSeekableStream_RestartsUpload()
    {
        var store = fixture.NewStore(chunkSize: Chunk);
        var session = SessionOf(store);
        var data = RandomNumberGenerator.GetBytes(3 * Chunk);
        ExpireSessionsOnce(r => session(r) && r.Headers.ContentRange.ToString().StartsWith($"bytes {Chunk}-", StringComparison.Ordinal));

        var written = await store.WriteAsync("restarted.bin", new MemoryStream(data), null, default);

        Assert.Equal(data.Length, written!.Size);
        Assert.Equal(SHA256.HashData(data), await DownloadHashAsync(store, "restarted.bin"));
        Assert.Equal(2, UploadsOf(store).Count(r => r.Method == "POST"));
    }

    [Fact]
    public async Task WriteAsync_SessionExpiredWithNonSeekableStream_FailsClearly()
    {
        var store = fixture.NewStore(chunkSize: Chunk);
        var session = SessionOf(store);
        ExpireSessionsOnce(r => session(r) && r.Headers.ContentRange.ToString().StartsWith($"bytes {Chunk}-", StringComparison.Ordinal));

        var error = await Assert.ThrowsAsync<IOException>(() => store.WriteAsync("lost.bin", new GeneratedStream(3 * Chunk), null, default));

        Assert.Contains("cannot be rewound", error.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetAsync("lost.bin", default));
    }

    [Fact]
    public async Task WriteAsync_CreateOnlyLargeOnExisting_ReturnsNullBeforeSendingData()
    {
        var store = fixture.NewStore(chunkSize: Chunk);
        await store.WriteAsync("exists.bin", new MemoryStream([7]), null, default);

        var result = await store.WriteAsync("exists.bin", new GeneratedStream(2 * Chunk), new ObjectWriteOptions { CreateOnly = true }, default);

        Assert.Null(result);
        var uploads = UploadsOf(store);
        Assert.Equal(("POST", 412), (uploads[^1].Method, uploads[^1].Status));
        Assert.Single(uploads, r => r.Method == "PUT");
        Assert.Equal(1, (await store.GetAsync("exists.bin", default))!.Size);
    }

    [Fact]
    public async Task ListAsync_MoreThanOnePage_FollowsPageTokens()
    {
        var store = fixture.NewStore();
        var names = Enumerable.Range(0, 5).Select(i => $"paged/{i}").ToList();
        foreach (var name in names)
        {
            await store.WriteAsync(name, new MemoryStream([1]), null, default);
        }

        var listed = new List<string>();
        var previous = Server.MaxPageSize;
        Server.MaxPageSize = 2;
        try
        {
            await foreach (var entry in store.ListAsync("paged/", "/", default))
            {
                listed.Add(entry.Name);
            }
        }
        finally
        {
            Server.MaxPageSize = previous;
        }

        Assert.Equal(names, listed);
        Assert.Equal(3, Server.Requests.Count(r => r.Method == "GET" && r.Path.EndsWith($"/b/{store.Bucket}/o", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task DeleteAsync_TransientFailure_Retried()
    {
        var store = fixture.NewStore();
        await store.WriteAsync("flaky-delete", new MemoryStream([1]), null, default);
        Server.Faults.Enqueue(new Fault(r => r.Method == "DELETE" && r.Path.Value!.Contains(store.Bucket, StringComparison.Ordinal), status: 500));

        Assert.True(await store.DeleteAsync("flaky-delete", default));
    }

    [Fact]
    public async Task GetAsync_PermanentError_ThrowsApiException()
    {
        var store = fixture.NewStore();
        Server.Faults.Enqueue(new Fault(r => r.Method == "GET" && r.Path.Value!.Contains(store.Bucket, StringComparison.Ordinal), status: 403));

        var error = await Assert.ThrowsAsync<Kfci.Http.ApiException>(() => store.GetAsync("forbidden", default));

        Assert.Equal(HttpStatusCode.Forbidden, error.Status);
    }

    [Fact]
    public async Task GetAsync_BucketMissing_ThrowsConfigurationErrorNotAbsent()
    {
        var store = MissingBucketStore();

        var error = await Assert.ThrowsAsync<ResultsBucketNotFoundException>(() => store.GetAsync("logs/job/1/finished.json", default));

        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
        Assert.Equal(store.Bucket, error.Bucket);
    }

    [Fact]
    public async Task OpenReadAsync_BucketMissing_ThrowsConfigurationError()
    {
        var store = MissingBucketStore();

        await Assert.ThrowsAsync<ResultsBucketNotFoundException>(() => store.OpenReadAsync("logs/job/1/build-log.txt", default));
    }

    [Fact]
    public async Task WriteAsync_BucketMissing_ThrowsConfigurationErrorWithoutRetrying()
    {
        var store = MissingBucketStore();

        await Assert.ThrowsAsync<ResultsBucketNotFoundException>(() =>
            store.WriteAsync("logs/job/1/finished.json", new MemoryStream([1]), new ObjectWriteOptions { CreateOnly = true }, default));

        Assert.Single(UploadsOf(store));
    }

    [Fact]
    public async Task ListAsync_And_DeleteAsync_BucketMissing_ThrowConfigurationError()
    {
        var store = MissingBucketStore();

        await Assert.ThrowsAsync<ResultsBucketNotFoundException>(async () => await store.ListAsync("logs/", "/", default).ToListAsync());
        await Assert.ThrowsAsync<ResultsBucketNotFoundException>(() => store.DeleteAsync("logs/x", default));
    }

    [Fact]
    public async Task GetAsync_ObjectMissingInExistingBucket_ReturnsNull()
    {
        var store = fixture.NewStore();

        Assert.Null(await store.GetAsync("logs/job/1/finished.json", default));
        Assert.Null(await store.OpenReadAsync("logs/job/1/finished.json", default));
    }

    [Fact]
    public async Task OpenReadAsync_LargeObject_StreamsInRangedRequestsAndMatches()
    {
        var store = fixture.NewStore();
        const int length = (5 * 1024 * 1024) / 2;
        await store.WriteAsync("logs/job/big-read.bin", new GeneratedStream(length), null, default);

        Assert.Equal(GeneratedStream.Sha256(length), await DownloadHashAsync(store, "logs/job/big-read.bin"));
        Assert.Contains(Server.Requests, r => r.Method == "GET" && r.Query.Contains("alt=media", StringComparison.Ordinal) && r.Path.Contains(store.Bucket, StringComparison.Ordinal));
    }

    [Fact]
    public async Task OpenReadAsync_ServiceUnavailableOnTheDownload_Retried()
    {
        var store = fixture.NewStore();
        const int length = 300_000;
        await store.WriteAsync("logs/job/retry-read.bin", new GeneratedStream(length), null, default);
        Server.Faults.Enqueue(new Fault(r => IsMediaGet(r, store), status: 503));

        Assert.Equal(GeneratedStream.Sha256(length), await DownloadHashAsync(store, "logs/job/retry-read.bin"));
        Assert.Equal(2, Server.Requests.Count(r => r.Method == "GET" && r.Query.Contains("alt=media", StringComparison.Ordinal) && r.Path.EndsWith("retry-read.bin", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task OpenReadAsync_OverwrittenBeforeTheDownloadStarts_FailsRatherThanServingTheNewGeneration()
    {
        var store = fixture.NewStore();
        await store.WriteAsync("logs/job/replaced.txt", new MemoryStream("first"u8.ToArray()), null, default);
        Server.Faults.Enqueue(Fault.Latency(TimeSpan.FromMilliseconds(500), r => IsMediaGet(r, store)));

        await using var stream = await store.OpenReadAsync("logs/job/replaced.txt", default);
        await store.WriteAsync("logs/job/replaced.txt", new MemoryStream("second"u8.ToArray()), null, default);

        await Assert.ThrowsAnyAsync<Exception>(async () => await new StreamReader(stream!).ReadToEndAsync());
    }

    private static bool IsMediaGet(Microsoft.AspNetCore.Http.HttpRequest r, GcsResultsStore store) =>
        r.Method == "GET" && r.Query["alt"] == "media" && r.Path.Value!.Contains(store.Bucket, StringComparison.Ordinal);

    [Fact]
    public async Task OpenReadAsync_DisposedEarly_ReleasesTheDownload()
    {
        var store = fixture.NewStore();
        await store.WriteAsync("logs/job/abandoned.bin", new GeneratedStream(4 * 1024 * 1024), null, default);

        var stream = await store.OpenReadAsync("logs/job/abandoned.bin", default);
        var first = new byte[10];
        await stream!.ReadExactlyAsync(first);
        await stream.DisposeAsync();

        Assert.NotNull(await store.GetAsync("logs/job/abandoned.bin", default));
    }

    /// <summary>A store on a bucket the fake does not have: what a typo in KFCI_RESULTS_BUCKET looks like.</summary>
    private GcsResultsStore MissingBucketStore()
    {
        var host = $"{Server.BaseAddress.Host}:{Server.BaseAddress.Port}";
        return GcsResultsStore.Create("kfci-missing-" + Guid.NewGuid().ToString("N")[..8], FakeGcsFixture.FastRetry, getEnv: name => name == "STORAGE_EMULATOR_HOST" ? host : null);
    }

    /// <summary>Expires the open sessions when the first matching request arrives, as GCS does to a session a week old.</summary>
    private void ExpireSessionsOnce(Func<Microsoft.AspNetCore.Http.HttpRequest, bool> when)
    {
        var done = 0;
        Server.Faults.Enqueue(Fault.Latency(TimeSpan.Zero, r =>
        {
            if (when(r) && Interlocked.Exchange(ref done, 1) == 0)
            {
                Server.ExpireUploadSessions();
            }

            return false;
        }));
    }

    private Func<Microsoft.AspNetCore.Http.HttpRequest, bool> SessionOf(GcsResultsStore store) =>
        r => r.Method == "PUT" && r.Path.Value!.Contains($"/b/{store.Bucket}/o", StringComparison.Ordinal);

    private List<RecordedRequest> UploadsOf(GcsResultsStore store) =>
        [.. Server.Requests.Where(r => r.Path.StartsWith($"/upload/storage/v1/b/{store.Bucket}/", StringComparison.Ordinal))];

    private static async Task<byte[]> DownloadHashAsync(GcsResultsStore store, string path)
    {
        await using var stream = await store.OpenReadAsync(path, default);
        return await SHA256.HashDataAsync(stream!);
    }
}
