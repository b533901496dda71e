using Kfci.Janitor;

namespace Kfci.Tests.Janitor;

public sealed class InventoryJsonTests
{
    [Fact]
    public void Parse_FullResource_EveryField()
    {
        var resources = InventoryJson.Parse("""
            {"resources":[{"type":"workflow","name":"kubeflow-presubmit-1","location":"kubeflow-testing","project":"kubeflow-ci",
              "created":"2024-05-01T10:00:00.5-07:00","firstSeen":null,"labels":{"kfci-janitor":"keep"},"status":"Running",
              "error":false,"namespace":"kubeflow-test-infra","startedAt":"2024-05-01T17:01:00Z"}]}
            """);

        var workflow = Assert.Single(resources);
        Assert.Equal(ResourceType.Workflow, workflow.Type);
        Assert.Equal("kubeflow-presubmit-1", workflow.Name);
        Assert.Equal("kubeflow-testing", workflow.Location);
        Assert.Equal("kubeflow-ci", workflow.Project);
        Assert.Equal(new DateTimeOffset(2024, 5, 1, 17, 0, 0, 500, TimeSpan.Zero), workflow.Created);
        Assert.Null(workflow.FirstSeen);
        Assert.True(workflow.HasLabel("kfci-janitor", "keep"));
        Assert.Equal("Running", workflow.Status);
        Assert.False(workflow.Error);
        Assert.Equal("kubeflow-test-infra", workflow.Namespace);
        Assert.Equal(new DateTimeOffset(2024, 5, 1, 17, 1, 0, TimeSpan.Zero), workflow.StartedAt);
    }

    [Fact]
    public void Parse_MinimalResource_Defaults()
    {
        var disk = Assert.Single(InventoryJson.Parse("""{"resources":[{"type":"disk","name":"d"}]}"""));
        Assert.Equal(new CloudResource(ResourceType.Disk, "d") { Labels = disk.Labels }, disk);
        Assert.Empty(disk.Labels);
        Assert.Equal("", disk.Location);
    }

    [Fact]
    public void Write_ThenParse_SameResources()
    {
        CloudResource[] resources =
        [
            new(ResourceType.GkeCluster, "e2e-1") { Location = "us-east1-d", Project = "p", Created = new DateTimeOffset(2024, 5, 1, 1, 2, 3, 456, TimeSpan.Zero), Status = "ERROR", Labels = new Dictionary<string, string> { ["a"] = "b" } },
            new(ResourceType.DmDeployment, "kfctl-1") { Error = true, FirstSeen = new DateTimeOffset(2024, 5, 1, 0, 0, 0, TimeSpan.Zero) },
            new(ResourceType.Workflow, "w") { Namespace = "ns", StartedAt = new DateTimeOffset(2024, 5, 1, 0, 0, 0, TimeSpan.FromHours(2)) },
        ];

        var parsed = InventoryJson.Parse(InventoryJson.Write(resources));

        Assert.Equal(resources.Length, parsed.Count);
        for (var i = 0; i < resources.Length; i++)
        {
            Assert.Equal(resources[i] with { Labels = parsed[i].Labels }, parsed[i]);
            Assert.Equal(resources[i].Labels, parsed[i].Labels);
        }
    }

    [Theory]
    [InlineData("""{"resources":[{"type":"vm","name":"x"}]}""", "resources[0] (x): unknown type \"vm\" (one of workflow, namespace,")]
    [InlineData("""{"resources":[{"name":"x"}]}""", "resources[0] (x): missing type")]
    [InlineData("""{"resources":[{"type":"disk","name":"a"},{"type":"disk"}]}""", "resources[1]: missing name")]
    [InlineData("""{"resources":[{"type":"disk","name":""}]}""", "resources[0]: missing name")]
    [InlineData("""{"resources":[{"type":"disk","name":7}]}""", "resources[0]: name must be a string, not 7")]
    [InlineData("""{"resources":[{"type":"disk","name":"d","created":"yesterday"}]}""", "resources[0] (d): created: 'yesterday' is not an RFC 3339 timestamp")]
    [InlineData("""{"resources":[{"type":"disk","name":"d","created":"2024-05-01T10:00:00"}]}""", "resources[0] (d): created: '2024-05-01T10:00:00' is not an RFC 3339")]
    [InlineData("""{"resources":[{"type":"disk","name":"d","startedAt":"2024-13-01T10:00:00Z"}]}""", "resources[0] (d): startedAt:")]
    [InlineData("""{"resources":[{"type":"disk","name":"d","lables":{"kfci-janitor":"keep"}}]}""", "resources[0] (d): unknown field \"lables\"")]
    [InlineData("""{"resources":[{"type":"disk","name":"d","labels":{"a":1}}]}""", "resources[0] (d): labels.a must be a string, not 1")]
    [InlineData("""{"resources":[{"type":"disk","name":"d","labels":[]}]}""", "resources[0] (d): labels must be an object of strings, not an array")]
    [InlineData("""{"resources":[{"type":"disk","name":"d","error":"yes"}]}""", "resources[0] (d): error must be true or false, not \"yes\"")]
    [InlineData("""{"resources":[42]}""", "resources[0]: must be an object, not number")]
    [InlineData("""{"items":[]}""", "inventory must be a JSON object with a \"resources\" array")]
    [InlineData("""[]""", "inventory must be a JSON object")]
    [InlineData("""{"resources":[""", "inventory is not valid JSON:")]
    public void Parse_BadInput_OneLineErrorNamingTheProblem(string json, string expected)
    {
        var error = Assert.Throws<InventoryFormatException>(() => InventoryJson.Parse(json));
        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }
}
