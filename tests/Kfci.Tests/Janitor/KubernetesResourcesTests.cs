using Kfci.Janitor;
using Kfci.Testing.Kubernetes;
using static Kfci.Tests.Kubernetes.KubernetesWorkflowClusterTests;

namespace Kfci.Tests.Janitor;

/// <summary>The janitor's view of the test cluster through the Kubernetes adapter, against the strict fake.</summary>
public sealed class KubernetesResourcesTests
{
    [Fact]
    public async Task List_DeletedNamespaceStillHoldingContent_IsTerminatingAndLeftAlone()
    {
        // Defect: the fake removed a namespace at once, so nothing showed that a real one stays Terminating for
        // minutes, and each sweep meanwhile deleted it (and counted it as a leak) again.
        await using var server = await FakeKubernetesServer.StartAsync();
        server.CreateNamespace("kubeflow-presubmit-77");
        server.Create(FakeResource.Workflows, "kubeflow-presubmit-77", Workflow("inside"));
        using var cluster = server.CreateCluster(FastRetry);
        Assert.True(await cluster.DeleteNamespaceAsync("kubeflow-presubmit-77", CancellationToken.None));
        var resources = new KubernetesResources(cluster);

        var listed = await resources.ListAsync(ResourceType.Namespace, JanitorConfig.Default, CancellationToken.None);
        var decision = new JanitorPlanner(JanitorConfig.Default).Plan(listed, DateTimeOffset.UtcNow.AddDays(30)).Single(d => d.Resource.Name == "kubeflow-presubmit-77");

        Assert.Equal(KubernetesResources.TerminatingPhase, decision.Resource.Status);
        Assert.Equal((JanitorAction.Keep, RuleIds.Stopping), (decision.Action, decision.Rule));

        server.FinishNamespaceTermination("kubeflow-presubmit-77");
        listed = await resources.ListAsync(ResourceType.Namespace, JanitorConfig.Default, CancellationToken.None);
        Assert.DoesNotContain(listed, r => r.Name == "kubeflow-presubmit-77");
    }

    [Fact]
    public async Task Sweep_ClusterConnectionFails_FailsTheKubernetesTypesOnly_AndIsRetriedNextSweep()
    {
        // Before: the configuration error was no API failure, so it aborted the whole sweep, and Lazy kept throwing it.
        await using var server = await FakeKubernetesServer.StartAsync();
        server.CreateNamespace("kubeflow-presubmit-77");
        using var cluster = server.CreateCluster(FastRetry);
        var connects = 0;
        var resources = new KubernetesResources(() => ++connects == 1 ? throw new Kfci.Kubernetes.KubernetesConfigurationException("no kubeconfig") : cluster);
        using var sweeper = new Sweeper([resources], new Kfci.Testing.Gcp.InMemorySweepStore(), TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<Sweeper>.Instance);
        var config = JanitorTestConfig.Scoped with { DryRun = true, Types = new HashSet<ResourceType> { ResourceType.Namespace } };

        var first = await sweeper.SweepAsync("first", config, CancellationToken.None);
        var second = await sweeper.SweepAsync("second", config, CancellationToken.None);

        Assert.Contains("no kubeconfig", Assert.Single(Assert.Single(first.Types).Errors), StringComparison.Ordinal);
        Assert.Equal(0, Assert.Single(second.Types).ErrorCount);
        Assert.True(Assert.Single(second.Types).Listed > 0);
    }
}
