using System.Text.Json.Nodes;

namespace Kfci.Kubernetes;

/// <summary>
/// What kfci needs from the cluster that runs its Argo workflows (<c>argoproj.io/v1alpha1</c> <c>workflows</c>),
/// their pods' logs and events, and the namespaces tests run in. Objects are untyped JSON (the Argo schema is
/// huge); <see cref="KubernetesObjects"/> reads the common fields. Failures are <c>Kfci.Http.ApiException</c>
/// (with <see cref="KubernetesErrors"/> for the Kubernetes reasons); transient ones were already retried. A cluster
/// that does not serve a resource type at all (Argo's CRD not installed) throws
/// <see cref="KubernetesConfigurationException"/> instead of reading as "absent".
/// </summary>
public interface IWorkflowCluster
{
    /// <summary>
    /// Creates the workflow and returns it as stored. A taken name throws <c>ApiException</c> with
    /// <c>IsAlreadyExists</c>: callers that own the name (deterministic names) treat it as success.
    /// </summary>
    Task<JsonObject> CreateWorkflowAsync(string ns, JsonObject workflow, CancellationToken cancellationToken);

    /// <summary>The workflow, or null when it does not exist.</summary>
    Task<JsonObject?> GetWorkflowAsync(string ns, string name, CancellationToken cancellationToken);

    /// <summary>Every matching workflow, fetched page by page.</summary>
    IAsyncEnumerable<JsonObject> ListWorkflowsAsync(string ns, ListOptions options, CancellationToken cancellationToken);

    /// <summary>Applies an RFC 7386 merge patch (e.g. <c>{"spec":{"shutdown":"Terminate"}}</c>); a missing workflow throws (404).</summary>
    Task<JsonObject> PatchWorkflowAsync(string ns, string name, JsonObject mergePatch, CancellationToken cancellationToken);

    /// <summary>Deletes the workflow; false when it was already gone.</summary>
    Task<bool> DeleteWorkflowAsync(string ns, string name, CancellationToken cancellationToken);

    /// <summary>
    /// Workflow changes until cancelled, surviving dropped connections and expired resourceVersions
    /// (see <see cref="WatchEvent.IsSynthetic"/>). Bookmarks are passed on so callers can checkpoint.
    /// </summary>
    IAsyncEnumerable<WatchEvent> WatchWorkflowsAsync(string ns, WatchOptions options, CancellationToken cancellationToken);

    /// <summary>The pod, or null when it does not exist (e.g. garbage-collected).</summary>
    Task<JsonObject?> GetPodAsync(string ns, string name, CancellationToken cancellationToken);

    /// <summary>A pod's log as a stream the caller must dispose; a missing pod or container throws.</summary>
    Task<Stream> OpenPodLogAsync(string ns, string pod, PodLogOptions options, CancellationToken cancellationToken);

    /// <summary>The events whose involved object has this name (a workflow or a pod).</summary>
    IAsyncEnumerable<JsonObject> ListEventsAsync(string ns, string involvedObjectName, CancellationToken cancellationToken);

    IAsyncEnumerable<JsonObject> ListNamespacesAsync(ListOptions options, CancellationToken cancellationToken);

    /// <summary>Starts deleting the namespace and everything in it; false when it was already gone.</summary>
    Task<bool> DeleteNamespaceAsync(string name, CancellationToken cancellationToken);
}
