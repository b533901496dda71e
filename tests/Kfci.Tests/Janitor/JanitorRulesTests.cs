using System.Text.RegularExpressions;
using Kfci.Janitor;

namespace Kfci.Tests.Janitor;

public sealed class JanitorRulesTests
{
    private static readonly DateTimeOffset s_now = new(2024, 9, 25, 12, 0, 0, TimeSpan.Zero);

    private static CloudResource Resource(ResourceType type, string name, TimeSpan? age = null) =>
        new(type, name) { Location = "us-east1-d", Created = age is { } a ? s_now - a : null };

    private static JanitorDecision Decide(CloudResource resource, JanitorConfig? config = null) =>
        Assert.Single(new JanitorPlanner(config ?? JanitorTestConfig.Scoped).Plan([resource], s_now));

    private static void AssertDecision(JanitorDecision decision, JanitorAction action, string rule)
    {
        Assert.True(action == decision.Action && rule == decision.Rule,
            $"{decision.Resource.Name}: expected {action}/{rule}, got {decision.Action}/{decision.Rule} ({decision.Reason})");
    }

    [Theory]
    [InlineData("kf-v0-4-n00")]
    [InlineData("kf-v1.2-n03")]
    [InlineData("kf-v1.2-n03-storage")]
    [InlineData("kf-vmaster-n01-storage")]
    [InlineData("kf-master-n02")]
    [InlineData("kf-v1-n00")]
    [InlineData("kf-ci-v1")]
    [InlineData("kf-ci-management")]
    [InlineData("kubeflow-testing")]
    public void Plan_ProtectedNameOfAnyAge_Kept(string name)
    {
        foreach (var type in new[] { ResourceType.DmDeployment, ResourceType.GkeCluster, ResourceType.Disk })
        {
            AssertDecision(Decide(Resource(type, name, TimeSpan.FromDays(400))), JanitorAction.Keep, RuleIds.Protected);
        }
    }

    [Fact]
    public void Plan_ReleaseSlot90DaysOld_KeptAsProtected()
    {
        var decision = Decide(Resource(ResourceType.GkeCluster, "kf-vmaster-n01", TimeSpan.FromDays(90)));
        AssertDecision(decision, JanitorAction.Keep, RuleIds.Protected);
        Assert.Contains("release-pool", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_ProtectedNameThatAlsoLooksLikeE2e_ProtectionWins()
    {
        // kf-ci-e2e-… contains "e2e-": rule 1 comes first.
        AssertDecision(Decide(Resource(ResourceType.GkeCluster, "kf-ci-e2e-cluster", TimeSpan.FromDays(30))), JanitorAction.Keep, RuleIds.Protected);
    }

    [Fact]
    public void Plan_KeepLabelOnAnOldE2eCluster_Kept()
    {
        var resource = Resource(ResourceType.GkeCluster, "e2e-debug-me", TimeSpan.FromDays(30)) with
        {
            Labels = new Dictionary<string, string> { ["kfci-janitor"] = "keep" },
        };
        AssertDecision(Decide(resource), JanitorAction.Keep, RuleIds.Protected);
        AssertDecision(Decide(resource with { Labels = new Dictionary<string, string> { ["kfci-janitor"] = "e2e" } }), JanitorAction.Delete, RuleIds.E2eAge);
    }

    [Fact]
    public void Plan_ConfiguredProtectPattern_Kept()
    {
        var config = JanitorTestConfig.Scoped with { Protect = [new Regex("^e2e-demo-", RegexOptions.None, TimeSpan.FromSeconds(1))] };
        AssertDecision(Decide(Resource(ResourceType.GkeCluster, "e2e-demo-for-kubecon", TimeSpan.FromDays(9)), config), JanitorAction.Keep, RuleIds.Protected);
        AssertDecision(Decide(Resource(ResourceType.GkeCluster, "e2e-other", TimeSpan.FromDays(9)), config), JanitorAction.Delete, RuleIds.E2eAge);
    }

    [Fact]
    public void Plan_ConfiguredTestClusterName_Kept()
    {
        var config = JanitorTestConfig.Scoped with { TestCluster = "e2e-shared-cluster" };
        AssertDecision(Decide(Resource(ResourceType.GkeCluster, "e2e-shared-cluster", TimeSpan.FromDays(9)), config), JanitorAction.Keep, RuleIds.Protected);
        AssertDecision(Decide(Resource(ResourceType.GkeCluster, "e2e-shared-cluster", TimeSpan.FromDays(9))), JanitorAction.Delete, RuleIds.E2eAge);
    }

    [Theory]
    [InlineData("default")]
    [InlineData("kube-system")]
    [InlineData("kube-e2e-public")]
    [InlineData("kubeflow-test-infra")]
    [InlineData("argo")]
    public void Plan_SystemAndCiNamespaces_Kept(string name) =>
        AssertDecision(Decide(Resource(ResourceType.Namespace, name, TimeSpan.FromDays(100))), JanitorAction.Keep, RuleIds.Protected);

    [Fact]
    public void Plan_Namespaces_OnlyE2eNamespacesAreTestNamespaces()
    {
        AssertDecision(Decide(Resource(ResourceType.Namespace, "kubeflow-presubmit-1234", TimeSpan.FromHours(4))), JanitorAction.Delete, RuleIds.E2eAge);
        AssertDecision(Decide(Resource(ResourceType.Namespace, "kubeflow", TimeSpan.FromDays(100))), JanitorAction.Keep, RuleIds.Unmatched);
        AssertDecision(Decide(Resource(ResourceType.Namespace, "kf-vmaster-0922-abc", TimeSpan.FromDays(100))), JanitorAction.Keep, RuleIds.Unmatched);
    }

    [Fact]
    public void Plan_WorkflowAge_FromStartedAtElseCreated()
    {
        var old = new CloudResource(ResourceType.Workflow, "kubeflow-presubmit-e2e-1") { Namespace = "kubeflow-test-infra", StartedAt = s_now.AddDays(-8), Created = s_now.AddDays(-1) };
        var young = old with { StartedAt = s_now.AddDays(-6), Created = s_now.AddDays(-30) };
        var neverStarted = old with { StartedAt = null, Created = s_now.AddDays(-7.5) };

        AssertDecision(Decide(old), JanitorAction.Delete, RuleIds.WorkflowAge);
        var kept = Decide(young);
        AssertDecision(kept, JanitorAction.Keep, RuleIds.WorkflowAge);
        Assert.Contains("started 6d ago, within the 7d limit", kept.Reason, StringComparison.Ordinal);
        AssertDecision(Decide(neverStarted), JanitorAction.Delete, RuleIds.WorkflowAge);
    }

    [Fact]
    public void Plan_WorkflowOutsideConfiguredNamespaces_Kept()
    {
        var workflow = new CloudResource(ResourceType.Workflow, "someone-elses") { Namespace = "team-x", StartedAt = s_now.AddDays(-30) };
        AssertDecision(Decide(workflow), JanitorAction.Keep, RuleIds.Unmatched);
    }

    [Fact]
    public void Plan_E2eCluster_KeptAt2HoursDeletedAt4Hours()
    {
        var young = Decide(Resource(ResourceType.GkeCluster, "kfctl-e2e-abc", TimeSpan.FromHours(2)));
        var old = Decide(Resource(ResourceType.GkeCluster, "kfctl-e2e-abc", TimeSpan.FromHours(4)));

        AssertDecision(young, JanitorAction.Keep, RuleIds.E2eAge);
        AssertDecision(old, JanitorAction.Delete, RuleIds.E2eAge);
        Assert.Contains("created 4h ago, over the 3h limit", old.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("e2e-1234")]
    [InlineData("my-kfctl-thing")]
    [InlineData("kubeflow-presubmit-7")]
    [InlineData("kubeflow-postsubmit-7")]
    [InlineData("kubeflow-periodic-7")]
    [InlineData("py-unittest-7")]
    [InlineData("z-deploy-7")]
    [InlineData("k8s-ig--0123abcd")]
    public void Plan_E2eNames_DeletedAfter3Hours(string name) =>
        AssertDecision(Decide(Resource(ResourceType.Instance, name, TimeSpan.FromHours(3.5))), JanitorAction.Delete, RuleIds.E2eAge);

    [Theory]
    [InlineData("fuzz-tester")]
    [InlineData("prod-db")]
    [InlineData("e2e")]
    public void Plan_NamesThatOnlyResembleE2e_Unmatched(string name) =>
        AssertDecision(Decide(Resource(ResourceType.Instance, name, TimeSpan.FromDays(30))), JanitorAction.Keep, RuleIds.Unmatched);

    [Fact]
    public void Plan_ErroredKfctlDeployment15MinutesOld_Deleted()
    {
        var resource = Resource(ResourceType.DmDeployment, "kfctl-abcd", TimeSpan.FromMinutes(15)) with { Error = true };
        var decision = Decide(resource);
        AssertDecision(decision, JanitorAction.Delete, RuleIds.Errored);
        Assert.Contains("created 15m ago, over the 10m limit", decision.Reason, StringComparison.Ordinal);
        AssertDecision(Decide(resource with { Created = s_now.AddMinutes(-5) }), JanitorAction.Keep, RuleIds.Errored);
        AssertDecision(Decide(resource with { Error = false }), JanitorAction.Keep, RuleIds.E2eAge);
    }

    [Theory]
    [InlineData("ERROR")]
    [InlineData("DEGRADED")]
    public void Plan_BrokenTestCluster_DeletedAfter10Minutes(string status)
    {
        AssertDecision(Decide(Resource(ResourceType.GkeCluster, "e2e-x", TimeSpan.FromMinutes(11)) with { Status = status }), JanitorAction.Delete, RuleIds.Errored);
        AssertDecision(Decide(Resource(ResourceType.GkeCluster, "kf-vmaster-0922-abc", TimeSpan.FromMinutes(11)) with { Status = status }), JanitorAction.Delete, RuleIds.Errored);
    }

    [Fact]
    public void Plan_ErroredButNotATestResource_NotTouched()
    {
        AssertDecision(Decide(Resource(ResourceType.GkeCluster, "team-cluster", TimeSpan.FromDays(3)) with { Status = "ERROR" }), JanitorAction.Keep, RuleIds.Unmatched);
        AssertDecision(Decide(Resource(ResourceType.GkeCluster, "kf-v1-n00", TimeSpan.FromDays(3)) with { Status = "ERROR" }), JanitorAction.Keep, RuleIds.Protected);
    }

    [Fact]
    public void Plan_StoppingCluster_LeftAlone()
    {
        var decision = Decide(Resource(ResourceType.GkeCluster, "e2e-going", TimeSpan.FromDays(3)) with { Status = "STOPPING" });
        AssertDecision(decision, JanitorAction.Keep, RuleIds.Stopping);
        Assert.Contains("STOPPING", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_TerminatingTestNamespace_NotDeletedAgain()
    {
        // Defect: a namespace still Terminating from the last sweep was deleted (and counted) again on every sweep.
        var decision = Decide(Resource(ResourceType.Namespace, "kubeflow-presubmit-1234", TimeSpan.FromHours(4)) with { Status = "Terminating" });
        AssertDecision(decision, JanitorAction.Keep, RuleIds.Stopping);
        Assert.Contains("Terminating", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_NoCreationTime_FirstSeenUsedElseKept()
    {
        var account = new CloudResource(ResourceType.ServiceAccount, "e2e-sa@kubeflow-ci.iam.gserviceaccount.com");
        var seenLongAgo = Decide(account with { FirstSeen = s_now.AddHours(-5) });
        var seenRecently = Decide(account with { FirstSeen = s_now.AddHours(-1) });
        var neverSeen = Decide(account);

        AssertDecision(seenLongAgo, JanitorAction.Delete, RuleIds.E2eAge);
        Assert.Contains("first seen (no creation time) 5h ago", seenLongAgo.Reason, StringComparison.Ordinal);
        AssertDecision(seenRecently, JanitorAction.Keep, RuleIds.E2eAge);
        AssertDecision(neverSeen, JanitorAction.Keep, RuleIds.E2eAge);
        Assert.Contains("treated as just seen", neverSeen.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_CreationTimeWinsOverFirstSeen()
    {
        var resource = Resource(ResourceType.Disk, "e2e-disk", TimeSpan.FromHours(1)) with { FirstSeen = s_now.AddDays(-3) };
        AssertDecision(Decide(resource), JanitorAction.Keep, RuleIds.E2eAge);
    }

    [Fact]
    public void Plan_CreatedAfterNow_CountsAsAgeZero()
    {
        var decision = Decide(Resource(ResourceType.Disk, "e2e-disk", TimeSpan.FromHours(-5)));
        AssertDecision(decision, JanitorAction.Keep, RuleIds.E2eAge);
        Assert.Contains("created 0s ago", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_AutoDeployments_NewestThreePerVersionKeptOthersByAge()
    {
        // Five vmaster instances, each a deployment plus its storage twin and a cluster. Ranked by age, not by name:
        // 0901-def is the newest, then 0925, 0924, and kf-vmaster-0922-abc is the 4th newest.
        (string Uid, double Days)[] instances = [("0925-aaa", 3), ("0924-bbb", 4), ("0922-abc", 6), ("0901-def", 1), ("0831-fed", 9)];
        var resources = new List<CloudResource>();
        foreach (var (uid, days) in instances)
        {
            var name = $"kf-vmaster-{uid}";
            resources.Add(Resource(ResourceType.DmDeployment, name, TimeSpan.FromDays(days)));
            resources.Add(Resource(ResourceType.DmDeployment, $"{name}-storage", TimeSpan.FromDays(days) + TimeSpan.FromMinutes(5)));
            resources.Add(Resource(ResourceType.GkeCluster, name, TimeSpan.FromDays(days)));
            resources.Add(Resource(ResourceType.Disk, $"{name}-pvc-1", TimeSpan.FromDays(days)));
        }

        var decisions = new JanitorPlanner(JanitorTestConfig.Scoped).Plan(resources, s_now).ToDictionary(d => $"{d.Resource.Type}/{d.Resource.Name}");

        Assert.Equal(20, decisions.Count);
        foreach (var kept in new[] { "kf-vmaster-0901-def", "kf-vmaster-0925-aaa", "kf-vmaster-0924-bbb" })
        {
            AssertDecision(decisions[$"DmDeployment/{kept}"], JanitorAction.Keep, RuleIds.AutoDeployNewest);
            AssertDecision(decisions[$"DmDeployment/{kept}-storage"], JanitorAction.Keep, RuleIds.AutoDeployNewest);
            AssertDecision(decisions[$"GkeCluster/{kept}"], JanitorAction.Keep, RuleIds.AutoDeployNewest);
            AssertDecision(decisions[$"Disk/{kept}-pvc-1"], JanitorAction.Keep, RuleIds.AutoDeployNewest);
        }

        var fourth = decisions["DmDeployment/kf-vmaster-0922-abc"];
        AssertDecision(fourth, JanitorAction.Delete, RuleIds.AutoDeploy);
        Assert.Contains("4th newest of 5", fourth.Reason, StringComparison.Ordinal);
        Assert.Contains("created 6d ago, over the 2d limit", fourth.Reason, StringComparison.Ordinal);
        AssertDecision(decisions["DmDeployment/kf-vmaster-0922-abc-storage"], JanitorAction.Delete, RuleIds.AutoDeploy);
        AssertDecision(decisions["GkeCluster/kf-vmaster-0922-abc"], JanitorAction.Delete, RuleIds.AutoDeploy);
        AssertDecision(decisions["Disk/kf-vmaster-0922-abc-pvc-1"], JanitorAction.Delete, RuleIds.AutoDeploy);
        AssertDecision(decisions["GkeCluster/kf-vmaster-0831-fed"], JanitorAction.Delete, RuleIds.AutoDeploy);
    }

    [Fact]
    public void Plan_FourthNewestAutoDeployYoungerThanLimit_Kept()
    {
        var resources = new[] { "0925-aaa", "0924-bbb", "0923-ccc", "0922-abc" }
            .Select((uid, i) => Resource(ResourceType.DmDeployment, $"kf-vmaster-{uid}", TimeSpan.FromHours(10 + i)));
        var fourth = new JanitorPlanner(JanitorTestConfig.Scoped).Plan(resources, s_now).Single(d => d.Resource.Name == "kf-vmaster-0922-abc");
        AssertDecision(fourth, JanitorAction.Keep, RuleIds.AutoDeploy);
    }

    [Fact]
    public void Plan_AutoDeployVersionSpellings_CountedTogether()
    {
        // v1.2 and v1-2 are one version: with keepNewest 1, only the newest of the three survives.
        var resources = new[]
        {
            Resource(ResourceType.GkeCluster, "kf-v1-2-0925-aaa", TimeSpan.FromDays(3)),
            Resource(ResourceType.GkeCluster, "kf-v1.2-0924-bbb", TimeSpan.FromDays(4)),
            Resource(ResourceType.GkeCluster, "kf-v0-4-0924-bbb", TimeSpan.FromDays(4)),
        };
        var decisions = new JanitorPlanner(JanitorTestConfig.Scoped with { KeepNewest = 1 }).Plan(resources, s_now).ToDictionary(d => d.Resource.Name);
        AssertDecision(decisions["kf-v1-2-0925-aaa"], JanitorAction.Keep, RuleIds.AutoDeployNewest);
        AssertDecision(decisions["kf-v1.2-0924-bbb"], JanitorAction.Delete, RuleIds.AutoDeploy);
        AssertDecision(decisions["kf-v0-4-0924-bbb"], JanitorAction.Keep, RuleIds.AutoDeployNewest);
    }

    [Fact]
    public void Plan_AutoDeployOfUnknownAge_NeverTakesAKeptSlot()
    {
        var resources = new[]
        {
            Resource(ResourceType.DmDeployment, "kf-vmaster-0925-aaa", TimeSpan.FromDays(3)),
            new CloudResource(ResourceType.DmDeployment, "kf-vmaster-0926-zzz"),
        };
        var decisions = new JanitorPlanner(JanitorTestConfig.Scoped with { KeepNewest = 1 }).Plan(resources, s_now).ToDictionary(d => d.Resource.Name);
        AssertDecision(decisions["kf-vmaster-0925-aaa"], JanitorAction.Keep, RuleIds.AutoDeployNewest);
        AssertDecision(decisions["kf-vmaster-0926-zzz"], JanitorAction.Keep, RuleIds.AutoDeploy);
    }

    [Theory]
    [InlineData(ResourceType.ForwardingRule, "k8s-fw-kubeflow-ingress--0123abcd4567ef89")]
    [InlineData(ResourceType.TargetHttpProxy, "k8s-tp-kubeflow--0123abcd4567ef89")]
    [InlineData(ResourceType.TargetHttpsProxy, "k8s2-ts-0123abcd-kubeflow-web-x1y2z3")]
    [InlineData(ResourceType.UrlMap, "k8s-um-kubeflow--0123abcd4567ef89")]
    [InlineData(ResourceType.BackendService, "k8s-be-30000--0123abcd4567ef89")]
    [InlineData(ResourceType.HealthCheck, "k8s-be-30000--0123abcd4567ef89")]
    [InlineData(ResourceType.InstanceGroup, "k8s2-ig-0123abcd-x1")]
    public void Plan_IngressLeftovers_OnlyCollectedWhenGcIngressIsOn(ResourceType type, string name)
    {
        // The L7 firewall names the owner, a cluster a complete listing of every location says is gone: its parts are leftovers.
        var firewall = Resource(ResourceType.FirewallRule, "k8s-fw-l7--0123abcd4567ef89", TimeSpan.FromDays(3)) with { OwnerCluster = "e2e-gone", Project = "kubeflow-ci" };
        var old = Resource(type, name, TimeSpan.FromDays(3)) with { Project = "kubeflow-ci" };
        var young = old with { Created = s_now - TimeSpan.FromDays(1) };
        var on = JanitorTestConfig.Scoped with { GcIngress = true };
        var existing = new ClusterDirectory([("kubeflow-ci", "kubeflow-testing")]);
        JanitorDecision WithFirewall(CloudResource resource, JanitorConfig? config = null) =>
            new JanitorPlanner(config ?? JanitorTestConfig.Scoped).Plan([firewall, resource], s_now, existing).Single(d => d.Resource.Name == name);

        AssertDecision(WithFirewall(old), JanitorAction.Keep, RuleIds.Unmatched);
        Assert.Contains("gcIngress is off", WithFirewall(old).Reason, StringComparison.Ordinal);
        AssertDecision(WithFirewall(old, on), JanitorAction.Delete, RuleIds.GcIngress);
        AssertDecision(WithFirewall(young, on), JanitorAction.Keep, RuleIds.GcIngress);
    }

    [Fact]
    public void Plan_IngressNameOnANonIngressType_Unmatched()
    {
        var on = JanitorTestConfig.Scoped with { GcIngress = true };
        AssertDecision(Decide(Resource(ResourceType.Disk, "k8s-something", TimeSpan.FromDays(30)), on), JanitorAction.Keep, RuleIds.Unmatched);
    }

    [Fact]
    public void Plan_TypeNotConfigured_Kept()
    {
        var config = JanitorTestConfig.Scoped with { Types = new HashSet<ResourceType> { ResourceType.Workflow } };
        AssertDecision(Decide(Resource(ResourceType.GkeCluster, "e2e-x", TimeSpan.FromDays(3)), config), JanitorAction.Keep, RuleIds.Disabled);
    }

    [Fact]
    public void Plan_ConfiguredMaxAge_Used()
    {
        var config = JanitorTestConfig.Scoped with { MaxAge = new MaxAges { E2e = TimeSpan.FromHours(1) } };
        AssertDecision(Decide(Resource(ResourceType.GkeCluster, "e2e-x", TimeSpan.FromHours(2)), config), JanitorAction.Delete, RuleIds.E2eAge);
    }

    [Fact]
    public void Plan_MixedInventory_OneDecisionPerResourceInSweepOrder()
    {
        var resources = new[]
        {
            Resource(ResourceType.Disk, "b") with { Location = "us-east1-b" },
            Resource(ResourceType.Disk, "a") with { Location = "us-east1-c" },
            Resource(ResourceType.Disk, "c") with { Location = "us-east1-b" },
            Resource(ResourceType.Workflow, "w"),
            Resource(ResourceType.ForwardingRule, "f"),
            Resource(ResourceType.Namespace, "n"),
            Resource(ResourceType.GkeCluster, "g"),
            Resource(ResourceType.DmDeployment, "d"),
            Resource(ResourceType.UrlMap, "u"),
            Resource(ResourceType.TargetHttpsProxy, "t"),
        };
        var order = new JanitorPlanner(JanitorTestConfig.Scoped).Plan(resources, s_now)
            .Select(d => $"{d.Resource.Type.WireName()}:{d.Resource.Name}");
        Assert.Equal(
            ["workflow:w", "namespace:n", "dm-deployment:d", "gke-cluster:g", "forwarding-rule:f", "target-https-proxy:t", "url-map:u", "disk:b", "disk:c", "disk:a"],
            order);
    }

    [Fact]
    public void Plan_TimeProvider_SameAsExplicitNow()
    {
        var resource = Resource(ResourceType.GkeCluster, "e2e-x", TimeSpan.FromHours(4));
        var clock = new FixedClock(s_now);
        Assert.Equal(
            new JanitorPlanner(JanitorTestConfig.Scoped).Plan([resource], s_now),
            new JanitorPlanner(JanitorTestConfig.Scoped).Plan([resource], clock));
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
