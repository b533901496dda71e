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
}
