using System.Net;
using System.Text.Json;
using System.Xml;
using Kfci.Prow;
using Kfci.PubSub;
using Kfci.Runs;
using Kfci.Testing;
using Kfci.Testing.Gcs;
using Kfci.Testing.Kubernetes;
using Kfci.Tests.PubSub;
using Kfci.Tests.Storage;

namespace Kfci.Tests.Uploader;

/// <summary>
/// The Uploader end to end behind the real host: Firestore emulator for runs, the fake GCS server or a local directory for
/// results, the fake Kubernetes API server for workflows, pods, logs and events.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class UploaderFunctionTests(EmulatorFixture emulators, FakeGcsFixture gcs) : IClassFixture<FakeGcsFixture>, IDisposable
{
    private readonly string _nfs = Directory.CreateTempSubdirectory("kfci-nfs-").FullName;

    public void Dispose() => Directory.Delete(_nfs, recursive: true);

    [Fact]
    public async Task Completed_Presubmit_WritesExactlyProwsLayoutOnGcs()
    {
        await using var h = await UploaderHarness.StartAsync(emulators, gcs.Server, _nfs);
        var spec = UploaderHarness.Spec(JobType.Presubmit);
        WriteArtifact("e2e-a", "junit_unit.xml", """<testsuite tests="1" failures="0"><testcase name="t"/></testsuite>""");
        WriteArtifact("e2e-b", "sub/junit_x.xml", """<testsuite tests="1" failures="0"><testcase name="t"/></testsuite>""");
        WriteArtifact("e2e-b", "notes/other.txt", "kept");
        var run = await h.AddCompletedRunAsync(spec,
        [
            ("e2e-a", "Succeeded", [new TestStep("checkout", Log: "cloned\n"), new TestStep("test", Log: "ran tests\n")]),
            ("e2e-b", "Failed", [new TestStep("build"), new TestStep("deploy", "Failed", "failed with exit code 1")]),
        ]);

        await h.DeliverOkAsync(RunEventTypes.Submitted, run);
        await h.DeliverOkAsync(RunEventTypes.Completed, run);

        var dir = $"pr-logs/pull/kubeflow_kubeflow/4242/kubeflow-e2e/{spec.BuildId}";
        string[] expected =
        [
            $"pr-logs/directory/kubeflow-e2e/{spec.BuildId}.txt",
            "pr-logs/directory/kubeflow-e2e/latest-build.txt",
            $"{dir}/artifacts/e2e-b/notes/other.txt",
            $"{dir}/artifacts/junit_e2e-a.xml",
            $"{dir}/artifacts/junit_e2e-a__junit_unit.xml",
            $"{dir}/artifacts/junit_e2e-b.xml",
            $"{dir}/artifacts/junit_e2e-b__sub_junit_x.xml",
            $"{dir}/artifacts/logs/e2e-a/checkout.log",
            $"{dir}/artifacts/logs/e2e-a/test.log",
            $"{dir}/artifacts/logs/e2e-b/build.log",
            $"{dir}/artifacts/logs/e2e-b/deploy.log",
            $"{dir}/artifacts/podinfo/e2e-b/deploy.json",
            $"{dir}/build-log.txt",
            $"{dir}/e2e-a.yaml",
            $"{dir}/e2e-b.yaml",
            $"{dir}/finished.json",
            $"{dir}/started.json",
            "pr-logs/pull/kubeflow_kubeflow/4242/kubeflow-e2e/latest-build.txt",
        ];
        Assert.Equal(expected.Order(StringComparer.Ordinal), await h.ListAsync());

        var gsPath = h.Store.Describe(dir);
        Assert.StartsWith("gs://", gsPath, StringComparison.Ordinal);
        Assert.Equal(gsPath, await h.ReadTextAsync($"pr-logs/directory/kubeflow-e2e/{spec.BuildId}.txt"));
        Assert.Equal(gsPath, (await h.Store.GetAsync($"pr-logs/directory/kubeflow-e2e/{spec.BuildId}.txt", default))!.Metadata["link"]);
        Assert.Equal(spec.BuildId, await h.ReadTextAsync("pr-logs/directory/kubeflow-e2e/latest-build.txt"));
        Assert.Equal("cloned\n", await h.ReadTextAsync($"{dir}/artifacts/logs/e2e-a/checkout.log"));

        using var finished = JsonDocument.Parse((await h.ReadTextAsync($"{dir}/finished.json"))!);
        Assert.Equal("FAILURE", finished.RootElement.GetProperty("result").GetString());
        Assert.False(finished.RootElement.GetProperty("passed").GetBoolean());
        var metadata = finished.RootElement.GetProperty("metadata");
        Assert.Equal("Failed", metadata.GetProperty("e2e-b-phase").GetString());
        Assert.Equal("https://argo.example.com/workflows/kubeflow-test-infra/e2e-a", metadata.GetProperty("e2e-a-ui").GetString());
        Assert.Contains("resource.labels.pod_name", Uri.UnescapeDataString(metadata.GetProperty("e2e-b.deploy-logs").GetString()!), StringComparison.Ordinal);

        using var podInfo = JsonDocument.Parse((await h.ReadTextAsync($"{dir}/artifacts/podinfo/e2e-b/deploy.json"))!);
        Assert.Equal("Pod", podInfo.RootElement.GetProperty("pod").GetProperty("kind").GetString());
        Assert.Equal("BackOff", podInfo.RootElement.GetProperty("events")[0].GetProperty("reason").GetString());

        var stored = await h.Runs.GetAsync(run.RunId, default);
        Assert.Equal(RunState.Finished, stored!.State);
        Assert.Equal(RunResults.Failure, stored.Result);
        Assert.Equal(gsPath, stored.ResultsPath);
        Assert.Equal(gsPath, stored.Links["results"]);
        Assert.NotNull(stored.FinishedAt);
        var published = Assert.Single(h.Publisher.PublishedTo("run-finished"));
        using var message = JsonDocument.Parse(published.Message.Data);
        Assert.Equal(RunResults.Failure, message.RootElement.GetProperty("result").GetString());
        Assert.Equal(gsPath, message.RootElement.GetProperty("resultsPath").GetString());
        Assert.Equal(RunEventTypes.Finished, published.Message.Attributes[RunEvent.EventAttribute]);
    }

    [Fact]
    public async Task Completed_PublishesRunFinishedThroughPubSub()
    {
        var pubSub = PubSubClient.Create(EmulatorFixture.NewProjectId("up"), getEnv: name => name == emulators.PubSub.HostVariable ? emulators.PubSub.HostPort : null);
        await pubSub.CreateTopicAsync(KfciTopics.RunFinished);
        await pubSub.CreateSubscriptionAsync(new SubscriptionConfig { Id = "status-reporter", TopicId = KfciTopics.RunFinished });
        await using var publisher = new BatchingEventPublisher(pubSub);
        await using var h = await UploaderHarness.StartAsync(emulators, publisher: publisher);
        var spec = UploaderHarness.Spec(JobType.Periodic);
        var run = await h.AddCompletedRunAsync(spec, [("wf", "Succeeded", [new TestStep("only")])]);

        await h.DeliverOkAsync(RunEventTypes.Completed, run);

        var received = Assert.Single(await PubSubTestKit.PullAsync(pubSub, "status-reporter", 1));
        Assert.Equal(RunEventTypes.Finished, received.Attributes[RunEvent.EventAttribute]);
        Assert.Equal(run.RunId, received.Attributes[RunEvent.RunIdAttribute]);
        var finished = RunEvent.Parse(received.Data, RunEventTypes.Finished);
        Assert.Equal((RunResults.Success, h.Store.Describe($"logs/kubeflow-e2e/{spec.BuildId}")), (finished.Result, finished.ResultsPath));
    }

    [Theory]
    [InlineData(JobType.Postsubmit, "logs/kubeflow-e2e/{0}", "logs/kubeflow-e2e/latest-build.txt")]
    [InlineData(JobType.Periodic, "logs/kubeflow-e2e/{0}", "logs/kubeflow-e2e/latest-build.txt")]
    [InlineData(JobType.Batch, "pr-logs/pull/batch/kubeflow-e2e/{0}", "pr-logs/directory/kubeflow-e2e/latest-build.txt")]
    public async Task Completed_OtherJobTypes_WriteTheirProwLayoutToALocalDirectory(JobType type, string directory, string latest)
    {
        await using var h = await UploaderHarness.StartAsync(emulators, nfsRoot: _nfs);
        var spec = UploaderHarness.Spec(type);
        var run = await h.AddCompletedRunAsync(spec, [("wf", "Succeeded", [new TestStep("only")])]);

        await h.DeliverOkAsync(RunEventTypes.Completed, run);

        var dir = string.Format(System.Globalization.CultureInfo.InvariantCulture, directory, spec.BuildId);
        string[] expected =
        [
            $"{dir}/artifacts/junit_wf.xml",
            $"{dir}/artifacts/logs/wf/only.log",
            $"{dir}/build-log.txt",
            $"{dir}/finished.json",
            $"{dir}/started.json",
            $"{dir}/wf.yaml",
            latest,
        ];
        Assert.Equal(expected.Order(StringComparer.Ordinal), await h.ListAsync());
        using var finished = JsonDocument.Parse((await h.ReadTextAsync($"{dir}/finished.json"))!);
        Assert.Equal("SUCCESS", finished.RootElement.GetProperty("result").GetString());
        Assert.Equal(h.Store.Describe(dir), (await h.Runs.GetAsync(run.RunId, default))!.ResultsPath);
    }

    [Fact]
    public async Task StartedAndFinished_HaveProwsFieldNamesAndTypes()
    {
        await using var h = await UploaderHarness.StartAsync(emulators);
        var spec = UploaderHarness.Spec(JobType.Presubmit);
        var run = await h.AddCompletedRunAsync(spec, [("wf", "Succeeded", [new TestStep("only")])]);
        await h.DeliverOkAsync(RunEventTypes.Completed, run);
        var dir = $"pr-logs/pull/kubeflow_kubeflow/4242/kubeflow-e2e/{spec.BuildId}";

        using var started = JsonDocument.Parse((await h.ReadTextAsync($"{dir}/started.json"))!);
        using var finished = JsonDocument.Parse((await h.ReadTextAsync($"{dir}/finished.json"))!);
        AssertShapeLike(ProwExamples.Started, started.RootElement);
        AssertShapeLike(ProwExamples.Finished, finished.RootElement);
        Assert.Equal(run.StartedAt!.Value.ToUnixTimeSeconds(), started.RootElement.GetProperty("timestamp").GetInt64());
        Assert.Equal("4242", started.RootElement.GetProperty("pull").GetString());
        Assert.Equal(
            "master:1111111111111111111111111111111111111111,4242:2222222222222222222222222222222222222222",
            started.RootElement.GetProperty("repos").GetProperty("kubeflow/kubeflow").GetString());
        Assert.Equal("2222222222222222222222222222222222222222", started.RootElement.GetProperty("repo-commit").GetString());
        Assert.Equal("2222222222222222222222222222222222222222", finished.RootElement.GetProperty("revision").GetString());
        Assert.True(finished.RootElement.GetProperty("passed").GetBoolean());
    }

    [Fact]
    public async Task EveryJunitFile_ParsesAsJunitXml()
    {
        await using var h = await UploaderHarness.StartAsync(emulators, gcs.Server, _nfs);
        WriteArtifact("wf", "junit_mine.xml", """<testsuites><testsuite name="s" tests="1"><testcase name="x"/></testsuite></testsuites>""");
        var run = await h.AddCompletedRunAsync(UploaderHarness.Spec(JobType.Periodic),
        [
            ("wf", "Failed", [new TestStep("a & <b>", "Failed", "exit \"1\" <&> \u0001 control"), new TestStep("c", "Error", "pod deleted")]),
        ]);
        await h.DeliverOkAsync(RunEventTypes.Completed, run);

        var junits = (await h.ListAsync()).Where(n => System.Text.RegularExpressions.Regex.IsMatch(n, @"/artifacts/junit.*\.xml$")).ToList();
        Assert.Equal(2, junits.Count);
        foreach (var name in junits)
        {
            var xml = new XmlDocument();
            xml.LoadXml((await h.ReadTextAsync(name))!);
            Assert.Contains(xml.DocumentElement!.Name, new[] { "testsuite", "testsuites" });
        }

        var synthesized = new XmlDocument();
        synthesized.LoadXml((await h.ReadTextAsync(junits.Single(n => n.EndsWith("/junit_wf.xml", StringComparison.Ordinal))))!);
        Assert.Equal("2", synthesized.DocumentElement!.GetAttribute("tests"));
        Assert.Equal("1", synthesized.DocumentElement.GetAttribute("failures"));
        Assert.Equal("1", synthesized.DocumentElement.GetAttribute("errors"));
        Assert.Equal("a & <b>", synthesized.SelectSingleNode("//testcase[failure]/@name")!.Value);
        Assert.StartsWith("exit \"1\" <&>", synthesized.SelectSingleNode("//failure/@message")!.Value, StringComparison.Ordinal);
        Assert.Equal("pod deleted", synthesized.SelectSingleNode("//error/@message")!.Value);
    }

    [Fact]
    public async Task SameCompletion_ThreeTimesConcurrently_OneFinishedJson()
    {
        await using var h = await UploaderHarness.StartAsync(emulators, gcs.Server);
        var spec = UploaderHarness.Spec(JobType.Postsubmit);
        var run = await h.AddCompletedRunAsync(spec, [("wf", "Succeeded", [new TestStep("one"), new TestStep("two")])]);
        var finishedPath = $"logs/kubeflow-e2e/{spec.BuildId}/finished.json";
        gcs.Server.ClearRequests();

        var responses = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => h.DeliverAsync(RunEventTypes.Completed, run, $"m-{i}")));
        var generation = (await h.Store.GetAsync(finishedPath, default))!.Generation;
        var again = await h.DeliverAsync(RunEventTypes.Completed, run, "m-late");

        Assert.All(responses.Append(again), r => Assert.Equal(HttpStatusCode.NoContent, r.StatusCode));
        Assert.Equal(generation, (await h.Store.GetAsync(finishedPath, default))!.Generation);
        var finishedWrites = gcs.Server.Requests.Where(r => r.Method == "PUT" && r.ObjectName == finishedPath && r.Status == 200);
        Assert.Single(finishedWrites);
        var stored = await h.Runs.GetAsync(run.RunId, default);
        Assert.Single(stored!.History, e => e.State == RunState.Finished);
        Assert.Equal(RunResults.Success, stored.Result);
    }

    [Fact]
    public async Task ErrorPhaseWorkflow_FinishesAsFailureWithPodInfo()
    {
        await using var h = await UploaderHarness.StartAsync(emulators);
        var spec = UploaderHarness.Spec(JobType.Postsubmit);
        var run = await h.AddCompletedRunAsync(spec, [("wf", "Error", [new TestStep("setup"), new TestStep("run", "Error", "pod was OOMKilled")])]);

        await h.DeliverOkAsync(RunEventTypes.Completed, run);

        var dir = $"logs/kubeflow-e2e/{spec.BuildId}";
        using var finished = JsonDocument.Parse((await h.ReadTextAsync($"{dir}/finished.json"))!);
        Assert.Equal("FAILURE", finished.RootElement.GetProperty("result").GetString());
        Assert.Equal("Error", finished.RootElement.GetProperty("metadata").GetProperty("wf-phase").GetString());
        Assert.Contains("<error message=\"pod was OOMKilled\"", await h.ReadTextAsync($"{dir}/artifacts/junit_wf.xml"), StringComparison.Ordinal);
        Assert.NotNull(await h.Store.GetAsync($"{dir}/artifacts/podinfo/wf/run.json", default));
        Assert.Equal(RunState.Finished, (await h.Runs.GetAsync(run.RunId, default))!.State);
    }

    [Fact]
    public async Task PodWhoseLogIsGone_IsRecordedInBuildLogAndJunit()
    {
        await using var h = await UploaderHarness.StartAsync(emulators);
        var spec = UploaderHarness.Spec(JobType.Periodic);
        var run = await h.AddCompletedRunAsync(spec, [("wf", "Failed", [new TestStep("first", Log: "first output\n"), new TestStep("gone", "Failed", "exit 2", Log: null)])]);

        await h.DeliverOkAsync(RunEventTypes.Completed, run);

        var dir = $"logs/kubeflow-e2e/{spec.BuildId}";
        var buildLog = await h.ReadTextAsync($"{dir}/build-log.txt");
        Assert.Contains("(log unavailable: pod wf-step1-", buildLog, StringComparison.Ordinal);
        Assert.Contains("first output", buildLog, StringComparison.Ordinal);
        // The harness starts later steps earlier: the build log follows start times, not the workflow's node order.
        Assert.True(buildLog!.IndexOf("/ gone", StringComparison.Ordinal) < buildLog.IndexOf("/ first", StringComparison.Ordinal), "steps are in start order");
        Assert.Contains("<system-out>log unavailable: pod wf-step1-", await h.ReadTextAsync($"{dir}/artifacts/junit_wf.xml"), StringComparison.Ordinal);
        Assert.Null(await h.Store.GetAsync($"{dir}/artifacts/logs/wf/gone.log", default));
        using var podInfo = JsonDocument.Parse((await h.ReadTextAsync($"{dir}/artifacts/podinfo/wf/gone.json"))!);
        Assert.Equal(JsonValueKind.Null, podInfo.RootElement.GetProperty("pod").ValueKind);
    }

    [Fact]
    public async Task FaultsMidUpload_TransientThenHealOnRedelivery()
    {
        await using var h = await UploaderHarness.StartAsync(emulators, gcs.Server);
        var spec = UploaderHarness.Spec(JobType.Postsubmit);
        var run = await h.AddCompletedRunAsync(spec, [("wf", "Succeeded", [new TestStep("one", Log: new string('x', 20_000) + "\n"), new TestStep("two")])]);
        var finishedPath = $"logs/kubeflow-e2e/{spec.BuildId}/finished.json";
        // The cluster drops a log stream and rate-limits once: healed by the per-upload retry within the delivery.
        h.Cluster.InjectFault(new FakeFault { PathContains = "/log", DropConnection = true });
        h.Cluster.InjectFault(new FakeFault { PathContains = "/pods/", StatusCode = 429 });
        // The bucket keeps failing the build log: the delivery gives up, and nothing claims the build finished.
        var outage = new Fault(r => gcs.Server.SessionObject(r)?.Contains("build-log", StringComparison.Ordinal) == true, 503, count: 1000);
        gcs.Server.Faults.Enqueue(outage);

        var first = await h.DeliverAsync(RunEventTypes.Completed, run);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        Assert.True(outage.Hits > 1);
        Assert.Null(await h.Store.GetAsync(finishedPath, default));
        Assert.Equal(RunState.Completed, (await h.Runs.GetAsync(run.RunId, default))!.State);
        Assert.Empty(h.Publisher.Published);

        gcs.Server.Faults.Clear();
        await h.DeliverOkAsync(RunEventTypes.Completed, run, "m-2");
        Assert.NotNull(await h.Store.GetAsync(finishedPath, default));
        Assert.Equal(20_001, (await h.Store.GetAsync($"logs/kubeflow-e2e/{spec.BuildId}/artifacts/logs/wf/one.log", default))!.Size);
        Assert.Equal(RunState.Finished, (await h.Runs.GetAsync(run.RunId, default))!.State);
    }

    [Fact]
    public async Task JunitReportingErrors_MakesASucceededRunAFailure()
    {
        await using var h = await UploaderHarness.StartAsync(emulators, nfsRoot: _nfs);
        WriteArtifact("wf", "junit_e2e.xml", """<testsuite tests="2" failures="0" errors="1"><testcase name="a"/><testcase name="b"><error message="boom"/></testcase></testsuite>""");
        var spec = UploaderHarness.Spec(JobType.Periodic);
        var run = await h.AddCompletedRunAsync(spec, [("wf", "Succeeded", [new TestStep("only")])]);

        await h.DeliverOkAsync(RunEventTypes.Completed, run);

        Assert.Equal(RunResults.Failure, (await h.Runs.GetAsync(run.RunId, default))!.Result);
        Assert.NotNull(await h.Store.GetAsync($"logs/kubeflow-e2e/{spec.BuildId}/artifacts/junit_wf__junit_e2e.xml", default));
    }

    [Fact]
    public async Task InTheCloud_JunitReportsTheExitHandlerCopied_AreRenamedAndCounted()
    {
        await using var h = await UploaderHarness.StartAsync(emulators, gcs.Server);
        var spec = UploaderHarness.Spec(JobType.Postsubmit);
        var dir = $"logs/kubeflow-e2e/{spec.BuildId}";
        using (var report = new MemoryStream("""<testsuite tests="1" failures="1"><testcase name="a"><failure>no</failure></testcase></testsuite>"""u8.ToArray()))
        {
            await h.Store.WriteAsync($"{dir}/artifacts/wf/reports/junit_e2e.xml", report, null, default);
        }

        var run = await h.AddCompletedRunAsync(spec, [("wf", "Succeeded", [new TestStep("only")]), ("other", "Succeeded", [new TestStep("only")])]);

        await h.DeliverOkAsync(RunEventTypes.Completed, run);

        Assert.Equal(RunResults.Failure, (await h.Runs.GetAsync(run.RunId, default))!.Result);
        Assert.Contains("<failure>no</failure>", (await h.ReadTextAsync($"{dir}/artifacts/junit_wf__reports_junit_e2e.xml"))!, StringComparison.Ordinal);
        Assert.DoesNotContain(await h.ListAsync(), n => n.Contains("junit_other__", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false, "SUCCESS")]
    [InlineData(true, "FAILURE")]
    public async Task RunWithoutWorkflows_StillGetsStartedAndFinished(bool withError, string result)
    {
        await using var h = await UploaderHarness.StartAsync(emulators);
        var spec = UploaderHarness.Spec(JobType.Postsubmit);
        var run = await h.AddCompletedRunAsync(spec, [], r => withError ? r with { Errors = ["prow_config.yaml: entry 2 names no workflow"] } : r);

        await h.DeliverOkAsync(RunEventTypes.Completed, run);

        var dir = $"logs/kubeflow-e2e/{spec.BuildId}";
        Assert.Equal([$"{dir}/build-log.txt", $"{dir}/finished.json", $"{dir}/started.json", "logs/kubeflow-e2e/latest-build.txt"], await h.ListAsync());
        using var finished = JsonDocument.Parse((await h.ReadTextAsync($"{dir}/finished.json"))!);
        Assert.Equal(result, finished.RootElement.GetProperty("result").GetString());
        Assert.Equal(result, (await h.Runs.GetAsync(run.RunId, default))!.Result);
    }

    [Fact]
    public async Task AbortedRun_IsAborted()
    {
        await using var h = await UploaderHarness.StartAsync(emulators);
        var run = await h.AddCompletedRunAsync(UploaderHarness.Spec(JobType.Periodic), [("wf", "Failed", [new TestStep("s", "Failed")])], r => r with { AbortedAt = r.CompletedAt });

        await h.DeliverOkAsync(RunEventTypes.Completed, run);

        Assert.Equal(RunResults.Aborted, (await h.Runs.GetAsync(run.RunId, default))!.Result);
    }

    [Fact]
    public async Task FinishedJsonWrittenButRunNotFinished_OnlyCompletesTheBookkeeping()
    {
        await using var h = await UploaderHarness.StartAsync(emulators);
        var spec = UploaderHarness.Spec(JobType.Postsubmit);
        var run = await h.AddCompletedRunAsync(spec, [("wf", "Failed", [new TestStep("s", "Failed")])]);
        var dir = $"logs/kubeflow-e2e/{spec.BuildId}";
        using (var crashed = new MemoryStream("""{"timestamp":1,"passed":true,"result":"SUCCESS"}"""u8.ToArray()))
        {
            await h.Store.WriteAsync($"{dir}/finished.json", crashed, null, default);
        }

        await h.DeliverOkAsync(RunEventTypes.Completed, run);

        Assert.Equal([$"{dir}/finished.json", "logs/kubeflow-e2e/latest-build.txt"], await h.ListAsync());
        var stored = await h.Runs.GetAsync(run.RunId, default);
        Assert.Equal((RunState.Finished, RunResults.Success), (stored!.State, stored.Result));
        Assert.Single(h.Publisher.PublishedTo("run-finished"));
    }

    [Fact]
    public async Task Submitted_WritesTheSameStartedJsonOnEveryDelivery()
    {
        await using var h = await UploaderHarness.StartAsync(emulators, gcs.Server);
        var spec = UploaderHarness.Spec(JobType.Presubmit);
        var run = await h.AddCompletedRunAsync(spec, [("wf", "Running", [])], r => r with { State = RunState.Submitted });
        var path = $"pr-logs/pull/kubeflow_kubeflow/4242/kubeflow-e2e/{spec.BuildId}/started.json";

        await h.DeliverAsync(RunEventTypes.Submitted, run);
        var first = await h.ReadTextAsync(path);
        await h.DeliverAsync(RunEventTypes.Submitted, run, "m-2");

        Assert.Equal([path], await h.ListAsync());
        Assert.Equal(first, await h.ReadTextAsync(path));
        using var started = JsonDocument.Parse(first!);
        Assert.Equal("https://argo.example.com/workflows/kubeflow-test-infra/wf", started.RootElement.GetProperty("metadata").GetProperty("wf-ui").GetString());
    }

    [Fact]
    public async Task FinishedRun_IsLeftAlone()
    {
        await using var h = await UploaderHarness.StartAsync(emulators);
        var run = await h.AddCompletedRunAsync(UploaderHarness.Spec(JobType.Periodic), [("wf", "Succeeded", [new TestStep("s")])], r => r with { State = RunState.Finished, Result = "SUCCESS" });

        await h.DeliverOkAsync(RunEventTypes.Completed, run);
        await h.DeliverOkAsync(RunEventTypes.Submitted, run);

        Assert.Empty(await h.ListAsync());
        Assert.Empty(h.Publisher.Published);
    }

    [Theory]
    [InlineData("""{"event":"run.finished","runId":"r-1","jobName":"j","buildId":"1","jobType":"periodic"}""", "run.finished")]
    [InlineData("""{"event":"run.completed","runId":"r-unknown","jobName":"j","buildId":"1","jobType":"periodic"}""", "does not exist")]
    [InlineData("""not json""", "no event type")]
    [InlineData("""{"event":"run.completed","runId":"../../etc","jobName":"j","buildId":"1","jobType":"periodic"}""", "not a kfci run id")]
    public async Task HostileOrUnknownEvents_AreRejected(string data, string reason)
    {
        await using var h = await UploaderHarness.StartAsync(emulators);

        var response = await h.Host.PushAsync(data);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(reason, Assert.Single(h.Host.Rejections.Recorded).Reason, StringComparison.Ordinal);
    }

    private void WriteArtifact(string workflow, string relative, string content)
    {
        var path = Path.Combine(_nfs, workflow, "output", "artifacts", relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    /// <summary>Every field we write is one Prow's example has, with the same JSON type.</summary>
    private static void AssertShapeLike(JsonElement prow, JsonElement ours)
    {
        foreach (var field in ours.EnumerateObject())
        {
            Assert.True(prow.TryGetProperty(field.Name, out var expected), $"'{field.Name}' is not a field Prow writes");
            Assert.True(Kind(expected) == Kind(field.Value), $"'{field.Name}' is {field.Value.ValueKind}, Prow's is {expected.ValueKind}");
        }

        foreach (var required in new[] { "timestamp", "metadata" })
        {
            Assert.True(ours.TryGetProperty(required, out _), $"'{required}' missing");
        }

        if (prow.TryGetProperty("passed", out _))
        {
            Assert.True(ours.TryGetProperty("passed", out _), "finished.json must always carry 'passed'");
        }
    }

    private static JsonValueKind Kind(JsonElement e) => e.ValueKind is JsonValueKind.True or JsonValueKind.False ? JsonValueKind.True : e.ValueKind;
}
