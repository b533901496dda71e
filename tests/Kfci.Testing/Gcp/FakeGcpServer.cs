using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Kfci.Janitor;
using Kfci.Testing.Gcs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kfci.Testing.Gcp;

/// <summary>
/// A faithful in-process fake of the GCP calls the janitor makes, over real HTTP on 127.0.0.1, with the discovery
/// documents' paths and JSON shapes: Compute v1 (aggregated and global lists, paging, zonal/regional/global deletes and
/// operations), Container v1 (listing in <c>locations/-</c> or one zone or region, cluster delete, operations), Deployment Manager v2 (paged
/// deployments with their operation's error, delete with <c>deletePolicy</c>, operations), IAM v1 (paged service
/// accounts, delete). Operations finish after <see cref="OperationPolls"/> reads; missing resources answer 404.
/// Faults: <see cref="Faults"/> (429, 5xx), <see cref="DisabledApis"/> (403 "API not enabled"), <see cref="Latency"/>.
/// </summary>
public sealed class FakeGcpServer : IAsyncDisposable
{
    /// <summary>The locations of every cluster listing asked for, in order (<c>-</c> for all locations).</summary>
    public ConcurrentQueue<string> ClusterListings { get; } = new();

    private static readonly Dictionary<string, ResourceType> s_computeCollections = new(StringComparer.Ordinal)
    {
        ["instances"] = ResourceType.Instance,
        ["forwardingRules"] = ResourceType.ForwardingRule,
        ["targetHttpProxies"] = ResourceType.TargetHttpProxy,
        ["targetHttpsProxies"] = ResourceType.TargetHttpsProxy,
        ["urlMaps"] = ResourceType.UrlMap,
        ["backendServices"] = ResourceType.BackendService,
        ["healthChecks"] = ResourceType.HealthCheck,
        ["instanceGroups"] = ResourceType.InstanceGroup,
        ["sslCertificates"] = ResourceType.SslCertificate,
        ["firewalls"] = ResourceType.FirewallRule,
        ["addresses"] = ResourceType.Address,
        ["disks"] = ResourceType.Disk,
    };

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<(ResourceType Type, string Project, string Location, string Name), JsonObject> _resources = new();
    private readonly ConcurrentDictionary<string, FakeOperation> _operations = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentQueue<(ResourceType Type, string Name, string Location)> _deleted = new();
    private int _operationCounter;

    private FakeGcpServer(WebApplication app)
    {
        _app = app;
    }

    public Uri BaseAddress { get; private set; } = null!;

    public FaultQueue Faults { get; } = new();

    /// <summary>APIs (<c>compute</c>, <c>container</c>, <c>deploymentmanager</c>, <c>iam</c>) that answer every call with 403 "API not enabled".</summary>
    public ConcurrentDictionary<string, bool> DisabledApis { get; } = new(StringComparer.Ordinal);

    /// <summary>Aggregated-list scopes (<c>zones/us-east1-d</c>) that do not answer: an UNREACHABLE warning and <c>unreachables[]</c>.</summary>
    public ConcurrentDictionary<string, bool> UnreachableScopes { get; } = new(StringComparer.Ordinal);

    /// <summary>Added to every call (the benchmark's simulated network and API time).</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>How many reads of an operation answer RUNNING before it is DONE.</summary>
    public int OperationPolls { get; set; } = 1;

    /// <summary>Largest page a list returns; lower it to make listings cross pages.</summary>
    public int MaxPageSize { get; set; } = 500;

    /// <summary>Deletes whose operation ends with an error (the resource stays).</summary>
    public Func<ResourceType, string, bool> FailDelete { get; set; } = (_, _) => false;

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    /// <summary>Every resource deleted, in the order the deletes arrived.</summary>
    public IReadOnlyList<(ResourceType Type, string Name, string Location)> Deleted => [.. _deleted];

    public int Count => _resources.Count;

    public static async Task<FakeGcpServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new FakeGcpServer(app);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        server.BaseAddress = new Uri(address.EndsWith('/') ? address : address + "/");
        return server;
    }

    /// <summary>Adds the GCP resources of <paramref name="inventory"/> (workflows and namespaces belong to the Kubernetes fake and are skipped).</summary>
    public void Seed(IEnumerable<CloudResource> inventory)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        foreach (var resource in inventory.Where(r => r.Type is not (ResourceType.Workflow or ResourceType.Namespace)))
        {
            _resources[(resource.Type, resource.Project ?? FakeGcpInventory.Project, resource.Location, resource.Name)] = FakeGcpJson.Resource(resource, BaseAddress);
        }
    }

    public bool Exists(ResourceType type, string name, string location, string project = FakeGcpInventory.Project) =>
        _resources.ContainsKey((type, project, location, name));

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var status = 500;
        try
        {
            if (Latency > TimeSpan.Zero)
            {
                await Task.Delay(Latency, context.RequestAborted);
            }

            var path = context.Request.Path.Value!.Trim('/').Split('/').Select(Uri.UnescapeDataString).ToArray();
            var api = ApiOf(path);
            if (api is not null && DisabledApis.ContainsKey(api))
            {
                status = await ErrorAsync(context, 403, "PERMISSION_DENIED", $"{api}.googleapis.com has not been used in project {FakeGcpInventory.Project} before or it is disabled. Enable it by visiting the console then retry.", "accessNotConfigured");
                return;
            }

            if (Faults.Take(context.Request) is { Status: { } faultStatus })
            {
                status = await ErrorAsync(context, faultStatus, faultStatus == 429 ? "RESOURCE_EXHAUSTED" : "INTERNAL", $"Injected fault: {faultStatus}.", faultStatus == 429 ? "rateLimitExceeded" : "backendError");
                return;
            }

            var answer = Route(context.Request, path);
            if (answer is null)
            {
                status = await ErrorAsync(context, 404, "NOT_FOUND", $"The resource '{context.Request.Path}' was not found", "notFound");
                return;
            }

            status = 200;
            context.Response.ContentType = "application/json; charset=UTF-8";
            await context.Response.WriteAsync(answer.ToJsonString(), context.RequestAborted);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or BadHttpRequestException)
        {
            status = -1;
        }
        finally
        {
            var raw = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
            var query = raw.IndexOf('?', StringComparison.Ordinal);
            _requests.Enqueue(new RecordedRequest(context.Request.Method, query < 0 ? raw : raw[..query], query < 0 ? "" : raw[(query + 1)..], null, null, status));
        }
    }

    private static string? ApiOf(string[] path) => path switch
    {
        ["compute", ..] => "compute",
        ["deploymentmanager", ..] => "deploymentmanager",
        ["v1", "projects", _, "locations", ..] => "container",
        ["v1", "projects", _, "serviceAccounts", ..] => "iam",
        _ => null,
    };

    private JsonObject? Route(HttpRequest request, string[] path)
    {
        var get = request.Method == "GET";
        var delete = request.Method == "DELETE";
        return path switch
        {
            ["compute", "v1", "projects", var p, "aggregated", var c] when get && s_computeCollections.ContainsKey(c) => AggregatedList(request, p, c),
            ["compute", "v1", "projects", var p, "global", "operations", var op] when get => PollOperation(op, $"compute/{p}/global"),
            ["compute", "v1", "projects", var p, var s, var l, "operations", var op] when get => PollOperation(op, $"compute/{p}/{s}/{l}"),
            ["compute", "v1", "projects", var p, "global", var c] when get && s_computeCollections.ContainsKey(c) =>
                Page(request, Items(s_computeCollections[c], p, "global"), "items", new JsonObject { ["kind"] = $"compute#{c[..^1]}List", ["id"] = $"projects/{p}/global/{c}" }),
            ["compute", "v1", "projects", var p, "global", var c, var name] when delete && s_computeCollections.ContainsKey(c) =>
                Delete(s_computeCollections[c], p, "global", name, $"compute/{p}/global", ComputeOperation),
            ["compute", "v1", "projects", var p, "regions", var l, "instanceGroupManagers", var name] when delete && IsScope(ResourceType.InstanceGroup, p, l, name, "regions") =>
                Delete(ResourceType.InstanceGroup, p, l, name, $"compute/{p}/regions/{l}", ComputeOperation),
            ["compute", "v1", "projects", var p, var s, var l, var c, var name] when delete && s is "zones" or "regions" && s_computeCollections.ContainsKey(c)
                && IsScope(s_computeCollections[c], p, l, name, s) && !(s == "regions" && c == "instanceGroups") =>
                Delete(s_computeCollections[c], p, l, name, $"compute/{p}/{s}/{l}", ComputeOperation),
            ["v1", "projects", var p, "locations", "-", "clusters"] when get => ClusterList(p, null),
            ["v1", "projects", var p, "locations", var l, "clusters"] when get => ClusterList(p, l),
            ["v1", "projects", var p, "locations", var l, "clusters", var name] when delete => Delete(ResourceType.GkeCluster, p, l, name, $"container/{p}/{l}", ContainerOperation),
            ["v1", "projects", var p, "locations", var l, "operations", var op] when get => PollOperation(op, $"container/{p}/{l}"),
            ["deploymentmanager", "v2", "projects", var p, "global", "deployments"] when get => Page(request, Items(ResourceType.DmDeployment, p, "global"), "deployments", []),
            ["deploymentmanager", "v2", "projects", var p, "global", "deployments", var name] when delete => Delete(ResourceType.DmDeployment, p, "global", name, $"dm/{p}", ComputeOperation),
            ["deploymentmanager", "v2", "projects", var p, "global", "operations", var op] when get => PollOperation(op, $"dm/{p}"),
            ["v1", "projects", var p, "serviceAccounts"] when get => Page(request, Items(ResourceType.ServiceAccount, p, "global"), "accounts", []),
            ["v1", "projects", var p, "serviceAccounts", var email] when delete => _resources.TryRemove((ResourceType.ServiceAccount, p, "global", email), out _) ? Gone(ResourceType.ServiceAccount, email, "global", []) : null,
            _ => null,
        };
    }

    /// <summary>
    /// Whether the resource lives in that kind of scope: Compute answers 404 for a regional disk asked for under
    /// <c>zones/</c> (and regional instance groups have no delete of their own: their managed group's is the one).
    /// </summary>
    private bool IsScope(ResourceType type, string project, string location, string name, string scopeKind) =>
        _resources.TryGetValue((type, project, location, name), out var json)
        && (json[scopeKind == "zones" ? "zone" : "region"] is not null);

    private JsonObject Gone(ResourceType type, string name, string location, JsonObject answer)
    {
        _deleted.Enqueue((type, name, location));
        return answer;
    }

    /// <summary>Container's list: <c>locations/-</c> is every location; a zone or region is only the clusters located there.</summary>
    private JsonObject ClusterList(string project, string? location)
    {
        ClusterListings.Enqueue(location ?? "-");
        return new JsonObject { ["clusters"] = new JsonArray([.. Items(ResourceType.GkeCluster, project, location)]) };
    }

    private List<JsonObject> Items(ResourceType type, string project, string? location) =>
        [.. _resources
            .Where(pair => pair.Key.Type == type && pair.Key.Project == project && (location is null || pair.Key.Location == location))
            .OrderBy(pair => pair.Key.Location, StringComparer.Ordinal).ThenBy(pair => pair.Key.Name, StringComparer.Ordinal)
            .Select(pair => (JsonObject)pair.Value.DeepClone())];

    /// <summary>One page of <paramref name="items"/> under <paramref name="field"/>: <c>maxResults</c>/<c>pageSize</c>, <c>pageToken</c> = offset.</summary>
    private JsonObject Page(HttpRequest request, List<JsonObject> items, string field, JsonObject answer)
    {
        var size = int.TryParse(request.Query["maxResults"].FirstOrDefault() ?? request.Query["pageSize"].FirstOrDefault(), CultureInfo.InvariantCulture, out var asked)
            ? Math.Min(asked, MaxPageSize) : MaxPageSize;
        var offset = int.TryParse(request.Query["pageToken"].FirstOrDefault(), CultureInfo.InvariantCulture, out var token) ? token : 0;
        answer[field] = new JsonArray([.. items.Skip(offset).Take(size)]);
        if (offset + size < items.Count)
        {
            answer["nextPageToken"] = (offset + size).ToString(CultureInfo.InvariantCulture);
        }

        return answer;
    }

    private JsonObject AggregatedList(HttpRequest request, string project, string collection)
    {
        var type = s_computeCollections[collection];
        var page = Page(request, Items(type, project, null), "flat", new JsonObject { ["kind"] = $"compute#{collection[..^1]}AggregatedList", ["id"] = $"projects/{project}/aggregated/{collection}" });
        var items = new JsonObject();
        foreach (var item in (JsonArray)page["flat"]!)
        {
            // Each item under its own scope: a regional disk or instance group under regions/*, beside the zonal ones.
            var zone = item!["zone"]?.ToString();
            var location = zone ?? item["region"]?.ToString();
            var scope = location is null ? "global" : $"{(zone is not null ? "zones" : "regions")}/{location[(location.LastIndexOf('/') + 1)..]}";
            if (items[scope] is not JsonObject scoped)
            {
                items[scope] = scoped = new JsonObject { [collection] = new JsonArray() };
            }

            ((JsonArray)scoped[collection]!).Add(item.DeepClone());
        }

        // Real aggregated lists also name the scopes that hold nothing, with a warning instead of items.
        items[type == ResourceType.Instance ? "zones/us-west1-a" : "regions/us-west1"] = new JsonObject
        {
            ["warning"] = new JsonObject { ["code"] = "NO_RESULTS_ON_PAGE", ["message"] = "There are no results for scope on this page." },
        };
        foreach (var unreachable in UnreachableScopes.Keys)
        {
            items[unreachable] = new JsonObject { ["warning"] = new JsonObject { ["code"] = "UNREACHABLE", ["message"] = $"Scope {unreachable} is unreachable." } };
        }

        if (!UnreachableScopes.IsEmpty)
        {
            page["unreachables"] = new JsonArray([.. UnreachableScopes.Keys.Select(scope => JsonValue.Create(scope))]);
        }

        page.Remove("flat");
        page["items"] = items;
        return page;
    }

    private JsonObject? Delete(ResourceType type, string project, string location, string name, string scope, Func<FakeOperation, JsonObject> render)
    {
        if (!_resources.ContainsKey((type, project, location, name)))
        {
            return null;
        }

        var failed = FailDelete(type, name);
        if (!failed)
        {
            _resources.TryRemove((type, project, location, name), out _);
            _deleted.Enqueue((type, name, location));
        }

        var operation = new FakeOperation($"operation-{Interlocked.Increment(ref _operationCounter)}-{Guid.NewGuid():N}"[..40], scope, location, name, failed);
        _operations[operation.Name] = operation;
        return render(operation);
    }

    private JsonObject? PollOperation(string name, string scope)
    {
        if (!_operations.TryGetValue(name, out var operation) || operation.Scope != scope)
        {
            return null;
        }

        var polls = Interlocked.Increment(ref operation.Polls);
        operation.Done = polls > OperationPolls - 1;
        return scope.StartsWith("container/", StringComparison.Ordinal) ? ContainerOperation(operation) : ComputeOperation(operation);
    }

    private static JsonObject ComputeOperation(FakeOperation operation)
    {
        var json = new JsonObject
        {
            ["kind"] = "compute#operation",
            ["name"] = operation.Name,
            ["operationType"] = "delete",
            ["targetLink"] = operation.Target,
            ["status"] = operation.Done ? "DONE" : "RUNNING",
            ["progress"] = operation.Done ? 100 : 0,
        };
        if (operation.Done && operation.Failed)
        {
            json["error"] = new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["code"] = "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE", ["message"] = $"The resource '{operation.Target}' is already being used by another resource" }) };
        }

        return json;
    }

    private static JsonObject ContainerOperation(FakeOperation operation)
    {
        var json = new JsonObject
        {
            ["name"] = operation.Name,
            ["zone"] = operation.Location,
            ["location"] = operation.Location,
            ["operationType"] = "DELETE_CLUSTER",
            ["targetLink"] = operation.Target,
            ["status"] = operation.Done ? "DONE" : "RUNNING",
        };
        if (operation.Done && operation.Failed)
        {
            json["statusMessage"] = "Cluster is in use by another operation";
            json["error"] = new JsonObject { ["code"] = 9, ["message"] = "Cluster is in use by another operation" };
        }

        return json;
    }

    private static async Task<int> ErrorAsync(HttpContext context, int status, string statusName, string message, string reason)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=UTF-8";
        var body = new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["code"] = status,
                ["message"] = message,
                ["status"] = statusName,
                ["errors"] = new JsonArray(new JsonObject { ["message"] = message, ["domain"] = "global", ["reason"] = reason }),
            },
        };
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
        return status;
    }

    private sealed class FakeOperation(string name, string scope, string location, string target, bool failed)
    {
        public int Polls;

        public string Name { get; } = name;

        public string Scope { get; } = scope;

        public string Location { get; } = location;

        public string Target { get; } = target;

        public bool Failed { get; } = failed;

        public bool Done { get; set; }
    }
}
