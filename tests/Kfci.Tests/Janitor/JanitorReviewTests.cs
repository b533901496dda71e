using Kfci.Http;
using Kfci.Janitor;
using Kfci.Janitor.Gcp;
using Kfci.Testing.Gcp;

namespace Kfci.Tests.Janitor;

/// <summary>Issue 13's review of the Janitor: each finding as the case that deleted (or listed) what it must not.</summary>
public sealed class JanitorReviewTests
{
    private static readonly DateTimeOffset s_now = new(2024, 9, 25, 12, 0, 0, TimeSpan.Zero);

    private static CloudResource Aged(ResourceType type, string name, TimeSpan age, string location = "global") =>
        new(type, name) { Location = location, Project = "kubeflow-ci", Created = s_now - age };

    private static Dictionary<string, JanitorDecision> Plan(JanitorConfig config, params CloudResource[] resources) =>
        new JanitorPlanner(config).Plan(resources, s_now).ToDictionary(d => d.Resource.Name, StringComparer.Ordinal);

    [Fact]
    public async Task Compute_RegionsOnlyConfiguration_ListsNoZone()
    {
        // Before: an empty zones list meant every zone, so a regions-only configuration swept europe-west1-b too.
        await using var gcp = await FakeGcpServer.StartAsync();
        gcp.Seed([Aged(ResourceType.Instance, "e2e-vm", TimeSpan.FromDays(30), "europe-west1-b"), Aged(ResourceType.Address, "e2e-ip", TimeSpan.FromDays(30), "us-east1")]);
        var compute = new ComputeApi(GcpEndpoints.SingleServer(gcp.BaseAddress).Compute.CreateClient(new RetryOptions { MaxRetries = 0 }));
        var config = JanitorTestConfig.Scoped with { Zones = [], Regions = ["us-east1"] };

        Assert.Empty(await compute.ListAsync(ResourceType.Instance, config, CancellationToken.None));
        Assert.Equal(["e2e-ip"], (await compute.ListAsync(ResourceType.Address, config, CancellationToken.None)).Select(r => r.Name));
    }

    [Fact]
    public void Plan_ServiceAccountOfAnE2eNamedProject_Kept()
    {
        // Before: the e2e words were looked for in the whole e-mail, whose domain is the project id.
        var runner = new CloudResource(ResourceType.ServiceAccount, "runner@kfci-e2e-test.iam.gserviceaccount.com")
        { Location = "global", Project = "kfci-e2e-test", FirstSeen = s_now - TimeSpan.FromDays(1) };
        var test = runner with { Name = "kfctl-e2e-1234@kfci-e2e-test.iam.gserviceaccount.com" };

        var decisions = Plan(JanitorTestConfig.Scoped, runner, test);

        Assert.Equal((JanitorAction.Keep, RuleIds.Unmatched), (decisions[runner.Name].Action, decisions[runner.Name].Rule));
        Assert.Equal(JanitorAction.Delete, decisions[test.Name].Action);
    }

    [Fact]
    public void Plan_NamesBeginningWithAReleasePoolSlot_KeptWhateverTheirAge()
    {
        // Before: the slot pattern was anchored at both ends, so these fell to rule 5 and, behind 5 newer instances, went.
        var slotParts = new[]
        {
            Aged(ResourceType.Disk, "kf-vmaster-n00-storage-artifact-store", TimeSpan.FromDays(30), "us-east1-d"),
            Aged(ResourceType.ServiceAccount, "kf-vmaster-n00-admin@kubeflow-ci.iam.gserviceaccount.com", TimeSpan.FromDays(30)),
            Aged(ResourceType.Address, "kf-vmaster-n00-ip", TimeSpan.FromDays(30), "us-east1"),
        };
        var newer = Enumerable.Range(1, 5).Select(i => Aged(ResourceType.DmDeployment, $"kf-vmaster-092{i}-abc", TimeSpan.FromDays(1)));

        var decisions = Plan(JanitorTestConfig.Scoped, [.. slotParts, .. newer]);

        Assert.All(slotParts, part => Assert.Equal((JanitorAction.Keep, RuleIds.Protected), (decisions[part.Name].Action, decisions[part.Name].Rule)));
    }

    [Fact]
    public void Plan_CertificatesAndAddressesOfAProtectedClustersIngress_Kept()
    {
        // Before: SSL certificates and static IPs were no ingress parts, so an e2e-looking name deleted them from the
        // protected test cluster's load balancer.
        var config = JanitorTestConfig.Scoped with { GcIngress = true };
        var decisions = Plan(
            config,
            Aged(ResourceType.FirewallRule, "k8s-fw-l7--aaaa1111bbbb2222", TimeSpan.FromDays(30)) with { OwnerCluster = "kubeflow-testing" },
            Aged(ResourceType.SslCertificate, "k8s2-cr-aaaa1111-e2e-web-x1y2z3", TimeSpan.FromDays(30)),
            Aged(ResourceType.SslCertificate, "k8s-ssl-e2e-web--aaaa1111bbbb2222", TimeSpan.FromDays(30)),
            Aged(ResourceType.Address, "k8s2-fr-aaaa1111-e2e-web-x1y2z3", TimeSpan.FromDays(30)));

        Assert.All(decisions.Values, decision => Assert.Equal((JanitorAction.Keep, RuleIds.Protected), (decision.Action, decision.Rule)));
    }

    [Theory]
    [InlineData(ResourceType.Address, true)]
    [InlineData(ResourceType.SslCertificate, true)]
    [InlineData(ResourceType.Disk, false)]
    public void IsIngressPart_CertificatesAndAddresses(ResourceType type, bool expected) => Assert.Equal(expected, type.IsIngressPart());

    private static readonly CloudResource[] s_ingressOfE2eGone =
    [
        Aged(ResourceType.FirewallRule, "k8s-fw-l7--900e", TimeSpan.FromDays(30)) with { OwnerCluster = "e2e-gone" },
        Aged(ResourceType.UrlMap, "k8s-um-ns-web--900e", TimeSpan.FromDays(30)),
    ];

    [Fact]
    public void Plan_OwnerNotListed_NoCompleteListing_Kept()
    {
        // Before: an owner missing from this sweep's listing counted as gone, whatever the reason it was missing.
        var decisions = new JanitorPlanner(JanitorTestConfig.Scoped with { GcIngress = true }).Plan(s_ingressOfE2eGone, s_now);

        Assert.All(decisions, decision => Assert.Equal((JanitorAction.Keep, RuleIds.IngressOwner), (decision.Action, decision.Rule)));
        Assert.Contains("no complete listing says that cluster is gone", decisions[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_ClusterOfTheSameNameDeletedInAnotherProject_PartsKept()
    {
        var config = JanitorTestConfig.Scoped with { GcIngress = true, Projects = ["kubeflow-ci", "other"] };
        var elsewhere = Aged(ResourceType.GkeCluster, "e2e-gone", TimeSpan.FromDays(30), "us-east1-d") with { Project = "other" };
        var existing = new ClusterDirectory([("kubeflow-ci", "e2e-gone"), ("other", "e2e-gone")]);

        var decisions = new JanitorPlanner(config).Plan([.. s_ingressOfE2eGone, elsewhere], s_now, existing).ToDictionary(d => d.Resource.Name, StringComparer.Ordinal);

        Assert.Equal(JanitorAction.Delete, decisions["e2e-gone"].Action);
        Assert.Equal(JanitorAction.Keep, decisions["k8s-um-ns-web--900e"].Action);
        Assert.Equal(JanitorAction.Keep, decisions["k8s-fw-l7--900e"].Action);
    }

    public static TheoryData<string> OwnerStates => ["container-disabled", "in-another-zone", "gone"];

    [Theory]
    [MemberData(nameof(OwnerStates))]
    public async Task Sweep_IngressTypesOnly_PartsDeletedOnlyWhenTheOwnerIsKnownGone(string owner)
    {
        await using var gcp = await FakeGcpServer.StartAsync();
        gcp.Seed(owner == "in-another-zone" ? [.. s_ingressOfE2eGone, Aged(ResourceType.GkeCluster, "e2e-gone", TimeSpan.FromDays(1), "europe-west1-b")] : s_ingressOfE2eGone);
        if (owner == "container-disabled")
        {
            gcp.DisabledApis["container"] = true;
        }

        var endpoints = GcpEndpoints.SingleServer(gcp.BaseAddress);
        var retry = new RetryOptions { MaxRetries = 0 };
        var polling = new OperationPolling { Interval = TimeSpan.FromMilliseconds(5), MaxInterval = TimeSpan.FromMilliseconds(20), Timeout = TimeSpan.FromSeconds(20) };
        using var sweeper = new Sweeper(
            [new ComputeApi(endpoints.Compute.CreateClient(retry), polling), new ContainerApi(endpoints.Container.CreateClient(retry), polling)],
            new InMemorySweepStore(), TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<Sweeper>.Instance);
        var config = JanitorTestConfig.Scoped with { GcIngress = true, Types = new HashSet<ResourceType> { ResourceType.FirewallRule, ResourceType.UrlMap } };

        await sweeper.SweepAsync(owner, config, CancellationToken.None);

        Assert.Equal(owner == "gone" ? ["k8s-fw-l7--900e", "k8s-um-ns-web--900e"] : [], gcp.Deleted.Select(d => d.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Plan_RegionalInstanceGroup_KeptZonalOneDeleted()
    {
        // Before: a regional group's delete went to regionInstanceGroupManagers, taking the whole managed group with it.
        var regional = Aged(ResourceType.InstanceGroup, "kfctl-e2e-ig", TimeSpan.FromDays(30), "us-east1") with { Scope = "regions/us-east1" };
        var zonal = Aged(ResourceType.InstanceGroup, "kfctl-e2e-ig-zonal", TimeSpan.FromDays(30), "us-east1-d") with { Scope = "zones/us-east1-d" };

        var decisions = Plan(JanitorTestConfig.Scoped, regional, zonal);

        Assert.Equal((JanitorAction.Keep, RuleIds.ManagedGroup), (decisions[regional.Name].Action, decisions[regional.Name].Rule));
        Assert.Equal(JanitorAction.Delete, decisions[zonal.Name].Action);
    }

    [Theory]
    [InlineData(ResourceType.Instance, "gke-kubeflow-testing-default-pool-1a2b3c4d-e2e-", "the configured test cluster")]
    [InlineData(ResourceType.Disk, "gke-kf-vmaster-n00-default-pool-1a2b3c4d-x1y2", "release-pool slot")]
    [InlineData(ResourceType.InstanceGroup, "gke-kfci-periodic-pool-1a2b3c4d-grp", "protect pattern")]
    public void Plan_NodesAndDisksOfAProtectedCluster_Kept(ResourceType type, string name, string why)
    {
        // Before: only the cluster's own name was protected; its e2e-looking nodes and disks went after 3 hours.
        var config = JanitorTestConfig.Scoped with { Protect = [new System.Text.RegularExpressions.Regex("^kfci$", System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1))] };
        var node = Aged(type, name, TimeSpan.FromDays(30), "us-east1-d");
        var other = Aged(type, "gke-e2e-gone-default-pool-1a2b3c4d-x1y2", TimeSpan.FromDays(30), "us-east1-d");

        var decisions = Plan(config, node, other);

        Assert.Equal((JanitorAction.Keep, RuleIds.Protected), (decisions[name].Action, decisions[name].Rule));
        Assert.Contains(why, decisions[name].Reason, StringComparison.Ordinal);
        Assert.Equal(JanitorAction.Delete, decisions[other.Name].Action);
    }

    [Fact]
    public async Task Compute_AggregatedListWithAnUnreachableScope_FailsTheType()
    {
        await using var gcp = await FakeGcpServer.StartAsync();
        gcp.Seed([Aged(ResourceType.Instance, "e2e-vm", TimeSpan.FromDays(30), "us-east1-d")]);
        gcp.UnreachableScopes["zones/us-east1-b"] = true;
        var compute = new ComputeApi(GcpEndpoints.SingleServer(gcp.BaseAddress).Compute.CreateClient(new RetryOptions { MaxRetries = 0 }));

        var error = await Assert.ThrowsAsync<GcpOperationException>(() => compute.ListAsync(ResourceType.Instance, JanitorTestConfig.Scoped, CancellationToken.None));

        Assert.Contains("scopes did not answer: zones/us-east1-b", error.Message, StringComparison.Ordinal);
    }
}
