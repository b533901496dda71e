using System.Text.Json;
using System.Text.Json.Nodes;
using Kfci.Firestore;
using Kfci.Runs;
using Kfci.Testing;
using Kfci.Tests.Firestore;

namespace Kfci.Tests.Runs;

/// <summary>The run store against the real Firestore emulator: the guarantees the Trigger, Watcher and Uploader build on.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class FirestoreRunStoreTests(EmulatorFixture emulators)
{
    private readonly FirestoreClient _firestore = EmulatorFirestore.NewClient(emulators, "runs");

    private FirestoreRunStore Store => new(_firestore);

    [Fact]
    public async Task CreateAsync_ConcurrentDuplicates_ExactlyOneCreatedAndAllSeeTheSameRun()
    {
        var runs = Enumerable.Range(0, 8).Select(i => SampleRuns.Submitted("dup-run", "ns") with { EventId = $"message-{i}" }).ToList();

        var results = await Task.WhenAll(runs.Select(r => Store.CreateAsync(r, CancellationToken.None)));

        var created = Assert.Single(results, r => r.Created);
        Assert.All(results, r => Assert.Equal(created.Run.EventId, r.Run.EventId));
        Assert.Equal(created.Run.EventId, (await Store.GetAsync("dup-run", CancellationToken.None))!.EventId);
    }

    [Fact]
    public async Task UpdateAsync_ParallelUpdaters_NoUpdateIsLost()
    {
        await Store.CreateAsync(SampleRuns.Submitted("busy-run", "ns"), CancellationToken.None);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Store.UpdateAsync(
            "busy-run", run => run with { Errors = [.. run.Errors, $"error {i}"] }, CancellationToken.None)));

        var stored = await Store.GetAsync("busy-run", CancellationToken.None);
        Assert.Equal(Enumerable.Range(0, 4).Select(i => $"error {i}").Order(), stored!.Errors.Order());
    }

    [Fact]
    public async Task UpdateAsync_VersionRememberedByOneStoreIsStale_TheOtherStoresChangeIsKept()
    {
        // One store instance remembers the version it created and updates on it without reading; another instance (another
        // function, another process) changes the run in between: the first must notice and apply its change on top.
        var mine = Store;
        var theirs = Store;
        await mine.CreateAsync(SampleRuns.Submitted("shared-run", "ns"), CancellationToken.None);
        await theirs.UpdateAsync("shared-run", r => r with { Errors = [.. r.Errors, "theirs"] }, CancellationToken.None);

        var updated = await mine.UpdateAsync("shared-run", r => r with { Errors = [.. r.Errors, "mine"] }, CancellationToken.None);
        await mine.UpdateAsync("shared-run", r => r with { Errors = [.. r.Errors, "mine again"] }, CancellationToken.None);

        Assert.Equal(["theirs", "mine"], updated!.Errors);
        Assert.Equal(["theirs", "mine", "mine again"], (await theirs.GetAsync("shared-run", CancellationToken.None))!.Errors);
    }

    [Fact]
    public async Task UpdateAsync_OneStoreManyParallelUpdaters_NoUpdateIsLost()
    {
        var store = Store;
        await store.CreateAsync(SampleRuns.Submitted("one-store-run", "ns"), CancellationToken.None);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => store.UpdateAsync(
            "one-store-run", run => run with { Errors = [.. run.Errors, $"error {i}"] }, CancellationToken.None)));

        Assert.Equal(Enumerable.Range(0, 4).Select(i => $"error {i}").Order(), (await Store.GetAsync("one-store-run", CancellationToken.None))!.Errors.Order());
    }

    [Fact]
    public async Task UpdateAsync_NullOrSameInstance_WritesNothing_AndUnknownRunGivesNull()
    {
        var (run, _) = await Store.CreateAsync(SampleRuns.Submitted("quiet-run", "ns"), CancellationToken.None);
        var before = await _firestore.GetAsync(RunDocument.PathOf("quiet-run"));

        Assert.Equal(run.RunId, (await Store.UpdateAsync("quiet-run", _ => null, CancellationToken.None))!.RunId);
        await Store.UpdateAsync("quiet-run", r => r, CancellationToken.None);

        Assert.Equal(before!.UpdateTime, (await _firestore.GetAsync(RunDocument.PathOf("quiet-run")))!.UpdateTime);
        Assert.Null(await Store.UpdateAsync("no-such-run", r => r with { Errors = ["x"] }, CancellationToken.None));
    }

    [Fact]
    public async Task RecordWorkflowsAsync_ConcurrentOutcomes_OwnDocumentsFirstWinsRunDocumentUnwritten()
    {
        var entries = Enumerable.Range(0, 20).Select(i => $"w{i}").ToArray();
        var (run, _) = await Store.CreateAsync(SampleRuns.Submitted("wide-run", "ns", null, entries), CancellationToken.None);
        var before = (await _firestore.GetAsync(RunDocument.PathOf("wide-run")))!.UpdateTime;

        await Task.WhenAll(run.Workflows.Select(w => Store.RecordWorkflowsAsync("wide-run", [Finished(w, WorkflowPhases.Failed, "first")], CancellationToken.None)));
        var again = await Store.RecordWorkflowsAsync("wide-run", [Finished(run.Workflows[0], WorkflowPhases.Succeeded, "second")], CancellationToken.None);

        Assert.Equal(before, (await _firestore.GetAsync(RunDocument.PathOf("wide-run")))!.UpdateTime);
        var stored = (await Store.GetAsync("wide-run", CancellationToken.None))!;
        Assert.All(stored.Workflows, w => Assert.Equal((WorkflowPhases.Failed, "first"), (w.Phase, w.Message)));
        Assert.Equal((WorkflowPhases.Failed, "first"), (again!.Workflows[0].Phase, again.Workflows[0].Message));
        Assert.Equal(RunState.Submitted, stored.State);
        Assert.True(stored.UpdatedAt > run.UpdatedAt);
    }

    [Fact]
    public async Task ListAsync_WaitingRuns_CarryTheirRecordedOutcomes_FinishedRunsTheirOwn()
    {
        var t = SampleRuns.Epoch;
        var waiting = Enumerable.Range(0, 35).Select(i => SampleRuns.Submitted($"wait-{i:00}", "ns", t.AddMinutes(i), "a", "b")).ToList();
        foreach (var run in waiting)
        {
            await Store.CreateAsync(run, CancellationToken.None);
            await Store.RecordWorkflowsAsync(run.RunId, [Finished(run.Workflows[1], WorkflowPhases.Succeeded, null)], CancellationToken.None);
        }

        var listed = await Store.ListAsync(new RunQuery(State: RunState.Submitted, Limit: 50), CancellationToken.None);

        Assert.Equal(35, listed.Count);
        Assert.All(listed, r => Assert.Equal([null, WorkflowPhases.Succeeded], r.Workflows.Select(w => w.Phase)));
    }

    [Fact]
    public async Task UpdateAsync_AfterRecordedOutcomes_TransitionKeepsThem()
    {
        var (run, _) = await Store.CreateAsync(SampleRuns.Submitted("move-run", "ns", null, "a", "b"), CancellationToken.None);
        await Store.RecordWorkflowsAsync("move-run", [.. run.Workflows.Select(w => Finished(w, WorkflowPhases.Succeeded, null))], CancellationToken.None);

        await Store.UpdateAsync("move-run", r => r.AllWorkflowsFinished ? r.MoveTo(RunState.Completed, r.UpdatedAt) : null, CancellationToken.None);

        var document = (await _firestore.GetAsync(RunDocument.PathOf("move-run")))!;
        var snapshot = RunDocument.FromFields(document.Fields);
        Assert.Equal(RunState.Completed, snapshot.State);
        Assert.All(snapshot.Workflows, w => Assert.Equal(WorkflowPhases.Succeeded, w.Phase));
    }

    private static WorkflowRecord Finished(WorkflowRecord workflow, string phase, string? message) =>
        workflow with { Phase = phase, Message = message, FinishedAt = SampleRuns.Epoch.AddHours(1) };

    [Fact]
    public async Task ListAsync_ByJobAndState_NewestFirst_AndPagesWithoutGapsOrRepeats()
    {
        var t = SampleRuns.Epoch;
        RunRecord[] runs =
        [
            SampleRuns.Submitted("r1", "ns", t),
            SampleRuns.Submitted("r2", "ns", t.AddMinutes(1)),
            SampleRuns.Submitted("r3", "ns", t.AddMinutes(1)), // same createdAt as r2: the id breaks the tie
            SampleRuns.Submitted("r4", "ns", t.AddMinutes(2)) with { State = RunState.Completed },
            SampleRuns.Submitted("r5", "ns", t.AddMinutes(3)) with { JobName = "other-job" },
            SampleRuns.Submitted("r6", "ns", t.AddMinutes(4)),
        ];
        foreach (var run in runs)
        {
            await Store.CreateAsync(run, CancellationToken.None);
        }

        var submitted = await Store.ListAllAsync(new RunQuery(State: RunState.Submitted, Limit: 2), CancellationToken.None).ToListAsync();
        var ofJob = await Store.ListAsync(new RunQuery(JobName: "kubeflow-presubmit", State: RunState.Submitted), CancellationToken.None);
        var completed = await Store.ListAsync(new RunQuery(State: RunState.Completed), CancellationToken.None);

        Assert.Equal(["r6", "r5", "r3", "r2", "r1"], submitted.Select(r => r.RunId));
        Assert.Equal(["r6", "r3", "r2", "r1"], ofJob.Select(r => r.RunId));
        Assert.Equal("r4", Assert.Single(completed).RunId);
    }

    [Fact]
    public async Task GetAsync_RoundTripsEveryField()
    {
        var t = SampleRuns.Epoch;
        var run = new RunRecord
        {
            RunId = "full-run",
            JobName = "kubeflow-presubmit",
            BuildId = "1234",
            JobType = "presubmit",
            JobSpec = """{"type":"presubmit"}""",
            Repo = "kubeflow/kubeflow",
            BaseRef = "master",
            BaseSha = "abc",
            PullNumber = 42,
            PullSha = "def",
            Envs = new Dictionary<string, string> { ["A"] = "1", ["weird.key-1"] = "two" },
            Source = "crier",
            EventId = "m-1",
            State = RunState.Finished,
            CreatedAt = t,
            UpdatedAt = t.AddTicks(10), // one microsecond
            StartedAt = t.AddSeconds(1),
            Deadline = t.AddHours(3),
            AbortedAt = t.AddMinutes(5),
            CompletedAt = t.AddMinutes(6),
            FinishedAt = t.AddMinutes(7),
            Plan = [new PlannedEntry(0, "e2e", true, true, "matched", "full-run-e2e"), new PlannedEntry(1, "lint", false, true, "no changed file matched", null)],
            Workflows =
            [
                new WorkflowRecord
                {
                    Name = "full-run-e2e",
                    Namespace = "kubeflow-test-infra",
                    EntryName = "e2e",
                    EntryIndex = 0,
                    Submitted = true,
                    Phase = WorkflowPhases.Failed,
                    Message = "child failed",
                    StartedAt = t.AddSeconds(2),
                    FinishedAt = t.AddMinutes(4),
                    FailedNodes = [new FailedNode("full-run-e2e-1", "full-run-e2e.test", "test", "Failed", "exit 1"), new FailedNode("n2", "full-run-e2e.x", "x", "Error", null)],
                    UiLink = "https://argo/workflows/full-run-e2e",
                },
                new WorkflowRecord { Name = "w2", Namespace = "ns", EntryName = "w", EntryIndex = 1 },
            ],
            Errors = ["one", "two"],
            History = [new RunHistoryEntry(RunState.Planning, t, null), new RunHistoryEntry(RunState.Submitted, t.AddSeconds(1), "2 workflows")],
            Result = RunResults.Failure,
            ResultsPath = "gs://b/pr-logs/pull/kubeflow_kubeflow/42/kubeflow-presubmit/1234",
            Links = new Dictionary<string, string> { ["spyglass"] = "https://prow/view" },
        };

        await Store.CreateAsync(run, CancellationToken.None);
        var stored = await Store.GetAsync("full-run", CancellationToken.None);

        Assert.True(JsonNode.DeepEquals(Json(run), Json(stored!)), $"expected {Json(run)}\nactual   {Json(stored!)}");
    }

    [Theory]
    [InlineData("state", "running")]
    [InlineData("jobName", 42L)]
    [InlineData("createdAt", "not a time")]
    [InlineData("workflows", "element without a name")]
    public async Task GetAsync_HandCorruptedDocument_ThrowsFormatException(string field, object value)
    {
        await Store.CreateAsync(SampleRuns.Submitted("bad-run", "ns"), CancellationToken.None);
        object? corrupt = field == "workflows" ? new List<object?> { new Dictionary<string, object?> { ["namespace"] = "ns" } } : value;
        await _firestore.UpdateAsync(RunDocument.PathOf("bad-run"), new Dictionary<string, object?> { [field] = corrupt });

        await Assert.ThrowsAsync<FormatException>(() => Store.GetAsync("bad-run", CancellationToken.None));
        await Assert.ThrowsAsync<FormatException>(() => Store.UpdateAsync("bad-run", r => r, CancellationToken.None));
    }

    private static JsonNode Json(RunRecord run) => JsonSerializer.SerializeToNode(run)!;
}
