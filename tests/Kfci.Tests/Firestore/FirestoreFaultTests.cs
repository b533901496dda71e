using System.Net;
using Kfci.Firestore;
using Kfci.Http;
using Kfci.Testing;

namespace Kfci.Tests.Firestore;

/// <summary>The retry decisions of the adapter, proven with one injected 503 in front of the real emulator.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class FirestoreFaultTests
{
    private readonly FaultInjector _faults = new() { InnerHandler = HttpClients.CreateHandler() };
    private readonly FirestoreClient _client;

    public FirestoreFaultTests(EmulatorFixture emulators)
    {
        ArgumentNullException.ThrowIfNull(emulators);
        var http = new HttpClient(_faults) { BaseAddress = emulators.Firestore.BaseAddress };
        _client = new FirestoreClient(new RestClient(http, new RetryPolicy(EmulatorFirestore.FastRetry)), EmulatorFixture.NewProjectId("ft"));
    }

    [Fact]
    public async Task GetAsync_OneServiceUnavailable_Retried()
    {
        await _client.SetAsync("runs/r", new Dictionary<string, object?> { ["n"] = 1 });
        _faults.FailNext("/runs/r", 1);

        var doc = await _client.GetAsync("runs/r");

        Assert.Equal(1, doc!.Get<int>("n"));
        Assert.Equal(2, _faults.Requests("/runs/r"));
    }

    [Fact]
    public async Task CreateIfAbsentAsync_OneServiceUnavailable_RetriedSafely()
    {
        _faults.FailNext(":commit", 1);

        Assert.True(await _client.CreateIfAbsentAsync("runs/c", new Dictionary<string, object?> { ["n"] = 1 }));
        Assert.Equal(2, _faults.Requests(":commit"));
    }

    [Fact]
    public async Task CommitAsync_IncrementWithServiceUnavailable_NotRetriedBlindly()
    {
        await _client.SetAsync("counters/c", new Dictionary<string, object?> { ["n"] = 0 });
        _faults.FailNext(":commit", 1);

        var e = await Assert.ThrowsAsync<ApiException>(() => _client.CommitAsync([FirestoreWrite.Transform("counters/c", [FieldTransform.Increment("n", 1)])]));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, e.Status);
        Assert.Equal(1, _faults.Requests(":commit"));
        Assert.Equal(0, (await _client.GetAsync("counters/c"))!.Get<int>("n"));
    }

    [Fact]
    public async Task RunTransactionAsync_CommitServiceUnavailable_RolledBackNotRerun()
    {
        await _client.SetAsync("counters/t", new Dictionary<string, object?> { ["n"] = 0 });
        var runs = 0;
        _faults.FailNext(":commit", 1);
        _faults.FailNext(":rollback", 0);

        await Assert.ThrowsAsync<ApiException>(() => _client.RunTransactionAsync(async (tx, token) =>
        {
            runs++;
            var n = (await tx.GetAsync("counters/t", token))!.Get<long>("n");
            tx.Update("counters/t", new Dictionary<string, object?> { ["n"] = n + 1 });
            return n;
        }));

        Assert.Equal(1, runs);
        Assert.Equal(1, _faults.Requests(":rollback"));
        Assert.Equal(0, (await _client.GetAsync("counters/t"))!.Get<int>("n"));
    }

    /// <summary>Answers 503 to the next N requests whose path contains a marker, and counts requests per marker.</summary>
    private sealed class FaultInjector : DelegatingHandler
    {
        private readonly Dictionary<string, int> _failures = [];
        private readonly Dictionary<string, int> _seen = [];
        private readonly Lock _lock = new();

        public void FailNext(string marker, int count)
        {
            lock (_lock)
            {
                _failures[marker] = count;
                _seen[marker] = 0;
            }
        }

        public int Requests(string marker)
        {
            lock (_lock)
            {
                return _seen.GetValueOrDefault(marker);
            }
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = Uri.UnescapeDataString(request.RequestUri!.AbsolutePath);
            var fail = false;
            lock (_lock)
            {
                foreach (var marker in _failures.Keys.Where(m => path.Contains(m, StringComparison.Ordinal)))
                {
                    _seen[marker]++;
                    if (_failures[marker] > 0)
                    {
                        _failures[marker]--;
                        fail = true;
                    }
                }
            }

            return fail
                ? Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
                {
                    RequestMessage = request,
                    Content = new StringContent("""{"error":{"code":503,"message":"injected","status":"UNAVAILABLE"}}"""),
                })
                : base.SendAsync(request, cancellationToken);
        }
    }
}
