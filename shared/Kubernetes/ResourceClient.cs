using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Exceptions;
using k8s.Models;
using Kfci.Http;

namespace Kfci.Kubernetes;

/// <summary>A resource type as the API serves it: <c>argoproj.io/v1alpha1 workflows</c>, core <c>v1 pods</c>.</summary>
internal sealed record ApiResource(string Group, string Version, string Plural, bool Namespaced, string? Hint = null)
{
    public static ApiResource Workflows { get; } = new("argoproj.io", "v1alpha1", "workflows", Namespaced: true, "is Argo Workflows installed in the cluster?");

    public static ApiResource Pods { get; } = new("", "v1", "pods", Namespaced: true);

    public static ApiResource Events { get; } = new("", "v1", "events", Namespaced: true);

    public static ApiResource Namespaces { get; } = new("", "v1", "namespaces", Namespaced: false);

    public override string ToString() => Group.Length == 0 ? $"{Version} {Plural}" : $"{Group}/{Version} {Plural}";
}

/// <summary>
/// One resource type through KubernetesClient's generic (custom objects) operations, which take and return
/// untyped JSON for any group including the core one, as the library's own <c>GenericClient</c> does. Calls go
/// through kfci's retry policy; failures become <see cref="KubernetesApiException"/>; a 404 that names no object
/// means the type is not served at all and throws <see cref="KubernetesConfigurationException"/>, so a missing
/// CRD is never read as a missing object.
/// </summary>
internal sealed class ResourceClient(IKubernetes kubernetes, RetryPolicy retry, ApiResource resource)
{
    private ICustomObjectsOperations Api => kubernetes.CustomObjects;

    public ApiResource Resource => resource;

    /// <summary>The object, or null when it does not exist.</summary>
    public async Task<JsonObject?> GetAsync(string? ns, string name, CancellationToken cancellationToken)
    {
        try
        {
            return await CallAsync($"get {resource} {name}", async token => resource.Namespaced
                ? (await Api.GetNamespacedCustomObjectWithHttpMessagesAsync<JsonObject>(resource.Group, resource.Version, ns, resource.Plural, name, cancellationToken: token)).Body
                : (await Api.GetClusterCustomObjectWithHttpMessagesAsync<JsonObject>(resource.Group, resource.Version, resource.Plural, name, cancellationToken: token)).Body, cancellationToken);
        }
        catch (ApiException e) when (e.IsObjectNotFound)
        {
            return null;
        }
    }

    public Task<JsonObject> CreateAsync(string ns, JsonObject body, CancellationToken cancellationToken) =>
        CallAsync($"create {resource}", async token =>
            (await Api.CreateNamespacedCustomObjectWithHttpMessagesAsync<JsonObject>(body, resource.Group, resource.Version, ns, resource.Plural, cancellationToken: token)).Body, cancellationToken);

    public Task<JsonObject> MergePatchAsync(string ns, string name, JsonObject patch, CancellationToken cancellationToken)
    {
        var body = new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch);
        return CallAsync($"patch {resource} {name}", async token =>
            (await Api.PatchNamespacedCustomObjectWithHttpMessagesAsync<JsonObject>(body, resource.Group, resource.Version, ns, resource.Plural, name, cancellationToken: token)).Body, cancellationToken);
    }

    /// <summary>Deletes the object; false when it was already gone.</summary>
    public async Task<bool> DeleteAsync(string? ns, string name, CancellationToken cancellationToken)
    {
        try
        {
            await CallAsync($"delete {resource} {name}", async token => resource.Namespaced
                ? (await Api.DeleteNamespacedCustomObjectWithHttpMessagesAsync<JsonObject>(resource.Group, resource.Version, ns, resource.Plural, name, cancellationToken: token)).Body
                : (await Api.DeleteClusterCustomObjectWithHttpMessagesAsync<JsonObject>(resource.Group, resource.Version, resource.Plural, name, cancellationToken: token)).Body, cancellationToken);
            return true;
        }
        catch (ApiException e) when (e.IsObjectNotFound)
        {
            return false;
        }
    }

    /// <summary>
    /// The list page by page. A continue token that expired meanwhile (410) restarts the list from its first page
    /// without it, as the API server advises; that page has <see cref="ListPage.IsRestart"/> set.
    /// </summary>
    public async IAsyncEnumerable<ListPage> PagesAsync(string? ns, ListOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        string? next = null;
        var restart = false;
        while (true)
        {
            ListPage page;
            try
            {
                page = await ListPageAsync(ns, options, next, cancellationToken);
            }
            catch (ApiException e) when (e.IsGone && next is not null)
            {
                next = null;
                restart = true;
                continue;
            }

            yield return restart ? page with { IsRestart = true } : page;
            restart = false;
            next = page.Continue;
            if (next is null)
            {
                yield break;
            }
        }
    }

    /// <summary>Every item once, even when an expired continue token restarts the list part-way.</summary>
    public async IAsyncEnumerable<JsonObject> ListAsync(string? ns, ListOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var page in PagesAsync(ns, options, cancellationToken))
        {
            foreach (var item in page.Items.Where(i => seen.Add(Key(i))))
            {
                yield return item;
            }
        }
    }

    /// <summary>
    /// One watch request until the server ends it. HTTP failures throw <see cref="KubernetesApiException"/>; a
    /// <c>Status</c> the server sends in-band (e.g. 410 Expired) throws as one too, after the events before it.
    /// A stream that the server ends before its first event ends the enumeration.
    /// </summary>
    public async IAsyncEnumerable<WatchEvent> WatchOnceAsync(string ns, string? resourceVersion, WatchOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Exception? inBand = null;
        var events = Api.WatchListNamespacedCustomObjectAsync(
            resource.Group, resource.Version, ns, resource.Plural,
            allowWatchBookmarks: true,
            labelSelector: options.LabelSelector,
            resourceVersion: resourceVersion,
            timeoutSeconds: (int)Math.Ceiling(options.RequestTimeout.TotalSeconds),
            onError: e => inBand ??= e,
            cancellationToken: cancellationToken);
        await using var enumerator = events.GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            bool more;
            try
            {
                more = await enumerator.MoveNextAsync();
            }
            catch (HttpOperationException e)
            {
                throw Failure(e, $"watch {resource}");
            }
            catch (KubeConfigException e)
            {
                throw KubernetesErrors.Misconfigured(e, $"watch {resource}");
            }
            catch (Exception e) when (inBand is null && EndedBeforeFirstEvent(e))
            {
                // The library reads a watch's first line before it hands out the stream; a request the server ends
                // before any event (an idle watch reaching timeoutSeconds, a server closing at once) leaves it nothing
                // to read. That is the end of this request, not a failure.
                yield break;
            }

            if (inBand is not null)
            {
                throw inBand is KubernetesException { Status: { } status }
                    ? KubernetesErrors.FromStatus(status, $"watch {resource}")
                    : new IOException($"watch {resource} sent a line that is not a watch event: {inBand.Message}", inBand);
            }

            if (!more)
            {
                yield break;
            }

            var (type, obj) = enumerator.Current;
            yield return new WatchEvent(Type(type), ToJsonObject(obj));
        }
    }

    private async Task<ListPage> ListPageAsync(string? ns, ListOptions options, string? continueToken, CancellationToken cancellationToken)
    {
        // The server refuses resourceVersion together with a continue token: the token carries the version.
        var version = continueToken is null ? options.ResourceVersion : null;
        var match = continueToken is null ? options.ResourceVersionMatch : null;
        var list = await CallAsync($"list {resource}", async token => resource.Namespaced
            ? (await Api.ListNamespacedCustomObjectWithHttpMessagesAsync<JsonObject>(
                resource.Group, resource.Version, ns, resource.Plural, continueParameter: continueToken, fieldSelector: options.FieldSelector,
                labelSelector: options.LabelSelector, limit: options.PageSize, resourceVersion: version, resourceVersionMatch: match, cancellationToken: token)).Body
            : (await Api.ListClusterCustomObjectWithHttpMessagesAsync<JsonObject>(
                resource.Group, resource.Version, resource.Plural, continueParameter: continueToken, fieldSelector: options.FieldSelector,
                labelSelector: options.LabelSelector, limit: options.PageSize, resourceVersion: version, resourceVersionMatch: match, cancellationToken: token)).Body, cancellationToken);
        var items = (list["items"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var metadata = list["metadata"];
        var next = metadata?["continue"]?.GetValue<string>();
        return new ListPage(items, metadata?["resourceVersion"]?.GetValue<string>() ?? "", string.IsNullOrEmpty(next) ? null : next);
    }

    private async Task<T> CallAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        return await retry.ExecuteAsync(async token =>
        {
            try
            {
                return await call(token);
            }
            catch (HttpOperationException e)
            {
                throw Failure(e, what);
            }
            catch (KubeConfigException e)
            {
                throw KubernetesErrors.Misconfigured(e, what);
            }
        }, cancellationToken);
    }

    // KubernetesClient 21 throws HttpRequestException wrapping EndOfStreamException for an empty body (its
    // LineSeparatedHttpContent peeks the first line); older versions failed to parse an empty line (JsonException).
    private static bool EndedBeforeFirstEvent(Exception e) =>
        e is JsonException || (e is HttpRequestException && e.InnerException is EndOfStreamException);

    private Exception Failure(HttpOperationException e, string what)
    {
        var failure = KubernetesErrors.FromResponse(e, what);
        return failure.IsNotFound && !failure.IsObjectNotFound
            ? new KubernetesConfigurationException($"the cluster does not serve {resource} ({what}: {failure.Message}){(resource.Hint is null ? "" : "; " + resource.Hint)}", failure)
            : failure;
    }

    internal static string Key(JsonObject item) => $"{item.Namespace}/{item.Name}";

    private static JsonObject ToJsonObject(object obj) => obj switch
    {
        JsonObject node => node,
        JsonElement { ValueKind: JsonValueKind.Object } element => JsonObject.Create(element)!,
        _ => throw new IOException($"watch {obj.GetType().Name} event carries no JSON object"),
    };

    private static WatchEventType Type(k8s.WatchEventType type) => type switch
    {
        k8s.WatchEventType.Added => WatchEventType.Added,
        k8s.WatchEventType.Modified => WatchEventType.Modified,
        k8s.WatchEventType.Deleted => WatchEventType.Deleted,
        k8s.WatchEventType.Bookmark => WatchEventType.Bookmark,
        _ => throw new IOException($"watch sent an unexpected event type '{type}'"),
    };
}
