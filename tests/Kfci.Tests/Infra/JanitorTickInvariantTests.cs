namespace Kfci.Tests.Infra;

/// <summary>
/// Whether the Janitor deletes is its configuration's dryRun (var.janitor_dry_run) alone: the scheduler's tick says
/// nothing about it, and a fresh deployment only reports.
/// </summary>
[Collection(TerraformCollection.Name)]
public sealed class JanitorTickInvariantTests(TerraformFixture terraform)
{
    [Fact]
    public void Configuration_HasNoViolations() => Assert.Empty(JanitorTickIsDry(terraform.Tree));

    [Fact]
    public void JanitorTickIsDry_TickSendsDryRunFalse_ReportsIt()
    {
        var broken = terraform.ParseBroken("scheduler.tf", "base64encode(jsonencode({}))", "base64encode(jsonencode({ dryRun = false }))");

        Assert.Contains("google_cloud_scheduler_job.janitor_tick's body names dryRun; only the Janitor's configuration may decide it", JanitorTickIsDry(broken));
    }

    [Fact]
    public void JanitorTickIsDry_DeletingByDefault_ReportsIt()
    {
        var broken = terraform.ParseBroken("variables.tf", "shows it deletes only what it should.\"\n  default     = true", "shows it deletes only what it should.\"\n  default     = false");

        Assert.Contains("var.janitor_dry_run must default to true", JanitorTickIsDry(broken));
    }

    internal static IReadOnlyList<string> JanitorTickIsDry(TerraformTree tree)
    {
        var violations = new List<string>();
        var tick = tree.Resource("google_cloud_scheduler_job", "janitor_tick");
        var data = tick is null ? null : Hcl.Blocks(tick.Body, "pubsub_target").Select(target => Hcl.Attribute(target, "data")).FirstOrDefault();
        if (data is null)
        {
            violations.Add("google_cloud_scheduler_job.janitor_tick publishes no body");
        }
        else if (data.Contains("dryRun", StringComparison.OrdinalIgnoreCase))
        {
            violations.Add("google_cloud_scheduler_job.janitor_tick's body names dryRun; only the Janitor's configuration may decide it");
        }

        var dryRun = tree.Variables.FirstOrDefault(v => v.Name == "janitor_dry_run");
        if (dryRun is null || Hcl.Attribute(dryRun.Body, "default") != "true")
        {
            violations.Add("var.janitor_dry_run must default to true");
        }

        return violations;
    }
}
