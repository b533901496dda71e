using Kfci.Functions.Trigger;
using Kfci.Http;
using Kfci.Prow;
using Kfci.Sources;
using Kfci.Testing.Gcs;
using Kfci.Testing.GitHub;
using Kfci.Workflows;

namespace Kfci.Tests.Trigger;

/// <summary>The resolver against the fake GitHub: what GitHub refuses for good becomes the run's planning error.</summary>
public sealed class JobResolverTests
{
    [Fact]
    public async Task Resolve_GitHubRefusesTheBranchWith403NotARateLimit_PlanningErrorNamingIt()
    {
        await using var server = await FakeGitHubServer.StartAsync();
        server.AddRepository("kubeflow", "demo");
        server.Faults.Enqueue(new Fault(status: 403, count: 10) { Message = "Resource not accessible by integration" });
        using var source = new GitHubSource(server.BaseAddress, "token", new RetryPolicy(RetryOptions.Default with { MaxRetries = 2, BaseDelay = TimeSpan.FromMilliseconds(5) }));
        var resolver = new JobResolver(source, (Kfci.ProwJobs.ProwJobConfigSource?)null);
        var job = new ProwJobSpec(JobType.Periodic, "demo-periodic", "1", null, [new Refs { Org = "kubeflow", Repo = "demo", BaseRef = "master" }]);

        var e = await Assert.ThrowsAsync<RunPlanningException>(() => resolver.ResolveAsync(job, CancellationToken.None));

        Assert.Contains("'master' of kubeflow/demo", e.Message, StringComparison.Ordinal);
        Assert.Contains("403", e.Message, StringComparison.Ordinal);
        Assert.Contains("Resource not accessible by integration", e.Message, StringComparison.Ordinal);
        Assert.Single(server.Requests);
    }
}
