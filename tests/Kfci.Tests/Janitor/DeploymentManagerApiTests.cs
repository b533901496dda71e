using Kfci.Http;
using Kfci.Janitor;
using Kfci.Janitor.Gcp;
using Kfci.Testing.Gcp;
using Kfci.Testing.Gcs;

namespace Kfci.Tests.Janitor;

/// <summary>Deployment Manager after its end of support: swept where it answers, reported unavailable where it does not.</summary>
public sealed class DeploymentManagerApiTests : IAsyncLifetime
{
    private FakeGcpServer _gcp = null!;
    private DeploymentManagerApi _dm = null!;

    public async Task InitializeAsync()
    {
        _gcp = await FakeGcpServer.StartAsync();
        var retry = new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(2), MaxDelay = TimeSpan.FromMilliseconds(10), MaxRetries = 2 };
        _dm = new DeploymentManagerApi(GcpEndpoints.SingleServer(_gcp.BaseAddress).DeploymentManager.CreateClient(retry));
        _gcp.Seed([new CloudResource(ResourceType.DmDeployment, "kfctl-e2e-dm") { Project = FakeGcpInventory.Project, Location = "global", Created = DateTimeOffset.UtcNow.AddDays(-3) }]);
    }

    public async Task DisposeAsync() => await _gcp.DisposeAsync();

    [Fact]
    public async Task ListAsync_ApiAnswers_ListsDeployments()
    {
        var listed = await _dm.ListAsync(ResourceType.DmDeployment, JanitorTestConfig.Scoped, default);

        Assert.Equal(["kfctl-e2e-dm"], listed.Select(r => r.Name));
    }

    [Fact]
    public async Task ListAsync_ApiDisabled_ThrowsApiUnavailable()
    {
        _gcp.DisabledApis["deploymentmanager"] = true;

        var error = await Assert.ThrowsAsync<ApiUnavailableException>(() => _dm.ListAsync(ResourceType.DmDeployment, JanitorTestConfig.Scoped, default));

        Assert.Equal("deploymentmanager", error.Api);
    }

    [Fact]
    public async Task ListAsync_ApiRetired404_ThrowsApiUnavailable()
    {
        _gcp.Faults.Enqueue(new Fault(r => r.Path.Value!.StartsWith("/deploymentmanager/", StringComparison.Ordinal), status: 404));

        await Assert.ThrowsAsync<ApiUnavailableException>(() => _dm.ListAsync(ResourceType.DmDeployment, JanitorTestConfig.Scoped, default));
    }
}
