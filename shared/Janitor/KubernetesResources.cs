using System.Text.Json.Nodes;
using Kfci.Janitor.Gcp;
using Kfci.Kubernetes;

namespace Kfci.Janitor;

/// <summary>The test cluster's Argo workflows (in the configured namespaces) and its namespaces, through <see cref="IWorkflowCluster"/>.</summary>
public sealed class KubernetesResources : IResourceApi
{
    private readonly Lazy<IWorkflowCluster> _cluster;

    public KubernetesResources(IWorkflowCluster cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        _cluster = new Lazy<IWorkflowCluster>(() => cluster);
    }

    /// <summary>
    /// Connects on first use, so a misconfigured cluster fails the sweep's Kubernetes types, not the function's start. A
    /// failed connection is not remembered (PublicationOnly caches no exception): the next sweep tries again.
    /// </summary>
    public KubernetesResources(Func<IWorkflowCluster> cluster)
    {
        _cluster = new Lazy<IWorkflowCluster>(cluster, LazyThreadSafetyMode.PublicationOnly);
    }

    /// <summary>The phase of a namespace that was deleted and still has content (or finalizers) to go.</summary>
    public const string TerminatingPhase = "Terminating";

    public string Api => "kubernetes";

    public IReadOnlyCollection<ResourceType> Types { get; } = [ResourceType.Workflow, ResourceType.Namespace];

    public async Task<IReadOnlyList<CloudResource>> ListAsync(ResourceType type, JanitorConfig config, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        var found = new List<CloudResource>();
        if (type == ResourceType.Workflow)
        {
            foreach (var ns in config.WorkflowNamespaces)
            {
                await foreach (var workflow in _cluster.Value.ListWorkflowsAsync(ns, ListOptions.All, cancellationToken))
                {
                    if (From(type, workflow, config) is { } resource)
                    {
                        found.Add(resource with
                        {
                            Namespace = ns,
                            StartedAt = GcpRest.Time(workflow["status"] as JsonObject, "startedAt"),
                            Status = GcpRest.Str(workflow["status"] as JsonObject, "phase"),
                        });
                    }
                }
            }
        }
        else
        {
            await foreach (var ns in _cluster.Value.ListNamespacesAsync(ListOptions.All, cancellationToken))
            {
                if (From(type, ns, config) is { } resource)
                {
                    found.Add(resource with { Status = IsBeingDeleted(ns) ? TerminatingPhase : GcpRest.Str(ns["status"] as JsonObject, "phase") });
                }
            }
        }

        return found;
    }

    public Task<bool> DeleteAsync(CloudResource resource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return resource.Type == ResourceType.Workflow
            ? _cluster.Value.DeleteWorkflowAsync(resource.Namespace ?? throw new ArgumentException("a workflow needs its namespace", nameof(resource)), resource.Name, cancellationToken)
            : _cluster.Value.DeleteNamespaceAsync(resource.Name, cancellationToken);
    }

    // The deletionTimestamp is what marks a deleted object; the phase follows it.
    private static bool IsBeingDeleted(JsonObject item) => item["metadata"]?["deletionTimestamp"] is not null;

    private static CloudResource? From(ResourceType type, JsonObject item, JanitorConfig config)
    {
        var metadata = item["metadata"] as JsonObject;
        return GcpRest.Str(metadata, "name") is { Length: > 0 } name
            ? new CloudResource(type, name)
            {
                Location = config.TestCluster,
                Created = GcpRest.Time(metadata, "creationTimestamp"),
                Labels = GcpRest.Labels(metadata?["labels"]),
            }
            : null;
    }
}
