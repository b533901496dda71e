using System.Net;
using Kfci.Firestore;
using Kfci.Testing;

namespace Kfci.Tests.Firestore;

[Collection(EmulatorCollection.Name)]
public sealed class FirestoreClientTests(EmulatorFixture emulators)
{
    private readonly FirestoreClient _client = EmulatorFirestore.NewClient(emulators, "fs");

    [Fact]
    public async Task SetAndGet_EveryValueType_RoundTrips()
    {
        var when = new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero).AddTicks(1234560);
        var fields = new Dictionary<string, object?>
        {
            ["string"] = "héllo ✓ 🚀",
            ["max"] = long.MaxValue,
            ["min"] = long.MinValue,
            ["double"] = 0.1,
            ["nan"] = double.NaN,
            ["inf"] = double.NegativeInfinity,
            ["bool"] = true,
            ["null"] = null,
            ["when"] = when,
            ["bytes"] = new byte[] { 0, 1, 255 },
            ["ref"] = _client.Reference("runs/other"),
            ["geo"] = new GeoPoint(48.1, 11.5),
            ["map"] = new Dictionary<string, object?> { ["nested"] = new object?[] { 1L, "x", new Dictionary<string, object?>() } },
            ["emptyMap"] = new Dictionary<string, object?>(),
            ["emptyList"] = Array.Empty<object?>(),
        };

        var version = await _client.SetAsync("runs/all types", fields);
        var doc = await _client.GetAsync("runs/all types");

        Assert.NotNull(doc);
        Assert.Equal(_client.DocumentsRoot + "/runs/all types", doc.Name);
        Assert.Equal("all types", doc.Id);
        Assert.Equal(version, doc.UpdateTime);
        Assert.Equal(doc.CreateTime, doc.UpdateTime);
        Assert.Equal("héllo ✓ 🚀", doc.Get<string>("string"));
        Assert.Equal(long.MaxValue, doc.Get<long>("max"));
        Assert.Equal(long.MinValue, doc.Get<long>("min"));
        Assert.Equal(0.1, doc.Get<double>("double"));
        Assert.True(double.IsNaN(doc.Get<double>("nan")));
        Assert.Equal(double.NegativeInfinity, doc.Get<double>("inf"));
        Assert.True(doc.Get<bool>("bool"));
        Assert.True(doc.TryGet<object?>("null", out var nothing) && nothing is null);
        Assert.Equal(when, doc.Get<DateTimeOffset>("when"));
        Assert.Equal(new byte[] { 0, 1, 255 }, doc.Get<byte[]>("bytes"));
        Assert.Equal(_client.DocumentsRoot + "/runs/other", doc.Get<DocumentReference>("ref").Name);
        Assert.Equal(new GeoPoint(48.1, 11.5), doc.Get<GeoPoint>("geo"));
        var nested = doc.Get<IReadOnlyList<object?>>("map.nested");
        Assert.Equal([1L, "x"], nested.Take(2));
        Assert.Empty((IReadOnlyDictionary<string, object?>)nested[2]!);
        Assert.Empty(doc.Get<IReadOnlyDictionary<string, object?>>("emptyMap"));
        Assert.Empty(doc.Get<IReadOnlyList<object?>>("emptyList"));
        Assert.Equal(15, doc.Fields.Count);
    }

    [Fact]
    public async Task GetAsync_MissingDocument_ReturnsNull() =>
        Assert.Null(await _client.GetAsync("runs/never-written"));

    [Fact]
    public async Task CreateIfAbsentAsync_TenConcurrentCallers_ExactlyOneWins()
    {
        var callers = Enumerable.Range(0, 10).Select(i =>
            _client.CreateIfAbsentAsync("runs/race", new Dictionary<string, object?> { ["winner"] = (long)i }));

        var outcomes = await Task.WhenAll(callers);

        Assert.Single(outcomes, created => created);
        var winner = Array.IndexOf(outcomes, true);
        Assert.Equal(winner, (await _client.GetAsync("runs/race"))!.Get<int>("winner"));
    }

    [Fact]
    public async Task UpdateAsync_CurrentVersion_ChangesOnlyNamedFields()
    {
        var v1 = await _client.SetAsync("runs/u", new Dictionary<string, object?>
        {
            ["phase"] = "Running",
            ["steps"] = new Dictionary<string, object?> { ["build"] = "ok", ["e2e-test"] = "pending" },
        });

        var v2 = await _client.UpdateAsync("runs/u", new Dictionary<string, object?> { ["steps.e2e-test"] = "failed", ["retries"] = 1 }, v1);

        var doc = (await _client.GetAsync("runs/u"))!;
        Assert.True(v2 > v1);
        Assert.Equal(v2, doc.UpdateTime);
        Assert.Equal("Running", doc.Get<string>("phase"));
        Assert.Equal("ok", doc.Get<string>("steps.build"));
        Assert.Equal("failed", doc.Get<string>("steps.e2e-test"));
        Assert.Equal(1, doc.Get<int>("retries"));
    }

    [Fact]
    public async Task UpdateAsync_StaleUpdateTime_ThrowsPreconditionAndKeepsNewerWrite()
    {
        var v1 = await _client.SetAsync("runs/stale", new Dictionary<string, object?> { ["phase"] = "Pending" });
        await _client.UpdateAsync("runs/stale", new Dictionary<string, object?> { ["phase"] = "Running" }, v1);

        var e = await Assert.ThrowsAsync<FirestorePreconditionException>(() =>
            _client.UpdateAsync("runs/stale", new Dictionary<string, object?> { ["phase"] = "Lost" }, v1));

        Assert.Equal("FAILED_PRECONDITION", e.Reason);
        Assert.Equal(HttpStatusCode.BadRequest, e.Status);
        Assert.Equal("Running", (await _client.GetAsync("runs/stale"))!.Get<string>("phase"));
    }

    [Fact]
    public async Task UpdateAsync_MissingDocument_ThrowsNotFoundPrecondition()
    {
        var e = await Assert.ThrowsAsync<FirestorePreconditionException>(() =>
            _client.UpdateAsync("runs/ghost", new Dictionary<string, object?> { ["phase"] = "Running" }));

        Assert.Equal("NOT_FOUND", e.Reason);
        Assert.Null(await _client.GetAsync("runs/ghost"));
    }

    [Fact]
    public async Task DeleteAsync_MissingDocument_SucceedsUnlessRequiredToExist()
    {
        await _client.DeleteAsync("runs/absent");

        var e = await Assert.ThrowsAsync<FirestorePreconditionException>(() => _client.DeleteAsync("runs/absent", FirestorePrecondition.MustExist));
        Assert.Equal("NOT_FOUND", e.Reason);
    }

    [Fact]
    public async Task DeleteAsync_ExistingAtVersion_Removes()
    {
        var version = await _client.SetAsync("runs/d", new Dictionary<string, object?> { ["x"] = 1 });

        await _client.DeleteAsync("runs/d", FirestorePrecondition.LastUpdated(version));

        Assert.Null(await _client.GetAsync("runs/d"));
    }

    [Fact]
    public async Task CommitAsync_OneFailingPrecondition_WritesNothing()
    {
        await _client.SetAsync("runs/existing", new Dictionary<string, object?> { ["n"] = 1 });
        await _client.SetAsync("runs/taken", new Dictionary<string, object?> { ["n"] = 1 });

        var e = await Assert.ThrowsAsync<FirestorePreconditionException>(() => _client.CommitAsync(
        [
            FirestoreWrite.Set("runs/first", new Dictionary<string, object?> { ["n"] = 1 }),
            FirestoreWrite.Update("runs/existing", new Dictionary<string, object?> { ["n"] = 2 }),
            FirestoreWrite.Create("runs/taken", new Dictionary<string, object?> { ["n"] = 3 }),
        ]));

        Assert.Equal("ALREADY_EXISTS", e.Reason);
        Assert.Null(await _client.GetAsync("runs/first"));
        Assert.Equal(1, (await _client.GetAsync("runs/existing"))!.Get<int>("n"));
        Assert.Equal(1, (await _client.GetAsync("runs/taken"))!.Get<int>("n"));
    }

    [Fact]
    public async Task CommitAsync_SeveralWritesAndTransforms_AllApplied()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-5);

        var result = await _client.CommitAsync(
        [
            FirestoreWrite.Set("runs/batch", new Dictionary<string, object?> { ["count"] = 5L, ["tags"] = new object?[] { "a" } }),
            FirestoreWrite.Transform("runs/batch",
            [
                FieldTransform.Increment("count", 2),
                FieldTransform.AppendMissingElements("tags", "a", "b"),
                FieldTransform.ServerTimestamp("finished"),
            ]),
            FirestoreWrite.Delete("runs/old"),
        ]);

        Assert.Equal(3, result.WriteResults.Count);
        Assert.Equal(7L, result.WriteResults[1].TransformResults[0]);
        var doc = (await _client.GetAsync("runs/batch"))!;
        Assert.Equal(7L, doc.Get<long>("count"));
        Assert.Equal(["a", "b"], doc.Get<IReadOnlyList<object?>>("tags"));
        Assert.InRange(doc.Get<DateTimeOffset>("finished"), before, DateTimeOffset.UtcNow.AddSeconds(5));
    }

    [Fact]
    public async Task QueryAsync_FiltersOrderAndLimit_ReturnsMatchingInOrder()
    {
        for (var i = 1; i <= 6; i++)
        {
            await _client.SetAsync($"jobs/j{i}", new Dictionary<string, object?>
            {
                ["n"] = i,
                ["kind"] = i % 2 == 0 ? "even" : "odd",
                ["labels"] = new object?[] { $"l{i}", "all" },
            });
        }

        await _client.SetAsync("other/x", new Dictionary<string, object?> { ["n"] = 3, ["kind"] = "odd" });
        var jobs = new FirestoreQuery("jobs");

        Assert.Equal(["j5", "j3", "j1"], Ids(await _client.QueryAsync(jobs.Where("kind", FilterOperator.Equal, "odd").OrderByDescending("n"))));
        Assert.Equal(["j3", "j4"], Ids(await _client.QueryAsync(jobs.Where("n", FilterOperator.GreaterThan, 2).Where("n", FilterOperator.LessThanOrEqual, 5).OrderBy("n").Limit(2))));
        Assert.Equal(["j1", "j2"], Ids(await _client.QueryAsync(jobs.Where("n", FilterOperator.LessThan, 3).OrderBy("n"))));
        Assert.Equal(["j5", "j6"], Ids(await _client.QueryAsync(jobs.Where("n", FilterOperator.GreaterThanOrEqual, 5).OrderBy("n"))));
        Assert.Equal(["j2", "j6"], Ids(await _client.QueryAsync(jobs.Where("n", FilterOperator.In, new object?[] { 2, 6, 8 }).OrderBy("n"))));
        Assert.Equal(5, (await _client.QueryAsync(jobs.Where("n", FilterOperator.NotEqual, 4))).Count);
        Assert.Equal(["j4"], Ids(await _client.QueryAsync(jobs.Where("labels", FilterOperator.ArrayContains, "l4"))));
        Assert.Equal(["j5", "j6"], Ids(await _client.QueryAsync(jobs.OrderBy("n").StartAfter(4))));
        Assert.Equal(["j4", "j5", "j6"], Ids(await _client.QueryAsync(jobs.OrderBy("n").StartAt(4))));
        Assert.Empty(await _client.QueryAsync(new FirestoreQuery("empty")));
    }

    [Fact]
    public async Task QueryAsync_SubCollectionAndNullFilter_Scoped()
    {
        await _client.SetAsync("runs/r1/steps/a", new Dictionary<string, object?> { ["error"] = null });
        await _client.SetAsync("runs/r1/steps/b", new Dictionary<string, object?> { ["error"] = "boom" });
        await _client.SetAsync("runs/r2/steps/c", new Dictionary<string, object?> { ["error"] = null });

        var steps = new FirestoreQuery("steps", parent: "runs/r1");

        Assert.Equal(["a", "b"], Ids(await _client.QueryAsync(steps)));
        Assert.Equal(["a"], Ids(await _client.QueryAsync(steps.Where("error", FilterOperator.Equal, null))));
        Assert.Equal(["b"], Ids(await _client.QueryAsync(steps.Where("error", FilterOperator.NotEqual, null))));
    }

    [Fact]
    public void Create_NoProjectId_ExplainsHowToFix()
    {
        var e = Assert.Throws<InvalidOperationException>(() => FirestoreClient.Create(getEnv: _ => null));
        Assert.Contains("KFCI_PROJECT", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DocumentName_CollectionPathOrForeignDatabase_Rejected()
    {
        Assert.Throws<ArgumentException>(() => _client.DocumentName("runs"));
        Assert.Throws<ArgumentException>(() => _client.DocumentName("runs//x"));
        Assert.Throws<ArgumentException>(() => _client.DocumentName("projects/other/databases/(default)/documents/runs/x"));
        Assert.Equal(_client.DocumentsRoot + "/runs/x", _client.DocumentName(_client.DocumentsRoot + "/runs/x"));
    }

    private static string[] Ids(IEnumerable<FirestoreDocument> docs) => [.. docs.Select(d => d.Id)];
}
