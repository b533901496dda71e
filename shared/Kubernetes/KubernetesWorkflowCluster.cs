using System.Text.Json.Nodes;
using k8s;
using Kfci.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kfci.Kubernetes;

/// <summary>
/// <see cref="IWorkflowCluster"/> on the official KubernetesClient library. A singleton: it holds one HTTP
/// connection pool. kfci adds its retry policy, the missing-CRD check, resumable watches and re-lists.
/// </summary>
public sealed class KubernetesWorkflowCluster : IWorkflowCluster, IDisposable
{
    public const string WorkflowApiVersion = "argoproj.io/v1alpha1";
    public const string WorkflowKind = "Workflow";

    private readonly IKubernetes _kubernetes;
    private readonly ResourceClient _workflows;
    private readonly ResourceClient _pods;
    private readonly ResourceClient _events;
    private readonly ResourceClient _namespaces;
    private readonly RetryPolicy _retry;
    private readonly ILogger _logger;

    public KubernetesWorkflowCluster(IKubernetes kubernetes, RetryOptions? retry = null, ILogger<KubernetesWorkflowCluster>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(kubernetes);
        _kubernetes = kubernetes;
        _retry = new RetryPolicy(retry ?? RetryOptions.Default);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _workflows = new ResourceClient(kubernetes, _retry, ApiResource.Workflows);
        _pods = new ResourceClient(kubernetes, _retry, ApiResource.Pods);
        _events = new ResourceClient(kubernetes, _retry, ApiResource.Events);
        _namespaces = new ResourceClient(kubernetes, _retry, ApiResource.Namespaces);
    }

    /// <summary>The adapter for a resolved configuration, e.g. <c>Create(ClusterConfig.Discover())</c>.</summary>
    public static KubernetesWorkflowCluster Create(KubernetesClientConfiguration configuration, RetryOptions? retry = null, ILogger<KubernetesWorkflowCluster>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return new(new k8s.Kubernetes(configuration), retry, logger);
    }

    public Task<JsonObject> CreateWorkflowAsync(string ns, JsonObject workflow, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        // The API server insists on apiVersion/kind in a custom resource's body; workflow files sometimes leave them out.
        if (workflow["apiVersion"] is null || workflow["kind"] is null)
        {
            workflow = (JsonObject)workflow.DeepClone();
            workflow["apiVersion"] ??= WorkflowApiVersion;
            workflow["kind"] ??= WorkflowKind;
        }

        return _workflows.CreateAsync(ns, workflow, cancellationToken);
    }

    public Task<JsonObject?> GetWorkflowAsync(string ns, string name, CancellationToken cancellationToken) =>
        _workflows.GetAsync(ns, name, cancellationToken);

    public IAsyncEnumerable<JsonObject> ListWorkflowsAsync(string ns, ListOptions options, CancellationToken cancellationToken) =>
        _workflows.ListAsync(ns, options, cancellationToken);

    public Task<JsonObject> PatchWorkflowAsync(string ns, string name, JsonObject mergePatch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mergePatch);
        return _workflows.MergePatchAsync(ns, name, mergePatch, cancellationToken);
    }

    public Task<bool> DeleteWorkflowAsync(string ns, string name, CancellationToken cancellationToken) =>
        _workflows.DeleteAsync(ns, name, cancellationToken);

    public IAsyncEnumerable<WatchEvent> WatchWorkflowsAsync(string ns, WatchOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new ResourceWatch(_workflows, ns, options, _logger).RunAsync(cancellationToken);
    }

    public Task<JsonObject?> GetPodAsync(string ns, string name, CancellationToken cancellationToken) =>
        _pods.GetAsync(ns, name, cancellationToken);

    public async Task<Stream> OpenPodLogAsync(string ns, string pod, PodLogOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        // Only opening the stream is retried; the body streams to the caller, who disposes it (and the connection).
        return await _retry.ExecuteAsync(async token =>
        {
            try
            {
                var response = await _kubernetes.CoreV1.ReadNamespacedPodLogWithHttpMessagesAsync(
                    pod, ns, container: options.Container, follow: false, limitBytes: (int?)options.LimitBytes, previous: options.Previous ? true : null,
                    tailLines: options.TailLines, cancellationToken: token);
                return response.Body;
            }
            catch (k8s.Autorest.HttpOperationException e)
            {
                throw KubernetesErrors.FromResponse(e, $"log of pod {pod}");
            }
            catch (k8s.Exceptions.KubeConfigException e)
            {
                throw KubernetesErrors.Misconfigured(e, $"log of pod {pod}");
            }
        }, cancellationToken);
    }

    public IAsyncEnumerable<JsonObject> ListEventsAsync(string ns, string involvedObjectName, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(involvedObjectName);
        return _events.ListAsync(ns, new ListOptions { FieldSelector = $"involvedObject.name={involvedObjectName}" }, cancellationToken);
    }

    public IAsyncEnumerable<JsonObject> ListNamespacesAsync(ListOptions options, CancellationToken cancellationToken) =>
        _namespaces.ListAsync(null, options, cancellationToken);

    public Task<bool> DeleteNamespaceAsync(string name, CancellationToken cancellationToken) =>
        _namespaces.DeleteAsync(null, name, cancellationToken);

    public void Dispose() => _kubernetes.Dispose();
}
