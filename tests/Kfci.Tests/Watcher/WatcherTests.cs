using System.Net;
using System.Text;
using Kfci.Argo;
using Kfci.Functions.Watcher;
using Kfci.Runs;
using Kfci.Testing;
using Kfci.Testing.Hosting;
using Kfci.Testing.Kubernetes;
using Kfci.Tests.Runs;
using Microsoft.Extensions.Logging;

namespace Kfci.Tests.Watcher;

/// <summary>The Watcher through the real host on the Firestore and Pub/Sub emulators and the fake Kubernetes API.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class WatcherTests(EmulatorFixture emulators)
{
    [Fact]
    public async Task Event_EachWorkflowRecorded_LastOneCompletesTheRunAndPublishesOnce()
    {
        await using var h = await WatcherHarness.StartAsync(emulators);
        var run = await h.AddRunAsync(SampleRuns.Submitted("run-two", WatcherHarness.Namespace, DateTimeOffset.UtcNow, "e2e", "lint"));

        h.Finish("run-two-e2e", WorkflowPhases.Failed, "child 'test' failed");
        WatcherHarness.AssertStatus(HttpStatusCode.NoContent, await h.DeliverEventAsync("run-two-e2e", WorkflowEventEntry.Failed));
        var halfway = await h.RunAsync(run.RunId);
        h.Finish("run-two-lint", WorkflowPhases.Succeeded);
        WatcherHarness.AssertStatus(HttpStatusCode.NoContent, await h.DeliverEventAsync("run-two-lint", WorkflowEventEntry.Succeeded));

        Assert.Equal(RunState.Submitted, halfway.State);
        var stored = await h.RunAsync(run.RunId);
        Assert.Equal(RunState.Completed, stored.State);
        Assert.NotNull(stored.CompletedAt);
        Assert.Equal(RunState.Completed, stored.History[^1].State);
        var e2e = stored.Workflow("run-two-e2e")!;
        Assert.Equal((WorkflowPhases.Failed, "child 'test' failed"), (e2e.Phase, e2e.Message));
        Assert.NotNull(e2e.StartedAt);
        Assert.NotNull(e2e.FinishedAt);
        Assert.Equal(new FailedNode("run-two-e2e-1", "run-two-e2e.test", "test", "Failed", "failed with exit code 2"), Assert.Single(e2e.FailedNodes));
        Assert.Equal(WorkflowPhases.Succeeded, stored.Workflow("run-two-lint")!.Phase);
        var published = Assert.Single(await h.CompletedEventsAsync(atLeast: 1));
        Assert.Equal((RunEventTypes.Completed, "run-two", "kubeflow-presubmit", "presubmit"), (published.Event, published.RunId, published.JobName, published.JobType));
    }

    [Fact]
    public async Task Event_SixtyOneWorkflowsFinishingTogether_RunDocumentWrittenOnlyByTheTransition()
    {
        // kubeflow/kubeflow's prow_config.yaml has 61 entries: one run document written by each would exceed Firestore's
        // sustained one write per second per document. Outcomes go to documents of their own.
        await using var h = await WatcherHarness.StartAsync(emulators);
        var entries = Enumerable.Range(0, 61).Select(i => $"w{i}").ToArray();
        var run = await h.AddRunAsync(SampleRuns.Submitted("run-wide", WatcherHarness.Namespace, DateTimeOffset.UtcNow, entries));
        var created = (await h.Firestore.GetAsync(RunDocument.PathOf(run.RunId)))!.UpdateTime;
        foreach (var workflow in run.Workflows)
        {
            h.Finish(workflow.Name, WorkflowPhases.Succeeded);
        }

        var first = await Task.WhenAll(run.Workflows.Take(60).Select(w => h.DeliverEventAsync(w.Name, WorkflowEventEntry.Succeeded, messageId: w.Name)));
        var waiting = await h.RunAsync(run.RunId);
        var untouched = (await h.Firestore.GetAsync(RunDocument.PathOf(run.RunId)))!.UpdateTime;
        var last = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => h.DeliverEventAsync(run.Workflows[60].Name, WorkflowEventEntry.Succeeded, messageId: $"last-{i}")));

        Assert.All(first.Concat(last), r => WatcherHarness.AssertStatus(HttpStatusCode.NoContent, r));
        Assert.Equal(created, untouched);
        Assert.Equal((RunState.Submitted, 60), (waiting.State, waiting.Workflows.Count(w => w.Phase == WorkflowPhases.Succeeded)));
        var stored = await h.RunAsync(run.RunId);
        Assert.Equal(RunState.Completed, stored.State);
        Assert.All(stored.Workflows, w => Assert.Equal(WorkflowPhases.Succeeded, w.Phase));
        Assert.Single(stored.History, e => e.State == RunState.Completed);
        Assert.Single(await h.CompletedEventsAsync(atLeast: 1));
    }

    [Fact]
    public async Task Event_ErrorPhase_CompletesTheRun()
    {
        await using var h = await WatcherHarness.StartAsync(emulators);
        await h.AddRunAsync(SampleRuns.Submitted("run-error", WatcherHarness.Namespace, DateTimeOffset.UtcNow));

        h.Finish("run-error-e2e", WorkflowPhases.Error, "pod deleted");
        WatcherHarness.AssertStatus(HttpStatusCode.NoContent, await h.DeliverEventAsync("run-error-e2e", WorkflowEventEntry.Failed));

        var stored = await h.RunAsync("run-error");
        Assert.Equal(RunState.Completed, stored.State);
        Assert.Equal(WorkflowPhases.Error, stored.Workflows[0].Phase);
        Assert.Equal("Error", Assert.Single(stored.Workflows[0].FailedNodes).Phase);
        Assert.Single(await h.CompletedEventsAsync(atLeast: 1));
    }

    [Fact]
    public async Task Event_SameCompletionThreeTimesConcurrentlyThenAgain_OneTransitionOneMessage()
    {
        await using var h = await WatcherHarness.StartAsync(emulators);
        await h.AddRunAsync(SampleRuns.Submitted("run-dup", WatcherHarness.Namespace, DateTimeOffset.UtcNow));
        h.Finish("run-dup-e2e", WorkflowPhases.Succeeded);

        var concurrent = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => h.DeliverEventAsync("run-dup-e2e", WorkflowEventEntry.Succeeded)));
        var updated = await h.Firestore.GetAsync(RunDocument.PathOf("run-dup"));
        for (var i = 0; i < 3; i++)
        {
            WatcherHarness.AssertStatus(HttpStatusCode.NoContent, await h.DeliverEventAsync("run-dup-e2e", WorkflowEventEntry.Succeeded));
        }

        WatcherHarness.AssertStatus(HttpStatusCode.NoContent, await h.TickAsync());

        Assert.All(concurrent, r => WatcherHarness.AssertStatus(HttpStatusCode.NoContent, r));
        var stored = await h.RunAsync("run-dup");
        Assert.Single(stored.History, e => e.State == RunState.Completed);
        Assert.Equal(updated!.UpdateTime, (await h.Firestore.GetAsync(RunDocument.PathOf("run-dup")))!.UpdateTime); // later notices wrote nothing
        Assert.Single(await h.CompletedEventsAsync(atLeast: 1));
    }

    [Fact]
    public async Task Tick_LostEvent_IsCaught_AndRunningRunsAreLeftAlone()
    {
        await using var h = await WatcherHarness.StartAsync(emulators);
        await h.AddRunAsync(SampleRuns.Submitted("run-lost", WatcherHarness.Namespace, DateTimeOffset.UtcNow));
        await h.AddRunAsync(SampleRuns.Submitted("run-busy", WatcherHarness.Namespace, DateTimeOffset.UtcNow));
        h.Finish("run-lost-e2e", WorkflowPhases.Failed, "step failed");

        WatcherHarness.AssertStatus(HttpStatusCode.NoContent, await h.TickAsync("""{"scheduler":"watcher-ticks"}"""));

        var lost = await h.RunAsync("run-lost");
        Assert.Equal(RunState.Completed, lost.State);
        Assert.Equal((WorkflowPhases.Failed, "step failed"), (lost.Workflows[0].Phase, lost.Workflows[0].Message));
        Assert.Single(lost.Workflows[0].FailedNodes);
        var busy = await h.RunAsync("run-busy");
        Assert.Equal(RunState.Submitted, busy.State);
        Assert.Null(busy.Workflows[0].Phase);
        Assert.Equal("run-lost", Assert.Single(await h.CompletedEventsAsync(atLeast: 1)).RunId);
    }

    [Fact]
    public async Task Tick_VanishedWorkflow_IsRecordedAsError()
    {
        await using var h = await WatcherHarness.StartAsync(emulators);
        await h.AddRunAsync(SampleRuns.Submitted("run-gone", WatcherHarness.Namespace, DateTimeOffset.UtcNow));
        h.Kube.Delete(FakeResource.Workflows, WatcherHarness.Namespace, "run-gone-e2e");

        WatcherHarness.AssertStatus(HttpStatusCode.NoContent, await h.TickAsync());

        var stored = await h.RunAsync("run-gone");
        Assert.Equal(RunState.Completed, stored.State);
        Assert.Equal(WorkflowPhases.Error, stored.Workflows[0].Phase);
        Assert.Contains("vanished", stored.Workflows[0].Message, StringComparison.Ordinal);
        Assert.Single(await h.CompletedEventsAsync(atLeast: 1));
    }

    [Fact]
    public async Task Tick_RunStrandedInPlanning_TerminatesItsWorkflowsAndEndsInError_OnceAndLeavesFreshPlanningAlone()
    {
        await using var h = await WatcherHarness.StartAsync(emulators);
        var longAgo = DateTimeOffset.UtcNow.AddMinutes(-45);
        await h.AddRunAsync(Planning(SampleRuns.Submitted("run-stranded", WatcherHarness.Namespace, longAgo, "e2e", "lint")));
        h.Kube.Delete(FakeResource.Workflows, WatcherHarness.Namespace, "run-stranded-lint"); // the event gave up before submitting it
        await h.AddRunAsync(Planning(SampleRuns.Submitted("run-planning", WatcherHarness.Namespace, DateTimeOffset.UtcNow)));

        WatcherHarness.AssertStatus(HttpStatusCode.NoContent, await h.TickAsync());
        WatcherHarness.AssertStatus(HttpStatusCode.NoContent, await h.TickAsync());

        var stranded = await h.RunAsync("run-stranded");
        Assert.Equal(RunState.Error, stranded.State);
        Assert.Contains("stayed in planning", Assert.Single(stranded.Errors), StringComparison.Ordinal);
        Assert.Single(stranded.History, e => e.State == RunState.Error);
        Assert.Equal("Terminate", h.Kube.Get(FakeResource.Workflows, WatcherHarness.Namespace, "run-stranded-e2e")!["spec"]!["shutdown"]!.GetValue<string>());
        Assert.Equal(RunState.Planning, (await h.RunAsync("run-planning")).State);
        Assert.Null(h.Kube.Get(FakeResource.Workflows, WatcherHarness.Namespace, "run-planning-e2e")!["spec"]!["shutdown"]);
        Assert.Empty(await h.CompletedEventsAsync());
    }

    private static RunRecord Planning(RunRecord run) => run with
    {
        State = RunState.Planning,
        StartedAt = null,
        Workflows = [.. run.Workflows.Select(w => w with { Submitted = false })],
        History = [run.History[0]],
    };

    [Fact]
    public async Task Tick_PastDeadline_StopsTheWorkflowAndRecordsTimedOut_ButHonoursTheRunsOwnDeadline()
    {
        await using var h = await WatcherHarness.StartAsync(emulators);
        var longAgo = DateTimeOffset.UtcNow.AddMinutes(-181);
        await h.AddRunAsync(SampleRuns.Submitted("run-late", WatcherHarness.Namespace, longAgo));
        await h.AddRunAsync(SampleRuns.Submitted("run-long", WatcherHarness.Namespace, longAgo) with { Deadline = DateTimeOffset.UtcNow.AddHours(1) });

        WatcherHarness.AssertStatus(HttpStatusCode.NoContent, await h.TickAsync());

        var late = await h.RunAsync("run-late");
        Assert.Equal(RunState.Completed, late.State);
        Assert.Equal(WorkflowPhases.Failed, late.Workflows[0].Phase);
        Assert.StartsWith("TimedOut", late.Workflows[0].Message, StringComparison.Ordinal);
        Assert.Equal("Terminate", h.Kube.Get(FakeResource.Workflows, WatcherHarness.Namespace, "run-late-e2e")!["spec"]!["shutdown"]!.GetValue<string>());
        Assert.Equal(RunState.Submitted, (await h.RunAsync("run-long")).State);
        Assert.Null(h.Kube.Get(FakeResource.Workflows, WatcherHarness.Namespace, "run-long-e2e")!["spec"]!["shutdown"]);
        Assert.Equal("run-late", Assert.Single(await h.CompletedEventsAsync(atLeast: 1)).RunId);
    }

    [Fact]
    public async Task Tick_ClusterRefusesOneRun_OtherRunsAreStillRecorded()
    {
        await using var h = await WatcherHarness.StartAsync(emulators);
        var longAgo = DateTimeOffset.UtcNow.AddMinutes(-181);
        await h.AddRunAsync(SampleRuns.Submitted("run-refused", WatcherHarness.Namespace, longAgo));
        await h.AddRunAsync(SampleRuns.Submitted("run-lost", WatcherHarness.Namespace, DateTimeOffset.UtcNow));
        h.Finish("run-lost-e2e", WorkflowPhases.Succeeded);
        h.Kube.InjectFault(new FakeFault { Method = "PATCH", PathContains = "/workflows/run-refused-e2e", StatusCode = 403, Times = 100 });

        WatcherHarness.AssertStatus(HttpStatusCode.NoContent, await h.TickAsync());

        Assert.Equal(RunState.Completed, (await h.RunAsync("run-lost")).State);
        Assert.Equal(RunState.Submitted, (await h.RunAsync("run-refused")).State);
        Assert.Contains(h.Host.Logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("run-refused", StringComparison.Ordinal) && e.Message.Contains("403", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Event_NonKfciWorkflowUnknownRunOrOtherReason_IsAcknowledgedAndChangesNothing()
    {
        await using var h = await WatcherHarness.StartAsync(emulators);
        h.CreateWorkflow("someone-elses", runId: null);
        h.Finish("someone-elses", WorkflowPhases.Succeeded);
        h.CreateWorkflow("orphan-e2e", runId: "orphan");
        h.Finish("orphan-e2e", WorkflowPhases.Succeeded);

        WatcherHarness.AssertStatus(HttpStatusCode.NoContent, await h.DeliverEventAsync("someone-elses", WorkflowEventEntry.Succeeded));
        WatcherHarness.AssertStatus(HttpStatusCode.NoContent, await h.DeliverEventAsync("orphan-e2e", WorkflowEventEntry.Succeeded));
        WatcherHarness.AssertStatus(HttpStatusCode.NoContent, await h.DeliverEventAsync("orphan-e2e", "WorkflowRunning"));
        WatcherHarness.AssertStatus(HttpStatusCode.NoContent, await h.DeliverEventAsync("not-there", WorkflowEventEntry.Failed));

        Assert.Contains(h.Host.Logs.Entries, e => e.Level == LogLevel.Debug && e.Message.Contains("someone-elses", StringComparison.Ordinal) && e.Message.Contains("not managed by kfci", StringComparison.Ordinal));
        Assert.Contains(h.Host.Logs.Entries, e => e.Level == LogLevel.Debug && e.Message.Contains("WorkflowRunning", StringComparison.Ordinal));
        Assert.Null(await h.Runs.GetAsync("orphan", CancellationToken.None));
        Assert.Empty(h.Host.Rejections.Recorded);
        Assert.Empty(await h.CompletedEventsAsync());
    }

    [Theory]
    [InlineData("""{"textPayload":"Workflow completed","logName":"projects/p/logs/events"}""", "no jsonPayload")]
    [InlineData("""{"jsonPayload":{"reason":"WorkflowSucceeded"},"logName":"projects/p/logs/events"}""", "involvedObject")]
    [InlineData("""{"jsonPayload":{"reason":"WorkflowSucceeded","involvedObject":{"kind":"Workflow","name":"w"}}}""", "involvedObject.namespace")]
    public async Task Event_MalformedLogEntry_IsRejectedWithOneLine(string data, string reason)
    {
        await using var h = await WatcherHarness.StartAsync(emulators);

        WatcherHarness.AssertStatus(HttpStatusCode.OK, await h.Host.PushAsync(data), "rejected: ");

        Assert.Contains(reason, Assert.Single(h.Host.Rejections.Recorded).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ArgoEventsSubscription_MessageThatIsNoLogEntry_IsRejectedNotTakenForATick()
    {
        await using var h = await WatcherHarness.StartAsync(emulators);
        using var request = FunctionTestHost.PushRequest("garbage");
        var envelope = (await request.Content!.ReadAsStringAsync()).Replace("test-subscription", "argo-events-to-watcher", StringComparison.Ordinal);
        request.Content = new StringContent(envelope, Encoding.UTF8, "application/json");

        WatcherHarness.AssertStatus(HttpStatusCode.OK, await h.Host.Client.SendAsync(request), "not a Cloud Logging LogEntry");
    }

    [Fact]
    public async Task Event_KubernetesFault_IsTransient_AndTheRedeliveryRecords()
    {
        await using var h = await WatcherHarness.StartAsync(emulators);
        await h.AddRunAsync(SampleRuns.Submitted("run-flaky", WatcherHarness.Namespace, DateTimeOffset.UtcNow));
        h.Finish("run-flaky-e2e", WorkflowPhases.Succeeded);
        h.Kube.InjectFault(new FakeFault { Method = "GET", PathContains = "/workflows/run-flaky-e2e", StatusCode = 503, Times = 2 });

        WatcherHarness.AssertStatus(HttpStatusCode.ServiceUnavailable, await h.DeliverEventAsync("run-flaky-e2e", WorkflowEventEntry.Succeeded));
        Assert.Equal(RunState.Submitted, (await h.RunAsync("run-flaky")).State);
        WatcherHarness.AssertStatus(HttpStatusCode.NoContent, await h.DeliverEventAsync("run-flaky-e2e", WorkflowEventEntry.Succeeded));

        Assert.Equal(RunState.Completed, (await h.RunAsync("run-flaky")).State);
        Assert.Single(await h.CompletedEventsAsync(atLeast: 1));
    }

    [Fact]
    public async Task Event_FirestoreFault_IsTransient_AndTheRedeliveryCompletesOnce()
    {
        await using var h = await WatcherHarness.StartAsync(emulators);
        await h.AddRunAsync(SampleRuns.Submitted("run-store", WatcherHarness.Namespace, DateTimeOffset.UtcNow));
        h.Finish("run-store-e2e", WorkflowPhases.Failed);
        h.FlakyRuns.FailNextUpdates(1);

        WatcherHarness.AssertStatus(HttpStatusCode.ServiceUnavailable, await h.DeliverEventAsync("run-store-e2e", WorkflowEventEntry.Failed));
        Assert.Equal(RunState.Submitted, (await h.RunAsync("run-store")).State);
        WatcherHarness.AssertStatus(HttpStatusCode.NoContent, await h.DeliverEventAsync("run-store-e2e", WorkflowEventEntry.Failed));

        Assert.Equal(RunState.Completed, (await h.RunAsync("run-store")).State);
        Assert.Single(await h.CompletedEventsAsync(atLeast: 1));
    }

    [Fact]
    public async Task Tick_ClusterListFault_IsTransient_AndTheNextTickHeals()
    {
        await using var h = await WatcherHarness.StartAsync(emulators);
        await h.AddRunAsync(SampleRuns.Submitted("run-list", WatcherHarness.Namespace, DateTimeOffset.UtcNow));
        h.Finish("run-list-e2e", WorkflowPhases.Succeeded);
        h.Kube.InjectFault(new FakeFault { Method = "GET", PathContains = "/namespaces/kubeflow-test-infra/workflows", When = r => !r.Path.Value!.Contains("/workflows/", StringComparison.Ordinal), StatusCode = 429, Times = 2 });

        WatcherHarness.AssertStatus(HttpStatusCode.ServiceUnavailable, await h.TickAsync());
        WatcherHarness.AssertStatus(HttpStatusCode.NoContent, await h.TickAsync());

        Assert.Equal(RunState.Completed, (await h.RunAsync("run-list")).State);
    }

    [Fact]
    public async Task PublishFault_AfterTheTransition_IsRecoveredByTheTickOnce()
    {
        await using var h = await WatcherHarness.StartAsync(emulators, new WatcherSettings { Namespace = WatcherHarness.Namespace, RepublishAfter = TimeSpan.Zero });
        await h.AddRunAsync(SampleRuns.Submitted("run-pub", WatcherHarness.Namespace, DateTimeOffset.UtcNow));
        h.Finish("run-pub-e2e", WorkflowPhases.Succeeded);
        h.PublishFailures.FailNext(1);

        WatcherHarness.AssertStatus(HttpStatusCode.ServiceUnavailable, await h.DeliverEventAsync("run-pub-e2e", WorkflowEventEntry.Succeeded));
        WatcherHarness.AssertStatus(HttpStatusCode.NoContent, await h.DeliverEventAsync("run-pub-e2e", WorkflowEventEntry.Succeeded));
        var beforeTick = await h.CompletedEventsAsync();
        WatcherHarness.AssertStatus(HttpStatusCode.NoContent, await h.TickAsync());

        Assert.Empty(beforeTick); // the redelivery changed nothing, so it did not publish
        Assert.Equal(RunState.Completed, (await h.RunAsync("run-pub")).State);
        Assert.Equal("run-pub", Assert.Single(await h.CompletedEventsAsync(atLeast: 1)).RunId);
    }

    [Fact]
    public void Settings_InvalidDeadline_FailsWithTheVariableName()
    {
        var error = Assert.Throws<InvalidOperationException>(() => WatcherSettings.Read(name => name == "KFCI_RUN_DEADLINE_MINUTES" ? "3h" : null));
        Assert.Contains("KFCI_RUN_DEADLINE_MINUTES", error.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromMinutes(45), WatcherSettings.Read(name => name == "KFCI_RUN_DEADLINE_MINUTES" ? "45" : null).RunDeadline);
        Assert.Equal(TimeSpan.FromMinutes(180), WatcherSettings.Read(_ => null).RunDeadline);
    }
}
