using System.Text.Json.Nodes;
using Kfci.Http;
using Kfci.Kubernetes;
using Kfci.Prow;
using Kfci.PubSub;
using Kfci.Runs;
using Kfci.Tests.Infra;
using Kfci.Testing;
using Kfci.Testing.Git;
using Kfci.Testing.Hosting;
using Kfci.Testing.Kubernetes;
using Kfci.Testing.Trigger;

namespace Kfci.Tests.Trigger;

/// <summary>The Trigger end to end: Pub/Sub emulator push → function host → git, Firestore emulator, Kubernetes fake.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class TriggerIntegrationTests(EmulatorFixture emulators)
{
    /// <summary>The fake cluster authorizes as the Trigger's Role in infra/terraform does.</summary>
    private static FakeKubernetesOptions TriggerRbac => TerraformRbac.Options("trigger", TriggerStack.Namespace);

    internal const string Workflow = """
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata:
          generateName: e2e-
        spec:
          entrypoint: main
          templates:
          - name: main
            container:
              image: "{{workflow.parameters.step_image}}"
              command: [sh, -c, "echo {{workflow.parameters.repo_spec}}"]
        """;

    internal const string Config = """
        workflows:
        - name: e2e
          workflow: testing/e2e.yaml
          include_dirs: [testing/*]
        - name: unit
          workflow: testing/e2e.yaml
          params:
            suite: unit
        - name: old-ksonnet
          app_dir: kubeflow/demo/testing
          component: workflows
          job_types: [presubmit]
        - name: docs
          workflow: testing/e2e.yaml
          include_dirs: [docs/*]
        """;

    /// <summary>A repository whose second commit adds the config and the workflow; returns that commit.</summary>
    internal static string Seed(TestGitRepository repository, string config = Config)
    {
        repository.Write("README.md", "demo\n");
        repository.Commit("initial");
        repository.Write("prow_config.yaml", config);
        repository.Write("testing/e2e.yaml", Workflow);
        return repository.Commit("add tests");
    }

    internal static string CrierReport(string status, string sha, string job = "kfci-postsubmit", string build = "100") => new JsonObject
    {
        ["project"] = "p",
        ["topic"] = "prow-events",
        ["runid"] = "r",
        ["status"] = status,
        ["url"] = $"https://prow.example/view/gs/bucket/logs/{job}/{build}",
        ["gcs_path"] = $"gs://bucket/logs/{job}/{build}",
        ["refs"] = new JsonArray(new JsonObject { ["org"] = "kubeflow", ["repo"] = "demo", ["base_ref"] = "master", ["base_sha"] = sha }),
        ["job_type"] = "postsubmit",
        ["job_name"] = job,
    }.ToJsonString();

    private static List<JsonObject> Workflows(TriggerStack stack, string runId) =>
        [.. ListAll(stack).Where(w => w.Labels.GetValueOrDefault(WorkflowLabels.RunId) == runId)];

    private static List<JsonObject> ListAll(TriggerStack stack)
    {
        var cluster = stack.Kubernetes.CreateCluster();
        return cluster.ListWorkflowsAsync(TriggerStack.Namespace, ListOptions.All, CancellationToken.None).ToBlockingEnumerable().ToList();
    }

    [Fact]
    public async Task Publish_PostsubmitReport_SubmitsSelectedWorkflowsAndRecordsRun()
    {
        await using var stack = await TriggerStack.StartAsync(emulators, kubernetesOptions: TriggerRbac);
        var sha = Seed(stack.CreateRepository("kubeflow", "demo"));
        var runId = new RunIdentity("kfci-postsubmit", "100").RunId;

        await stack.PublishAsync(CrierReport("triggered", sha));

        var run = await stack.WaitForRunAsync(runId, r => r.State == RunState.Submitted);
        Assert.Equal(["e2e", "unit"], run.Workflows.Select(w => w.EntryName));
        Assert.All(run.Workflows, w => Assert.True(w.Submitted));
        Assert.Equal([true, true, false, false], run.Plan.Select(p => p.Selected));
        Assert.Empty(run.Errors);
        Assert.NotNull(run.StartedAt);
        Assert.Equal("crier", run.Source);
        var created = Workflows(stack, runId);
        Assert.Equal(run.Workflows.Select(w => w.Name).Order(StringComparer.Ordinal), created.Select(w => w.Name!).Order(StringComparer.Ordinal));
        var unit = created.Single(w => w.Name == run.Workflows[1].Name);
        var parameters = unit["spec"]!["arguments"]!["parameters"]!.AsArray().OfType<JsonObject>().ToDictionary(p => p["name"]!.GetValue<string>(), p => p["value"]!.GetValue<string>());
        Assert.Equal("unit", parameters["suite"]);
        Assert.Equal($"kubeflow/demo@{sha}", parameters["repo_spec"]);
        Assert.Equal(Path.Combine(stack.GitRoot, "kubeflow", "demo"), parameters["repo_url"]);
        // The run is Submitted a moment before the Trigger announces it (the push is asynchronous to this test).
        await Poll.UntilAsync(() => stack.Published.PublishedTo(KfciTopics.RunSubmitted).Count > 0);
        var submitted = Assert.Single(stack.Published.PublishedTo(KfciTopics.RunSubmitted));
        Assert.Equal(runId, submitted.Message.Attributes[RunEvent.RunIdAttribute]);
    }

    [Fact]
    public async Task Push_SameEventThreeTimesConcurrently_OneRunSameWorkflows()
    {
        await using var stack = await TriggerStack.StartAsync(emulators, kubernetesOptions: TriggerRbac);
        var sha = Seed(stack.CreateRepository("kubeflow", "demo"));
        var runId = new RunIdentity("kfci-postsubmit", "200").RunId;
        using var http = new HttpClient { BaseAddress = stack.Endpoint };

        var answers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ =>
        {
            var request = FunctionTestHost.PushRequest(CrierReport("pending", sha, build: "200"), messageId: "same-message");
            request.RequestUri = stack.Endpoint;
            return http.SendAsync(request);
        }));
        await stack.PublishAsync(CrierReport("triggered", sha, build: "200"));

        Assert.All(answers, a => Assert.True(a.IsSuccessStatusCode, a.StatusCode.ToString()));
        var run = await stack.WaitForRunAsync(runId, r => r.State == RunState.Submitted);
        Assert.Equal("same-message", run.EventId);
        Assert.Equal(2, run.Workflows.Count);
        Assert.Equal(2, Workflows(stack, runId).Count);
        Assert.Equal(2, ListAll(stack).Count);
    }

    [Fact]
    public async Task Publish_KubernetesFaultBetweenSubmissions_HealsOnRedelivery()
    {
        await using var stack = await TriggerStack.StartAsync(emulators, kubernetesOptions: TriggerRbac, clusterRetry: RetryOptions.None);
        var sha = Seed(stack.CreateRepository("kubeflow", "demo"));
        var runId = new RunIdentity("kfci-postsubmit", "300").RunId;
        var creates = 0;
        var fault = new FakeFault
        {
            When = request => request.Method == "POST" && request.Path.Value!.EndsWith("/workflows", StringComparison.Ordinal) && Interlocked.Increment(ref creates) == 2,
            StatusCode = 503,
        };
        stack.Kubernetes.InjectFault(fault);

        await stack.PublishAsync(CrierReport("triggered", sha, build: "300"));

        var run = await stack.WaitForRunAsync(runId, r => r.State == RunState.Submitted);
        Assert.Equal(1, fault.Hits);
        Assert.Equal(2, run.Workflows.Count);
        Assert.All(run.Workflows, w => Assert.True(w.Submitted));
        Assert.Equal(2, Workflows(stack, runId).Count);
        Assert.Contains(stack.Logs.Entries, e => e.Message.Contains("transient", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Publish_AbortedReport_TerminatesTheBuildsWorkflows()
    {
        await using var stack = await TriggerStack.StartAsync(emulators, kubernetesOptions: TriggerRbac);
        var sha = Seed(stack.CreateRepository("kubeflow", "demo"));
        var runId = new RunIdentity("kfci-postsubmit", "400").RunId;
        await stack.PublishAsync(CrierReport("triggered", sha, build: "400"));
        await stack.WaitForRunAsync(runId, r => r.State == RunState.Submitted);

        await stack.PublishAsync(CrierReport("aborted", sha, build: "400"));

        var run = await stack.WaitForRunAsync(runId, r => r.AbortedAt is not null);
        await Poll.UntilAsync(() => Workflows(stack, runId).All(w => w["spec"]?["shutdown"]?.GetValue<string>() == "Terminate"));
        Assert.Equal(RunState.Submitted, run.State);
        Assert.Equal(2, Workflows(stack, runId).Count);
    }

    [Fact]
    public async Task Publish_FailureReportWhileWorkflowsRun_StopsThemAsAnAbort()
    {
        // Prow's pod gave up (kfci wait timed out): nobody reads the build any more, so its workflows must not run on.
        await using var stack = await TriggerStack.StartAsync(emulators, kubernetesOptions: TriggerRbac);
        var sha = Seed(stack.CreateRepository("kubeflow", "demo"));
        var runId = new RunIdentity("kfci-postsubmit", "420").RunId;
        await stack.PublishAsync(CrierReport("pending", sha, build: "420"));
        await stack.WaitForRunAsync(runId, r => r.State == RunState.Submitted);

        await stack.PublishAsync(CrierReport("failure", sha, build: "420"));

        await stack.WaitForRunAsync(runId, r => r.AbortedAt is not null);
        await Poll.UntilAsync(() => Workflows(stack, runId).All(w => w["spec"]?["shutdown"]?.GetValue<string>() == "Terminate"));
    }

    [Fact]
    public async Task Publish_AbortedReportBeforeTheStart_RecordedSoTheLateStartSubmitsNothing()
    {
        // The Trigger records a run only after submitting its workflows; an abort that overtakes the start must still stop it.
        await using var stack = await TriggerStack.StartAsync(emulators);
        var sha = Seed(stack.CreateRepository("kubeflow", "demo"));
        var runId = new RunIdentity("kfci-postsubmit", "450").RunId;

        await stack.PublishAsync(CrierReport("aborted", sha, build: "450"));
        var aborted = await stack.WaitForRunAsync(runId, r => r.State == RunState.Aborted);
        await stack.PublishAsync(CrierReport("triggered", sha, build: "450"));
        await Poll.UntilAsync(() => stack.Logs.Entries.Any(e => e.Message.Contains("changes nothing", StringComparison.Ordinal)));

        Assert.NotNull(aborted.AbortedAt);
        Assert.Empty(Workflows(stack, runId));
        Assert.Equal(RunState.Aborted, (await stack.Runs.GetAsync(runId, CancellationToken.None))!.State);
        Assert.Empty(stack.Published.Published);
    }

    [Fact]
    public async Task Publish_InvalidConfig_RunInErrorNothingSubmitted()
    {
        await using var stack = await TriggerStack.StartAsync(emulators, kubernetesOptions: TriggerRbac);
        var sha = Seed(stack.CreateRepository("kubeflow", "demo"), config: "workflows: [unclosed\n");
        var runId = new RunIdentity("kfci-postsubmit", "500").RunId;

        await stack.PublishAsync(CrierReport("triggered", sha, build: "500"));

        var run = await stack.WaitForRunAsync(runId, r => r.State == RunState.Error);
        Assert.Contains("prow_config.yaml: invalid YAML", Assert.Single(run.Errors), StringComparison.Ordinal);
        Assert.Empty(ListAll(stack));
        Assert.Empty(stack.Published.Published);
    }

    [Fact]
    public async Task Publish_NothingSelected_CompletedWithSubmittedThenCompletedEvents()
    {
        await using var stack = await TriggerStack.StartAsync(emulators, kubernetesOptions: TriggerRbac);
        var sha = Seed(stack.CreateRepository("kubeflow", "demo"), config: "workflows:\n- name: docs\n  workflow: testing/e2e.yaml\n  include_dirs: [docs/*]\n");
        var runId = new RunIdentity("kfci-postsubmit", "600").RunId;

        await stack.PublishAsync(CrierReport("triggered", sha, build: "600"));

        var run = await stack.WaitForRunAsync(runId, r => r.State == RunState.Completed);
        Assert.Empty(run.Workflows);
        Assert.NotNull(run.CompletedAt);
        await Poll.UntilAsync(() => stack.Published.Published.Count == 2);
        Assert.Equal([RunEventTypes.Submitted, RunEventTypes.Completed], stack.Published.Published.Select(p => p.Message.Attributes[RunEvent.EventAttribute]));
    }
}

/// <summary>Polling with a deadline, for conditions the function reaches asynchronously.</summary>
internal static class Poll
{
    public static async Task UntilAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("condition not reached in time");
            }

            await Task.Delay(50);
        }
    }
}
