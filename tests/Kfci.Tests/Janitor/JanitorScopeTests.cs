using Kfci.Cli.Local;
using Kfci.Configuration;
using Kfci.Http;
using Kfci.Janitor;
using Kfci.Janitor.Gcp;
using Kfci.Testing.Gcp;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kfci.Tests.Janitor;

/// <summary>Issue 13: the Janitor deletes only what it was configured for.</summary>
public sealed class JanitorScopeTests
{
    private static readonly DateTimeOffset s_now = new(2024, 9, 25, 12, 0, 0, TimeSpan.Zero);

    private static readonly JanitorConfig s_gcIngress = JanitorTestConfig.Scoped with { GcIngress = true };

    private static CloudResource Old(ResourceType type, string name, string? owner = null) =>
        new(type, name) { Location = "global", Project = "kubeflow-ci", Created = s_now - TimeSpan.FromDays(30), OwnerCluster = owner };

    private static Dictionary<string, JanitorDecision> Plan(JanitorConfig config, params CloudResource[] resources) =>
        new JanitorPlanner(config).Plan(resources, s_now).ToDictionary(d => d.Resource.Name, StringComparer.Ordinal);

    [Fact]
    public void LoadConfig_VariableUnset_RefusesInOneLine()
    {
        var error = Assert.Throws<JanitorConfigException>(() => JanitorServices.LoadConfig(_ => null));

        Assert.StartsWith("KFCI_JANITOR_CONFIG is not set: the Janitor sweeps only what it is configured for", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task Sweep_UnscopedConfiguration_RefusedBeforeListing()
    {
        var store = new InMemorySweepStore();
        using var sweeper = new Sweeper([], store, TimeProvider.System, NullLogger<Sweeper>.Instance);

        var error = await Assert.ThrowsAsync<JanitorConfigException>(() => sweeper.SweepAsync("s", JanitorConfig.Default, CancellationToken.None));

        Assert.Contains("projects, testCluster, zones or regions are not set", error.Message, StringComparison.Ordinal);
        Assert.Empty(store.Reports);
    }

    [Fact]
    public void Plan_IngressPartsOfTheProtectedTestCluster_KeptWithReason()
    {
        // k8s-ig-- is also an e2e prefix (rule 4): before, the test cluster's own instance group went after 3 hours.
        var decisions = Plan(
            s_gcIngress,
            Old(ResourceType.FirewallRule, "k8s-fw-l7--aaaa1111bbbb2222", owner: "kubeflow-testing"),
            Old(ResourceType.InstanceGroup, "k8s-ig--aaaa1111bbbb2222"),
            Old(ResourceType.UrlMap, "k8s-um-kubeflow-ingress--aaaa1111bbbb2222"),
            Old(ResourceType.ForwardingRule, "k8s2-fr-aaaa1111-kubeflow-web-x1y2z3"));

        Assert.All(decisions.Values, decision =>
        {
            Assert.Equal(JanitorAction.Keep, decision.Action);
            Assert.Equal(RuleIds.Protected, decision.Rule);
            Assert.Contains("part of GKE cluster kubeflow-testing's ingress, and that cluster is protected (the configured test cluster)", decision.Reason, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void Plan_IngressPartsOfAClusterProtectedByPattern_Kept()
    {
        var config = s_gcIngress with { Protect = [new System.Text.RegularExpressions.Regex("^kfci$", System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1))] };

        var decisions = Plan(config, Old(ResourceType.FirewallRule, "k8s-fw-l7--c0ffee", owner: "kfci"), Old(ResourceType.BackendService, "k8s-be-30000--c0ffee"));

        Assert.Equal(JanitorAction.Keep, decisions["k8s-be-30000--c0ffee"].Action);
        Assert.Contains("GKE cluster kfci's ingress, and that cluster is protected", decisions["k8s-be-30000--c0ffee"].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_IngressPartsOfAGoneOrDeletedCluster_Deleted_OfAKeptOrUnknownCluster_Kept()
    {
        // e2e-gone is gone because a complete listing of every location says so, not because this sweep did not list it.
        var existing = new ClusterDirectory([("kubeflow-ci", "e2e-old"), ("kubeflow-ci", "team-demo"), ("kubeflow-ci", "kubeflow-testing")]);
        var decisions = new JanitorPlanner(s_gcIngress).Plan(
        [
            Old(ResourceType.FirewallRule, "k8s-fw-l7--900e", owner: "e2e-gone"),
            Old(ResourceType.UrlMap, "k8s-um-ns-web--900e"),
            Old(ResourceType.GkeCluster, "e2e-old") with { Location = "us-east1-d" },
            Old(ResourceType.FirewallRule, "k8s-fw-l7--01d0", owner: "e2e-old"),
            Old(ResourceType.UrlMap, "k8s-um-ns-web--01d0"),
            Old(ResourceType.GkeCluster, "team-demo") with { Location = "us-east1-d" },
            Old(ResourceType.FirewallRule, "k8s-fw-l7--de70", owner: "team-demo"),
            Old(ResourceType.HealthCheck, "k8s-be-30001--de70"),
            Old(ResourceType.InstanceGroup, "k8s-ig--0000ffff"),
        ], s_now, existing).ToDictionary(d => d.Resource.Name, StringComparer.Ordinal);

        Assert.Equal(JanitorAction.Delete, decisions["k8s-um-ns-web--900e"].Action);
        Assert.Equal(JanitorAction.Delete, decisions["k8s-fw-l7--900e"].Action);
        Assert.Equal(JanitorAction.Delete, decisions["e2e-old"].Action);
        Assert.Equal(JanitorAction.Delete, decisions["k8s-um-ns-web--01d0"].Action);
        Assert.Equal((JanitorAction.Keep, RuleIds.IngressOwner), (decisions["k8s-be-30001--de70"].Action, decisions["k8s-be-30001--de70"].Rule));
        Assert.Contains("team-demo's ingress, and that cluster is kept", decisions["k8s-be-30001--de70"].Reason, StringComparison.Ordinal);
        Assert.Equal((JanitorAction.Keep, RuleIds.IngressOwner), (decisions["k8s-ig--0000ffff"].Action, decisions["k8s-ig--0000ffff"].Rule));
        Assert.Contains("no listed firewall rule ties it to a cluster", decisions["k8s-ig--0000ffff"].Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("k8s-um-kubeflow-ingress--0123abcd4567ef89", "0123abcd4567ef89")]
    [InlineData("k8s-ig--0123abcd4567ef89", "0123abcd4567ef89")]
    [InlineData("k8s2-um-0123abcd-kubeflow-web-x1y2z3", "0123abcd")]
    [InlineData("k8s1-0123abcd-kubeflow-web-80-9f8e7d6c", "0123abcd")]
    [InlineData("k8s-something", null)]
    public void IdOf_IngressNames(string name, string? id) => Assert.Equal(id, IngressOwners.IdOf(name));

    [Fact]
    public async Task Compute_FirewallTargetTags_NameTheOwningCluster()
    {
        await using var gcp = await FakeGcpServer.StartAsync();
        gcp.Seed([Old(ResourceType.FirewallRule, "k8s-fw-l7--abc", owner: "kubeflow-testing"), Old(ResourceType.FirewallRule, "allow-ssh")]);
        var compute = new ComputeApi(GcpEndpoints.SingleServer(gcp.BaseAddress).Compute.CreateClient(new RetryOptions { MaxRetries = 0 }));

        var listed = (await compute.ListAsync(ResourceType.FirewallRule, JanitorTestConfig.Scoped, CancellationToken.None)).ToDictionary(r => r.Name);

        Assert.Equal("kubeflow-testing", listed["k8s-fw-l7--abc"].OwnerCluster);
        Assert.Null(listed["allow-ssh"].OwnerCluster);
    }

    [Fact]
    public async Task Container_ListsOnlyTheConfiguredLocations_NeverAll()
    {
        await using var gcp = await FakeGcpServer.StartAsync();
        gcp.Seed(
        [
            Old(ResourceType.GkeCluster, "e2e-here") with { Location = "us-east1-d" },
            Old(ResourceType.GkeCluster, "e2e-regional") with { Location = "us-east1" },
            Old(ResourceType.GkeCluster, "someone-elses") with { Location = "europe-west1-b" },
        ]);
        var container = new ContainerApi(GcpEndpoints.SingleServer(gcp.BaseAddress).Container.CreateClient(new RetryOptions { MaxRetries = 0 }));
        var config = JanitorTestConfig.Scoped with { Zones = ["us-east1-d"], Regions = ["us-east1"] };

        var listed = await container.ListAsync(ResourceType.GkeCluster, config, CancellationToken.None);

        Assert.Equal(["e2e-here", "e2e-regional"], listed.Select(c => c.Name).Order(StringComparer.Ordinal));
        Assert.Equal(["us-east1-d", "us-east1"], gcp.ClusterListings);
    }

    [Fact]
    public void GcpEndpoints_NextToEmulatorsWithoutAFake_RefusesUnlessAskedExplicitly()
    {
        var local = new Dictionary<string, string> { [KfciEnvironment.FirestoreEmulatorHost] = "127.0.0.1:8500" };

        var error = Assert.Throws<InvalidOperationException>(() => GcpEndpoints.FromEnvironment(local.GetValueOrDefault));
        Assert.Contains("it would sweep real Google Cloud", error.Message, StringComparison.Ordinal);
        Assert.Same(GcpEndpoints.Production, GcpEndpoints.FromEnvironment(new Dictionary<string, string>(local) { [KfciEnvironment.JanitorRealGcp] = "true" }.GetValueOrDefault));
        Assert.Same(GcpEndpoints.Production, GcpEndpoints.FromEnvironment(_ => null));
    }

    [Fact]
    public void LocalStack_JanitorEnvironment_IsADryRunOfNoRealProjectAgainstNoRealApi()
    {
        var paths = new KfciPaths("/repo", "/home/u/.kfci");
        var state = new LocalStackState { Project = LocalChain.Project, Processes = [new LocalProcess(LocalChain.FirestoreEmulator, 2, 4002, "b")] };

        var environment = LocalChain.JanitorEnvironment(LocalChain.Environment(state, paths), paths);
        var config = JanitorConfigYaml.Parse(LocalChain.LocalJanitorConfig);
        var endpoints = GcpEndpoints.FromEnvironment(environment.GetValueOrDefault);

        Assert.Equal("/home/u/.kfci/janitor.yaml", environment[KfciEnvironment.JanitorConfig]);
        Assert.True(config.DryRun);
        Assert.Equal(["kfci-local"], config.Projects);
        Assert.Equal(new Uri("http://127.0.0.1:9/"), endpoints.Compute.BaseAddress);
        Assert.True(endpoints.Container.IsEmulator);
    }
}
