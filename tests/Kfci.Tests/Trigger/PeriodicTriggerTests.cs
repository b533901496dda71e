using System.Text.Json.Nodes;
using Kfci.Kubernetes;
using Kfci.Prow;
using Kfci.Runs;
using Kfci.Testing;
using Kfci.Testing.Hosting;
using Kfci.Testing.Kubernetes;
using Kfci.Testing.Trigger;

namespace Kfci.Tests.Trigger;

/// <summary>Periodics and branch-only on-call events through the Trigger: branch heads resolved once per run, named periodics from Prow's job configuration.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class PeriodicTriggerTests(EmulatorFixture emulators)
{
    private static readonly Dictionary<string, string> s_periodic = new() { [ProwEventParser.EventTypeAttribute] = ProwEventParser.PeriodicEvent };

    private static string PeriodicEvent(string name, string? branch = "master") => new JsonObject
    {
        ["name"] = name,
        ["refs"] = branch is null ? null : new JsonObject { ["org"] = "kubeflow", ["repo"] = "demo", ["base_ref"] = branch },
    }.ToJsonString();

    private static async Task<HttpResponseMessage> PushAsync(TriggerStack stack, string data, string messageId)
    {
        using var http = new HttpClient();
        var request = FunctionTestHost.PushRequest(data, s_periodic, messageId);
        request.RequestUri = stack.Endpoint;
        return await http.SendAsync(request);
    }

    private static Dictionary<string, string> Parameters(TriggerStack stack, string name)
    {
        var workflow = stack.Kubernetes.CreateCluster().GetWorkflowAsync(TriggerStack.Namespace, name, CancellationToken.None).GetAwaiter().GetResult()!;
        return workflow["spec"]!["arguments"]!["parameters"]!.AsArray().OfType<JsonObject>().ToDictionary(p => p["name"]!.GetValue<string>(), p => p["value"]!.GetValue<string>());
    }

    private static string RunIdOf(string job, string messageId) =>
        new RunIdentity(job, ProwEventParser.BuildIdFor(messageId, DateTimeOffset.Parse("2026-11-22T05:00:00Z", System.Globalization.CultureInfo.InvariantCulture))).RunId;

    [Fact]
    public async Task Push_PeriodicNamingOnlyABranch_TestsItsHeadAndARedeliveryKeepsIt()
    {
        await using var stack = await TriggerStack.StartAsync(emulators);
        var repository = stack.CreateRepository("kubeflow", "demo");
        var head = TriggerIntegrationTests.Seed(repository, "workflows:\n- name: nightly\n  workflow: testing/e2e.yaml\n  job_types: [periodic]\n");
        var runId = RunIdOf("demo-periodic", "periodic-1");

        Assert.True((await PushAsync(stack, PeriodicEvent("demo-periodic"), "periodic-1")).IsSuccessStatusCode);
        var run = await stack.WaitForRunAsync(runId, r => r.State == RunState.Submitted);

        // The branch moves on; the same event delivered again still tests the commit the run recorded.
        repository.Write("more.txt", "x\n");
        var newer = repository.Commit("newer");
        Assert.True((await PushAsync(stack, PeriodicEvent("demo-periodic"), "periodic-1")).IsSuccessStatusCode);

        var again = await stack.WaitForRunAsync(runId, r => r.State == RunState.Submitted);
        Assert.Equal(run.JobSpec, again.JobSpec);
        Assert.Equal(head, again.BaseSha);
        Assert.Equal(head, ProwJobSpec.FromJson(again.JobSpec).ExtraRefs[0].BaseSha);
        Assert.Contains(again.History, h => h.Note == $"kubeflow/demo branch master resolved to {head}");
        var workflow = Assert.Single(again.Workflows);
        Assert.Equal($"kubeflow/demo@{head}", Parameters(stack, workflow.Name)["repo_spec"]);
        Assert.NotEqual(newer, head);
    }

    [Fact]
    public async Task Push_RedeliveryAfterAPartialSubmissionAndABranchMove_EveryWorkflowTestsTheFirstHead()
    {
        await using var stack = await TriggerStack.StartAsync(emulators, clusterRetry: Kfci.Http.RetryOptions.None);
        var repository = stack.CreateRepository("kubeflow", "demo");
        var head = TriggerIntegrationTests.Seed(
            repository,
            "workflows:\n- name: one\n  workflow: testing/e2e.yaml\n  job_types: [periodic]\n- name: two\n  workflow: testing/e2e.yaml\n  job_types: [periodic]\n");
        var runId = RunIdOf("demo-periodic", "periodic-moved");

        // The first delivery gets one workflow into the cluster and then meets a fault: no run is Submitted yet.
        var creates = 0;
        stack.Kubernetes.InjectFault(new FakeFault
        {
            When = request => request.Method == "POST" && request.Path.Value!.EndsWith("/workflows", StringComparison.Ordinal) && Interlocked.Increment(ref creates) == 2,
            StatusCode = 503,
        });
        Assert.False((await PushAsync(stack, PeriodicEvent("demo-periodic"), "periodic-moved")).IsSuccessStatusCode);

        // The branch moves on before Pub/Sub delivers the event again.
        repository.Write("more.txt", "x\n");
        var newer = repository.Commit("newer");
        Assert.True((await PushAsync(stack, PeriodicEvent("demo-periodic"), "periodic-moved")).IsSuccessStatusCode);

        var run = await stack.WaitForRunAsync(runId, r => r.State == RunState.Submitted);
        Assert.NotEqual(newer, head);
        Assert.Equal(head, run.BaseSha);
        Assert.Equal(2, run.Workflows.Count);
        Assert.All(run.Workflows, w => Assert.Equal($"kubeflow/demo@{head}", Parameters(stack, w.Name)["repo_spec"]));
    }

    [Fact]
    public async Task Push_PostsubmitOnCallWithBranchOnly_PullBaseShaIsTheHead()
    {
        await using var stack = await TriggerStack.StartAsync(emulators);
        var head = TriggerIntegrationTests.Seed(stack.CreateRepository("kubeflow", "demo"));
        var data = new JsonObject { ["name"] = "demo-post", ["refs"] = new JsonObject { ["org"] = "kubeflow", ["repo"] = "demo", ["base_ref"] = "master" } }.ToJsonString();
        using var http = new HttpClient();
        var request = FunctionTestHost.PushRequest(data, new Dictionary<string, string> { [ProwEventParser.EventTypeAttribute] = ProwEventParser.PostsubmitEvent }, "post-1");
        request.RequestUri = stack.Endpoint;
        Assert.True((await http.SendAsync(request)).IsSuccessStatusCode);

        var run = await stack.WaitForRunAsync(RunIdOf("demo-post", "post-1"), r => r.State == RunState.Submitted);
        Assert.Equal(head, run.BaseSha);
        Assert.Contains($"PULL_BASE_SHA={head}", Parameters(stack, run.Workflows[0].Name)["prow_env"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Push_MissingBranch_RunInErrorNamingIt()
    {
        await using var stack = await TriggerStack.StartAsync(emulators);
        TriggerIntegrationTests.Seed(stack.CreateRepository("kubeflow", "demo"));

        await PushAsync(stack, PeriodicEvent("demo-periodic", "no-such-branch"), "periodic-2");

        var run = await stack.WaitForRunAsync(RunIdOf("demo-periodic", "periodic-2"), r => r.State == RunState.Error);
        Assert.Contains("branch 'no-such-branch' of kubeflow/demo not found", Assert.Single(run.Errors), StringComparison.Ordinal);
        Assert.Empty(run.Workflows);
    }

    [Fact]
    public async Task Push_NamedPeriodic_RefsFromProwJobConfig_AndAnUnknownNameListsCloseMatches()
    {
        var jobs = Path.Combine(Directory.CreateTempSubdirectory("kfci-prow-jobs-").FullName, "periodics.yaml");
        File.WriteAllText(jobs, "periodics:\n- name: demo-nightly\n  cron: \"0 3 * * *\"\n  decorate: true\n  extra_refs:\n  - org: kubeflow\n    repo: demo\n    base_ref: master\n");
        await using var stack = await TriggerStack.StartAsync(emulators, prowJobs: jobs);
        var head = TriggerIntegrationTests.Seed(stack.CreateRepository("kubeflow", "demo"), "workflows:\n- name: nightly\n  workflow: testing/e2e.yaml\n");

        await PushAsync(stack, PeriodicEvent("demo-nightly", branch: null), "named-1");
        await PushAsync(stack, PeriodicEvent("demo-nightyl", branch: null), "named-2");

        var run = await stack.WaitForRunAsync(RunIdOf("demo-nightly", "named-1"), r => r.State == RunState.Submitted);
        Assert.Equal("kubeflow/demo", run.Repo);
        Assert.Equal(head, run.BaseSha);
        Assert.Contains(run.History, h => h.Note?.StartsWith($"periodic demo-nightly from Prow's job configuration {jobs}", StringComparison.Ordinal) == true);
        var unknown = await stack.WaitForRunAsync(RunIdOf("demo-nightyl", "named-2"), r => r.State == RunState.Error);
        Assert.Equal($"periodic job 'demo-nightyl' is not defined in Prow's job configuration {jobs}; close matches: demo-nightly", Assert.Single(unknown.Errors));
    }

    [Fact]
    public async Task Push_NamedPeriodicWithoutConfiguration_RunInErrorSayingWhatIsMissing()
    {
        await using var stack = await TriggerStack.StartAsync(emulators);

        await PushAsync(stack, PeriodicEvent("demo-nightly", branch: null), "named-3");

        var run = await stack.WaitForRunAsync(RunIdOf("demo-nightly", "named-3"), r => r.State == RunState.Error);
        Assert.Contains("KFCI_PROW_JOBS", Assert.Single(run.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Push_BadProwJobsSetting_OnlyNamedPeriodicsFail_WithItsReason_AndAPresubmitStillRuns()
    {
        await using var stack = await TriggerStack.StartAsync(emulators, prowJobs: "config/jobs/periodics.yaml");
        TriggerIntegrationTests.Seed(stack.CreateRepository("kubeflow", "demo"));

        await PushAsync(stack, PeriodicEvent("demo-nightly", branch: null), "named-4");
        await PushAsync(stack, PeriodicEvent("demo-periodic"), "periodic-5");

        var named = await stack.WaitForRunAsync(RunIdOf("demo-nightly", "named-4"), r => r.State == RunState.Error);
        Assert.Contains("KFCI_PROW_JOBS", Assert.Single(named.Errors), StringComparison.Ordinal);
        Assert.Contains("absolute file path", named.Errors[0], StringComparison.Ordinal);
        Assert.Empty((await stack.WaitForRunAsync(RunIdOf("demo-periodic", "periodic-5"), r => r.State is RunState.Submitted or RunState.Completed)).Errors);
    }
}
