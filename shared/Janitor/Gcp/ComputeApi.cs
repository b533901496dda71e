using System.Text.Json.Nodes;
using Kfci.Http;

namespace Kfci.Janitor.Gcp;

/// <summary>
/// Compute Engine v1, narrowed to listing and deleting what tests leak. Zonal and regional collections are listed with
/// <c>aggregatedList</c> (one paged call for every zone) and kept to the configured zones and regions; global ones with
/// <c>list</c>. Forwarding rules and addresses exist in both forms, so both listings are read.
/// </summary>
public sealed class ComputeApi(RestClient rest, OperationPolling? polling = null, TimeProvider? clock = null) : IResourceApi
{
    private const string Root = "compute/v1/projects/";

    private static readonly Dictionary<ResourceType, (string Collection, Scope Scope)> s_collections = new()
    {
        [ResourceType.Instance] = ("instances", Scope.Zonal),
        [ResourceType.ForwardingRule] = ("forwardingRules", Scope.RegionalAndGlobal),
        [ResourceType.TargetHttpProxy] = ("targetHttpProxies", Scope.Global),
        [ResourceType.TargetHttpsProxy] = ("targetHttpsProxies", Scope.Global),
        [ResourceType.UrlMap] = ("urlMaps", Scope.Global),
        [ResourceType.BackendService] = ("backendServices", Scope.Global),
        [ResourceType.HealthCheck] = ("healthChecks", Scope.Global),
        [ResourceType.InstanceGroup] = ("instanceGroups", Scope.Zonal),
        [ResourceType.SslCertificate] = ("sslCertificates", Scope.Global),
        [ResourceType.FirewallRule] = ("firewalls", Scope.Global),
        [ResourceType.Address] = ("addresses", Scope.RegionalAndGlobal),
        [ResourceType.Disk] = ("disks", Scope.Zonal),
    };

    private readonly OperationPolling _polling = polling ?? OperationPolling.Default;
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    private enum Scope
    {
        Zonal,
        RegionalAndGlobal,
        Global,
    }

    public string Api => "compute";

    public IReadOnlyCollection<ResourceType> Types => s_collections.Keys;

    public async Task<IReadOnlyList<CloudResource>> ListAsync(ResourceType type, JanitorConfig config, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        var (collection, scope) = s_collections[type];
        var found = new Dictionary<string, CloudResource>(StringComparer.Ordinal);
        foreach (var project in config.Projects)
        {
            if (scope != Scope.Global)
            {
                var zones = new HashSet<string>(config.Zones, StringComparer.Ordinal);
                var regions = new HashSet<string>(config.Regions, StringComparer.Ordinal);
                await foreach (var page in GcpRest.PagesAsync(rest, $"{Root}{GcpRest.Escape(project)}/aggregated/{collection}", cancellationToken))
                {
                    FailIfUnreachable(page, type, project);
                    foreach (var (key, scoped) in page["items"] as JsonObject ?? [])
                    {
                        // Keys are "zones/us-east1-b", "regions/us-east1" or "global"; empty scopes carry only a warning. Disks and
                        // instance groups come back under both zones/ and regions/: each is kept to its own configured list, and an
                        // empty list means none of that kind, never all (a regions-only configuration sweeps no zone).
                        var location = key[(key.IndexOf('/', StringComparison.Ordinal) + 1)..];
                        var wanted = key.StartsWith("regions/", StringComparison.Ordinal) ? regions : zones;
                        if (location == "global" || wanted.Contains(location))
                        {
                            AddAll(found, scoped?[collection], type, project, location, key);
                        }
                    }
                }
            }

            if (scope != Scope.Zonal)
            {
                await foreach (var page in GcpRest.PagesAsync(rest, $"{Root}{GcpRest.Escape(project)}/global/{collection}", cancellationToken))
                {
                    AddAll(found, page["items"], type, project, "global", "global");
                }
            }
        }

        return [.. found.Values];
    }

    public async Task<bool> DeleteAsync(CloudResource resource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var (collection, scope) = s_collections[resource.Type];
        var scopePath = resource.Scope is { } listed ? ScopePath(listed)
            : resource.Location == "global" ? "global"
            : scope == Scope.Zonal ? $"zones/{GcpRest.Escape(resource.Location)}"
            : $"regions/{GcpRest.Escape(resource.Location)}";
        if (resource.Type == ResourceType.InstanceGroup && scopePath.StartsWith("regions/", StringComparison.Ordinal))
        {
            // A regional instance group has no delete of its own: it is its regional managed group's, which shares its
            // name, and deleting that group (regionInstanceGroupManagers.delete) deletes the instance group with it.
            collection = "instanceGroupManagers";
        }

        var projectPath = Root + GcpRest.Escape(resource.Project ?? throw new ArgumentException("a compute resource needs its project", nameof(resource)));
        if (await GcpRest.DeleteAsync(rest, $"{projectPath}/{scopePath}/{collection}/{GcpRest.Escape(resource.Name)}", cancellationToken) is not { } operation)
        {
            return false;
        }

        await GcpRest.WaitAsync(
            rest, operation, name => $"{projectPath}/{scopePath}/operations/{GcpRest.Escape(name)}", GcpRest.ErrorList,
            $"delete {resource.Type.WireName()} {resource.Name}", _polling, _clock, cancellationToken);
        return true;
    }

    /// <summary>
    /// A scope that did not answer may hold what the rules would rank or keep by: an aggregated list naming one in
    /// <c>unreachables</c> or with an <c>UNREACHABLE</c> warning is incomplete, and the type fails rather than being planned on.
    /// </summary>
    private static void FailIfUnreachable(JsonObject page, ResourceType type, string project)
    {
        var unreachable = (page["unreachables"] as JsonArray ?? []).Select(scope => scope?.ToString())
            .Concat((page["items"] as JsonObject ?? []).Where(pair => GcpRest.Str(pair.Value?["warning"] as JsonObject, "code") == "UNREACHABLE").Select(pair => pair.Key))
            .OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        if (unreachable.Count > 0)
        {
            throw new GcpOperationException($"list {type.WireName()} in {project}: scopes did not answer: {string.Join(", ", unreachable)}");
        }
    }

    /// <summary><c>zones/x</c>, <c>regions/x</c> or <c>global</c> with the location escaped for the URL.</summary>
    private static string ScopePath(string scope)
    {
        var slash = scope.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? scope : $"{scope[..slash]}/{GcpRest.Escape(scope[(slash + 1)..])}";
    }

    private static void AddAll(Dictionary<string, CloudResource> found, JsonNode? items, ResourceType type, string project, string location, string scope)
    {
        foreach (var item in items as JsonArray ?? [])
        {
            if (item is JsonObject json && GcpRest.Str(json, "name") is { Length: > 0 } name)
            {
                found[$"{project}/{scope}/{name}"] = new CloudResource(type, name)
                {
                    Project = project,
                    Location = location,
                    Scope = scope,
                    Created = GcpRest.Time(json, "creationTimestamp"),
                    Labels = GcpRest.Labels(json["labels"]),
                    Status = GcpRest.Str(json, "status"),
                    OwnerCluster = (json["targetTags"] as JsonArray ?? []).Select(tag => tag is JsonValue value && value.TryGetValue<string>(out var text) ? IngressOwners.ClusterOfNodeTag(text) : null)
                        .FirstOrDefault(cluster => cluster is not null),
                };
            }
        }
    }
}
