using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Kfci.Argo;
using Kfci.Runs;
using Kfci.Testing;
using YamlDotNet.Serialization;

namespace Kfci.Tests.Watcher;

/// <summary>Reading real Argo workflow objects (tests/fixtures/argo/workflows) and Argo's events as the log sink delivers them.</summary>
public sealed class WorkflowOutcomeTests
{
    [Fact]
    public void From_FailedDagFixture_RecordsPhaseTimesAndOnlyTheFailedPodNodesInStartOrder()
    {
        var outcome = WorkflowOutcome.From(Yaml("argo/workflows/dag-disable-fail-fast.failed.yaml"));

        Assert.Equal(WorkflowPhases.Failed, outcome.Phase);
        Assert.True(outcome.IsFinished);
        Assert.Equal(DateTimeOffset.Parse("2019-06-26T09:11:58Z", System.Globalization.CultureInfo.InvariantCulture), outcome.StartedAt);
        Assert.Equal(DateTimeOffset.Parse("2019-06-26T09:12:46Z", System.Globalization.CultureInfo.InvariantCulture), outcome.FinishedAt);
        Assert.Equal(["C(0)", "C(1)"], outcome.FailedNodes.Select(n => n.DisplayName));
        Assert.All(outcome.FailedNodes, n => Assert.Equal(("Failed", "failed with exit code 2"), (n.Phase, n.Message)));
        Assert.Equal("dag-disable-fail-fast-r6xdc.C(0)", outcome.FailedNodes[0].Name);
        Assert.Null(outcome.RunId); // no kfci labels
    }

    [Fact]
    public void From_SucceededKfpFixture_HasNoFailedNodes()
    {
        var outcome = WorkflowOutcome.From((JsonObject)JsonNode.Parse(File.ReadAllText(Fixtures.PathOf("argo/workflows/kfp-coinflip.succeeded.json")))!);

        Assert.Equal(WorkflowPhases.Succeeded, outcome.Phase);
        Assert.Empty(outcome.FailedNodes);
    }

    [Fact]
    public void From_RunningFixture_IsNotFinished()
    {
        Assert.False(WorkflowOutcome.From(Yaml("argo/workflows/steps-failed-retries.running.yaml")).IsFinished);
    }

    [Fact]
    public void From_CompressedNodes_AreReadLikeNodes()
    {
        var workflow = Yaml("argo/workflows/dag-disable-fail-fast.failed.yaml");
        var status = (JsonObject)workflow["status"]!;
        var nodes = status["nodes"]!.ToJsonString();
        status.Remove("nodes");
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(nodes));
        }

        status["compressedNodes"] = Convert.ToBase64String(buffer.ToArray());

        Assert.Equal(2, WorkflowOutcome.From(workflow).FailedNodes.Count);
    }

    [Fact]
    public void From_KfciLabels_GiveTheRunId_ButOnlyWhenManaged()
    {
        var managed = Workflow(new() { [WorkflowLabels.Managed] = "true", [WorkflowLabels.RunId] = "run-1" });
        var unmanaged = Workflow(new() { [WorkflowLabels.RunId] = "run-1" });
        var hostile = Workflow(new() { [WorkflowLabels.Managed] = "true", [WorkflowLabels.RunId] = "../etc" });

        Assert.Equal("run-1", WorkflowOutcome.From(managed).RunId);
        Assert.Null(WorkflowOutcome.From(unmanaged).RunId);
        Assert.Null(WorkflowOutcome.From(hostile).RunId);
    }

    [Fact]
    public void ApplyTo_FinishedRecord_KeepsTheFirstCompletion()
    {
        var record = new WorkflowRecord { Name = "w", Namespace = "ns", EntryName = "e", EntryIndex = 0, Phase = WorkflowPhases.Failed, Message = "first" };
        var later = new WorkflowOutcome { Name = "w", Namespace = "ns", Phase = WorkflowPhases.Succeeded };

        Assert.Same(record, later.ApplyTo(record));
    }

    [Fact]
    public void LogEntry_SinkShape_ParsesToTheWorkflowCompletion()
    {
        // A LogEntry as the GKE event exporter writes a Kubernetes Event and a sink publishes it (trimmed ids).
        var entry = WorkflowEventEntry.AsLogEntry("""
            {"insertId":"1ydpbjqf4m8l9m","jsonPayload":{"apiVersion":"v1","kind":"Event","involvedObject":{"apiVersion":"argoproj.io/v1alpha1",
            "kind":"Workflow","name":"kf-presubmit-e2e-1234","namespace":"kubeflow-test-infra","resourceVersion":"99","uid":"u-1"},
            "message":"child 'x' failed","metadata":{"name":"kf-presubmit-e2e-1234.17a","namespace":"kubeflow-test-infra"},
            "reason":"WorkflowFailed","source":{"component":"workflow-controller"},"type":"Warning","count":1},
            "logName":"projects/kubeflow-ci/logs/events","receiveTimestamp":"2026-11-22T05:00:01.1Z",
            "resource":{"labels":{"cluster_name":"kubeflow-testing","location":"us-east1-d","project_id":"kubeflow-ci"},"type":"k8s_cluster"},
            "severity":"WARNING","timestamp":"2026-11-22T05:00:00Z"}
            """u8.ToArray());

        var notice = WorkflowEventEntry.Parse(entry!);

        Assert.Equal(new KubernetesEventNotice("Workflow", "kubeflow-test-infra", "kf-presubmit-e2e-1234", "WorkflowFailed", "child 'x' failed"), notice);
        Assert.True(notice.IsWorkflowCompletion);
        Assert.Equal(notice, WorkflowEventEntry.Parse(WorkflowEventEntry.Create(notice.Namespace, notice.Name, notice.Reason, notice.Message!, DateTimeOffset.UtcNow)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("""{"job":"tick"}""")]
    public void AsLogEntry_AnythingWithoutALogEntryShape_IsNotAnEntry(string data) =>
        Assert.Null(WorkflowEventEntry.AsLogEntry(Encoding.UTF8.GetBytes(data)));

    [Theory]
    [InlineData("""{"textPayload":"hello"}""", "no jsonPayload")]
    [InlineData("""{"jsonPayload":{"reason":"WorkflowFailed"}}""", "involvedObject")]
    [InlineData("""{"jsonPayload":{"reason":"WorkflowFailed","involvedObject":{"kind":"Workflow","namespace":"ns"}}}""", "involvedObject.name")]
    [InlineData("""{"jsonPayload":{"involvedObject":{"kind":"Workflow","namespace":"ns","name":"w"}}}""", "reason")]
    public void Parse_MalformedEntry_SaysWhatIsMissing(string data, string problem)
    {
        var error = Assert.Throws<FormatException>(() => WorkflowEventEntry.Parse(WorkflowEventEntry.AsLogEntry(Encoding.UTF8.GetBytes(data))!));
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    private static JsonObject Workflow(Dictionary<string, string> labels) => new()
    {
        ["metadata"] = new JsonObject { ["name"] = "w", ["labels"] = new JsonObject(labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))) },
    };

    private static JsonObject Yaml(string fixture)
    {
        var data = new DeserializerBuilder().Build().Deserialize<object>(File.ReadAllText(Fixtures.PathOf(fixture)));
        return (JsonObject)JsonNode.Parse(new SerializerBuilder().JsonCompatible().Build().Serialize(data))!;
    }
}
