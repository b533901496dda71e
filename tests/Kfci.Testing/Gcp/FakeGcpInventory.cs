using Kfci.Janitor;

namespace Kfci.Testing.Gcp;

/// <summary>
/// Generates a realistic leak inventory: every type, names the way Kubeflow's CI made them (release pools
/// <c>kf-vmaster-n01</c>, auto-deploys <c>kf-vmaster-1122-a1b</c>, tests <c>kfctl-e2e-…</c>, GKE ingress <c>k8s-fw-…</c>,
/// the CI's own <c>kf-ci-v1</c>), ages well clear of every rule's limit (so a plan made a few seconds apart decides the same).
/// Deterministic for a given seed.
/// </summary>
public static class FakeGcpInventory
{
    public const string Project = "kubeflow-ci";

    private static readonly TimeSpan[] s_ages =
    [
        TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), TimeSpan.FromHours(2), TimeSpan.FromHours(5),
        TimeSpan.FromHours(20), TimeSpan.FromDays(1.5), TimeSpan.FromDays(3), TimeSpan.FromDays(9), TimeSpan.FromDays(90),
    ];

    private static readonly string[] s_zones = ["us-east1-b", "us-east1-c", "us-east1-d", "us-central1-a"];
    private static readonly string[] s_regions = ["us-east1", "us-central1"];

    /// <summary><paramref name="count"/> resources spread over every type (sweep order), as of <paramref name="now"/>.</summary>
    public static IReadOnlyList<CloudResource> Generate(int count, DateTimeOffset now, int seed = 42)
    {
        var random = new Random(seed);
        var types = ResourceTypes.SweepOrder;
        var resources = new List<CloudResource>(count);
        for (var i = 0; i < count; i++)
        {
            var type = types[i % types.Count];
            var age = s_ages[random.Next(s_ages.Length)];
            resources.Add(Make(type, i, now - age, random));
        }

        return resources;
    }

    private static CloudResource Make(ResourceType type, int i, DateTimeOffset created, Random random)
    {
        var name = Name(type, i, random);
        var resource = new CloudResource(type, name) { Project = Project, Location = Location(type, random), Created = created };
        if (random.Next(25) == 0 && HasLabels(type))
        {
            resource = resource with { Labels = new Dictionary<string, string> { ["kfci-janitor"] = "keep" } };
        }

        return type switch
        {
            ResourceType.Workflow => resource with { Project = null, Namespace = "kubeflow-test-infra", Location = "kubeflow-testing", StartedAt = created, Status = "Succeeded" },
            ResourceType.Namespace => resource with { Project = null, Location = "kubeflow-testing", Status = "Active" },
            ResourceType.ServiceAccount => resource with { Name = $"{name}@{Project}.iam.gserviceaccount.com", Created = null, FirstSeen = random.Next(3) == 0 ? null : created },
            ResourceType.GkeCluster => resource with { Status = random.Next(8) switch { 0 => "ERROR", 1 => "STOPPING", 2 => "DEGRADED", _ => "RUNNING" } },
            ResourceType.DmDeployment => resource with { Status = "DONE", Error = random.Next(6) == 0 },
            ResourceType.Instance => resource with { Status = "RUNNING" },
            _ => resource,
        };
    }

    private static string Name(ResourceType type, int i, Random random)
    {
        var hex = $"{i:x5}";
        var pick = random.Next(12);
        var autoVersion = random.Next(2) == 0 ? "vmaster" : "v1-2";
        return pick switch
        {
            0 when i < 1700 => $"kf-vmaster-n{i % 100:00}",
            1 => $"kf-{autoVersion}-{1100 + (i % 30):0000}-{hex[^3..]}",
            2 => $"kf-ci-{hex}",
            3 when type.IsIngressPart() => $"k8s-{Short(type)}-{hex}",
            3 => $"k8s-fw-{hex}",
            4 => $"z-{hex}",
            5 => $"presubmit-{hex}",
            6 => $"unittest-{hex}",
            7 => $"default-{Short(type)}-{hex}",
            8 => $"k8s-ig-{hex}",
            9 when type.IsIngressPart() => $"k8s2-{Short(type)}-{hex}",
            _ => $"kfctl-e2e-{hex}",
        } + (pick == 0 && random.Next(3) == 0 ? "-storage" : "");
    }

    // Only these APIs carry labels; a keep label on anything else would not survive the round trip.
    private static bool HasLabels(ResourceType type) => type is ResourceType.Workflow or ResourceType.Namespace or ResourceType.DmDeployment
        or ResourceType.GkeCluster or ResourceType.Instance or ResourceType.Disk or ResourceType.ForwardingRule or ResourceType.Address;

    private static string Short(ResourceType type) => type.WireName().Split('-')[0][..2];

    private static string Location(ResourceType type, Random random) => type switch
    {
        ResourceType.Instance or ResourceType.InstanceGroup or ResourceType.Disk or ResourceType.GkeCluster => s_zones[random.Next(s_zones.Length)],
        ResourceType.ForwardingRule or ResourceType.Address => random.Next(3) == 0 ? "global" : s_regions[random.Next(s_regions.Length)],
        _ => "global",
    };
}
