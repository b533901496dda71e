using System.Net;
using Kfci.Janitor;
using Kfci.Testing;
using Kfci.Testing.Gcs;
using Kfci.Testing.Hosting;
using Kfci.Testing.Kubernetes;
using Kfci.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Kfci.Tests.Janitor;

[Collection(EmulatorCollection.Name)]
public sealed class SweepTests(EmulatorFixture emulators)
{
    [Fact]
    public async Task Sweep_WithFaultsAndDeploymentManagerDisabled_DeletesExactlyThePlanInOrderAndSkipsDeploymentManager()
    {
        await using var rig = await SweepRig.StartAsync(emulators);
        rig.Gcp.DisabledApis["deploymentmanager"] = true;
        rig.Gcp.Faults.Enqueue(new Fault(r => r.Path.Value!.EndsWith("/aggregated/instances", StringComparison.Ordinal), status: 429, count: 2));
        rig.Gcp.Faults.Enqueue(new Fault(r => r.Method == "DELETE" && r.Path.Value!.Contains("/firewalls/", StringComparison.Ordinal), status: 500, count: 3));

        var report = await rig.Sweeper.SweepAsync("s1", SweepRig.Config, CancellationToken.None);

        var expected = rig.ExpectedPlan(SweepRig.Config, ResourceType.DmDeployment).Where(d => d.Action == JanitorAction.Delete).Select(d => d.Resource).ToList();
        var expectedGcp = expected.Where(r => r.Type is not (ResourceType.Workflow or ResourceType.Namespace)).Select(r => (r.Type, r.Name, r.Location)).Order().ToList();
        Assert.True(expectedGcp.Count > 50, $"the inventory should make the plan delete plenty, not {expectedGcp.Count}");
        Assert.Equal(expectedGcp, rig.Gcp.Deleted.Order().ToList());
        Assert.Equal(expected.Select(r => (r.Type, r.Name, r.Location)).Order().ToList(), await PlanWithCliAsync(rig, ResourceType.DmDeployment));
        Assert.Equal(2, rig.Gcp.Requests.Count(r => r.Status == 429));
        Assert.Equal(3, rig.Gcp.Requests.Count(r => r.Status == 500));
        Assert.Equal(rig.Gcp.Deleted.Select(d => d.Type).Order().ToList(), rig.Gcp.Deleted.Select(d => d.Type).ToList());
        foreach (var workflow in rig.Inventory.Where(r => r.Type == ResourceType.Workflow))
        {
            var gone = rig.Kubernetes.Get(FakeResource.Workflows, workflow.Namespace!, workflow.Name) is null;
            Assert.Equal(expected.Contains(workflow), gone);
        }

        // Deployment Manager is past its end of support: a disabled API is a skipped type, not a failed sweep.
        Assert.Equal(SweepOutcomes.Succeeded, report.Outcome);
        var dm = report.Types.Single(t => t.Type == ResourceType.DmDeployment);
        Assert.StartsWith("skipped: API unavailable", dm.Skipped, StringComparison.Ordinal);
        Assert.Contains("not been used", dm.Skipped, StringComparison.Ordinal);
        Assert.Empty(dm.Errors);
        Assert.Equal(expected.Count, report.Deleted);
        Assert.All(report.Types, t => Assert.Equal(0, t.ErrorCount));
        Assert.Contains(rig.Logs.Entries, e => e.Message.StartsWith("sweep.finished s1 succeeded", StringComparison.Ordinal) && e.Message.Contains("skipped: API unavailable", StringComparison.Ordinal));

        var stored = await rig.Firestore.GetAsync("sweeps/s1");
        Assert.NotNull(stored);
        Assert.Equal("succeeded", stored.Get<string>("outcome"));
        Assert.StartsWith("skipped: API unavailable", stored.Get<string>("types.dm-deployment.skipped"), StringComparison.Ordinal);
        Assert.Equal((long)report.Deleted, stored.Get<long>("deleted"));
        Assert.Equal((long)dm.ErrorCount, stored.Get<long>("types.dm-deployment.errorCount"));
    }

    /// <summary>The deletes <c>kfci janitor plan --format json</c> decides on the rig's inventory at the sweep's clock.</summary>
    private static async Task<List<(ResourceType Type, string Name, string Location)>> PlanWithCliAsync(SweepRig rig, params ResourceType[] unlisted)
    {
        var file = Path.Combine(Path.GetTempPath(), $"kfci-sweep-inventory-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, InventoryJson.Write(rig.Inventory.Where(r => !unlisted.Contains(r.Type))));
        try
        {
            var root = new System.CommandLine.RootCommand();
            root.Subcommands.Add(Kfci.Cli.Commands.JanitorCommands.Create());
            using var output = new StringWriter();
            var now = Rfc3339.Format(rig.Clock.GetUtcNow());
            Assert.Equal(0, await root.Parse(["janitor", "plan", "--inventory", file, "--now", now, "--format", "json"]).InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = output }));
            using var plan = System.Text.Json.JsonDocument.Parse(output.ToString());
            return [.. plan.RootElement.GetProperty("decisions").EnumerateArray()
                .Where(d => d.GetProperty("action").GetString() == "delete")
                .Select(d => (ResourceTypes.TryParse(d.GetProperty("type").GetString(), out var type) ? type : throw new InvalidDataException("type"), d.GetProperty("name").GetString()!, d.GetProperty("location").GetString()!))
                .Order()];
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Sweep_DryRun_DeletesNothingAndPlansTheSame()
    {
        await using var rig = await SweepRig.StartAsync(emulators, count: 200);
        var before = rig.Gcp.Count;

        var report = await rig.Sweeper.SweepAsync("dry", SweepRig.Config with { DryRun = true }, CancellationToken.None);

        Assert.Equal(before, rig.Gcp.Count);
        Assert.DoesNotContain(rig.Gcp.Requests, r => r.Method == "DELETE");
        Assert.DoesNotContain(rig.Kubernetes.Requests, r => r.Method == "DELETE");
        Assert.Equal(0, report.Deleted);
        Assert.Equal(rig.ExpectedPlan(SweepRig.Config).Count(d => d.Action == JanitorAction.Delete), report.Planned);
        Assert.Equal(SweepOutcomes.Succeeded, report.Outcome);
        Assert.True((await rig.Firestore.GetAsync("sweeps/dry"))!.Get<bool>("dryRun"));
    }

    [Fact]
    public async Task Sweep_ServiceAccounts_AgeFromFirstSightingInLeaks()
    {
        await using var rig = await SweepRig.StartAsync(emulators, count: 200);
        var config = SweepRig.Config with { Types = new HashSet<ResourceType> { ResourceType.ServiceAccount } };
        var accounts = rig.Inventory.Where(r => r.Type == ResourceType.ServiceAccount).ToList();
        var unseen = accounts.First(a => a.FirstSeen is null && a.Name.StartsWith("kfctl-e2e-", StringComparison.Ordinal));

        await rig.Sweeper.SweepAsync("sa", config, CancellationToken.None);

        var expected = rig.ExpectedPlan(config).Where(d => d.Action == JanitorAction.Delete).Select(d => d.Resource.Name).Order().ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, rig.Gcp.Deleted.Select(d => d.Name).Order().ToList());
        Assert.True(rig.Gcp.Exists(ResourceType.ServiceAccount, unseen.Name, "global"), "an e2e account never seen before is young, so kept");
        var leak = await rig.Firestore.GetAsync(FirestoreSweepStore.LeakPath(unseen));
        Assert.NotNull(leak);
        Assert.Equal(unseen.Key, leak.Get<string>("key"));
    }

    [Fact]
    public async Task Sweep_ResourceGone_ItsFirstSightingIsPruned_AFailedListingPrunesNothing()
    {
        await using var rig = await SweepRig.StartAsync(emulators, count: 200);
        var config = SweepRig.Config with { Types = new HashSet<ResourceType> { ResourceType.ServiceAccount } };
        var gone = new CloudResource(ResourceType.ServiceAccount, "kfctl-e2e-gone@kubeflow-ci.iam.gserviceaccount.com") { Project = "kubeflow-ci", Location = "global" };
        await rig.Firestore.CreateIfAbsentAsync(FirestoreSweepStore.LeakPath(gone), new Dictionary<string, object?> { ["key"] = gone.Key, ["type"] = "service-account", ["firstSeen"] = rig.Clock.GetUtcNow() });
        var present = rig.Inventory.First(r => r.Type == ResourceType.ServiceAccount && r.FirstSeen is not null);

        rig.Gcp.DisabledApis["iam"] = true;
        await rig.Sweeper.SweepAsync("failed-listing", config with { DryRun = true }, CancellationToken.None);
        Assert.NotNull(await rig.Firestore.GetAsync(FirestoreSweepStore.LeakPath(gone)));

        rig.Gcp.DisabledApis.TryRemove("iam", out _);
        await rig.Sweeper.SweepAsync("listed", config with { DryRun = true }, CancellationToken.None);

        Assert.Null(await rig.Firestore.GetAsync(FirestoreSweepStore.LeakPath(gone)));
        Assert.NotNull(await rig.Firestore.GetAsync(FirestoreSweepStore.LeakPath(present)));
    }

    [Fact]
    public async Task Run_WhileAnotherSweepHoldsTheLease_StepsAside_AndARedeliveredIdDoesNothing()
    {
        await using var rig = await SweepRig.StartAsync(emulators, count: 60);
        Assert.True(await rig.Store.TryAcquireLeaseAsync("other", rig.Clock.GetUtcNow(), TimeSpan.FromMinutes(5), CancellationToken.None));

        Assert.Null(await rig.Runner.RunAsync("mine", SweepRig.Config, CancellationToken.None));
        Assert.Empty(rig.Gcp.Deleted);

        await rig.Store.ReleaseLeaseAsync("other", CancellationToken.None);
        Assert.NotNull(await rig.Runner.RunAsync("mine", SweepRig.Config, CancellationToken.None));
        var deleted = rig.Gcp.Deleted.Count;
        Assert.Contains(rig.Gcp.Requests, r => r.Method == "DELETE" && r.Path.Contains("/deployments/", StringComparison.Ordinal) && r.Query == "deletePolicy=DELETE");
        Assert.Null(await rig.Runner.RunAsync("mine", SweepRig.Config, CancellationToken.None));
        Assert.Equal(deleted, rig.Gcp.Deleted.Count);
    }

    [Fact]
    public async Task Sweep_FailedDeleteOperation_IsReportedAndTheRestGoOn()
    {
        await using var rig = await SweepRig.StartAsync(emulators, count: 200);
        rig.Gcp.FailDelete = (type, _) => type == ResourceType.Disk;
        var config = SweepRig.Config with { Types = new HashSet<ResourceType> { ResourceType.Disk, ResourceType.Instance } };

        var report = await rig.Sweeper.SweepAsync("opfail", config, CancellationToken.None);

        var disks = report.Types.Single(t => t.Type == ResourceType.Disk);
        Assert.True(disks.Planned > 0);
        Assert.Equal(disks.Planned, disks.ErrorCount);
        Assert.Contains("already being used", disks.Errors[0], StringComparison.Ordinal);
        Assert.Equal(report.Types.Single(t => t.Type == ResourceType.Instance).Planned, report.Deleted);
        Assert.Equal(SweepOutcomes.Partial, report.Outcome);
    }

    [Fact]
    public async Task AddJanitor_FromTheEnvironment_SweepsTheFakesItIsPointedAt()
    {
        await using var rig = await SweepRig.StartAsync(emulators, count: 60);
        var configFile = Path.Combine(Path.GetTempPath(), $"kfci-janitor-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(configFile, "projects: [kubeflow-ci]\ntestCluster: kubeflow-testing\nzones: [us-east1-b, us-east1-c, us-east1-d, us-central1-a]\nregions: [us-east1, us-central1]\n");
        var env = new Dictionary<string, string>
        {
            [Kfci.Configuration.KfciEnvironment.Project] = rig.Firestore.ProjectId,
            [emulators.Firestore.HostVariable] = emulators.Firestore.HostPort,
            [Kfci.Configuration.KfciEnvironment.ClusterEndpoint] = rig.Kubernetes.BaseAddress.ToString(),
            [Kfci.Configuration.KfciEnvironment.GcpApiEndpoint] = rig.Gcp.BaseAddress.ToString(),
            [Kfci.Configuration.KfciEnvironment.JanitorConfig] = configFile,
        };
        Func<string, string?> getEnv = name => env.GetValueOrDefault(name);
        await using var services = new ServiceCollection().AddLogging().AddKfciAdapters(getEnv).AddJanitor(getEnv).BuildServiceProvider();

        var report = await services.GetRequiredService<SweepRunner>().RunAsync("wired", services.GetRequiredService<JanitorConfig>() with { DryRun = true }, CancellationToken.None);

        Assert.NotNull(report);
        Assert.Equal(SweepOutcomes.Succeeded, report.Outcome);
        Assert.Equal(rig.Inventory.Count(r => r.Type is not (ResourceType.Workflow or ResourceType.Namespace)), report.Types.Where(t => t.Type is not (ResourceType.Workflow or ResourceType.Namespace)).Sum(t => t.Listed));
        Assert.True(report.Types.Single(t => t.Type == ResourceType.Workflow).Listed > 0);
        Assert.NotNull(await rig.Firestore.GetAsync("sweeps/wired"));
    }

    [Fact]
    public async Task Function_DryRunTick_SweepsAndReports_BadBodyIsRejected()
    {
        await using var rig = await SweepRig.StartAsync(emulators, count: 60);
        await using var host = await FunctionTestHost.StartAsync<Kfci.Functions.Janitor.Function>(configure: builder =>
        {
            builder.Services.AddSingleton(rig.Runner);
            builder.Services.AddSingleton(SweepRig.Config);
        });

        using var ok = await host.PushAsync("{\"dryRun\": true, \"types\": [\"instance\", \"disk\"]}", messageId: "tick-1");
        using var bad = await host.PushAsync("{\"types\": [\"volcano\"]}", messageId: "tick-2");

        Assert.True(ok.IsSuccessStatusCode, $"{ok.StatusCode}");
        Assert.Empty(rig.Gcp.Deleted);
        var reports = rig.Logs.Entries.Where(e => e.Message.StartsWith("sweep.finished", StringComparison.Ordinal)).ToList();
        var report = Assert.Single(reports);
        Assert.Contains("dryRun=True", report.Message, StringComparison.Ordinal);
        Assert.Contains("disk", report.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("gke-cluster", report.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, bad.StatusCode);
        Assert.Contains("unknown resource type 'volcano'", Assert.Single(host.Rejections.Recorded).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Function_TickSaysDryRunFalse_ConfiguredDryRunStill_DeletesNothing()
    {
        // Before: the scheduler sent {"dryRun": false} every tick and it won over the configuration's dryRun: true.
        await using var rig = await SweepRig.StartAsync(emulators, count: 60);
        await using var host = await FunctionTestHost.StartAsync<Kfci.Functions.Janitor.Function>(configure: builder =>
        {
            builder.Services.AddSingleton(rig.Runner);
            builder.Services.AddSingleton(SweepRig.Config with { DryRun = true });
        });
        Assert.Contains(rig.ExpectedPlan(SweepRig.Config), d => d.Action == JanitorAction.Delete);

        using var tick = await host.PushAsync("{\"dryRun\": false}", messageId: "tick-wet");

        Assert.True(tick.IsSuccessStatusCode, $"{tick.StatusCode}");
        Assert.Empty(rig.Gcp.Deleted);
        Assert.DoesNotContain(rig.Kubernetes.Requests, r => r.Method == "DELETE");
        Assert.Contains("dryRun=True", Assert.Single(rig.Logs.Entries, e => e.Message.StartsWith("sweep.finished", StringComparison.Ordinal)).Message, StringComparison.Ordinal);
    }
}
