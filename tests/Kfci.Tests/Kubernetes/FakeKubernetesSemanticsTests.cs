using System.Net;
using System.Text.Json.Nodes;
using Kfci.Http;
using Kfci.Kubernetes;
using Kfci.Testing.Kubernetes;
using static Kfci.Tests.Kubernetes.KubernetesWorkflowClusterTests;

namespace Kfci.Tests.Kubernetes;

/// <summary>The fake's own rules, where they decide whether it is faithful: selectors, merge patch, versions, error bodies.</summary>
public sealed class FakeKubernetesSemanticsTests
{
    private static readonly Dictionary<string, string> s_labels = new() { ["app"] = "kfci", ["tier"] = "2", ["example.com/team"] = "ci" };

    [Theory]
    [InlineData("", true)]
    [InlineData("app=kfci", true)]
    [InlineData("app=other", false)]
    [InlineData("app!=other", true)]
    [InlineData("missing!=x", true)]
    [InlineData("tier in (1,2)", true)]
    [InlineData("tier notin (1,2)", false)]
    [InlineData("missing notin (1)", true)]
    [InlineData("missing in (1)", false)]
    [InlineData("example.com/team", true)]
    [InlineData("!example.com/team", false)]
    [InlineData("!missing,app=kfci,tier in (2)", true)]
    [InlineData("app = kfci , tier", true)]
    public void LabelSelector_Matches(string selector, bool expected)
    {
        Assert.Equal(expected, LabelSelector.Parse(selector).Matches(s_labels));
    }

    [Theory]
    [InlineData("a in (x")]
    [InlineData("Bad Key=1")]
    [InlineData("a=b=c")]
    public void LabelSelector_Malformed_Throws(string selector)
    {
        Assert.Throws<FormatException>(() => LabelSelector.Parse(selector));
    }

    [Theory]
    // The examples of RFC 7386 appendix A.
    [InlineData("""{"a":"b"}""", """{"a":"c"}""", """{"a":"c"}""")]
    [InlineData("""{"a":"b"}""", """{"b":"c"}""", """{"a":"b","b":"c"}""")]
    [InlineData("""{"a":"b"}""", """{"a":null}""", """{}""")]
    [InlineData("""{"a":"b","b":"c"}""", """{"a":null}""", """{"b":"c"}""")]
    [InlineData("""{"a":["b"]}""", """{"a":"c"}""", """{"a":"c"}""")]
    [InlineData("""{"a":"c"}""", """{"a":["b"]}""", """{"a":["b"]}""")]
    [InlineData("""{"a":{"b":"c"}}""", """{"a":{"b":"d","c":null}}""", """{"a":{"b":"d"}}""")]
    [InlineData("""{"a":[{"b":"c"}]}""", """{"a":[1]}""", """{"a":[1]}""")]
    [InlineData("""["a","b"]""", """["c","d"]""", """["c","d"]""")]
    [InlineData("""{"a":"b"}""", """["c"]""", """["c"]""")]
    [InlineData("""{"e":null}""", """{"a":1}""", """{"e":null,"a":1}""")]
    [InlineData("""[1,2]""", """{"a":"b","c":null}""", """{"a":"b"}""")]
    [InlineData("""{}""", """{"a":{"bb":{"ccc":null}}}""", """{"a":{"bb":{}}}""")]
    public void MergePatch_Rfc7386Examples(string target, string patch, string expected)
    {
        var result = MergePatch.Apply(JsonNode.Parse(target), JsonNode.Parse(patch));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), result), result?.ToJsonString());
    }

    [Fact]
    public async Task Patch_ChangingNothing_KeepsResourceVersion()
    {
        await using var server = await FakeKubernetesServer.StartAsync();
        var cluster = server.CreateCluster(FastRetry);
        var created = await cluster.CreateWorkflowAsync("default", Workflow("same"), CancellationToken.None);

        var patched = await cluster.PatchWorkflowAsync("default", "same", JsonNode.Parse("""{"spec":{"entrypoint":"main"}}""")!.AsObject(), CancellationToken.None);

        Assert.Equal(created.ResourceVersion, patched.ResourceVersion);
    }

    [Fact]
    public async Task Create_GenerateName_AppendsFiveCharacters()
    {
        await using var server = await FakeKubernetesServer.StartAsync();
        var cluster = server.CreateCluster(FastRetry);

        var created = await cluster.CreateWorkflowAsync("default", new JsonObject { ["metadata"] = new JsonObject { ["generateName"] = "e2e-" } }, CancellationToken.None);

        Assert.Matches("^e2e-[a-z0-9]{5}$", created.Name);
    }

    [Fact]
    public async Task ResourceVersions_StrictlyIncreaseAcrossResources()
    {
        await using var server = await FakeKubernetesServer.StartAsync();
        var cluster = server.CreateCluster(FastRetry);
        var versions = new List<long>
        {
            long.Parse((await cluster.CreateWorkflowAsync("default", Workflow("v1"), CancellationToken.None)).ResourceVersion!, System.Globalization.CultureInfo.InvariantCulture),
            long.Parse(server.AddPod("default", "p", new Dictionary<string, string> { ["main"] = "" }).ResourceVersion!, System.Globalization.CultureInfo.InvariantCulture),
            long.Parse(server.SetWorkflowPhase("default", "v1", "Running").ResourceVersion!, System.Globalization.CultureInfo.InvariantCulture),
        };

        Assert.Equal(versions.Order(), versions);
        Assert.Equal(versions.Count, versions.Distinct().Count());
        Assert.Equal(versions[^1], server.ResourceVersion);
    }

    [Fact]
    public async Task ErrorBodies_AreKubernetesStatusObjects()
    {
        await using var server = await FakeKubernetesServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        using var response = await http.GetAsync(new Uri("apis/argoproj.io/v1alpha1/namespaces/default/workflows/nope", UriKind.Relative));
        var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("Status", status["kind"]!.GetValue<string>());
        Assert.Equal("Failure", status["status"]!.GetValue<string>());
        Assert.Equal("NotFound", status["reason"]!.GetValue<string>());
        Assert.Equal(404, status["code"]!.GetValue<int>());
        Assert.Equal("workflows.argoproj.io \"nope\" not found", status["message"]!.GetValue<string>());
        Assert.Equal("nope", status["details"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task ListExactResourceVersion_ShowsTheStateThen()
    {
        await using var server = await FakeKubernetesServer.StartAsync();
        var cluster = server.CreateCluster(FastRetry);
        var first = await cluster.CreateWorkflowAsync("default", Workflow("early"), CancellationToken.None);
        await cluster.CreateWorkflowAsync("default", Workflow("late"), CancellationToken.None);
        var options = new ListOptions { ResourceVersion = first.ResourceVersion, ResourceVersionMatch = "Exact" };

        var items = await cluster.ListWorkflowsAsync("default", options, CancellationToken.None).ToListAsync();

        Assert.Equal(["early"], items.Select(i => i.Name));
        Assert.Contains(server.Requests, r => r.Query.Contains("resourceVersionMatch=Exact", StringComparison.Ordinal));
        server.CompactHistory();
        var e = await Assert.ThrowsAsync<KubernetesApiException>(() => cluster.ListWorkflowsAsync("default", options, CancellationToken.None).ToListAsync().AsTask());
        Assert.True(e.IsGone);
    }

    [Fact]
    public async Task ListRaw_IsAKubernetesListDocument()
    {
        await using var server = await FakeKubernetesServer.StartAsync();
        await server.CreateCluster(FastRetry).CreateWorkflowAsync("default", Workflow("w"), CancellationToken.None);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        var list = JsonNode.Parse(await http.GetStringAsync(new Uri("apis/argoproj.io/v1alpha1/namespaces/default/workflows?limit=10", UriKind.Relative)))!;

        Assert.Equal("WorkflowList", list["kind"]!.GetValue<string>());
        Assert.Equal("argoproj.io/v1alpha1", list["apiVersion"]!.GetValue<string>());
        Assert.Equal(server.ResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), list["metadata"]!["resourceVersion"]!.GetValue<string>());
        Assert.Null(list["metadata"]!["continue"]);
        Assert.Equal("Workflow", list["items"]![0]!["kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task WatchChanges_ServerSide_SeesExistingThenClientChanges()
    {
        await using var server = await FakeKubernetesServer.StartAsync();
        var cluster = server.CreateCluster(FastRetry);
        await cluster.CreateWorkflowAsync("default", Workflow("before"), CancellationToken.None);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await using var changes = server.WatchChangesAsync(FakeResource.Workflows, "default", cancel.Token).GetAsyncEnumerator(cancel.Token);

        Assert.True(await changes.MoveNextAsync());
        Assert.Equal(("ADDED", "before"), (changes.Current.Type, changes.Current.Resource.Name));
        await cluster.PatchWorkflowAsync("default", "before", JsonNode.Parse("""{"spec":{"shutdown":"Stop"}}""")!.AsObject(), CancellationToken.None);
        Assert.True(await changes.MoveNextAsync());
        Assert.Equal(("MODIFIED", "Stop"), (changes.Current.Type, changes.Current.Resource["spec"]!["shutdown"]!.GetValue<string>()));
    }

    [Fact]
    public void FromStatus_WatchErrorEvent_MapsToGoneException()
    {
        var status = new k8s.Models.V1Status { Kind = "Status", Status = "Failure", Message = "too old resource version: 5 (9)", Reason = "Expired", Code = 410 };

        var e = KubernetesErrors.FromStatus(status, "watch x");

        Assert.Equal(HttpStatusCode.Gone, e.Status);
        Assert.Equal(StatusReasons.Expired, e.Reason);
        Assert.True(e.IsGone);
        Assert.False(e.IsTransient);
        Assert.Contains("too old resource version", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(HttpStatusCode.Conflict, "AlreadyExists", true, false)]
    [InlineData(HttpStatusCode.Conflict, "Conflict", false, false)]
    [InlineData(HttpStatusCode.Gone, "Gone", false, true)]
    [InlineData(HttpStatusCode.Gone, null, false, true)]
    [InlineData(HttpStatusCode.NotFound, "NotFound", false, false)]
    public void ErrorPredicates_DistinguishReasons(HttpStatusCode status, string? reason, bool alreadyExists, bool gone)
    {
        var e = new ApiException(status, reason, "x");
        Assert.Equal((alreadyExists, gone), (e.IsAlreadyExists, e.IsGone));
    }

    [Theory]
    [InlineData("""{"apiVersion":"argoproj.io/v1","kind":"Workflow","metadata":{"name":"w"}}""", 400, "BadRequest", "the API version in the data (argoproj.io/v1) does not match the expected API version (argoproj.io/v1alpha1)")]
    [InlineData("""{"apiVersion":"argoproj.io/v1alpha1","kind":"Pod","metadata":{"name":"w"}}""", 422, "Invalid", "Pod.argoproj.io \"w\" is invalid: kind: Invalid value: \"Pod\": must be Workflow")]
    [InlineData("""{"apiVersion":"argoproj.io/v1alpha1","metadata":{"name":"w"}}""", 400, "BadRequest", "Object 'Kind' is missing")]
    public async Task Create_TypeNotMatchingTheUrl_RefusedAsTheApiServerDoes(string body, int code, string reason, string message)
    {
        await using var server = await FakeKubernetesServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        using var response = await http.PostAsync(new Uri("apis/argoproj.io/v1alpha1/namespaces/default/workflows", UriKind.Relative), new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(code, (int)response.StatusCode);
        Assert.Equal(reason, status["reason"]!.GetValue<string>());
        Assert.StartsWith(message, status["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Null(server.Get(FakeResource.Workflows, "default", "w"));
    }

    [Fact]
    public async Task Create_NotJson_Refused415()
    {
        await using var server = await FakeKubernetesServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        using var response = await http.PostAsync(new Uri("api/v1/namespaces", UriKind.Relative), new StringContent("""{"metadata":{"name":"x"}}""", System.Text.Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Theory]
    [InlineData("apis/argoproj.io/v1alpha1/namespaces/default/cronworkflows/x")]
    [InlineData("apis/example.com/v1/namespaces/default/things")]
    [InlineData("api/v1/namespaces/default/pods/p/exec")]
    public async Task UnknownResourceType_IsTheGenericNotFoundThatNamesNoObject(string path)
    {
        await using var server = await FakeKubernetesServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
        var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("NotFound", status["reason"]!.GetValue<string>());
        Assert.Equal("the server could not find the requested resource", status["message"]!.GetValue<string>());
        Assert.Empty(status["details"]!.AsObject());
    }

    [Fact]
    public async Task Namespace_Deleted_StaysTerminatingAndRefusesNewContentUntilFinished()
    {
        await using var server = await FakeKubernetesServer.StartAsync();
        server.CreateNamespace("doomed");
        server.Create(FakeResource.Workflows, "doomed", Workflow("inside"));
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        using var deleted = await http.DeleteAsync(new Uri("api/v1/namespaces/doomed", UriKind.Relative));
        var terminating = JsonNode.Parse(await deleted.Content.ReadAsStringAsync())!;
        using var again = await http.DeleteAsync(new Uri("api/v1/namespaces/doomed", UriKind.Relative));
        using var content = await PostAsync(http, "apis/argoproj.io/v1alpha1/namespaces/doomed/workflows", TypedWorkflow("late").ToJsonString());
        using var sameName = await PostAsync(http, "api/v1/namespaces", """{"metadata":{"name":"doomed"}}""");

        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal("Terminating", terminating["status"]!["phase"]!.GetValue<string>());
        Assert.NotNull(terminating["metadata"]!["deletionTimestamp"]);
        Assert.Equal(terminating["metadata"]!["resourceVersion"]!.GetValue<string>(), JsonNode.Parse(await again.Content.ReadAsStringAsync())!["metadata"]!["resourceVersion"]!.GetValue<string>());
        var refused = JsonNode.Parse(await content.Content.ReadAsStringAsync())!;
        Assert.Equal((HttpStatusCode.Forbidden, "Forbidden"), (content.StatusCode, refused["reason"]!.GetValue<string>()));
        Assert.Equal("workflows.argoproj.io \"late\" is forbidden: unable to create new content in namespace doomed because it is being terminated", refused["message"]!.GetValue<string>());
        Assert.Equal("NamespaceTerminating", refused["details"]!["causes"]![0]!["reason"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, sameName.StatusCode);
        Assert.NotNull(server.Get(FakeResource.Workflows, "doomed", "inside"));

        server.FinishNamespaceTermination("doomed");

        Assert.Null(server.Get(FakeResource.Namespaces, "", "doomed"));
        Assert.Null(server.Get(FakeResource.Workflows, "doomed", "inside"));
    }

    [Theory]
    [InlineData("apis/argoproj.io/v1alpha1/namespaces/default/workflows?limit=1&continue=abc&resourceVersion=5", 400, "specifying resource version is not allowed when using continue")]
    [InlineData("apis/argoproj.io/v1alpha1/namespaces/default/workflows?fieldSelector=status.phase%3DRunning", 400, "field label not supported: status.phase")]
    [InlineData("apis/argoproj.io/v1alpha1/namespaces/default/workflows?fieldSelector=metadata.name%3Dw", 200, null)]
    [InlineData("api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dw,type!%3DNormal", 200, null)]
    [InlineData("api/v1/namespaces?fieldSelector=spec.finalizers%3Dkubernetes", 400, "field label not supported: spec.finalizers")]
    public async Task List_QueriesTheApiServerRefuses_Answer400(string path, int code, string? message)
    {
        await using var server = await FakeKubernetesServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(code, (int)response.StatusCode);
        Assert.Equal(message, body["kind"]!.GetValue<string>() == "Status" ? body["message"]!.GetValue<string>() : null);
    }

    [Fact]
    public async Task Patch_ChangingTheName_Refused400()
    {
        await using var server = await FakeKubernetesServer.StartAsync();
        server.Create(FakeResource.Workflows, "default", Workflow("w"));
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        using var request = new HttpRequestMessage(HttpMethod.Patch, new Uri("apis/argoproj.io/v1alpha1/namespaces/default/workflows/w", UriKind.Relative))
        {
            Content = new StringContent("""{"metadata":{"name":"renamed"}}""", System.Text.Encoding.UTF8, "application/merge-patch+json"),
        };
        using var response = await http.SendAsync(request);
        var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("the name of the object (renamed) does not match the name on the URL (w)", status["message"]!.GetValue<string>());
        Assert.Null(server.Get(FakeResource.Workflows, "default", "renamed"));
    }

    [Fact]
    public async Task Create_WithResourceVersion_RefusedAsStorageDoes()
    {
        await using var server = await FakeKubernetesServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var workflow = TypedWorkflow("copied");
        workflow["metadata"]!["resourceVersion"] = "42";

        using var response = await PostAsync(http, "apis/argoproj.io/v1alpha1/namespaces/default/workflows", workflow.ToJsonString());
        var status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("resourceVersion should not be set on objects to be created", status["message"]!.GetValue<string>());
        Assert.Null(status["reason"]);
        Assert.Null(server.Get(FakeResource.Workflows, "default", "copied"));
    }

    private static JsonObject TypedWorkflow(string name)
    {
        var workflow = Workflow(name);
        workflow["apiVersion"] = KubernetesWorkflowCluster.WorkflowApiVersion;
        workflow["kind"] = KubernetesWorkflowCluster.WorkflowKind;
        return workflow;
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, string path, string json) =>
        http.PostAsync(new Uri(path, UriKind.Relative), new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
}
