using Kfci.Firestore;
using Kfci.Runs;
using Kfci.Testing;
using Kfci.Tests.Firestore;
using Kfci.Tests.Runs;

namespace Kfci.Tests.Uploader;

/// <summary>The compact test columns the grid and the flakiness page read, against the real Firestore emulator.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class TestColumnsTests(EmulatorFixture emulators)
{
    private static readonly DateTimeOffset s_start = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task ResultsSinceAsync_TwoBuildsOfTheSameTests_ReadBackNewestFirst_NameListStoredOnce()
    {
        var firestore = EmulatorFirestore.NewClient(emulators, "col");
        var store = new FirestoreTestSummaryStore(firestore);
        var older = Build("cols-1", 0);
        var newer = Build("cols-2", 1);
        await store.WriteAsync([Summary(older, failing: 7)], default);
        await store.WriteAsync([Summary(newer, failing: null)], default);

        var window = await store.ResultsSinceAsync("cols-job", s_start, 100, 1_000_000, default);
        var read = window.Summaries;

        Assert.False(window.Truncated);
        Assert.Equal(["cols-2", "cols-1"], read.Select(s => s.RunId));
        Assert.Equal(Names(), read[0].Tests.Select(t => t.Name));
        Assert.Equal(Names(), read[1].Tests.Select(t => t.Name));
        Assert.All(read[0].Tests, t => Assert.Equal(TestOutcomes.Pass, t.Result));
        Assert.Equal((TestOutcomes.Fail, "boom 7"), (read[1].Tests[7].Result, read[1].Tests[7].Message));
        Assert.Equal(TestOutcomes.Skip, read[1].Tests[3].Result);
        Assert.Equal(("commit-cols-1", "wf"), (read[1].Commit, read[1].Workflow));

        // 1,000 names are two parts, written once for both builds.
        Assert.Equal(2, (await firestore.QueryAsync(new FirestoreQuery(TestColumns.NamesCollection), default)).Count);
    }

    [Fact]
    public async Task ResultsSinceAsync_RewrittenWithOtherTests_ReadsTheNewList()
    {
        var store = new FirestoreTestSummaryStore(EmulatorFirestore.NewClient(emulators, "col"));
        var run = Build("cols-rewrite", 0);
        await store.WriteAsync([Summary(run, failing: null)], default);
        Assert.Single((await store.ResultsSinceAsync("cols-job", s_start, 100, 1_000_000, default)).Summaries);

        await store.WriteAsync([WorkflowTestSummary.For(run, run.Workflows[0], [new TestCaseResult("only", TestOutcomes.Fail, 1, "m")]) with { Workflow = "wf" }], default);

        var read = Assert.Single((await store.ResultsSinceAsync("cols-job", s_start, 100, 1_000_000, default)).Summaries);
        Assert.Equal([("only", TestOutcomes.Fail, "m")], read.Tests.Select(t => (t.Name, t.Result, t.Message)));
    }

    [Fact]
    public async Task ResultsSinceAsync_NameListMissing_LeavesTheColumnOut()
    {
        var firestore = EmulatorFirestore.NewClient(emulators, "col");
        await new FirestoreTestSummaryStore(firestore).WriteAsync([Summary(Build("cols-torn", 0), failing: null)], default);
        var part = Assert.Single(await firestore.QueryAsync(new FirestoreQuery(TestColumns.NamesCollection).Limit(1), default));
        await firestore.DeleteAsync($"{TestColumns.NamesCollection}/{part.Id}");

        // A fresh store: nothing cached from the write.
        Assert.Empty((await new FirestoreTestSummaryStore(firestore).ResultsSinceAsync("cols-job", s_start, 100, 1_000_000, default)).Summaries);
    }

    [Fact]
    public async Task ResultsSinceAsync_ManyFailures_KeepsTheFirstMessagesOnly()
    {
        var store = new FirestoreTestSummaryStore(EmulatorFirestore.NewClient(emulators, "col"));
        var run = Build("cols-messages", 0);
        await store.WriteAsync([WorkflowTestSummary.For(run, run.Workflows[0], Enumerable.Range(0, 300).Select(i => new TestCaseResult($"t{i}", TestOutcomes.Fail, 1, $"m{i}")))], default);

        var read = Assert.Single((await store.ResultsSinceAsync(null, s_start, 100, 1_000_000, default)).Summaries);

        Assert.All(read.Tests, t => Assert.Equal(TestOutcomes.Fail, t.Result));
        Assert.Equal(TestColumns.MaxMessages, read.Tests.Count(t => t.Message is not null));
        Assert.All(read.Tests.Where(t => t.Message is not null), t => Assert.Equal("m" + t.Name[1..], t.Message));
    }

    [Fact]
    public async Task WriteAsync_StepsInAnotherOrder_ShareOneNameList()
    {
        var firestore = EmulatorFirestore.NewClient(emulators, "col");
        var store = new FirestoreTestSummaryStore(firestore);
        var first = Build("cols-order-1", 0);
        var second = Build("cols-order-2", 1);
        await store.WriteAsync([WorkflowTestSummary.For(first, first.Workflows[0], [Case("b", TestOutcomes.Pass), Case("a", TestOutcomes.Fail), Case("c", TestOutcomes.Pass)])], default);
        await store.WriteAsync([WorkflowTestSummary.For(second, second.Workflows[0], [Case("c", TestOutcomes.Fail), Case("b", TestOutcomes.Pass), Case("a", TestOutcomes.Pass)])], default);

        var read = (await store.ResultsSinceAsync("cols-job", s_start, 100, 1_000_000, default)).Summaries;

        Assert.Single(await firestore.QueryAsync(new FirestoreQuery(TestColumns.NamesCollection), default));
        Assert.Equal([("a", "pass"), ("b", "pass"), ("c", "fail")], read[0].Tests.Select(t => (t.Name, t.Result)));
        Assert.Equal([("a", "fail"), ("b", "pass"), ("c", "pass")], read[1].Tests.Select(t => (t.Name, t.Result)));
    }

    [Fact]
    public async Task ResultsSinceAsync_MoreThanAPageOrTheBounds_PagesWithoutRepeats_AndSaysWhenCut()
    {
        var store = new FirestoreTestSummaryStore(EmulatorFirestore.NewClient(emulators, "col"));
        var runs = Enumerable.Range(0, 650).Select(i => Build($"cols-page-{i:D3}", i % 7)).ToList();
        foreach (var chunk in runs.Chunk(100))
        {
            await store.WriteAsync([.. chunk.Select(r => WorkflowTestSummary.For(r, r.Workflows[0], [Case("t", TestOutcomes.Pass), Case("u", TestOutcomes.Pass)]))], default);
        }

        var all = await store.ResultsSinceAsync("cols-job", s_start, 10_000, 1_000_000, default);
        var byColumns = await store.ResultsSinceAsync("cols-job", s_start, 400, 1_000_000, default);
        var byCases = await store.ResultsSinceAsync("cols-job", s_start, 10_000, 501, default);

        Assert.False(all.Truncated);
        Assert.Equal(runs.Select(r => r.RunId).Order(StringComparer.Ordinal), all.Summaries.Select(s => s.RunId).Order(StringComparer.Ordinal));
        Assert.Equal(all.Summaries.OrderByDescending(s => s.CreatedAt).Select(s => s.CreatedAt), all.Summaries.Select(s => s.CreatedAt));
        Assert.Equal((true, 400), (byColumns.Truncated, byColumns.Summaries.Count));
        Assert.Equal((true, 250), (byCases.Truncated, byCases.Summaries.Count));
    }

    private static TestCaseResult Case(string name, string result) => new(name, result, 1, result == TestOutcomes.Fail ? "m" : null);

    [Fact]
    public void NamesKey_JoinedAlike_DifferentLists_DifferentKeys()
    {
        Assert.NotEqual(TestColumns.NamesKey(["ab", "c"]), TestColumns.NamesKey(["a", "bc"]));
        Assert.NotEqual(TestColumns.NamesKey(["1:a"]), TestColumns.NamesKey(["1:a", ""]));
        Assert.Equal(TestColumns.NamesKey(["x", "y"]), TestColumns.NamesKey(["x", "y"]));
    }

    private static RunRecord Build(string runId, int hours) =>
        SampleRuns.Submitted(runId, "ns") with { JobName = "cols-job", CreatedAt = s_start.AddHours(hours + 1), BaseSha = $"commit-{runId}", PullSha = null };

    private static List<string> Names() => [.. Enumerable.Range(0, 1000).Select(i => $"suite.test_{i:D4}")];

    private static WorkflowTestSummary Summary(RunRecord run, int? failing) =>
        WorkflowTestSummary.For(run, run.Workflows[0] with { Name = "wf-1a2b" }, Names().Select((name, i) =>
            i == failing ? new TestCaseResult(name, TestOutcomes.Fail, 1, $"boom {i}")
            : i == 3 && failing is not null ? new TestCaseResult(name, TestOutcomes.Skip, 0, null)
            : new TestCaseResult(name, TestOutcomes.Pass, 1, null))) with { Workflow = "wf" };
}
