using System.Globalization;
using System.Text.Json.Nodes;
using Kfci.Janitor;

namespace Kfci.Testing.Gcp;

/// <summary>A <see cref="CloudResource"/> as its API returns it (field names and formats of the discovery documents).</summary>
internal static class FakeGcpJson
{
    public static JsonObject Resource(CloudResource resource, Uri baseAddress)
    {
        var project = resource.Project ?? FakeGcpInventory.Project;
        var created = resource.Created;
        return resource.Type switch
        {
            ResourceType.GkeCluster => new JsonObject
            {
                ["name"] = resource.Name,
                ["location"] = resource.Location,
                ["zone"] = resource.Location,
                ["status"] = resource.Status ?? "RUNNING",
                ["createTime"] = created is { } c ? c.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'+00:00'", CultureInfo.InvariantCulture) : null,
                ["resourceLabels"] = Labels(resource),
                ["currentNodeCount"] = 3,
                ["selfLink"] = $"https://container.googleapis.com/v1/projects/{project}/locations/{resource.Location}/clusters/{resource.Name}",
            },
            ResourceType.DmDeployment => new JsonObject
            {
                ["id"] = Id(resource),
                ["name"] = resource.Name,
                ["insertTime"] = Compute(created),
                ["fingerprint"] = "5wYbUi3zH9Q=",
                ["labels"] = new JsonArray([.. resource.Labels.Select(pair => (JsonNode)new JsonObject { ["key"] = pair.Key, ["value"] = pair.Value })]),
                ["operation"] = new JsonObject
                {
                    ["name"] = $"operation-{Id(resource)}",
                    ["operationType"] = "insert",
                    ["status"] = "DONE",
                    ["error"] = resource.Error ? new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["code"] = "RESOURCE_ERROR", ["message"] = "{\"ResourceType\":\"container.v1.cluster\",\"ResourceErrorCode\":\"403\"}" }) } : null,
                },
            },
            ResourceType.ServiceAccount => new JsonObject
            {
                ["name"] = $"projects/{project}/serviceAccounts/{resource.Name}",
                ["projectId"] = project,
                ["uniqueId"] = Id(resource),
                ["email"] = resource.Name,
                ["displayName"] = resource.Name[..resource.Name.IndexOf('@', StringComparison.Ordinal)],
                ["etag"] = "MDEwMjE5MjA=",
                ["oauth2ClientId"] = Id(resource),
            },
            _ => ComputeResource(resource, project, created, baseAddress),
        };
    }

    private static JsonObject ComputeResource(CloudResource resource, string project, DateTimeOffset? created, Uri baseAddress)
    {
        var zonal = IsZonal(resource);
        var scope = resource.Location == "global" ? "global" : zonal ? $"zones/{resource.Location}" : $"regions/{resource.Location}";
        var json = new JsonObject
        {
            ["kind"] = $"compute#{char.ToLowerInvariant(resource.Type.ToString()[0])}{resource.Type.ToString()[1..]}",
            ["id"] = Id(resource),
            ["creationTimestamp"] = Compute(created),
            ["name"] = resource.Name,
            ["selfLink"] = $"{baseAddress}compute/v1/projects/{project}/{scope}/{resource.Type.WireName()}s/{resource.Name}",
        };
        if (resource.Location != "global")
        {
            json[zonal ? "zone" : "region"] = $"{baseAddress}compute/v1/projects/{project}/{scope}";
        }

        if (resource.Type is ResourceType.Instance or ResourceType.Disk or ResourceType.ForwardingRule or ResourceType.Address)
        {
            json["labels"] = Labels(resource);
        }

        if (resource.Status is { } status)
        {
            json["status"] = status;
        }

        if (resource is { Type: ResourceType.FirewallRule, OwnerCluster: { } owner })
        {
            // GKE's ingress firewall targets the cluster's nodes by their network tag, gke-<cluster>-<8 hex>-node.
            json["targetTags"] = new JsonArray("some-other-tag", $"gke-{owner}-0a1b2c3d-node");
        }

        return json;
    }

    /// <summary>
    /// Instances are zonal; disks and instance groups are zonal in a zone (<c>us-east1-b</c>) and regional in a region
    /// (<c>us-east1</c>), as Compute has both; everything else is regional or global.
    /// </summary>
    public static bool IsZonal(CloudResource resource) =>
        resource.Type == ResourceType.Instance
        || (resource.Type is ResourceType.InstanceGroup or ResourceType.Disk && IsZoneName(resource.Location));

    private static bool IsZoneName(string location) =>
        location.LastIndexOf('-') is var dash and > 0 && location.Length - dash == 2 && char.IsAsciiLetterLower(location[^1]);

    private static JsonObject Labels(CloudResource resource) =>
        new([.. resource.Labels.Select(pair => KeyValuePair.Create<string, JsonNode?>(pair.Key, pair.Value))]);

    // Compute's timestamps carry the Pacific offset, e.g. 2026-11-20T02:00:00.000-08:00.
    private static string? Compute(DateTimeOffset? created) =>
        created?.ToOffset(TimeSpan.FromHours(-8)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);

    private static string Id(CloudResource resource) =>
        ((ulong)resource.Key.GetHashCode(StringComparison.Ordinal) & 0xFFFFFFFFFFFF).ToString(CultureInfo.InvariantCulture);
}
