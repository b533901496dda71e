using Kfci.Http;
using Kfci.Janitor;
using Kfci.Janitor.Gcp;
using Kfci.Testing.Gcp;

namespace Kfci.Tests.Janitor;

/// <summary>Compute's zonal and regional disks and instance groups, as the aggregated lists return them.</summary>
public sealed class ComputeApiTests : IAsyncLifetime
{
    private static readonly DateTimeOffset s_old = DateTimeOffset.UtcNow.AddDays(-9);

    private FakeGcpServer _gcp = null!;
    private ComputeApi _compute = null!;

    private static JanitorConfig Config => JanitorTestConfig.Scoped with { Zones = ["us-east1-b"], Regions = ["us-east1"] };

    public async Task InitializeAsync()
    {
        _gcp = await FakeGcpServer.StartAsync();
        var retry = new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(2), MaxDelay = TimeSpan.FromMilliseconds(10), MaxRetries = 2 };
        var polling = new OperationPolling { Interval = TimeSpan.FromMilliseconds(5), MaxInterval = TimeSpan.FromMilliseconds(10) };
        _compute = new ComputeApi(GcpEndpoints.SingleServer(_gcp.BaseAddress).Compute.CreateClient(retry), polling);
        _gcp.Seed(
        [
            Resource(ResourceType.Disk, "kfctl-e2e-zonal", "us-east1-b"),
            Resource(ResourceType.Disk, "kfctl-e2e-regional", "us-east1"),
            Resource(ResourceType.InstanceGroup, "k8s-ig-zonal", "us-east1-b"),
            Resource(ResourceType.InstanceGroup, "k8s-ig-regional", "us-east1"),
        ]);
    }

    public async Task DisposeAsync() => await _gcp.DisposeAsync();

    [Theory]
    [InlineData(ResourceType.Disk, "kfctl-e2e")]
    [InlineData(ResourceType.InstanceGroup, "k8s-ig")]
    public async Task ListAsync_AggregatedList_ReturnsZonalAndRegionalWithTheirScopes(ResourceType type, string prefix)
    {
        var listed = await _compute.ListAsync(type, Config, default);

        Assert.Equal(
            [($"{prefix}-regional", "us-east1", "regions/us-east1"), ($"{prefix}-zonal", "us-east1-b", "zones/us-east1-b")],
            listed.Select(r => (r.Name, r.Location, r.Scope)).Order());
    }

    [Theory]
    [InlineData(ResourceType.Disk, "kfctl-e2e-regional", "/regions/us-east1/disks/kfctl-e2e-regional")]
    [InlineData(ResourceType.InstanceGroup, "k8s-ig-regional", "/regions/us-east1/instanceGroupManagers/k8s-ig-regional")]
    [InlineData(ResourceType.Disk, "kfctl-e2e-zonal", "/zones/us-east1-b/disks/kfctl-e2e-zonal")]
    public async Task DeleteAsync_ListedResource_DeletedAtItsOwnScopeNotReportedGone(ResourceType type, string name, string path)
    {
        var resource = (await _compute.ListAsync(type, Config, default)).Single(r => r.Name == name);

        Assert.True(await _compute.DeleteAsync(resource, default));

        Assert.False(_gcp.Exists(type, name, resource.Location));
        Assert.Contains(_gcp.Requests, r => r.Method == "DELETE" && r.Path.EndsWith(path, StringComparison.Ordinal) && r.Status == 200);
    }

    [Fact]
    public async Task ListAsync_RegionNotConfigured_LeavesItsRegionalDisksOut()
    {
        var listed = await _compute.ListAsync(ResourceType.Disk, Config with { Regions = ["us-central1"] }, default);

        Assert.Equal(["kfctl-e2e-zonal"], listed.Select(r => r.Name));
    }

    private static CloudResource Resource(ResourceType type, string name, string location) =>
        new(type, name) { Project = FakeGcpInventory.Project, Location = location, Created = s_old };
}
