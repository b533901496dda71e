using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kfci.Configuration;
using Kfci.Http;
using Kfci.Kubernetes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kfci.Cli.Engine;

/// <summary>
/// The slice of the Kubernetes REST API that KubernetesClient sends for <see cref="KubernetesWorkflowCluster"/>, served
/// on 127.0.0.1 over any <see cref="IWorkflowCluster"/> (the local engine): Argo workflows (create, get, list with label
/// selectors and continue tokens, merge patch, delete, watch), pods and their logs, events by <c>involvedObject.name</c>,
/// namespaces (list, delete) and <c>/healthz</c>. Failures are Kubernetes <c>Status</c> bodies: a missing object's names
/// it in <c>details</c>, an unknown path is the API server's "could not find the requested resource" with empty details.
/// </summary>
public sealed class EngineApi(IWorkflowCluster cluster, string token)
{
    private const string WorkflowsPrefix = "apis/argoproj.io/v1alpha1/namespaces/";
    private const string CorePrefix = "api/v1/namespaces";

    /// <summary>
    /// Starts the API on 127.0.0.1:<paramref name="port"/> (0 picks a free port); the app's address is in its server
    /// features. Every request but the health checks must carry <c>Authorization: Bearer <paramref name="token"/></c>:
    /// any local process could otherwise run code through it.
    /// </summary>
    public static async Task<(WebApplication App, Uri Address)> StartAsync(IWorkflowCluster cluster, int port, string token, Action<ILoggingBuilder>? logging = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(3));
        var app = builder.Build();
        var api = new EngineApi(cluster, token);
        app.Run(api.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address.EndsWith('/') ? address : address + "/"));
    }

    private bool IsAuthorized(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        return header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
            && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()), Encoding.UTF8.GetBytes(token));
    }

    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            await RouteAsync(context, context.RequestAborted);
        }
        catch (ApiException e) when (!context.Response.HasStarted)
        {
            await WriteStatusAsync(context.Response, (int)e.Status, e.Reason ?? ReasonFor((int)e.Status), e.Message, Details(e));
        }
        catch (Exception e) when (e is FormatException or JsonException && !context.Response.HasStarted)
        {
            await WriteStatusAsync(context.Response, 400, "BadRequest", e.Message, []);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client left.
        }
    }

    private async Task RouteAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var request = context.Request;
        var path = (request.Path.Value ?? "").Trim('/');
        var method = request.Method;
        if (path == "healthz" || path == "readyz" || path == "livez")
        {
            await WriteAsync(context.Response, 200, "ok", "text/plain");
            return;
        }

        if (!IsAuthorized(request))
        {
            await WriteStatusAsync(context.Response, 401, "Unauthorized", $"the local engine wants Authorization: Bearer <{KfciEnvironment.ClusterToken}>", new JsonObject());
            return;
        }

        if (path.StartsWith(WorkflowsPrefix, StringComparison.Ordinal))
        {
            var parts = path[WorkflowsPrefix.Length..].Split('/');
            switch (parts, method)
            {
                case ([var ns, "workflows"], "GET") when IsWatch(request):
                    await WatchAsync(context, ns, cancellationToken);
                    return;
                case ([var ns, "workflows"], "GET"):
                    await WriteJsonAsync(context.Response, 200, await ListAsync(ns, request.Query, cancellationToken));
                    return;
                case ([var ns, "workflows"], "POST"):
                    RequireMediaType(request, "application/json");
                    await WriteJsonAsync(context.Response, 201, await cluster.CreateWorkflowAsync(ns, CheckTypeMeta(await ReadObjectAsync(request)), cancellationToken));
                    return;
                case ([var ns, "workflows", var name], "GET"):
                    await WriteJsonAsync(context.Response, 200, await cluster.GetWorkflowAsync(ns, name, cancellationToken) ?? throw NotFound("workflows.argoproj.io", name));
                    return;
                case ([var ns, "workflows", var name], "PATCH"):
                    RequireMediaType(request, "application/merge-patch+json");
                    await WriteJsonAsync(context.Response, 200, await cluster.PatchWorkflowAsync(ns, name, await ReadObjectAsync(request), cancellationToken));
                    return;
                case ([var ns, "workflows", var name], "DELETE"):
                    if (!await cluster.DeleteWorkflowAsync(ns, name, cancellationToken))
                    {
                        throw NotFound("workflows.argoproj.io", name);
                    }

                    await WriteJsonAsync(context.Response, 200, new JsonObject
                    {
                        ["kind"] = "Status",
                        ["apiVersion"] = "v1",
                        ["metadata"] = new JsonObject(),
                        ["status"] = "Success",
                        ["details"] = new JsonObject { ["name"] = name, ["group"] = "argoproj.io", ["kind"] = "workflows" },
                    });
                    return;
            }
        }
        else if (path.StartsWith(CorePrefix, StringComparison.Ordinal))
        {
            var parts = path[CorePrefix.Length..].Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
            switch (parts, method)
            {
                case ([], "GET"):
                    var namespaces = await Collect(cluster.ListNamespacesAsync(new ListOptions { LabelSelector = request.Query["labelSelector"] }, cancellationToken), cancellationToken);
                    await WriteJsonAsync(context.Response, 200, List("NamespaceList", "v1", namespaces, Version(namespaces), null));
                    return;
                case ([var name], "DELETE"):
                    var existing = (await Collect(cluster.ListNamespacesAsync(ListOptions.All, cancellationToken), cancellationToken)).FirstOrDefault(n => n.Name == name);
                    if (existing is null || !await cluster.DeleteNamespaceAsync(name, cancellationToken))
                    {
                        throw NotFound("namespaces", name);
                    }

                    existing["metadata"]!["deletionTimestamp"] = ArgoNames.Timestamp(DateTimeOffset.UtcNow);
                    existing["status"] = new JsonObject { ["phase"] = "Terminating" };
                    await WriteJsonAsync(context.Response, 200, existing);
                    return;
                case ([var ns, "pods", var name], "GET"):
                    await WriteJsonAsync(context.Response, 200, await cluster.GetPodAsync(ns, name, cancellationToken) ?? throw NotFound("pods", name));
                    return;
                case ([var ns, "pods", var name, "log"], "GET"):
                    await LogAsync(context, ns, name, cancellationToken);
                    return;
                case ([var ns, "events"], "GET"):
                    var involved = InvolvedObjectName(request.Query["fieldSelector"]);
                    var events = await Collect(cluster.ListEventsAsync(ns, involved, cancellationToken), cancellationToken);
                    await WriteJsonAsync(context.Response, 200, List("EventList", "v1", events, Version(events), null));
                    return;
            }
        }

        // Not "({method} /{path})" in the message: clients tell a missing type from a missing object by the empty details.
        throw new ApiException(HttpStatusCode.NotFound, StatusReasons.NotFound, "the server could not find the requested resource");
    }

    // KubernetesClient sends "application/json; charset=utf-8": the API server reads the media type, not its parameters.
    private static void RequireMediaType(HttpRequest request, string expected)
    {
        if (!string.Equals(request.ContentType?.Split(';')[0].Trim(), expected, StringComparison.OrdinalIgnoreCase))
        {
            throw new ApiException(HttpStatusCode.UnsupportedMediaType, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: {expected}");
        }
    }

    // A custom resource's body must say what it is, and say it matching the URL, as the API server checks.
    private static JsonObject CheckTypeMeta(JsonObject body)
    {
        var apiVersion = body["apiVersion"] is JsonValue v && v.TryGetValue<string>(out var a) ? a : null;
        var kind = body["kind"] is JsonValue k && k.TryGetValue<string>(out var t) ? t : null;
        if (apiVersion is null || kind is null)
        {
            throw Errors.BadRequest($"Object '{(kind is null ? "Kind" : "apiVersion")}' is missing in the request body");
        }

        if (apiVersion != KubernetesWorkflowCluster.WorkflowApiVersion)
        {
            throw Errors.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({KubernetesWorkflowCluster.WorkflowApiVersion})");
        }

        return kind == KubernetesWorkflowCluster.WorkflowKind
            ? body
            : throw new ApiException(HttpStatusCode.UnprocessableEntity, StatusReasons.Invalid, $"{kind}.argoproj.io \"{body.Name}\" is invalid: kind: Invalid value: \"{kind}\": must be {KubernetesWorkflowCluster.WorkflowKind}");
    }

    private static JsonObject Details(ApiException e) => e is KubernetesApiException { DetailsName: { } name } named
        ? new JsonObject { ["name"] = name, ["kind"] = named.DetailsKind }
        : [];

    private async Task<JsonObject> ListAsync(string ns, IQueryCollection query, CancellationToken cancellationToken)
    {
        var selector = query["labelSelector"].ToString();
        IReadOnlyList<JsonObject> items;
        string version;
        if (cluster is LocalWorkflowEngine engine)
        {
            (items, version) = engine.ListSnapshot(ns, selector);
        }
        else
        {
            items = await Collect(cluster.ListWorkflowsAsync(ns, new ListOptions { LabelSelector = selector }, cancellationToken), cancellationToken);
            version = Version(items);
        }

        var after = query["continue"].ToString() is { Length: > 0 } token ? ParseContinue(token) : null;
        var remaining = items.Where(i => after is null || string.CompareOrdinal(i.Name, after) > 0).OrderBy(i => i.Name, StringComparer.Ordinal).ToList();
        var limit = int.TryParse(query["limit"], CultureInfo.InvariantCulture, out var l) && l > 0 ? l : int.MaxValue;
        var page = remaining.Take(limit).ToList();
        var next = page.Count < remaining.Count ? Convert.ToBase64String(Encoding.UTF8.GetBytes(page[^1].Name!)) : null;
        return List("WorkflowList", KubernetesWorkflowCluster.WorkflowApiVersion, page, version, next);
    }

    private async Task WatchAsync(HttpContext context, string ns, CancellationToken cancellationToken)
    {
        var query = context.Request.Query;
        var from = query["resourceVersion"].ToString() is { Length: > 0 } text && text != "0" ? text : null;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (int.TryParse(query["timeoutSeconds"], CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
        {
            deadline.CancelAfter(TimeSpan.FromSeconds(seconds));
        }

        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "application/json";
        await response.StartAsync(cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
        try
        {
            var options = new WatchOptions { ResourceVersion = from, LabelSelector = query["labelSelector"] };
            await foreach (var change in cluster.WatchWorkflowsAsync(ns, options, deadline.Token))
            {
                var frame = new JsonObject { ["type"] = change.Type.ToString().ToUpperInvariant(), ["object"] = change.Resource.DeepClone() };
                await response.Body.WriteAsync(Encoding.UTF8.GetBytes(frame.ToJsonString() + "\n"), deadline.Token);
                await response.Body.FlushAsync(deadline.Token);
            }
        }
        catch (ApiException e) when (e.IsGone)
        {
            // As the API server's watch cache does: the watch is accepted, then an ERROR event says the version is gone.
            var frame = new JsonObject { ["type"] = "ERROR", ["object"] = Status((int)e.Status, e.Reason ?? StatusReasons.Expired, e.Message, []) };
            await response.Body.WriteAsync(Encoding.UTF8.GetBytes(frame.ToJsonString() + "\n"), cancellationToken);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            // The request's time is up or the client left: end the stream by closing it, as the API server does.
        }
    }

    private async Task LogAsync(HttpContext context, string ns, string pod, CancellationToken cancellationToken)
    {
        var query = context.Request.Query;
        var options = new PodLogOptions
        {
            Container = query["container"].ToString() is { Length: > 0 } c ? c : null,
            TailLines = int.TryParse(query["tailLines"], CultureInfo.InvariantCulture, out var tail) ? tail : null,
            LimitBytes = long.TryParse(query["limitBytes"], CultureInfo.InvariantCulture, out var limit) ? limit : null,
            Previous = query["previous"] == "true",
        };
        await using var log = await cluster.OpenPodLogAsync(ns, pod, options, cancellationToken);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/plain";
        await log.CopyToAsync(context.Response.Body, cancellationToken);
    }

    private static string InvolvedObjectName(string? fieldSelector)
    {
        foreach (var term in (fieldSelector ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = term.Split(["==", "="], 2, StringSplitOptions.TrimEntries);
            if (parts is ["involvedObject.name", { Length: > 0 } name])
            {
                return name;
            }
        }

        throw new ApiException(HttpStatusCode.BadRequest, "BadRequest", $"the local engine lists events by fieldSelector involvedObject.name=<name> only, not '{fieldSelector}'");
    }

    private static JsonObject List(string kind, string apiVersion, IEnumerable<JsonObject> items, string version, string? next)
    {
        var metadata = new JsonObject { ["resourceVersion"] = version };
        if (next is not null)
        {
            metadata["continue"] = next;
        }

        return new JsonObject
        {
            ["kind"] = kind,
            ["apiVersion"] = apiVersion,
            ["metadata"] = metadata,
            ["items"] = new JsonArray([.. items.Select(i => (JsonNode)i.DeepClone())]),
        };
    }

    private static string Version(IEnumerable<JsonObject> items) =>
        items.Select(i => long.TryParse(i.ResourceVersion, CultureInfo.InvariantCulture, out var v) ? v : 0).DefaultIfEmpty(0).Max().ToString(CultureInfo.InvariantCulture);

    private static string ParseContinue(string token)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(token));
        }
        catch (FormatException e)
        {
            throw new ApiException(HttpStatusCode.BadRequest, "BadRequest", $"continue key is not valid: {e.Message}");
        }
    }

    private static bool IsWatch(HttpRequest request) => request.Query["watch"].ToString() is "true" or "1";

    private static async Task<List<JsonObject>> Collect(IAsyncEnumerable<JsonObject> items, CancellationToken cancellationToken)
    {
        var list = new List<JsonObject>();
        await foreach (var item in items.WithCancellation(cancellationToken))
        {
            list.Add(item);
        }

        return list;
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpRequest request) =>
        await JsonNode.ParseAsync(request.Body) as JsonObject ?? throw new ApiException(HttpStatusCode.BadRequest, "BadRequest", "the request body is not a JSON object");

    private static ApiException NotFound(string resource, string name) => Errors.NotFound(name, resource);

    private static string ReasonFor(int code) => code switch
    {
        400 => "BadRequest",
        404 => StatusReasons.NotFound,
        409 => StatusReasons.Conflict,
        410 => StatusReasons.Expired,
        422 => StatusReasons.Invalid,
        _ => "InternalError",
    };

    private static Task WriteStatusAsync(HttpResponse response, int code, string reason, string message, JsonObject details) =>
        WriteJsonAsync(response, code, Status(code, reason, message, details));

    private static JsonObject Status(int code, string reason, string message, JsonObject details) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["details"] = details,
        ["code"] = code,
    };

    private static Task WriteJsonAsync(HttpResponse response, int code, JsonNode body) => WriteAsync(response, code, body.ToJsonString(), "application/json");

    private static async Task WriteAsync(HttpResponse response, int code, string body, string contentType)
    {
        response.StatusCode = code;
        response.ContentType = contentType;
        await response.WriteAsync(body);
    }
}
