using System.Globalization;
using System.Text.Json.Nodes;
using Kfci.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kfci.Kubernetes;

/// <summary><see cref="IWorkflowCluster"/> over the Kubernetes REST API. A singleton: it holds one HTTP connection pool.</summary>
public sealed class KubernetesWorkflowCluster : IWorkflowCluster
{
    public const string WorkflowApiVersion = "argoproj.io/v1alpha1";
    public const string WorkflowKind = "Workflow";

    private readonly KubernetesApiClient _api;
    private readonly ILogger _logger;

    public KubernetesWorkflowCluster(KubernetesApiClient api, ILogger<KubernetesWorkflowCluster>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(api);
        _api = api;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The adapter for a resolved connection, e.g. <c>Create(KubeConfig.Discover())</c>.</summary>
    public static KubernetesWorkflowCluster Create(KubernetesConnection connection, RetryOptions? retry = null, ILogger<KubernetesWorkflowCluster>? logger = null) =>
        new(KubernetesApiClient.Create(connection, retry), logger);

    public Task<JsonObject> CreateWorkflowAsync(string ns, JsonObject workflow, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        // The API server insists on apiVersion/kind in the body; workflow files sometimes leave them out.
        if (workflow["apiVersion"] is null || workflow["kind"] is null)
        {
            workflow = (JsonObject)workflow.DeepClone();
            workflow["apiVersion"] ??= WorkflowApiVersion;
            workflow["kind"] ??= WorkflowKind;
        }

        return _api.CreateAsync(Workflows(ns), workflow, cancellationToken);
    }

    public Task<JsonObject?> GetWorkflowAsync(string ns, string name, CancellationToken cancellationToken) =>
        _api.GetAsync(Workflow(ns, name), cancellationToken);

    public IAsyncEnumerable<JsonObject> ListWorkflowsAsync(string ns, ListOptions options, CancellationToken cancellationToken) =>
        _api.ListAsync(Workflows(ns), options, cancellationToken);

    public Task<JsonObject> PatchWorkflowAsync(string ns, string name, JsonObject mergePatch, CancellationToken cancellationToken) =>
        _api.MergePatchAsync(Workflow(ns, name), mergePatch, cancellationToken);

    public Task<bool> DeleteWorkflowAsync(string ns, string name, CancellationToken cancellationToken) =>
        _api.DeleteAsync(Workflow(ns, name), cancellationToken);

    public IAsyncEnumerable<WatchEvent> WatchWorkflowsAsync(string ns, WatchOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new ResourceWatch(_api, Workflows(ns), options, _logger).RunAsync(cancellationToken);
    }

    public Task<JsonObject?> GetPodAsync(string ns, string name, CancellationToken cancellationToken) =>
        _api.GetAsync(Pod(ns, name), cancellationToken);

    public async Task<Stream> OpenPodLogAsync(string ns, string pod, PodLogOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var query = KubernetesApiClient.Query(
            ("container", options.Container),
            ("tailLines", options.TailLines?.ToString(CultureInfo.InvariantCulture)),
            ("limitBytes", options.LimitBytes?.ToString(CultureInfo.InvariantCulture)),
            ("previous", options.Previous ? "true" : null),
            ("follow", "false"));
        var response = await _api.OpenStreamAsync(Pod(ns, pod) + "/log" + query, cancellationToken);
        // Disposing the content stream releases the connection; the response holds nothing else.
        return await response.Content.ReadAsStreamAsync(cancellationToken);
    }

    public IAsyncEnumerable<JsonObject> ListEventsAsync(string ns, string involvedObjectName, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(involvedObjectName);
        var options = new ListOptions { FieldSelector = $"involvedObject.name={involvedObjectName}" };
        return _api.ListAsync($"api/v1/namespaces/{KubernetesApiClient.Segment(ns)}/events", options, cancellationToken);
    }

    public IAsyncEnumerable<JsonObject> ListNamespacesAsync(ListOptions options, CancellationToken cancellationToken) =>
        _api.ListAsync("api/v1/namespaces", options, cancellationToken);

    public Task<bool> DeleteNamespaceAsync(string name, CancellationToken cancellationToken) =>
        _api.DeleteAsync($"api/v1/namespaces/{KubernetesApiClient.Segment(name)}", cancellationToken);

    private static string Workflows(string ns) => $"apis/{WorkflowApiVersion}/namespaces/{KubernetesApiClient.Segment(ns)}/workflows";

    private static string Workflow(string ns, string name) => $"{Workflows(ns)}/{KubernetesApiClient.Segment(name)}";

    private static string Pod(string ns, string name) => $"api/v1/namespaces/{KubernetesApiClient.Segment(ns)}/pods/{KubernetesApiClient.Segment(name)}";
}
