using System.CommandLine;
using System.Text.Json;
using Kfci.Cli.Commands;
using Kfci.Janitor;

namespace Kfci.Tests.Janitor;

public sealed class JanitorCliTests : IDisposable
{
    private const string Now = "2024-09-25T12:00:00Z";
    private readonly string _directory = Directory.CreateTempSubdirectory("kfci-janitor-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static readonly CloudResource[] s_inventory =
    [
        new(ResourceType.Disk, "e2e-disk") { Location = "us-east1-d", Created = DateTimeOffset.Parse("2024-09-25T06:00:00Z", System.Globalization.CultureInfo.InvariantCulture) },
        new(ResourceType.GkeCluster, "kf-vmaster-n01") { Location = "us-east1-d", Created = DateTimeOffset.Parse("2024-06-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture) },
        new(ResourceType.Workflow, "kubeflow-presubmit-1") { Namespace = "kubeflow-test-infra", StartedAt = DateTimeOffset.Parse("2024-09-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture) },
        new(ResourceType.DmDeployment, "kf-vmaster-n00") { Created = DateTimeOffset.Parse("2024-09-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture) },
        new(ResourceType.DmDeployment, "kf-vmaster-n01") { Created = DateTimeOffset.Parse("2024-08-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture) },
        new(ResourceType.ServiceAccount, "someone@p.iam.gserviceaccount.com"),
    ];

    private string WriteFile(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var root = new RootCommand();
        root.Subcommands.Add(JanitorCommands.Create());
        root.Subcommands.Add(PoolCommand.Create());
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("volcano", "--types: unknown resource type 'volcano'")]
    [InlineData(",", "--types: no resource types given")]
    public async Task JanitorSweep_BadTypes_ExitTwoWithOneLine(string types, string expected)
    {
        var (exit, _, stderr) = await RunAsync("janitor", "sweep", "--dry-run", "--types", types);

        Assert.Equal(2, exit);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JanitorPlan_Json_ExactContractOneDecisionPerResourceInSweepOrder()
    {
        var inventory = WriteFile("inventory.json", InventoryJson.Write(s_inventory));

        var (exit, stdout, stderr) = await RunAsync("janitor", "plan", "--inventory", inventory, "--now", Now, "--format", "json");

        Assert.True(exit == 0, stderr);
        using var document = JsonDocument.Parse(stdout);
        Assert.Equal(["decisions"], document.RootElement.EnumerateObject().Select(p => p.Name));
        var decisions = document.RootElement.GetProperty("decisions").EnumerateArray().ToList();
        Assert.All(decisions, d => Assert.Equal(["type", "name", "location", "action", "rule", "reason"], d.EnumerateObject().Select(p => p.Name)));
        Assert.Equal(
            [
                "workflow kubeflow-presubmit-1 delete workflow-age",
                "dm-deployment kf-vmaster-n00 keep protected",
                "dm-deployment kf-vmaster-n01 keep protected",
                "gke-cluster kf-vmaster-n01 keep protected",
                "service-account someone@p.iam.gserviceaccount.com keep unmatched",
                "disk e2e-disk delete e2e-age",
            ],
            decisions.Select(d => $"{d.GetProperty("type").GetString()} {d.GetProperty("name").GetString()} {d.GetProperty("action").GetString()} {d.GetProperty("rule").GetString()}"));
        Assert.Equal("us-east1-d", decisions[5].GetProperty("location").GetString());
        Assert.Contains("created 6h ago, over the 3h limit", decisions[5].GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task JanitorPlan_TableByDefault_WithSummary()
    {
        var inventory = WriteFile("inventory.json", InventoryJson.Write(s_inventory));

        var (exit, stdout, _) = await RunAsync("janitor", "plan", "--inventory", inventory, "--now", Now);

        Assert.Equal(0, exit);
        var lines = stdout.TrimEnd().Split('\n');
        Assert.StartsWith("ACTION  RULE", lines[0], StringComparison.Ordinal);
        Assert.Equal(s_inventory.Length + 2, lines.Length);
        Assert.Equal("6 resources: 2 to delete, 4 to keep", lines[^1]);
    }

    [Fact]
    public async Task JanitorPlan_Config_Applied()
    {
        var inventory = WriteFile("inventory.json", InventoryJson.Write(s_inventory));
        var config = WriteFile("janitor.yaml", JanitorTestConfig.ScopeYaml + "maxAge: {e2e: 12h}\nprotect: ['^someone@']");

        var (exit, stdout, _) = await RunAsync("janitor", "plan", "--inventory", inventory, "--config", config, "--now", Now, "--format", "json");

        Assert.Equal(0, exit);
        using var document = JsonDocument.Parse(stdout);
        var rules = document.RootElement.GetProperty("decisions").EnumerateArray()
            .ToDictionary(d => $"{d.GetProperty("type").GetString()}/{d.GetProperty("name").GetString()}", d => $"{d.GetProperty("action").GetString()}/{d.GetProperty("rule").GetString()}");
        Assert.Equal("keep/e2e-age", rules["disk/e2e-disk"]);
        Assert.Equal("keep/protected", rules["service-account/someone@p.iam.gserviceaccount.com"]);
    }

    [Theory]
    [InlineData("janitor plan", "kfci: --inventory FILE is required")]
    [InlineData("janitor plan --inventory {dir}/missing.json", "kfci: Could not find file")]
    [InlineData("janitor plan --inventory {dir}/bad.json", "kfci: resources[0] (x): unknown type \"vm\"")]
    [InlineData("janitor plan --inventory {dir}/good.json --now tomorrow", "kfci: --now: 'tomorrow' is not an RFC 3339 timestamp")]
    [InlineData("janitor plan --inventory {dir}/good.json --format xml", "kfci: --format xml: use table or json")]
    [InlineData("janitor plan --inventory {dir}/good.json --config {dir}/bad.yaml", "kfci: {dir}/bad.yaml line 1: unknown key 'dryrun'")]
    [InlineData("pool next --base kf-vmaster", "kfci: --inventory FILE is required")]
    [InlineData("pool next --base kf-v1.2 --inventory {dir}/good.json", "kfci: pool base 'kf-v1.2' is not a valid deployment name prefix")]
    [InlineData("pool next --base kf-vmaster --size five --inventory {dir}/good.json", "kfci: --size five: not a whole number")]
    public async Task Commands_BadInput_OneLineOnStderrExit2(string commandLine, string expected)
    {
        WriteFile("bad.json", """{"resources":[{"type":"vm","name":"x"}]}""");
        WriteFile("good.json", """{"resources":[]}""");
        WriteFile("bad.yaml", "dryrun: true");

        var (exit, stdout, stderr) = await RunAsync(commandLine.Replace("{dir}", _directory, StringComparison.Ordinal).Split(' '));

        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.StartsWith(expected.Replace("{dir}", _directory, StringComparison.Ordinal), stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task PoolNext_FromInventory_NamesSlotOnStdoutReasonOnStderr()
    {
        var inventory = WriteFile("inventory.json", InventoryJson.Write(s_inventory));

        var free = await RunAsync("pool", "next", "--base", "kf-vmaster", "--size", "5", "--inventory", inventory);
        var full = await RunAsync("pool", "next", "--base", "kf-vmaster", "--size", "2", "--inventory", inventory);

        Assert.Equal((0, "kf-vmaster-n02\n"), (free.Exit, free.Out));
        Assert.Contains("lowest free slot", free.Err, StringComparison.Ordinal);
        Assert.Equal((0, "kf-vmaster-n01\n"), (full.Exit, full.Out));
        Assert.Contains("all 2 slots are taken", full.Err, StringComparison.Ordinal);
    }
}
