using Kfci.Janitor;

namespace Kfci.Tests.Janitor;

public sealed class JanitorConfigYamlTests
{
    [Fact]
    public void Parse_OnlyTheScope_RulesKeepTheirDefaults()
    {
        var config = JanitorConfigYaml.Parse(JanitorTestConfig.ScopeYaml);
        Assert.False(config.DryRun);
        Assert.False(config.GcIngress);
        Assert.Equal("kubeflow-testing", config.TestCluster);
        Assert.Equal(["kubeflow-ci"], config.Projects);
        Assert.Equal(["us-east1-d"], config.Zones);
        Assert.Empty(config.Regions);
        Assert.Equal(3, config.KeepNewest);
        Assert.Equal(new MaxAges(), config.MaxAge);
        Assert.Equal(TimeSpan.FromDays(7), config.MaxAge.Workflow);
        Assert.Equal(TimeSpan.FromMinutes(10), config.MaxAge.Errored);
        Assert.Equal(TimeSpan.FromHours(3), config.MaxAge.E2e);
        Assert.Equal(TimeSpan.FromDays(2), config.MaxAge.AutoDeploy);
        Assert.Equal(TimeSpan.FromDays(2), config.MaxAge.GcIngress);
        Assert.Equal(17, config.Types.Count);
        Assert.Equal(["kubeflow-test-infra"], config.WorkflowNamespaces);
        Assert.Equal(["argo"], config.ArgoNamespaces);
    }

    [Theory]
    [InlineData("", "projects, testCluster, zones or regions are not set")]
    [InlineData("dryRun: true", "projects, testCluster, zones or regions are not set")]
    [InlineData("projects: [p]\nzones: [z]", "testCluster is not set")]
    [InlineData("projects: [p]\ntestCluster: c", "zones or regions is not set")]
    public void Parse_WithoutScope_RefusedNamingWhatIsMissing(string yaml, string expected)
    {
        var error = Assert.Throws<JanitorConfigException>(() => JanitorConfigYaml.Parse(yaml, "janitor.yaml"));
        Assert.StartsWith($"janitor.yaml: the Janitor sweeps only what it is configured for, and {expected}", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Parse_EveryKey_Overrides()
    {
        var config = JanitorConfigYaml.Parse("""
            dryRun: true
            gcIngress: true
            testCluster: my-testing
            workflowNamespaces: [wf-a, wf-b]
            argoNamespaces: [argo-system]
            protect: ['^demo-', 'precious$']
            keepNewest: 5
            maxAge:
              workflow: 3d
              errored: 30m
              e2e: 1h30m
              autoDeploy: 1w
              gcIngress: 12h
            types: [workflow, gke-cluster]
            projects: [p1, p2]
            zones: [us-west1-a]
            regions: [us-west1]
            """);

        Assert.True(config.DryRun);
        Assert.True(config.GcIngress);
        Assert.Equal("my-testing", config.TestCluster);
        Assert.Equal(["wf-a", "wf-b"], config.WorkflowNamespaces);
        Assert.Equal(["argo-system"], config.ArgoNamespaces);
        Assert.Equal(["^demo-", "precious$"], config.Protect.Select(p => p.ToString()));
        Assert.Equal(5, config.KeepNewest);
        Assert.Equal(new MaxAges { Workflow = TimeSpan.FromDays(3), Errored = TimeSpan.FromMinutes(30), E2e = TimeSpan.FromMinutes(90), AutoDeploy = TimeSpan.FromDays(7), GcIngress = TimeSpan.FromHours(12) }, config.MaxAge);
        Assert.Equal(new HashSet<ResourceType> { ResourceType.Workflow, ResourceType.GkeCluster }, config.Types);
        Assert.Equal(["p1", "p2"], config.Projects);
        Assert.Equal(["us-west1-a"], config.Zones);
        Assert.Equal(["us-west1"], config.Regions);
    }

    [Fact]
    public void Parse_PartialMaxAge_KeepsOtherDefaults()
    {
        var config = JanitorConfigYaml.Parse(JanitorTestConfig.ScopeYaml + "maxAge: {e2e: 6h}");
        Assert.Equal(new MaxAges { E2e = TimeSpan.FromHours(6) }, config.MaxAge);
    }

    [Theory]
    [InlineData("protcet: ['^x']", "line 1: unknown key 'protcet'; the keys are dryRun,")]
    [InlineData("dryRun: yes", "line 1: dryRun: 'yes' is not a boolean; write dryRun: true or dryRun: false")]
    [InlineData("dryRun: [true]", "line 1: dryRun must be a single value, not a list")]
    [InlineData("keepNewest: -1", "line 1: keepNewest must be a whole number from 0 to 100")]
    [InlineData("keepNewest: three", "line 1: keepNewest must be a whole number")]
    [InlineData("maxAge:\n  e2e: 3", "line 2: maxAge.e2e: '3' has no unit; write e.g. 3h or 3d")]
    [InlineData("maxAge:\n  e2e: 3 hours", "line 2: maxAge.e2e: '3 hours' is not a duration; write a number and a unit")]
    [InlineData("maxAge:\n  e2e: 0m", "line 2: maxAge.e2e must be longer than 0s")]
    [InlineData("maxAge:\n  e2ee: 3h", "line 2: unknown key 'maxAge.e2ee'; the keys of maxAge are workflow, errored, e2e, autoDeploy, gcIngress")]
    [InlineData("maxAge: 3h", "line 1: maxAge must be a mapping")]
    [InlineData("protect: ['(unclosed']", "line 1: protect: '(unclosed' is not a valid regular expression")]
    [InlineData("protect: '^x'", "line 1: protect must be a list of regular expressions")]
    [InlineData("types: [workflow, vm]", "line 1: types: unknown resource type 'vm'; use any of workflow, namespace,")]
    [InlineData("types: []", "line 1: types is empty, so nothing would be swept; leave types out to sweep every type")]
    [InlineData("projects: []", "line 1: projects must name at least one")]
    [InlineData("testCluster: ''", "line 1: testCluster must not be empty")]
    [InlineData("zones: us-east1-b", "line 1: zones must be a list, e.g. zones: [a, b]")]
    [InlineData("- a\n- b", "line 1: the configuration must be a mapping")]
    [InlineData("dryRun: a: b", "line 1: not valid YAML:")]
    public void Parse_BadConfig_OneLineErrorSayingHowToFix(string yaml, string expected)
    {
        var error = Assert.Throws<JanitorConfigException>(() => JanitorConfigYaml.Parse(yaml, "janitor.yaml"));
        Assert.StartsWith($"janitor.yaml {expected}", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("10m", 600)]
    [InlineData("1h30m", 5400)]
    [InlineData("2d", 172800)]
    [InlineData("1.5h", 5400)]
    public void Durations_Parse_Examples(string text, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Durations.Parse(text));

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(45, "45s")]
    [InlineData(900, "15m")]
    [InlineData(14400, "4h")]
    [InlineData(14700, "4h5m")]
    [InlineData(187200, "2d4h")]
    [InlineData(-60, "0s")]
    public void Durations_Format_TwoLargestUnits(int seconds, string expected) =>
        Assert.Equal(expected, Durations.Format(TimeSpan.FromSeconds(seconds)));
}
