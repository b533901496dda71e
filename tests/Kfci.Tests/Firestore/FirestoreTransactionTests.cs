using System.Diagnostics;
using System.Net;
using Kfci.Firestore;
using Kfci.Http;
using Kfci.Testing;

namespace Kfci.Tests.Firestore;

/// <summary>
/// The emulator locks pessimistically: transactional reads take shared locks, and a commit that needs a lock
/// another transaction holds waits ~2 s, then fails with <c>ABORTED</c> ("Transaction lock timeout"). So
/// racing read-modify-write transactions really do abort, and only the retry makes both effects land.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class FirestoreTransactionTests(EmulatorFixture emulators)
{
    private readonly FirestoreClient _client = EmulatorFirestore.NewClient(emulators, "tx");

    [Fact]
    public async Task RunTransactionAsync_TwoWritersReadBeforeEitherCommits_OneRetriesAndBothIncrementsLand()
    {
        await _client.SetAsync("counters/c", new Dictionary<string, object?> { ["n"] = 0 });
        var bothRead = new CountdownTask(2);
        var attempts = 0;

        async Task<int> IncrementAsync(FirestoreTransaction tx, CancellationToken token)
        {
            Interlocked.Increment(ref attempts);
            var n = (await tx.GetAsync("counters/c", token))!.Get<long>("n");
            if (tx.Attempt == 1)
            {
                // Both first attempts have read n == 0 before either commits: a lost update unless one aborts.
                await bothRead.SignalAndWaitAsync(token);
            }

            tx.Update("counters/c", new Dictionary<string, object?> { ["n"] = n + 1 });
            return tx.Attempt;
        }

        var finalAttempts = await Task.WhenAll(_client.RunTransactionAsync(IncrementAsync), _client.RunTransactionAsync(IncrementAsync));

        Assert.Equal(2L, (await _client.GetAsync("counters/c"))!.Get<long>("n"));
        Assert.True(attempts >= 3, $"expected an aborted attempt to be retried, saw {attempts} attempts");
        Assert.Contains(finalAttempts, a => a > 1);
    }

    [Fact]
    public async Task RunTransactionAsync_ThreeConcurrentWriters_EveryIncrementLands()
    {
        await _client.SetAsync("counters/many", new Dictionary<string, object?> { ["n"] = 0 });

        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => _client.RunTransactionAsync(async (tx, token) =>
        {
            var n = (await tx.GetAsync("counters/many", token))!.Get<long>("n");
            tx.Update("counters/many", new Dictionary<string, object?> { ["n"] = n + 1 });
            return n;
        })));

        Assert.Equal(3L, (await _client.GetAsync("counters/many"))!.Get<long>("n"));
    }

    [Fact]
    public async Task RunTransactionAsync_ReadMissingThenCreate_CommitsBufferedWrites()
    {
        var created = await _client.RunTransactionAsync(async (tx, token) =>
        {
            if (await tx.GetAsync("runs/new", token) is not null)
            {
                return false;
            }

            tx.Create("runs/new", new Dictionary<string, object?> { ["phase"] = "Pending" })
              .Set("index/new", new Dictionary<string, object?> { ["run"] = _client.Reference("runs/new") });
            Assert.Null(await _client.GetAsync("runs/new", token));
            return true;
        });

        Assert.True(created);
        Assert.Equal("Pending", (await _client.GetAsync("runs/new"))!.Get<string>("phase"));
        Assert.Equal(_client.DocumentName("runs/new"), (await _client.GetAsync("index/new"))!.Get<DocumentReference>("run").Name);
    }

    [Fact]
    public async Task RunTransactionAsync_BodyThrows_RollsBackWritesAndReleasesLocks()
    {
        await _client.SetAsync("runs/locked", new Dictionary<string, object?> { ["phase"] = "Pending" });
        var attempts = 0;

        await Assert.ThrowsAsync<InvalidOperationException>(() => _client.RunTransactionAsync<int>(async (tx, token) =>
        {
            attempts++;
            await tx.GetAsync("runs/locked", token);
            tx.Update("runs/locked", new Dictionary<string, object?> { ["phase"] = "Lost" });
            throw new InvalidOperationException("body failed");
        }));

        // Without the rollback this write would wait for the transaction's read lock to time out.
        var clock = Stopwatch.StartNew();
        await _client.UpdateAsync("runs/locked", new Dictionary<string, object?> { ["note"] = "after" });
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), $"write after rollback took {clock.Elapsed}");
        Assert.Equal(1, attempts);
        Assert.Equal("Pending", (await _client.GetAsync("runs/locked"))!.Get<string>("phase"));
    }

    [Fact]
    public async Task RunTransactionAsync_AlwaysAborted_GivesUpAfterMaxAttempts()
    {
        var attempts = 0;

        var e = await Assert.ThrowsAsync<ApiException>(() => _client.RunTransactionAsync<int>(
            (tx, _) =>
            {
                attempts++;
                throw new ApiException(HttpStatusCode.Conflict, "ABORTED", "contention");
            },
            new FirestoreTransactionOptions { MaxAttempts = 3 }));

        Assert.Equal("ABORTED", e.Reason);
        Assert.Equal(3, attempts);
    }

    [Fact]
    public async Task RunTransactionAsync_QueryInTransaction_SeesCommittedDocuments()
    {
        await _client.SetAsync("runs/q1", new Dictionary<string, object?> { ["phase"] = "Running" });
        await _client.SetAsync("runs/q2", new Dictionary<string, object?> { ["phase"] = "Done" });

        var running = await _client.RunTransactionAsync(async (tx, token) =>
        {
            var found = await tx.QueryAsync(new FirestoreQuery("runs").Where("phase", FilterOperator.Equal, "Running"), token);
            foreach (var doc in found)
            {
                tx.Update(doc.Name, new Dictionary<string, object?> { ["phase"] = "Cancelled" });
            }

            return found.Count;
        });

        Assert.Equal(1, running);
        Assert.Equal("Cancelled", (await _client.GetAsync("runs/q1"))!.Get<string>("phase"));
    }

    /// <summary>Completes once <c>count</c> callers have arrived.</summary>
    private sealed class CountdownTask(int count)
    {
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _remaining = count;

        public Task SignalAndWaitAsync(CancellationToken token)
        {
            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                _all.TrySetResult();
            }

            return _all.Task.WaitAsync(TimeSpan.FromSeconds(10), token);
        }
    }
}
