using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml;
using Kfci.Functions.Uploader;
using Kfci.Prow;
using Kfci.Runs;
using Kfci.Testing;
using YamlDotNet.Serialization;

namespace Kfci.Tests.Uploader;

/// <summary>The Uploader's pure parts on real Argo workflow objects and hand-made reports: no I/O.</summary>
public sealed class UploaderFormatTests
{
    [Fact]
    public void Read_NodesCompressedByArgo_SameStepsAsUncompressed()
    {
        var workflow = LoadYaml("argo/workflows/retry-omit.failed.yaml");
        var compressed = (JsonObject)workflow.DeepClone();
        var status = (JsonObject)compressed["status"]!;
        using (var buffer = new MemoryStream())
        {
            using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            {
                gzip.Write(Encoding.UTF8.GetBytes(status["nodes"]!.ToJsonString()));
            }

            status["compressedNodes"] = Convert.ToBase64String(buffer.ToArray());
        }

        status.Remove("nodes");

        Assert.Equal(WorkflowSteps.Read(workflow).Select(s => (s.NodeId, s.Phase)), WorkflowSteps.Read(compressed).Select(s => (s.NodeId, s.Phase)));
        Assert.NotEmpty(WorkflowSteps.Read(compressed));
    }

    [Fact]
    public void Read_FailedDagWorkflow_PodNodesInStartOrderWithArgoPodNames()
    {
        var workflow = LoadYaml("argo/workflows/retry-omit.failed.yaml");

        var steps = WorkflowSteps.Read(workflow);

        Assert.Equal(["A", "B", "C", "should-execute-1", "should-execute-2", "should-execute-3"], steps.Select(s => s.DisplayName).Order(StringComparer.Ordinal));
        Assert.Equal("A", steps[0].DisplayName);
        Assert.True(steps.Zip(steps.Skip(1)).All(p => p.First.StartedAt <= p.Second.StartedAt));
        var c = steps.Single(s => s.DisplayName == "C");
        Assert.Equal(("Failed", "failed with exit code 1"), (c.Phase, c.Message));
        // Argo's node id is <workflow>-<fnv32a(node name)>, and a v2 pod name ends with the same hash.
        Assert.Equal($"dag-diamond-8q7vp-{WorkflowSteps.Fnv32a("dag-diamond-8q7vp.C")}", c.NodeId);
        Assert.Equal($"dag-diamond-8q7vp-fail-{WorkflowSteps.Fnv32a("dag-diamond-8q7vp.C")}", c.PodName);
    }

    [Fact]
    public void Read_PodNameFormatV1_PodIsTheNodeId()
    {
        var workflow = LoadYaml("argo/workflows/retry-omit.failed.yaml");
        workflow["metadata"]!["annotations"] = new JsonObject { [WorkflowSteps.PodNameFormatAnnotation] = "v1" };

        Assert.All(WorkflowSteps.Read(workflow), s => Assert.Equal(s.NodeId, s.PodName));
    }

    [Fact]
    public void Read_RecursiveWorkflowReusingDisplayNames_GivesEveryStepItsOwnFile()
    {
        var workflow = (JsonObject)JsonNode.Parse(File.ReadAllText(Fixtures.PathOf("argo/workflows/kfp-coinflip.succeeded.json")))!;

        var steps = WorkflowSteps.Read(workflow);

        Assert.True(steps.Count(s => s.DisplayName == "flip-coin") > 1);
        Assert.Equal(steps.Count, steps.Select(s => s.FileName).Distinct(StringComparer.Ordinal).Count());
        Assert.All(steps, s => Assert.Matches("^[A-Za-z0-9._-]+$", s.FileName));
        Assert.Equal(steps.Select(s => s.FileName), WorkflowSteps.Read(workflow).Select(s => s.FileName));
    }

    [Fact]
    public void Read_WorkflowWithoutStatus_HasNoSteps() =>
        Assert.Empty(WorkflowSteps.Read(new JsonObject { ["metadata"] = new JsonObject { ["name"] = "wf" } }));

    [Theory]
    [InlineData("""<testsuite failures="1" tests="7"><testcase name="a"><failure>x</failure></testcase></testsuite>""", 1)]
    [InlineData("""<testsuite failures="0" errors="2" tests="2"><testcase name="a"/></testsuite>""", 2)]
    [InlineData("""<testsuites><testsuite failures="1"/><testsuite errors="1"/></testsuites>""", 2)]
    [InlineData("""<testsuites failures="0"><testsuite><testcase name="a"><error/></testcase></testsuite></testsuites>""", 1)]
    [InlineData("""<testsuite tests="3"><testcase name="a"/></testsuite>""", 0)]
    public async Task CountFailuresAsync_CountsFailuresAndErrors(string xml, int expected)
    {
        using var report = new MemoryStream(Encoding.UTF8.GetBytes(xml));
        Assert.Equal(expected, await Junit.CountFailuresAsync(report, default));
    }

    [Fact]
    public async Task CountFailuresAsync_RealProwReport_CountsItsFailure()
    {
        await using var report = File.OpenRead(Fixtures.PathOf("prow/junit_runner.xml"));
        Assert.Equal(1, await Junit.CountFailuresAsync(report, default));
    }

    [Fact]
    public async Task CountFailuresAsync_DoctypeEntityBomb_IsRefused()
    {
        using var report = new MemoryStream("""<!DOCTYPE x [<!ENTITY a "aaaa">]><testsuite>&a;</testsuite>"""u8.ToArray());
        await Assert.ThrowsAsync<XmlException>(() => Junit.CountFailuresAsync(report, default));
    }

    [Fact]
    public async Task WriteAsync_Synthesized_IsJunitThatCountsItsOwnFailures()
    {
        var steps = WorkflowSteps.Read(LoadYaml("argo/workflows/dag-disable-fail-fast.failed.yaml"));
        using var output = new MemoryStream();

        await Junit.WriteAsync(output, "dag-disable-fail-fast", "dag-disable-fail-fast-r6xdc", steps, new Dictionary<string, string> { [steps[0].NodeId] = "pod gone" });

        output.Position = 0;
        var xml = new XmlDocument();
        xml.Load(output);
        Assert.Equal(steps.Count, xml.SelectNodes("/testsuite/testcase")!.Count);
        Assert.Equal(2, xml.SelectNodes("//failure")!.Count);
        Assert.Equal("failed with exit code 2", xml.SelectSingleNode("//failure/@message")!.Value);
        Assert.Equal("log unavailable: pod gone", xml.SelectSingleNode("//system-out")!.InnerText);
        output.Position = 0;
        Assert.Equal(2, await Junit.CountFailuresAsync(output, default));
    }

    [Fact]
    public void YamlText_RoundTripsAWorkflowObject()
    {
        var workflow = (JsonObject)JsonNode.Parse(File.ReadAllText(Fixtures.PathOf("argo/workflows/kfp-xgboost.succeeded.json")))!;
        workflow["metadata"]!["labels"] = new JsonObject { ["quoted"] = "true", ["number"] = "0123", ["empty"] = "", ["multi"] = "a\nb: c\n" };
        var writer = new StringWriter();

        YamlText.Write(writer, workflow);

        var parsed = new DeserializerBuilder().Build().Deserialize<object>(writer.ToString());
        var back = JsonSerializer.SerializeToNode(parsed);
        Assert.Equal(Normalize(workflow), Normalize(back));
    }

    [Theory]
    [InlineData(new[] { "Succeeded", "Succeeded" }, 0, false, false, "SUCCESS")]
    [InlineData(new[] { "Succeeded", "Error" }, 0, false, false, "FAILURE")]
    [InlineData(new[] { "Succeeded", "Failed" }, 0, false, false, "FAILURE")]
    [InlineData(new[] { "Succeeded" }, 1, false, false, "FAILURE")]
    [InlineData(new[] { "Succeeded" }, 0, true, false, "FAILURE")]
    [InlineData(new[] { "Failed" }, 3, true, true, "ABORTED")]
    [InlineData(new string[0], 0, false, false, "SUCCESS")]
    public void Verdict_FollowsPhasesErrorsJunitAndAbort(string[] phases, int junitFailures, bool errors, bool aborted, string expected)
    {
        var run = new RunRecord
        {
            RunId = "r",
            JobName = "j",
            BuildId = "1",
            JobType = "periodic",
            JobSpec = "{}",
            CreatedAt = DateTimeOffset.UnixEpoch,
            UpdatedAt = DateTimeOffset.UnixEpoch,
            Workflows = phases.Select((p, i) => new WorkflowRecord { Name = $"w{i}", Namespace = "n", EntryName = "e", EntryIndex = i, Phase = p }).ToList(),
            Errors = errors ? ["bad entry"] : [],
            AbortedAt = aborted ? DateTimeOffset.UnixEpoch : null,
        };

        Assert.Equal(expected, ProwMetadata.Verdict(run, junitFailures));
    }

    [Fact]
    public void Revision_FollowsProw_PullShaThenBaseShaThenBaseRef()
    {
        var refs = new Refs { Org = "o", Repo = "r", BaseRef = "main", BaseSha = "base", Pulls = [new Pull { Number = 1, Sha = "head" }] };
        Assert.Equal("head", ProwMetadata.Revision(new JobSpecRefs(refs, null)));
        Assert.Equal("base", ProwMetadata.Revision(new JobSpecRefs(refs with { Pulls = null }, null)));
        Assert.Equal("main", ProwMetadata.Revision(new JobSpecRefs(null, [refs with { Pulls = null, BaseSha = null }])));
        Assert.Null(ProwMetadata.Revision(new JobSpecRefs(null, null)));
    }

    private static JsonObject LoadYaml(string fixture)
    {
        var parsed = new DeserializerBuilder().Build().Deserialize<object>(File.ReadAllText(Fixtures.PathOf(fixture)));
        return (JsonObject)JsonSerializer.SerializeToNode(parsed)!;
    }

    // YAML has no number type without a schema: compare everything as text.
    private static string Normalize(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + ":" + Normalize(p.Value))) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Normalize)) + "]",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        null => "null",
        _ => node.ToJsonString(),
    };
}
