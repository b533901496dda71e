using Kfci.Janitor;

namespace Kfci.Tests.Janitor;

public sealed class ResourceTypeTests
{
    [Fact]
    public void SweepOrder_IsTheIssuesOrderOfWireNames()
    {
        Assert.Equal(
            ["workflow", "namespace", "dm-deployment", "gke-cluster", "service-account", "instance", "forwarding-rule",
             "target-http-proxy", "target-https-proxy", "url-map", "backend-service", "health-check", "instance-group",
             "ssl-certificate", "firewall-rule", "address", "disk"],
            ResourceTypes.SweepOrder.Select(type => type.WireName()));
    }

    [Fact]
    public void TryParse_EveryWireName_RoundTrips()
    {
        foreach (var type in ResourceTypes.SweepOrder)
        {
            Assert.True(ResourceTypes.TryParse(type.WireName(), out var parsed));
            Assert.Equal(type, parsed);
        }

        Assert.False(ResourceTypes.TryParse("GKE-Cluster", out _));
        Assert.False(ResourceTypes.TryParse(null, out _));
    }
}
