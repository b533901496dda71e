using Kfci.Firestore;
using Kfci.Prow;
using Kfci.Runs;
using Kfci.Testing;
using Kfci.Tests.Firestore;
using Kfci.Tests.Runs;

namespace Kfci.Tests.Uploader;

/// <summary>The compact per-run test summary the Uploader writes to Firestore for the dashboard, against the real emulator.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class TestSummaryTests(EmulatorFixture emulators)
{
    [Fact]
    public async Task Completed_WritesEachWorkflowsStepsUnderTheirStableNames()
    {
        await using var h = await UploaderHarness.StartAsync(emulators);
        var spec = UploaderHarness.Spec(JobType.Presubmit);
        var run = await h.AddCompletedRunAsync(spec, [("wf-1a2b", "Failed", [new TestStep("build"), new TestStep("e2e", "Failed", "assert x == 1"), new TestStep("later", "Omitted")])],
            r => r with { PullSha = "2222222222222222222222222222222222222222" });

        await h.DeliverOkAsync(RunEventTypes.Completed, run);

        var summary = Assert.Single(await h.Tests.ForRunAsync(run.RunId, default));
        Assert.Equal(("wf-1a2b", "kubeflow-e2e", "2222222222222222222222222222222222222222"), (summary.Workflow, summary.JobName, summary.Commit));
        var byName = summary.Tests.ToDictionary(t => t.Name);
        Assert.Equal(TestOutcomes.Pass, byName["build"].Result);
        Assert.Equal((TestOutcomes.Fail, "assert x == 1"), (byName["e2e"].Result, byName["e2e"].Message));
        Assert.Equal(TestOutcomes.Skip, byName["later"].Result);
        Assert.Equal(30, byName["e2e"].Seconds);
        Assert.Equal("artifacts/logs/wf-1a2b/e2e.log", byName["e2e"].Log);
        Assert.Equal([120.0, 60.0, 0.0], summary.Tests.OrderBy(t => t.Name).Select(t => t.StartSeconds!.Value));
    }

    [Fact]
    public async Task Completed_RedeliveredAfterACrashBeforeFinishedJson_SameDocumentsNoDuplicates()
    {
        await using var h = await UploaderHarness.StartAsync(emulators);
        var spec = UploaderHarness.Spec(JobType.Postsubmit);
        var run = await h.AddCompletedRunAsync(spec, [("wf", "Succeeded", [new TestStep("a"), new TestStep("b")])]);

        await h.DeliverOkAsync(RunEventTypes.Completed, run);
        var first = await h.Tests.ForRunAsync(run.RunId, default);

        // As if the first delivery had crashed after the summary and before finished.json: everything is done again.
        await h.Store.DeleteAsync($"logs/kubeflow-e2e/{spec.BuildId}/finished.json", default);
        await h.Runs.UpdateAsync(run.RunId, r => r with { State = RunState.Completed }, default);
        await h.DeliverOkAsync(RunEventTypes.Completed, run, "m-2");

        var again = Assert.Single(await h.Tests.ForRunAsync(run.RunId, default));
        Assert.Equal(["a", "b"], again.Tests.Select(t => t.Name).Order());
        Assert.Equal(first[0].Tests, again.Tests);
    }

    [Fact]
    public async Task WriteAsync_RewrittenWithFewerTests_DeletesThePartsBeyondTheNewCount()
    {
        var firestore = EmulatorFirestore.NewClient(emulators, "sum");
        var store = new FirestoreTestSummaryStore(firestore);
        var run = SampleRuns.Submitted("shrunk-run", "ns");
        await store.WriteAsync([WorkflowTestSummary.For(run, run.Workflows[0], Enumerable.Range(0, 700).Select(i => new TestCaseResult($"old-{i}", TestOutcomes.Pass, 1, null)))], default);

        await store.WriteAsync([WorkflowTestSummary.For(run, run.Workflows[0], Enumerable.Range(0, 100).Select(i => new TestCaseResult($"new-{i}", TestOutcomes.Fail, 1, "m")))], default);

        var read = Assert.Single(await store.ForRunAsync("shrunk-run", default));
        Assert.Equal(100, read.Tests.Count);
        Assert.All(read.Tests, t => Assert.StartsWith("new-", t.Name, StringComparison.Ordinal));
        Assert.Single(await firestore.QueryAsync(new FirestoreQuery(TestSummaries.Collection, RunDocument.PathOf("shrunk-run")), default));
    }

    [Fact]
    public async Task WriteAsync_ManyLongTests_SplitIntoBoundedDocumentsAndReadBackWhole()
    {
        var store = new FirestoreTestSummaryStore(EmulatorFirestore.NewClient(emulators, "sum"));
        var run = SampleRuns.Submitted("big-run", "ns");
        var longMessage = new string('x', 5000);
        var cases = Enumerable.Range(0, 700).Select(i => new TestCaseResult($"test-{i:D4}" + new string('n', 400), TestOutcomes.Fail, i, longMessage));

        var summary = WorkflowTestSummary.For(run, run.Workflows[0], cases);
        await store.WriteAsync([summary], default);

        var read = Assert.Single(await store.ForRunAsync("big-run", default));
        Assert.Equal(700, read.Tests.Count);
        Assert.Equal("test-0699", read.Tests[^1].Name[..9]);
        Assert.All(read.Tests, t => Assert.True(t.Name.Length <= TestSummaries.MaxNameChars && t.Message!.Length <= TestSummaries.MaxMessageChars));
        Assert.EndsWith("…", read.Tests[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void For_MoreThanTheCap_CountsTheRestAsOmitted()
    {
        var run = SampleRuns.Submitted("cap-run", "ns");

        var summary = WorkflowTestSummary.For(run, run.Workflows[0], Enumerable.Range(0, TestSummaries.MaxTestsPerWorkflow + 5).Select(i => new TestCaseResult($"t{i}", TestOutcomes.Pass, 0, null)));

        Assert.Equal((TestSummaries.MaxTestsPerWorkflow, 5), (summary.Tests.Count, summary.Omitted));
    }

    [Fact]
    public void Cut_NeverSplitsASurrogatePair()
    {
        var text = new string('a', 9) + "😀" + "tail";

        var cut = TestSummaries.Cut(text, 11);

        Assert.Equal(new string('a', 9) + "…", cut);
    }
}
