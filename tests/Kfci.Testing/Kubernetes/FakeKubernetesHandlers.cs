using Kfci.Kubernetes;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Kfci.Testing.Kubernetes;

/// <summary>The REST verbs of the fake: routing by path, lists, gets, creates, merge patches, deletes, watches and pod logs.</summary>
internal sealed class FakeKubernetesHandlers(FakeObjectStore store, FakeKubernetesOptions options, ConcurrentDictionary<string, string> podLogs)
{
    private const string MergePatchType = "application/merge-patch+json";
    private const string JsonType = "application/json";

    public async Task HandleAsync(HttpContext context, CancellationToken stopping)
    {
        var request = context.Request;
        var route = Route(request.Path.Value ?? "", options.ServedResources);
        var method = request.Method;
        var ns = route.Namespace ?? "";
        switch (route)
        {
            case { Subresource: "log" } when route.Resource == FakeResource.Pods && HttpMethods.IsGet(method):
                await ServeLogAsync(context.Response, ns, route.Name!, request.Query, context.RequestAborted);
                break;
            case { Subresource: not null }:
                throw FakeStatusException.NoSuchResourceType();
            case { Name: null } when HttpMethods.IsGet(method) && IsWatch(request):
                await WatchAsync(context, route, stopping);
                break;
            case { Name: null } when HttpMethods.IsGet(method):
                await WriteAsync(context.Response, 200, List(route, request.Query));
                break;
            case { Name: null } when HttpMethods.IsPost(method):
                RequireMediaType(request, JsonType);
                var created = store.Create(route.Resource, ns, TypeMeta.Check(route.Resource, await ReadObjectAsync(request)));
                await WriteAsync(context.Response, 201, created.Json);
                break;
            case { Name: { } name } when HttpMethods.IsGet(method):
                var found = store.Get(route.Resource, ns, name) ?? throw FakeStatusException.NotFound(route.Resource, name);
                await WriteAsync(context.Response, 200, found.Json);
                break;
            case { Name: { } name } when HttpMethods.IsPatch(method):
                await WriteAsync(context.Response, 200, (await PatchAsync(route.Resource, ns, name, request)).Json);
                break;
            case { Name: { } name } when HttpMethods.IsDelete(method):
                await WriteAsync(context.Response, 200, Delete(route.Resource, ns, name));
                break;
            default:
                throw new FakeStatusException(405, "MethodNotAllowed", $"the server does not allow this method on the requested resource ({method})");
        }
    }

    public static async Task WriteAsync(HttpResponse response, int code, string json)
    {
        response.StatusCode = code;
        response.ContentType = "application/json";
        await response.WriteAsync(json);
    }

    private static bool IsWatch(HttpRequest request) => request.Query["watch"].ToString() is "true" or "1";

    private string List(ApiRoute route, IQueryCollection query)
    {
        var labels = ParseLabels(query["labelSelector"]);
        var fields = FieldSelector.Parse(query["fieldSelector"], route.Resource);
        var limit = int.TryParse(query["limit"], CultureInfo.InvariantCulture, out var l) ? l : 0;
        var continueToken = query["continue"].ToString() is { Length: > 0 } c ? c : null;
        if (continueToken is not null && query["resourceVersion"].ToString() is { Length: > 0 } given && given != "0")
        {
            // The token carries the version of the list it continues.
            throw FakeStatusException.BadRequest("specifying resource version is not allowed when using continue");
        }

        long? exact = query["resourceVersionMatch"] == "Exact" ? Version(query["resourceVersion"]) : null;
        var (items, version, next, remaining) = store.List(
            route.Resource, route.Namespace, o => labels.Matches(o.Labels) && fields.Matches(o.Node), limit, continueToken, exact);
        var metadata = new JsonObject { ["resourceVersion"] = FakeObjectStore.Text(version) };
        if (next is not null)
        {
            metadata["continue"] = next;
            metadata["remainingItemCount"] = remaining;
        }

        return $"{{\"kind\":\"{route.Resource.Kind}List\",\"apiVersion\":\"{route.Resource.ApiVersion}\",\"metadata\":{metadata.ToJsonString()},"
            + $"\"items\":[{string.Join(',', items.Select(i => i.Json))}]}}";
    }

    private async Task WatchAsync(HttpContext context, ApiRoute route, CancellationToken stopping)
    {
        var query = context.Request.Query;
        var labels = ParseLabels(query["labelSelector"]);
        var from = query["resourceVersion"].ToString() is { Length: > 0 } text && text != "0" ? Version(text) : (long?)null;
        TimeSpan? timeout = int.TryParse(query["timeoutSeconds"], CultureInfo.InvariantCulture, out var seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds) : null;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        WatchSubscription subscription;
        try
        {
            subscription = store.Watch(route.Resource, route.Namespace, from);
        }
        catch (FakeStatusException e) when (e.Code == 410)
        {
            // The server accepts the watch, then says in-band that the version is gone (watch cache behaviour).
            await FakeWatchStream.SendErrorAsync(context.Response, e, cancel.Token);
            return;
        }

        using (subscription)
        {
            var stream = new FakeWatchStream(store, route.Resource, labels, options.BookmarkInterval);
            await stream.ServeAsync(context.Response, subscription, query["allowWatchBookmarks"] == "true", timeout, cancel.Token);
        }
    }

    // The API server reads the media type and ignores parameters such as charset=utf-8, which KubernetesClient sends.
    private static void RequireMediaType(HttpRequest request, string expected)
    {
        if (!string.Equals(request.ContentType?.Split(';')[0].Trim(), expected, StringComparison.OrdinalIgnoreCase))
        {
            throw new FakeStatusException(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: {expected}");
        }
    }

    private async Task<StoredObject> PatchAsync(FakeResource resource, string ns, string name, HttpRequest request)
    {
        RequireMediaType(request, MergePatchType);
        var patch = await ReadObjectAsync(request);
        if (patch["metadata"]?["name"] is JsonValue renamed && renamed.ToString() != name)
        {
            throw FakeStatusException.BadRequest($"the name of the object ({renamed}) does not match the name on the URL ({name})");
        }

        if (resource.Namespaced && patch["metadata"]?["namespace"] is JsonValue moved && moved.ToString() != ns)
        {
            throw FakeStatusException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }

        var expected = patch["metadata"]?["resourceVersion"]?.GetValue<string>();
        return store.Update(resource, ns, name, current =>
        {
            if (expected is not null && expected != current["metadata"]?["resourceVersion"]?.GetValue<string>())
            {
                throw new FakeStatusException(409, "Conflict", $"Operation cannot be fulfilled on {resource.QualifiedName} \"{name}\": the object has been modified; please apply your changes to the latest version and try again");
            }

            return (JsonObject)MergePatch.Apply(current, patch)!;
        });
    }

    private string Delete(FakeResource resource, string ns, string name)
    {
        var deleted = store.Delete(resource, ns, name);
        if (resource == FakeResource.Namespaces)
        {
            // A namespace answers with itself, now Terminating; it stays until its content is gone.
            return deleted.Json;
        }

        var details = FakeStatusException.Details(resource, name);
        details["uid"] = JsonNode.Parse(deleted.Json)?["metadata"]?["uid"]?.DeepClone();
        return new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["details"] = details,
        }.ToJsonString();
    }

    private async Task ServeLogAsync(HttpResponse response, string ns, string pod, IQueryCollection query, CancellationToken cancellationToken)
    {
        var stored = store.Get(FakeResource.Pods, ns, pod) ?? throw FakeStatusException.NotFound(FakeResource.Pods, pod);
        var containers = (JsonNode.Parse(stored.Json)?["spec"]?["containers"] as JsonArray ?? [])
            .Select(c => c?["name"]?.GetValue<string>()).OfType<string>().ToList();
        var container = query["container"].ToString();
        if (container.Length == 0)
        {
            container = containers.Count == 1
                ? containers[0]
                : throw FakeStatusException.BadRequest($"a container name must be specified for pod {pod}, choose one of: [{string.Join(' ', containers)}]");
        }
        else if (!containers.Contains(container))
        {
            throw FakeStatusException.BadRequest($"container {container} is not valid for pod {pod}");
        }

        var bytes = Encoding.UTF8.GetBytes(Tail(podLogs.GetValueOrDefault(FakeKubernetesServer.LogKey(ns, pod, container), ""), query["tailLines"]));
        if (long.TryParse(query["limitBytes"], CultureInfo.InvariantCulture, out var limit) && limit >= 0 && limit < bytes.Length)
        {
            bytes = bytes[..(int)limit];
        }

        response.StatusCode = 200;
        response.ContentType = "text/plain";
        // Small chunks, flushed, so clients see a stream and not one buffered body.
        for (var offset = 0; offset < bytes.Length; offset += options.LogChunkBytes)
        {
            await response.Body.WriteAsync(bytes.AsMemory(offset, Math.Min(options.LogChunkBytes, bytes.Length - offset)), cancellationToken);
            await response.Body.FlushAsync(cancellationToken);
        }
    }

    private static string Tail(string log, string? tailLines)
    {
        if (!int.TryParse(tailLines, CultureInfo.InvariantCulture, out var count) || count < 0)
        {
            return log;
        }

        var lines = log.Split('\n');
        // A trailing newline ends the last line rather than starting an empty one.
        var complete = log.EndsWith('\n') ? lines[..^1] : lines;
        var kept = complete.Skip(Math.Max(0, complete.Length - count)).ToList();
        return kept.Count == 0 ? "" : string.Join('\n', kept) + (log.EndsWith('\n') ? "\n" : "");
    }

    private static LabelSelector ParseLabels(string? text)
    {
        try
        {
            return LabelSelector.Parse(text);
        }
        catch (FormatException e)
        {
            throw FakeStatusException.BadRequest($"unable to parse requirement: {e.Message}");
        }
    }

    private static long Version(string? text) =>
        long.TryParse(text, CultureInfo.InvariantCulture, out var version) && version >= 0
            ? version
            : throw FakeStatusException.BadRequest($"invalid resource version \"{text}\"");

    private static async Task<JsonObject> ReadObjectAsync(HttpRequest request)
    {
        try
        {
            return await JsonNode.ParseAsync(request.Body) as JsonObject ?? throw FakeStatusException.BadRequest("the request body is not a JSON object");
        }
        catch (JsonException e)
        {
            throw FakeStatusException.BadRequest($"the request body is not valid JSON: {e.Message}");
        }
    }

    // An unknown group, version or resource — e.g. Argo's CRD not installed — is the generic 404 that names no
    // object, unlike the NotFound of a missing object, whose details carry its name and kind.
    internal static ApiRoute Route(string path, IReadOnlyCollection<FakeResource> served)
    {
        var parts = path.Trim('/').Split('/');
        var (group, version, rest) = parts switch
        {
            ["api", var v, .. var r] => ("", v, r),
            ["apis", var g, var v, .. var r] => (g, v, r),
            _ => throw FakeStatusException.NoSuchResourceType(),
        };
        var (ns, plural, name, sub) = rest switch
        {
            ["namespaces", var n, var p, .. var more] when more.Length <= 2 => (n, p, more.ElementAtOrDefault(0), more.ElementAtOrDefault(1)),
            [var p] => (null, p, null, null),
            [var p, var n] => (null, p, n, null),
            _ => throw FakeStatusException.NoSuchResourceType(),
        };
        var resource = served.FirstOrDefault(r => r.Group == group && r.Version == version && r.Plural == plural) ?? throw FakeStatusException.NoSuchResourceType();
        if (resource.Namespaced == (ns is null) && !(resource.Namespaced && name is null))
        {
            throw FakeStatusException.NoSuchResourceType();
        }

        return new ApiRoute(resource, ns, name, sub);
    }

    internal sealed record ApiRoute(FakeResource Resource, string? Namespace, string? Name, string? Subresource);
}
