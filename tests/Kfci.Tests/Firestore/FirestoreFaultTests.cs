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
    public async Task CommitAsync_IncrementAborted_SentAgainAndCountedOnce()
    {
        await _client.SetAsync("counters/a", new Dictionary<string, object?> { ["n"] = 0 });
        _faults.AnswerNext(":commit", HttpStatusCode.Conflict, """{"error":{"code":409,"message":"Too much contention on these documents. Please try again.","status":"ABORTED"}}""");

        await _client.CommitAsync([FirestoreWrite.Transform("counters/a", [FieldTransform.Increment("n", 1)])]);

        Assert.Equal(2, _faults.Requests(":commit"));
        Assert.Equal(1, (await _client.GetAsync("counters/a"))!.Get<int>("n"));
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

    [Fact]
    public async Task GetAsync_DatabaseMissing_ConfigurationErrorNotAbsent()
    {
        _faults.AnswerNext("/runs/r", HttpStatusCode.NotFound, MissingDatabase);

        var e = await Assert.ThrowsAsync<FirestoreDatabaseNotFoundException>(() => _client.GetAsync("runs/r"));

        Assert.Contains("KFCI_FIRESTORE_DATABASE", e.Message, StringComparison.Ordinal);
        Assert.Null(await _client.GetAsync("runs/r"));
    }

    [Fact]
    public async Task UpdateAsync_DatabaseMissing_ConfigurationErrorNotPrecondition()
    {
        _faults.AnswerNext(":commit", HttpStatusCode.NotFound, MissingProject);

        await Assert.ThrowsAsync<FirestoreDatabaseNotFoundException>(() => _client.UpdateAsync("runs/u", new Dictionary<string, object?> { ["n"] = 1 }));
        Assert.Equal(1, _faults.Requests(":commit"));
    }

    [Fact]
    public async Task FirestoreRunStore_DatabaseMissing_NotReadAsNoSuchRun()
    {
        var store = new Kfci.Runs.FirestoreRunStore(_client);
        _faults.AnswerNext("/runs/", HttpStatusCode.NotFound, MissingDatabase);

        await Assert.ThrowsAsync<FirestoreDatabaseNotFoundException>(() => store.UpdateAsync("some-run", r => r, CancellationToken.None));
    }

    [Fact]
    public async Task SetAsync_OneAborted_RetriedWithBackoff()
    {
        _faults.AnswerNext(":commit", HttpStatusCode.Conflict, """{"error":{"code":409,"message":"Too much contention on these documents. Please try again.","status":"ABORTED"}}""");

        await _client.SetAsync("runs/hot", new Dictionary<string, object?> { ["n"] = 1 });

        Assert.Equal(2, _faults.Requests(":commit"));
        Assert.Equal(1, (await _client.GetAsync("runs/hot"))!.Get<int>("n"));
    }

    [Fact]
    public async Task UpdateAsync_ConditionalReplyLost_RecognisedAsOwnWrite()
    {
        var version = await _client.SetAsync("runs/lost", new Dictionary<string, object?> { ["state"] = "planning", ["at"] = DateTimeOffset.UtcNow });
        _faults.DropReplyNext(":commit");

        var written = await _client.UpdateAsync(
            "runs/lost", new Dictionary<string, object?> { ["state"] = "submitted", ["at"] = DateTimeOffset.UtcNow }, ifUpdateTime: version);

        Assert.Equal(2, _faults.Requests(":commit"));
        var stored = (await _client.GetAsync("runs/lost"))!;
        Assert.Equal("submitted", stored.Get<string>("state"));
        Assert.Equal(stored.UpdateTime, written);
    }

    [Fact]
    public async Task CreateIfAbsentAsync_ReplyLost_ReportsCreatedOnce()
    {
        _faults.DropReplyNext(":commit");

        Assert.True(await _client.CreateIfAbsentAsync("runs/once", new Dictionary<string, object?> { ["n"] = 1, ["tags"] = new[] { "a" } }));
        Assert.False(await _client.CreateIfAbsentAsync("runs/once", new Dictionary<string, object?> { ["n"] = 1, ["tags"] = new[] { "a" } }));
    }

    [Fact]
    public async Task CreateIfAbsentAsync_RetriedIntoSomeoneElsesDocument_StillAConflict()
    {
        await _client.SetAsync("runs/theirs", new Dictionary<string, object?> { ["n"] = 1 });
        _faults.FailNext(":commit", 1);

        Assert.False(await _client.CreateIfAbsentAsync("runs/theirs", new Dictionary<string, object?> { ["n"] = 2 }));
        Assert.Equal(2, _faults.Requests(":commit"));
    }

    [Fact]
    public async Task UpdateAsync_ReplyLostThenChangedByAnother_StillAConflict()
    {
        var version = await _client.SetAsync("runs/race", new Dictionary<string, object?> { ["state"] = "planning" });
        _faults.DropReplyNext(":commit", afterForwarding: () => _client.SetAsync("runs/race", new Dictionary<string, object?> { ["state"] = "aborted" }));

        await Assert.ThrowsAsync<FirestorePreconditionException>(() =>
            _client.UpdateAsync("runs/race", new Dictionary<string, object?> { ["state"] = "submitted" }, ifUpdateTime: version));
    }

    [Fact]
    public async Task QueryAsync_ErrorPartWayThroughTheStream_RetriedNotReadAsAShorterAnswer()
    {
        foreach (var id in new[] { "q1", "q2", "q3" })
        {
            await _client.SetAsync($"queued/{id}", new Dictionary<string, object?> { ["n"] = 1 });
        }

        // runQuery streams: the 200 is sent first, so a failure after it is the array's last element.
        _faults.AnswerNext(":runQuery", HttpStatusCode.OK, """[{"readTime":"2026-12-02T00:00:00Z"},{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}]""");

        var documents = await _client.QueryAsync(new FirestoreQuery("queued"));

        Assert.Equal(3, documents.Count);
        Assert.Equal(2, _faults.Requests(":runQuery"));
    }

    [Fact]
    public async Task QueryAsync_PermanentErrorPartWay_Thrown()
    {
        _faults.AnswerNext(":runQuery", HttpStatusCode.OK, """[{"error":{"code":400,"message":"order by clause cannot contain more fields after the key","status":"INVALID_ARGUMENT"}}]""");

        var e = await Assert.ThrowsAsync<ApiException>(() => _client.QueryAsync(new FirestoreQuery("queued")));

        Assert.Equal(HttpStatusCode.BadRequest, e.Status);
        Assert.Equal("INVALID_ARGUMENT", e.Reason);
    }

    private const string MissingDatabase =
        """{"error":{"code":404,"message":"The database kfci-typo does not exist for project p Please visit https://console.cloud.google.com/datastore/setup?project=p to add a Cloud Datastore or Cloud Firestore database.","status":"NOT_FOUND"}}""";

    private const string MissingProject =
        """{"error":{"code":404,"message":"The project p does not exist or it does not contain an active Cloud Datastore or Cloud Firestore database. Please visit http://console.cloud.google.com to create a project or https://console.cloud.google.com/datastore/setup?project=p to add a Cloud Datastore or Cloud Firestore database.","status":"NOT_FOUND"}}""";

    /// <summary>
    /// In front of the emulator: answers 503 (or a given answer) to the next N requests whose path contains a marker, or
    /// forwards one and drops its reply (the request was applied, the caller sees a reset); counts requests per marker.
    /// </summary>
    private sealed class FaultInjector : DelegatingHandler
    {
        private readonly Dictionary<string, int> _failures = [];
        private readonly Dictionary<string, (HttpStatusCode Status, string Body)> _answers = [];
        private readonly Dictionary<string, Func<Task>?> _drops = [];
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

        public void AnswerNext(string marker, HttpStatusCode status, string body)
        {
            lock (_lock)
            {
                _answers[marker] = (status, body);
                _seen[marker] = 0;
            }
        }

        public void DropReplyNext(string marker, Func<Task>? afterForwarding = null)
        {
            lock (_lock)
            {
                _drops[marker] = afterForwarding;
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

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = Uri.UnescapeDataString(request.RequestUri!.AbsolutePath);
            var fail = false;
            (HttpStatusCode Status, string Body)? answer = null;
            var drop = false;
            Func<Task>? afterDrop = null;
            lock (_lock)
            {
                foreach (var marker in _seen.Keys.Where(m => path.Contains(m, StringComparison.Ordinal)).ToList())
                {
                    _seen[marker]++;
                    if (_failures.GetValueOrDefault(marker) > 0)
                    {
                        _failures[marker]--;
                        fail = true;
                    }

                    if (_answers.Remove(marker, out var given))
                    {
                        answer = given;
                    }

                    if (_drops.Remove(marker, out var then))
                    {
                        drop = true;
                        afterDrop = then;
                    }
                }
            }

            if (fail || answer is not null)
            {
                var (status, body) = answer ?? (HttpStatusCode.ServiceUnavailable, """{"error":{"code":503,"message":"injected","status":"UNAVAILABLE"}}""");
                return new HttpResponseMessage(status) { RequestMessage = request, Content = new StringContent(body) };
            }

            var response = await base.SendAsync(request, cancellationToken);
            if (!drop)
            {
                return response;
            }

            response.Dispose();
            if (afterDrop is not null)
            {
                await afterDrop();
            }

            throw new HttpRequestException("injected: the connection closed before the reply arrived");
        }
    }
}
