using System.Text.Json.Nodes;
using Kfci.Http;

namespace Kfci.Janitor.Gcp;

/// <summary>
/// GKE (Container v1): the clusters in each configured zone and region of each project, delete and wait. Never
/// <c>locations/-</c> for what it sweeps: a cluster in a location the Janitor was not given is not its to judge. Only
/// <see cref="ListExistingAsync"/> reads <c>locations/-</c>, to learn whether an ingress part's owner still exists.
/// </summary>
public sealed class ContainerApi(RestClient rest, OperationPolling? polling = null, TimeProvider? clock = null) : IResourceApi, IClusterExistence
{
    private readonly OperationPolling _polling = polling ?? OperationPolling.Default;
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public string Api => "container";

    public IReadOnlyCollection<ResourceType> Types { get; } = [ResourceType.GkeCluster];

    public async Task<IReadOnlyList<CloudResource>> ListAsync(ResourceType type, JanitorConfig config, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        var clusters = new Dictionary<(string Project, string Location, string Name), CloudResource>();
        foreach (var project in config.Projects)
        {
            foreach (var location in config.Zones.Concat(config.Regions).Distinct(StringComparer.Ordinal))
            {
                var answer = await rest.GetJsonAsync($"v1/projects/{GcpRest.Escape(project)}/locations/{GcpRest.Escape(location)}/clusters", cancellationToken) as JsonObject ?? [];
                if (answer["missingZones"] is JsonArray { Count: > 0 } missing)
                {
                    // Some zones did not answer: the listing is incomplete, and the auto-deploy ranking must not run on it.
                    throw new GcpOperationException($"list gke-cluster in {project}/{location}: zones did not answer: {string.Join(", ", missing)}");
                }

                foreach (var cluster in answer["clusters"] as JsonArray ?? [])
                {
                    if (cluster is JsonObject json && GcpRest.Str(json, "name") is { Length: > 0 } name)
                    {
                        var at = GcpRest.Str(json, "location") ?? GcpRest.Str(json, "zone") ?? location;
                        clusters[(project, at, name)] = new CloudResource(ResourceType.GkeCluster, name)
                        {
                            Project = project,
                            Location = at,
                            Created = GcpRest.Time(json, "createTime"),
                            Labels = GcpRest.Labels(json["resourceLabels"]),
                            Status = GcpRest.Str(json, "status"),
                        };
                    }
                }
            }
        }

        return [.. clusters.Values];
    }

    public async Task<ClusterDirectory> ListExistingAsync(IReadOnlyList<string> projects, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(projects);
        var existing = new List<(string Project, string Name)>();
        foreach (var project in projects)
        {
            var answer = await rest.GetJsonAsync($"v1/projects/{GcpRest.Escape(project)}/locations/-/clusters", cancellationToken) as JsonObject ?? [];
            if (answer["missingZones"] is JsonArray { Count: > 0 } missing)
            {
                // A cluster in a zone that did not answer may exist: an incomplete answer must not make any owner gone.
                throw new GcpOperationException($"list gke-cluster existence in {project}: zones did not answer: {string.Join(", ", missing)}");
            }

            existing.AddRange((answer["clusters"] as JsonArray ?? []).OfType<JsonObject>()
                .Select(json => GcpRest.Str(json, "name")).OfType<string>().Where(name => name.Length > 0).Select(name => (project, name)));
        }

        return new ClusterDirectory(existing);
    }

    public async Task<bool> DeleteAsync(CloudResource resource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var location = $"v1/projects/{GcpRest.Escape(resource.Project ?? "")}/locations/{GcpRest.Escape(resource.Location)}";
        if (await GcpRest.DeleteAsync(rest, $"{location}/clusters/{GcpRest.Escape(resource.Name)}", cancellationToken) is not { } operation)
        {
            return false;
        }

        await GcpRest.WaitAsync(
            rest, operation, name => $"{location}/operations/{GcpRest.Escape(name)}", ErrorOf,
            $"delete gke-cluster {resource.Name}", _polling, _clock, cancellationToken);
        return true;
    }

    // v1 reports a failed operation in error.message (newer) or statusMessage (older, "set if an error has occurred").
    private static string? ErrorOf(JsonObject operation) =>
        GcpRest.Str(operation["error"] as JsonObject, "message") is { Length: > 0 } message ? message
        : GcpRest.Str(operation, "statusMessage") is { Length: > 0 } status ? status
        : null;
}
