using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Kfci.Http;
using Kfci.Kubernetes;
using Kfci.Testing.Kubernetes;

namespace Kfci.Tests.Kubernetes;

/// <summary>The real adapter against the fake API server over HTTP on loopback.</summary>
public sealed class KubernetesWorkflowClusterTests : IAsyncLifetime
{
    internal static readonly RetryOptions FastRetry = new() { BaseDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(50), MaxRetries = 3 };

    private FakeKubernetesServer _server = null!;
    private KubernetesWorkflowCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeKubernetesServer.StartAsync();
        _server.CreateNamespace("kubeflow-test-infra");
        _cluster = _server.CreateCluster(FastRetry);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    internal static JsonObject Workflow(string name, Dictionary<string, string>? labels = null)
    {
        var metadata = new JsonObject { ["name"] = name };
        if (labels is not null)
        {
            metadata["labels"] = new JsonObject(labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value)));
        }

        return new JsonObject
        {
            ["metadata"] = metadata,
            ["spec"] = new JsonObject { ["entrypoint"] = "main", ["templates"] = new JsonArray(new JsonObject { ["name"] = "main" }) },
        };
    }

    [Fact]
    public async Task CreateWorkflow_New_ReturnsStoredObjectWithServerFields()
    {
        var created = await _cluster.CreateWorkflowAsync("kubeflow-test-infra", Workflow("e2e-1"), CancellationToken.None);

        Assert.Equal("e2e-1", created.Name);
        Assert.Equal("kubeflow-test-infra", created.Namespace);
        Assert.Equal("Workflow", created["kind"]!.GetValue<string>());
        Assert.Equal("argoproj.io/v1alpha1", created["apiVersion"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(created.ResourceVersion));
        Assert.False(string.IsNullOrEmpty(created.Uid));
        Assert.NotNull(created.CreationTimestamp);
        Assert.Null(created.Phase);
    }

    [Fact]
    public async Task CreateWorkflow_NameTaken_ThrowsAlreadyExists()
    {
        await _cluster.CreateWorkflowAsync("kubeflow-test-infra", Workflow("dup"), CancellationToken.None);

        var e = await Assert.ThrowsAnyAsync<ApiException>(() => _cluster.CreateWorkflowAsync("kubeflow-test-infra", Workflow("dup"), CancellationToken.None));

        Assert.True(e.IsAlreadyExists);
        Assert.Equal(HttpStatusCode.Conflict, e.Status);
        Assert.Contains("workflows.argoproj.io \"dup\" already exists", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, _server.Requests.Count(r => r.Method == "POST"));
    }

    [Theory]
    [InlineData("Upper-Case")]
    [InlineData("under_score")]
    [InlineData("-leading-dash")]
    public async Task CreateWorkflow_InvalidName_ThrowsInvalidWithoutRetry(string name)
    {
        var e = await Assert.ThrowsAnyAsync<ApiException>(() => _cluster.CreateWorkflowAsync("kubeflow-test-infra", Workflow(name), CancellationToken.None));

        Assert.True(e.IsInvalid);
        Assert.Equal(StatusReasons.Invalid, e.Reason);
        Assert.Contains("RFC 1123 subdomain", e.Message, StringComparison.Ordinal);
        Assert.Single(_server.Requests, r => r.Method == "POST");
    }

    [Fact]
    public async Task CreateWorkflow_NameLongerThan253_ThrowsInvalid()
    {
        var e = await Assert.ThrowsAnyAsync<ApiException>(() => _cluster.CreateWorkflowAsync("kubeflow-test-infra", Workflow(new string('a', 254)), CancellationToken.None));
        Assert.True(e.IsInvalid);
        Assert.Contains("no more than 253 characters", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateWorkflow_MissingNamespace_ThrowsNotFound()
    {
        var e = await Assert.ThrowsAnyAsync<ApiException>(() => _cluster.CreateWorkflowAsync("no-such-ns", Workflow("w"), CancellationToken.None));
        Assert.True(e.IsNotFound);
        Assert.Contains("namespaces \"no-such-ns\" not found", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetWorkflow_Missing_ReturnsNull()
    {
        Assert.Null(await _cluster.GetWorkflowAsync("kubeflow-test-infra", "absent", CancellationToken.None));
    }

    [Fact]
    public async Task GetWorkflow_AfterServerSidePhaseChange_SeesArgoStatusAndLabels()
    {
        await _cluster.CreateWorkflowAsync("kubeflow-test-infra", Workflow("phased"), CancellationToken.None);
        _server.SetWorkflowPhase("kubeflow-test-infra", "phased", "Running");
        _server.SetWorkflowPhase("kubeflow-test-infra", "phased", "Failed", "child failed");

        var workflow = await _cluster.GetWorkflowAsync("kubeflow-test-infra", "phased", CancellationToken.None);

        Assert.NotNull(workflow);
        Assert.Equal("Failed", workflow.Phase);
        Assert.Equal("true", workflow.Labels["workflows.argoproj.io/completed"]);
        Assert.Equal("Failed", workflow.Labels["workflows.argoproj.io/phase"]);
        Assert.NotNull(workflow["status"]!["startedAt"]);
        Assert.NotNull(workflow["status"]!["finishedAt"]);
        Assert.Equal("child failed", workflow["status"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task ListWorkflows_LabelSelectors_SelectLikeTheApiServer()
    {
        await _cluster.CreateWorkflowAsync("kubeflow-test-infra", Workflow("a", new() { ["job"] = "unit", ["tier"] = "1" }), CancellationToken.None);
        await _cluster.CreateWorkflowAsync("kubeflow-test-infra", Workflow("b", new() { ["job"] = "e2e", ["tier"] = "2" }), CancellationToken.None);
        await _cluster.CreateWorkflowAsync("kubeflow-test-infra", Workflow("c", new() { ["job"] = "lint" }), CancellationToken.None);

        Assert.Equal(["a"], await Names("job=unit"));
        Assert.Equal(["a"], await Names("job==unit"));
        Assert.Equal(["b", "c"], await Names("job!=unit"));
        Assert.Equal(["a", "b"], await Names("job in (unit, e2e)"));
        Assert.Equal(["c"], await Names("job notin (unit,e2e)"));
        Assert.Equal(["a", "b"], await Names("tier"));
        Assert.Equal(["c"], await Names("!tier"));
        Assert.Equal(["b"], await Names("tier,job in (e2e,lint)"));
        Assert.Equal(["a", "b", "c"], await Names(null));
    }

    [Fact]
    public async Task ListWorkflows_BadSelector_ThrowsBadRequest()
    {
        var e = await Assert.ThrowsAnyAsync<ApiException>(() => Names("job in (x"));
        Assert.Equal(HttpStatusCode.BadRequest, e.Status);
    }

    [Fact]
    public async Task ListWorkflows_PageSizeTwoOfSix_FollowsContinueAcrossThreePages()
    {
        for (var i = 0; i < 6; i++)
        {
            await _cluster.CreateWorkflowAsync("kubeflow-test-infra", Workflow($"page-{i}"), CancellationToken.None);
        }

        var names = await _cluster.ListWorkflowsAsync("kubeflow-test-infra", new ListOptions { PageSize = 2 }, CancellationToken.None).Select(w => w.Name).ToListAsync();

        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"page-{i}"), names);
        var lists = _server.Requests.Where(r => r.Method == "GET" && r.Path.EndsWith("/workflows", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, lists.Count);
        Assert.DoesNotContain("continue=", lists[0].Query, StringComparison.Ordinal);
        Assert.Contains("continue=", lists[1].Query, StringComparison.Ordinal);
        Assert.Contains("continue=", lists[2].Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListPages_ChangesBetweenPages_ContinueServesTheFirstPagesSnapshot()
    {
        var workflows = new ResourceClient(new k8s.Kubernetes(_server.Configuration), new RetryPolicy(FastRetry), ApiResource.Workflows);
        for (var i = 0; i < 4; i++)
        {
            await _cluster.CreateWorkflowAsync("kubeflow-test-infra", Workflow($"snap-{i}"), CancellationToken.None);
        }

        await using var pages = workflows.PagesAsync("kubeflow-test-infra", new ListOptions { PageSize = 2 }, CancellationToken.None).GetAsyncEnumerator();
        Assert.True(await pages.MoveNextAsync());
        var first = pages.Current;
        await _cluster.DeleteWorkflowAsync("kubeflow-test-infra", "snap-3", CancellationToken.None);
        await _cluster.CreateWorkflowAsync("kubeflow-test-infra", Workflow("snap-4"), CancellationToken.None);
        Assert.True(await pages.MoveNextAsync());
        var second = pages.Current;

        Assert.Equal(["snap-2", "snap-3"], second.Items.Select(w => w.Name));
        Assert.Null(second.Continue);
        Assert.False(second.IsRestart);
        Assert.Equal(first.ResourceVersion, second.ResourceVersion);
        Assert.False(await pages.MoveNextAsync());
    }

    [Fact]
    public async Task ListWorkflows_ContinueTokenExpiresMidList_StartsOverAndYieldsEachOnce()
    {
        // Defect: the 410 of an expired continue token ended the list; the API server's advice is to start a new list without it.
        for (var i = 0; i < 3; i++)
        {
            await _cluster.CreateWorkflowAsync("kubeflow-test-infra", Workflow($"old-{i}"), CancellationToken.None);
        }

        var names = new List<string>();
        await foreach (var workflow in _cluster.ListWorkflowsAsync("kubeflow-test-infra", new ListOptions { PageSize = 1 }, CancellationToken.None))
        {
            names.Add(workflow.Name!);
            if (names.Count == 1)
            {
                await _cluster.CreateWorkflowAsync("kubeflow-test-infra", Workflow("newer"), CancellationToken.None);
                _server.CompactHistory();
            }
        }

        Assert.Equal(["old-0", "newer", "old-1", "old-2"], names);
        var lists = _server.Requests.Where(r => r.Method == "GET" && r.Path.EndsWith("/workflows", StringComparison.Ordinal)).ToList();
        Assert.DoesNotContain("continue=", lists[2].Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingArgoCrd_IsAConfigurationErrorNotAMissingWorkflow()
    {
        // Defect: the 404 of an unserved resource type read as "no such workflow", so kfci believed its workflows were gone.
        await using var noArgo = await FakeKubernetesServer.StartAsync(new FakeKubernetesOptions { ServedResources = [FakeResource.Pods, FakeResource.Events, FakeResource.Namespaces] });
        using var cluster = noArgo.CreateCluster(FastRetry);

        var get = await Assert.ThrowsAsync<KubernetesConfigurationException>(() => cluster.GetWorkflowAsync("default", "w", CancellationToken.None));
        await Assert.ThrowsAsync<KubernetesConfigurationException>(() => cluster.DeleteWorkflowAsync("default", "w", CancellationToken.None));
        await Assert.ThrowsAsync<KubernetesConfigurationException>(() => cluster.ListWorkflowsAsync("default", ListOptions.All, CancellationToken.None).ToListAsync().AsTask());

        Assert.Contains("does not serve argoproj.io/v1alpha1 workflows", get.Message, StringComparison.Ordinal);
        Assert.Contains("is Argo Workflows installed", get.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', get.Message);
        Assert.Null(await cluster.GetPodAsync("default", "p", CancellationToken.None));
    }

    [Fact]
    public async Task PatchWorkflow_MergePatch_ShutsDownAndBumpsVersion()
    {
        var created = await _cluster.CreateWorkflowAsync("kubeflow-test-infra", Workflow("stop-me", new() { ["keep"] = "yes", ["drop"] = "x" }), CancellationToken.None);
        var patch = JsonNode.Parse("""{"spec":{"shutdown":"Terminate"},"metadata":{"labels":{"drop":null}}}""")!.AsObject();

        var patched = await _cluster.PatchWorkflowAsync("kubeflow-test-infra", "stop-me", patch, CancellationToken.None);

        Assert.Equal("Terminate", patched["spec"]!["shutdown"]!.GetValue<string>());
        Assert.Equal("main", patched["spec"]!["entrypoint"]!.GetValue<string>());
        Assert.Equal(new Dictionary<string, string> { ["keep"] = "yes" }, patched.Labels);
        Assert.True(long.Parse(patched.ResourceVersion!, System.Globalization.CultureInfo.InvariantCulture) > long.Parse(created.ResourceVersion!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(2, patched["metadata"]!["generation"]!.GetValue<long>());
        Assert.Contains(_server.Requests, r => r.Method == "PATCH");
    }

    [Fact]
    public async Task PatchWorkflow_StaleResourceVersion_ThrowsConflictNotAlreadyExists()
    {
        var created = await _cluster.CreateWorkflowAsync("kubeflow-test-infra", Workflow("guarded"), CancellationToken.None);
        await _cluster.PatchWorkflowAsync("kubeflow-test-infra", "guarded", JsonNode.Parse("""{"spec":{"x":1}}""")!.AsObject(), CancellationToken.None);
        var stale = new JsonObject { ["metadata"] = new JsonObject { ["resourceVersion"] = created.ResourceVersion }, ["spec"] = new JsonObject { ["x"] = 2 } };

        var e = await Assert.ThrowsAnyAsync<ApiException>(() => _cluster.PatchWorkflowAsync("kubeflow-test-infra", "guarded", stale, CancellationToken.None));

        Assert.True(e.IsConflict);
        Assert.False(e.IsAlreadyExists);
        Assert.Equal(StatusReasons.Conflict, e.Reason);
    }

    [Fact]
    public async Task PatchWorkflow_Missing_ThrowsNotFound()
    {
        var e = await Assert.ThrowsAnyAsync<ApiException>(() => _cluster.PatchWorkflowAsync("kubeflow-test-infra", "ghost", [], CancellationToken.None));
        Assert.True(e.IsNotFound);
    }

    [Fact]
    public async Task DeleteWorkflow_ExistingThenMissing_TrueThenFalse()
    {
        await _cluster.CreateWorkflowAsync("kubeflow-test-infra", Workflow("gone-soon"), CancellationToken.None);

        Assert.True(await _cluster.DeleteWorkflowAsync("kubeflow-test-infra", "gone-soon", CancellationToken.None));
        Assert.False(await _cluster.DeleteWorkflowAsync("kubeflow-test-infra", "gone-soon", CancellationToken.None));
        Assert.Null(await _cluster.GetWorkflowAsync("kubeflow-test-infra", "gone-soon", CancellationToken.None));
    }

    [Fact]
    public async Task GetWorkflow_429WithRetryAfter_WaitsThenSucceeds()
    {
        await _cluster.CreateWorkflowAsync("kubeflow-test-infra", Workflow("throttled"), CancellationToken.None);
        var fault = new FakeFault { Method = "GET", PathContains = "/workflows/throttled", StatusCode = 429, RetryAfter = TimeSpan.FromSeconds(1) };
        _server.InjectFault(fault);

        var watch = Stopwatch.StartNew();
        var workflow = await _cluster.GetWorkflowAsync("kubeflow-test-infra", "throttled", CancellationToken.None);

        Assert.NotNull(workflow);
        Assert.Equal(1, fault.Hits);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(0.95), $"waited only {watch.Elapsed}");
    }

    [Fact]
    public async Task CreateWorkflow_429WithoutRetries_SurfacesRetryAfterAndReason()
    {
        var cluster = _server.CreateCluster(RetryOptions.None);
        _server.InjectFault(new FakeFault { Method = "POST", StatusCode = 429, RetryAfter = TimeSpan.FromSeconds(7) });

        var e = await Assert.ThrowsAnyAsync<ApiException>(() => cluster.CreateWorkflowAsync("kubeflow-test-infra", Workflow("w"), CancellationToken.None));

        Assert.Equal(HttpStatusCode.TooManyRequests, e.Status);
        Assert.Equal(StatusReasons.TooManyRequests, e.Reason);
        Assert.Equal(TimeSpan.FromSeconds(7), e.RetryAfter);
    }

    [Fact]
    public async Task ListWorkflows_Two500sThenSuccess_Retried()
    {
        var fault = new FakeFault { Method = "GET", StatusCode = 500, Times = 2 };
        _server.InjectFault(fault);

        var all = await _cluster.ListWorkflowsAsync("kubeflow-test-infra", ListOptions.All, CancellationToken.None).ToListAsync();

        Assert.Empty(all);
        Assert.Equal(2, fault.Hits);
        Assert.Equal(3, _server.Requests.Count(r => r.Method == "GET"));
    }

    [Fact]
    public async Task GetWorkflow_DroppedConnection_Retried()
    {
        await _cluster.CreateWorkflowAsync("kubeflow-test-infra", Workflow("flaky"), CancellationToken.None);
        _server.InjectFault(new FakeFault { Method = "GET", DropConnection = true });

        Assert.NotNull(await _cluster.GetWorkflowAsync("kubeflow-test-infra", "flaky", CancellationToken.None));
        Assert.Equal(2, _server.Requests.Count(r => r.Method == "GET"));
    }

    [Fact]
    public async Task GetWorkflow_AlwaysFailing_GivesUpWithTransientError()
    {
        _server.InjectFault(new FakeFault { StatusCode = 503, Times = int.MaxValue });
        var e = await Assert.ThrowsAnyAsync<ApiException>(() => _cluster.GetWorkflowAsync("kubeflow-test-infra", "x", CancellationToken.None));
        Assert.True(e.IsTransient);
        Assert.Equal(FastRetry.MaxRetries + 1, _server.Requests.Count);
    }

    [Fact]
    public async Task OpenPodLog_WholeTailAndLimit_StreamsTheRightBytes()
    {
        var log = string.Concat(Enumerable.Range(1, 2000).Select(i => $"line {i}\n"));
        _server.AddPod("kubeflow-test-infra", "wf-main-123", new Dictionary<string, string> { ["main"] = log, ["wait"] = "waiting\n" });

        Assert.Equal(log, await ReadLog(new PodLogOptions { Container = "main" }));
        Assert.Equal("line 1999\nline 2000\n", await ReadLog(new PodLogOptions { Container = "main", TailLines = 2 }));
        Assert.Equal("line 1\nli", await ReadLog(new PodLogOptions { Container = "main", LimitBytes = 9 }));
        Assert.Equal("line 1999", await ReadLog(new PodLogOptions { Container = "main", TailLines = 2, LimitBytes = 9 }));
        Assert.Equal("waiting\n", await ReadLog(new PodLogOptions { Container = "wait" }));
        var query = _server.Requests.Last(r => r.Path.EndsWith("/log", StringComparison.Ordinal)).Query;
        Assert.Contains("container=wait", query, StringComparison.Ordinal);
        Assert.Contains("follow=false", query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenPodLog_AmbiguousContainerOrMissingPod_Throws()
    {
        _server.AddPod("kubeflow-test-infra", "two", new Dictionary<string, string> { ["main"] = "", ["wait"] = "" });

        var ambiguous = await Assert.ThrowsAnyAsync<ApiException>(() => ReadLog(PodLogOptions.Whole, "two"));
        Assert.Equal(HttpStatusCode.BadRequest, ambiguous.Status);
        Assert.Contains("choose one of: [main wait]", ambiguous.Message, StringComparison.Ordinal);
        var missing = await Assert.ThrowsAnyAsync<ApiException>(() => ReadLog(PodLogOptions.Whole, "nope"));
        Assert.True(missing.IsNotFound);
    }

    [Fact]
    public async Task GetPod_ExistingAndMissing()
    {
        _server.AddPod("kubeflow-test-infra", "p1", new Dictionary<string, string> { ["main"] = "x" }, phase: "Failed");

        Assert.Equal("Failed", (await _cluster.GetPodAsync("kubeflow-test-infra", "p1", CancellationToken.None))!.Phase);
        Assert.Null(await _cluster.GetPodAsync("kubeflow-test-infra", "p2", CancellationToken.None));
    }

    [Fact]
    public async Task ListEvents_ForInvolvedObject_OnlyItsEvents()
    {
        _server.AddEvent("kubeflow-test-infra", "Workflow", "wf-a", "WorkflowRunning", "Workflow Running");
        _server.AddEvent("kubeflow-test-infra", "Workflow", "wf-a", "WorkflowFailed", "child failed", "Warning");
        _server.AddEvent("kubeflow-test-infra", "Workflow", "wf-b", "WorkflowRunning", "Workflow Running");

        var events = await _cluster.ListEventsAsync("kubeflow-test-infra", "wf-a", CancellationToken.None).ToListAsync();

        Assert.Equal(["WorkflowRunning", "WorkflowFailed"], events.Select(e => e["reason"]!.GetValue<string>()).Order(StringComparer.Ordinal).Reverse());
        Assert.Contains("fieldSelector=involvedObject.name%3Dwf-a", _server.Requests[^1].Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Namespaces_ListBySelectorAndDelete_RemovesContents()
    {
        _server.CreateNamespace("kf-ci-1", new Dictionary<string, string> { ["owner"] = "kfci" });
        _server.CreateNamespace("kf-ci-2", new Dictionary<string, string> { ["owner"] = "kfci" });
        await _cluster.CreateWorkflowAsync("kf-ci-1", Workflow("inside"), CancellationToken.None);

        var owned = await _cluster.ListNamespacesAsync(new ListOptions { LabelSelector = "owner=kfci" }, CancellationToken.None).Select(n => n.Name).ToListAsync();
        Assert.Equal(["kf-ci-1", "kf-ci-2"], owned);

        Assert.True(await _cluster.DeleteNamespaceAsync("kf-ci-1", CancellationToken.None));
        Assert.Equal("Terminating", _server.Get(FakeResource.Namespaces, "", "kf-ci-1")!["status"]!["phase"]!.GetValue<string>());
        _server.FinishNamespaceTermination("kf-ci-1");
        Assert.False(await _cluster.DeleteNamespaceAsync("kf-ci-1", CancellationToken.None));
        Assert.Null(_server.Get(FakeResource.Workflows, "kf-ci-1", "inside"));
        var all = await _cluster.ListNamespacesAsync(ListOptions.All, CancellationToken.None).Select(n => n.Name).ToListAsync();
        Assert.Equal(["default", "kf-ci-2", "kubeflow-test-infra"], all);
    }

    private async Task<List<string?>> Names(string? selector) =>
        await _cluster.ListWorkflowsAsync("kubeflow-test-infra", new ListOptions { LabelSelector = selector }, CancellationToken.None).Select(w => w.Name).ToListAsync();

    private async Task<string> ReadLog(PodLogOptions options, string pod = "wf-main-123")
    {
        await using var stream = await _cluster.OpenPodLogAsync("kubeflow-test-infra", pod, options, CancellationToken.None);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }
}
