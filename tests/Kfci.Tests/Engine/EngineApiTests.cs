using System.Net;
using System.Text.Json.Nodes;
using Kfci.Cli.Engine;
using Kfci.Configuration;
using Kfci.Http;
using Kfci.Kubernetes;
using Microsoft.AspNetCore.Builder;
using static Kfci.Tests.Engine.EngineHarness;

namespace Kfci.Tests.Engine;

/// <summary>The REST facade through the real Kubernetes adapter: what the Watcher and Uploader see of the local engine.</summary>
public sealed class EngineApiTests : IAsyncLifetime
{
    private EngineHarness _harness = null!;
    private WebApplication _app = null!;
    private Uri _address = null!;
    private KubernetesWorkflowCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _harness = Start();
        (_app, _address) = await EngineApi.StartAsync(_harness.Engine, 0, Token);
        _cluster = Connect(_address);
    }

    // The same path the functions take: KFCI_CLUSTER_ENDPOINT on loopback with the stack's token.
    private static KubernetesWorkflowCluster Connect(Uri address) =>
        KubernetesWorkflowCluster.Create(KfciServices.ClusterConnection(name => name switch
        {
            KfciEnvironment.ClusterEndpoint => address.ToString(),
            KfciEnvironment.ClusterToken => Token,
            _ => null,
        }));

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _harness.DisposeAsync();
    }

    private const string Token = "stack-token-for-tests";

    /// <summary>Finding: the engine's loopback API ran any workflow any local process POSTed.</summary>
    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong-token")]
    [InlineData("Basic c3RhY2stdG9rZW4tZm9yLXRlc3Rz")]
    public async Task CreateWorkflow_WithoutTheStackToken_Answers401(string? authorization)
    {
        using var http = new HttpClient { BaseAddress = _address };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"apis/argoproj.io/v1alpha1/namespaces/{Namespace}/workflows", UriKind.Relative))
        {
            Content = new StringContent("""{"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "x"}, "spec": {}}""", System.Text.Encoding.UTF8, "application/json"),
        };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        await foreach (var workflow in _harness.Engine.ListWorkflowsAsync(Namespace, new ListOptions(), CancellationToken.None))
        {
            Assert.Fail($"workflow {workflow["metadata"]?["name"]} was created");
        }
    }

    [Fact]
    public async Task Healthz_Answers200()
    {
        using var http = new HttpClient { BaseAddress = _address };
        using var response = await http.GetAsync(new Uri("healthz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("127.0.0.1", _address.Host);
    }

    [Fact]
    public async Task Workflow_CreateWatchPodLogEvents_ThroughTheKubernetesAdapter()
    {
        var workflow = Workflow("""
            metadata: {generateName: e2e-, labels: {kfci.dev/managed: "true", kfci.dev/run-id: r1}}
            spec:
              entrypoint: main
              templates:
              - {name: main, container: {image: alpine, command: [sh, -c, "echo out; echo err >&2; exit 1"]}}
            """);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var created = await _cluster.CreateWorkflowAsync(Namespace, workflow, cancel.Token);
        Assert.StartsWith("e2e-", created.Name, StringComparison.Ordinal);
        Assert.Equal("argoproj.io/v1alpha1", created["apiVersion"]?.ToString());

        JsonObject? finished = null;
        await foreach (var change in _cluster.WatchWorkflowsAsync(Namespace, new WatchOptions { LabelSelector = "kfci.dev/run-id=r1", RequestTimeout = TimeSpan.FromSeconds(5) }, cancel.Token))
        {
            if (change.Resource.Labels.GetValueOrDefault("workflows.argoproj.io/completed") == "true")
            {
                finished = change.Resource;
                break;
            }
        }

        Assert.Equal("Failed", finished?.Phase);
        var node = Node(finished!, created.Name!);
        var pod = await _cluster.GetPodAsync(Namespace, node["id"]!.ToString(), cancel.Token) ?? throw new InvalidOperationException("the step has no pod");
        Assert.Equal("Failed", pod.Phase);
        Assert.Equal(created.Name, pod.Labels["workflows.argoproj.io/workflow"]);

        await using (var log = await _cluster.OpenPodLogAsync(Namespace, pod.Name!, new PodLogOptions { Container = "main" }, cancel.Token))
        {
            var text = await new StreamReader(log).ReadToEndAsync(cancel.Token);
            Assert.Contains("out\n", text, StringComparison.Ordinal);
            Assert.Contains("err\n", text, StringComparison.Ordinal);
        }

        await using (var tail = await _cluster.OpenPodLogAsync(Namespace, pod.Name!, new PodLogOptions { TailLines = 1 }, cancel.Token))
        {
            Assert.Single((await new StreamReader(tail).ReadToEndAsync(cancel.Token)).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }

        var events = await _cluster.ListEventsAsync(Namespace, created.Name!, cancel.Token).ToListAsync(cancel.Token);
        Assert.Contains(events, e => e["reason"]?.ToString() == "WorkflowFailed");
        var podEvents = await _cluster.ListEventsAsync(Namespace, pod.Name!, cancel.Token).ToListAsync(cancel.Token);
        Assert.Contains(podEvents, e => e["involvedObject"]?["kind"]?.ToString() == "Pod");
    }

    [Fact]
    public async Task Errors_AreKubernetesStatusFailures()
    {
        var workflow = Workflow("metadata: {name: dup}\nspec: {entrypoint: a, templates: [{name: a, container: {image: x, command: ['true']}}]}");
        await _cluster.CreateWorkflowAsync(Namespace, workflow, CancellationToken.None);

        var taken = await Assert.ThrowsAnyAsync<ApiException>(() => _cluster.CreateWorkflowAsync(Namespace, workflow, CancellationToken.None));
        Assert.True(taken.IsAlreadyExists);
        Assert.Null(await _cluster.GetWorkflowAsync(Namespace, "missing", CancellationToken.None));
        Assert.Null(await _cluster.GetPodAsync(Namespace, "missing", CancellationToken.None));
        var patch = await Assert.ThrowsAnyAsync<ApiException>(() => _cluster.PatchWorkflowAsync(Namespace, "missing", new JsonObject(), CancellationToken.None));
        Assert.True(patch.IsNotFound);
        var log = await Assert.ThrowsAnyAsync<ApiException>(() => _cluster.OpenPodLogAsync(Namespace, "missing", PodLogOptions.Whole, CancellationToken.None));
        Assert.True(log.IsNotFound);
        await _harness.WaitCompletedAsync("dup");
        Assert.True(await _cluster.DeleteWorkflowAsync(Namespace, "dup", CancellationToken.None));
        Assert.False(await _cluster.DeleteWorkflowAsync(Namespace, "dup", CancellationToken.None));
    }

    [Fact]
    public async Task List_PagesWithContinueTokensAndFiltersByLabel()
    {
        for (var i = 0; i < 5; i++)
        {
            await _cluster.CreateWorkflowAsync(Namespace, Workflow($"metadata: {{name: w{i}, labels: {{kfci.dev/managed: '{(i % 2 == 0 ? "true" : "false")}'}}}}\nspec: {{entrypoint: a, templates: [{{name: a, container: {{image: x, command: ['true']}}}}]}}"), CancellationToken.None);
        }

        var all = await _cluster.ListWorkflowsAsync(Namespace, new ListOptions { PageSize = 2 }, CancellationToken.None).ToListAsync();
        Assert.Equal(["w0", "w1", "w2", "w3", "w4"], all.Select(w => w.Name));
        var managed = await _cluster.ListWorkflowsAsync(Namespace, new ListOptions { LabelSelector = "kfci.dev/managed=true", PageSize = 1 }, CancellationToken.None).ToListAsync();
        Assert.Equal(["w0", "w2", "w4"], managed.Select(w => w.Name));
        await _harness.Engine.IdleAsync();
    }

    [Fact]
    public async Task Patch_ShutdownTerminate_StopsTheWorkflow()
    {
        await _cluster.CreateWorkflowAsync(Namespace, Workflow("metadata: {name: long}\nspec: {entrypoint: a, templates: [{name: a, container: {image: x, command: [sleep, '60']}}]}"), CancellationToken.None);
        await _harness.WaitAsync("long", w => Nodes(w).Any(n => n["phase"]?.ToString() == "Running" && n["type"]?.ToString() == "Pod"));

        var patched = await _cluster.PatchWorkflowAsync(Namespace, "long", JsonNode.Parse("""{"spec":{"shutdown":"Terminate"}}""")!.AsObject(), CancellationToken.None);
        Assert.Equal("Terminate", patched["spec"]?["shutdown"]?.ToString());

        var workflow = await _harness.WaitCompletedAsync("long", TimeSpan.FromSeconds(10));
        Assert.Equal("Stopped with strategy 'Terminate'", workflow["status"]?["message"]?.ToString());
    }

    [Fact]
    public async Task Watch_FromAVersionTheEngineNoLongerHolds_Is410AndTheAdapterRelists()
    {
        // Defect: the engine replayed its current workflows as ADDED instead of answering 410, so a client resuming
        // from an old version never learnt of the workflows deleted meanwhile.
        await using var harness = Start(watchHistory: 2);
        var (app, address) = await EngineApi.StartAsync(harness.Engine, 0, Token);
        await using var stop = app;
        using var cluster = Connect(address);
        const string Spec = "spec: {entrypoint: a, templates: [{name: a, container: {image: x, command: ['true']}}]}";
        var first = await cluster.CreateWorkflowAsync(Namespace, Workflow("metadata: {name: deleted}\n" + Spec), CancellationToken.None);
        await harness.WaitCompletedAsync("deleted");
        Assert.True(await cluster.DeleteWorkflowAsync(Namespace, "deleted", CancellationToken.None));
        await cluster.CreateWorkflowAsync(Namespace, Workflow("metadata: {name: kept}\n" + Spec), CancellationToken.None);
        await harness.WaitCompletedAsync("kept");

        using var http = new HttpClient { BaseAddress = address };
        http.DefaultRequestHeaders.Authorization = new("Bearer", Token);
        var stream = await http.GetStringAsync(new Uri($"apis/argoproj.io/v1alpha1/namespaces/{Namespace}/workflows?watch=true&resourceVersion={first.ResourceVersion}&timeoutSeconds=1", UriKind.Relative));
        var error = JsonNode.Parse(stream.Split('\n')[0])!;

        Assert.Equal("ERROR", error["type"]!.GetValue<string>());
        Assert.Equal((410, "Expired"), (error["object"]!["code"]!.GetValue<int>(), error["object"]!["reason"]!.GetValue<string>()));
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var kept = await cluster.WatchWorkflowsAsync(Namespace, new WatchOptions { ResourceVersion = first.ResourceVersion }, cancel.Token).FirstAsync(cancel.Token);
        Assert.Equal(("kept", WatchEventType.Added, true), (kept.Resource.Name, kept.Type, kept.IsSynthetic));
    }

    [Fact]
    public async Task Namespaces_ListAndDelete()
    {
        _harness.Engine.AddNamespace("kfci-e2e-1");
        var names = await _cluster.ListNamespacesAsync(ListOptions.All, CancellationToken.None).Select(n => n.Name).ToListAsync();
        Assert.Contains("kfci-e2e-1", names);
        Assert.True(await _cluster.DeleteNamespaceAsync("kfci-e2e-1", CancellationToken.None));
        Assert.False(await _cluster.DeleteNamespaceAsync("kfci-e2e-1", CancellationToken.None));
    }

    [Fact]
    public async Task MissingObjectAndMissingType_AnswerTheApiServersTwoDifferent404s()
    {
        using var http = new HttpClient { BaseAddress = _address, DefaultRequestHeaders = { Authorization = new("Bearer", Token) } };

        var missingObject = JsonNode.Parse(await (await http.GetAsync(new Uri($"apis/argoproj.io/v1alpha1/namespaces/{Namespace}/workflows/nope", UriKind.Relative))).Content.ReadAsStringAsync())!;
        var missingType = JsonNode.Parse(await (await http.GetAsync(new Uri($"apis/argoproj.io/v1alpha1/namespaces/{Namespace}/cronworkflows/nope", UriKind.Relative))).Content.ReadAsStringAsync())!;

        Assert.Equal(("nope", "workflows"), (missingObject["details"]?["name"]?.ToString(), missingObject["details"]?["kind"]?.ToString()));
        Assert.Equal("the server could not find the requested resource", missingType["message"]?.ToString());
        Assert.Empty(missingType["details"]!.AsObject());
    }

    [Theory]
    [InlineData("application/json", """{"apiVersion":"v1","kind":"Workflow","metadata":{"name":"w"}}""", HttpStatusCode.BadRequest)]
    [InlineData("application/json", """{"apiVersion":"argoproj.io/v1alpha1","kind":"Pod","metadata":{"name":"w"}}""", HttpStatusCode.UnprocessableEntity)]
    [InlineData("application/json", """{"metadata":{"name":"w"}}""", HttpStatusCode.BadRequest)]
    [InlineData("text/plain", """{"apiVersion":"argoproj.io/v1alpha1","kind":"Workflow","metadata":{"name":"w"}}""", HttpStatusCode.UnsupportedMediaType)]
    public async Task Create_BodyNotAWorkflowOrNotJson_RefusedAsTheApiServerDoes(string contentType, string body, HttpStatusCode expected)
    {
        using var http = new HttpClient { BaseAddress = _address, DefaultRequestHeaders = { Authorization = new("Bearer", Token) } };

        using var response = await http.PostAsync(new Uri($"apis/argoproj.io/v1alpha1/namespaces/{Namespace}/workflows", UriKind.Relative), new StringContent(body, System.Text.Encoding.UTF8, contentType));

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("Status", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["kind"]?.ToString());
        Assert.Null(await _cluster.GetWorkflowAsync(Namespace, "w", CancellationToken.None));
    }
}
