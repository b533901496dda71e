using System.Text;
using Kfci.Janitor;

namespace Kfci.Tests.Janitor;

public sealed class SweepRequestTests
{
    [Theory]
    [InlineData("")]
    [InlineData("  \n")]
    [InlineData("{}")]
    public void Parse_EmptyOrEmptyObject_IsTheConfiguredSweep(string body) =>
        Assert.Equal(SweepRequest.Configured, SweepRequest.Parse(Encoding.UTF8.GetBytes(body)));

    [Fact]
    public void Apply_TickDryRunFalse_NeverOverridesConfiguredDryRun_AndMaxAgeSetsTheE2eLimit()
    {
        var request = SweepRequest.Parse("{\"dryRun\": false, \"types\": [\"gke-cluster\", \"disk\"], \"maxAgeHours\": 6}"u8);

        var config = request.Apply(JanitorTestConfig.Scoped with { DryRun = true });

        Assert.True(config.DryRun);
        Assert.False(request.Apply(JanitorTestConfig.Scoped with { DryRun = false }).DryRun);
        Assert.True(new SweepRequest(DryRun: true).Apply(JanitorTestConfig.Scoped with { DryRun = false }).DryRun);
        Assert.Equal([ResourceType.GkeCluster, ResourceType.Disk], config.Types.Order());
        Assert.Equal(TimeSpan.FromHours(6), config.MaxAge.E2e);
        Assert.True(SweepRequest.Configured.Apply(JanitorTestConfig.Scoped with { DryRun = true }).DryRun);
    }

    [Fact]
    public void Apply_TypesOutsideTheConfiguration_StayOff()
    {
        var config = new SweepRequest(Types: new HashSet<ResourceType> { ResourceType.Disk, ResourceType.Instance })
            .Apply(JanitorTestConfig.Scoped with { Types = new HashSet<ResourceType> { ResourceType.Disk } });

        Assert.Equal([ResourceType.Disk], config.Types);
    }

    [Theory]
    [InlineData("not json", "not JSON")]
    [InlineData("[1]", "JSON object")]
    [InlineData("{\"dryRun\": \"yes\"}", "dryRun")]
    [InlineData("{\"types\": [\"volcano\"]}", "unknown resource type 'volcano'")]
    [InlineData("{\"types\": []}", "no resource types")]
    [InlineData("{\"maxAgeHours\": -1}", "maxAgeHours")]
    [InlineData("{\"dryrun\": true}", "unknown field 'dryrun'")]
    public void Parse_BadBody_ThrowsOneLine(string body, string expected)
    {
        var e = Assert.Throws<SweepRequestException>(() => SweepRequest.Parse(Encoding.UTF8.GetBytes(body)));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Report_Outcome_FailedOnlyWhenNoTypeListed()
    {
        var failed = new TypeReport(ResourceType.Disk, 0, 0, 0, 0, new Dictionary<string, int>(), ["403"], 1);
        var fine = new TypeReport(ResourceType.Instance, 5, 1, 1, 0, new Dictionary<string, int> { ["unmatched"] = 4 }, [], 0);

        Assert.Equal(SweepOutcomes.Failed, new SweepReport("a", DateTimeOffset.UnixEpoch, TimeSpan.Zero, false, [failed]).Outcome);
        Assert.Equal(SweepOutcomes.Partial, new SweepReport("b", DateTimeOffset.UnixEpoch, TimeSpan.Zero, false, [fine, failed]).Outcome);
        var ok = new SweepReport("c", DateTimeOffset.UnixEpoch, TimeSpan.Zero, true, [fine]);
        Assert.Equal(SweepOutcomes.Succeeded, ok.Outcome);
        Assert.Contains("unmatched=4", ok.Summary(), StringComparison.Ordinal);
    }
}
