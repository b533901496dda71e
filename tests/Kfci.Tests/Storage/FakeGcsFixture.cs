using Kfci.Http;
using Kfci.Storage;
using Kfci.Testing.Gcs;

namespace Kfci.Tests.Storage;

/// <summary>One fake GCS server per test class; each test isolates itself in a bucket of its own.</summary>
public sealed class FakeGcsFixture : IAsyncLifetime
{
    /// <summary>Retries fast enough for tests but with the production policy's shape.</summary>
    public static readonly RetryOptions FastRetry = new()
    {
        BaseDelay = TimeSpan.FromMilliseconds(5),
        MaxDelay = TimeSpan.FromMilliseconds(50),
        AttemptTimeout = TimeSpan.FromSeconds(20),
        Deadline = TimeSpan.FromSeconds(60),
    };

    public FakeGcsServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await FakeGcsServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>A store on a fresh bucket, found through STORAGE_EMULATOR_HOST as production code finds it.</summary>
    public GcsResultsStore NewStore(int chunkSize = GcsUploadOptions.ChunkGranularity, RetryOptions? retry = null)
    {
        var bucket = "kfci-" + Guid.NewGuid().ToString("N")[..12];
        Server.CreateBucket(bucket);
        var host = $"{Server.BaseAddress.Host}:{Server.BaseAddress.Port}";
        return GcsResultsStore.Create(
            bucket,
            retry ?? FastRetry,
            new GcsUploadOptions { ChunkSize = chunkSize },
            getEnv: name => name == "STORAGE_EMULATOR_HOST" ? host : null);
    }
}
