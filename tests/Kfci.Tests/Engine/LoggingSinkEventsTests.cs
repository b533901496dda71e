using System.Text;
using System.Text.Json.Nodes;
using Kfci.Cli.Engine;
using Kfci.PubSub;

namespace Kfci.Tests.Engine;

public sealed class LoggingSinkEventsTests
{
    [Fact]
    public async Task FinishedWorkflow_IsPublishedToArgoEventsAsAGkeEventLogEntry()
    {
        var publisher = new CapturingPublisher();
        var home = Directory.CreateTempSubdirectory("kfci-engine-").FullName;
        await using (var engine = new LocalWorkflowEngine(EngineOptions.ForHome(home), new LoggingSinkEvents(publisher, "proj-1")))
        {
            await engine.CreateWorkflowAsync("kubeflow-test-infra", EngineHarness.Workflow("metadata: {name: wf}\nspec: {entrypoint: a, templates: [{name: a, container: {image: x, command: ['false']}}]}"), CancellationToken.None);
            await engine.IdleAsync().WaitAsync(TimeSpan.FromSeconds(20));
        }

        var (topic, message) = Assert.Single(publisher.Messages);
        Assert.Equal(KfciTopics.ArgoEvents, topic);
        var entry = JsonNode.Parse(Encoding.UTF8.GetString(message.Data.Span))!.AsObject();
        Assert.Equal("projects/proj-1/logs/events", entry["logName"]?.ToString());
        Assert.Equal("k8s_cluster", entry["resource"]?["type"]?.ToString());
        Assert.Equal("proj-1", entry["resource"]?["labels"]?["project_id"]?.ToString());
        Assert.Equal("WARNING", entry["severity"]?.ToString());
        Assert.NotNull(entry["insertId"]);
        Assert.NotNull(entry["timestamp"]);
        var payload = entry["jsonPayload"]!;
        Assert.Equal("Event", payload["kind"]?.ToString());
        Assert.Equal("WorkflowFailed", payload["reason"]?.ToString());
        Assert.Equal("Warning", payload["type"]?.ToString());
        Assert.Equal("Workflow", payload["involvedObject"]?["kind"]?.ToString());
        Assert.Equal("wf", payload["involvedObject"]?["name"]?.ToString());
        Assert.Equal("kubeflow-test-infra", payload["involvedObject"]?["namespace"]?.ToString());
        Assert.Equal("argoproj.io/v1alpha1", payload["involvedObject"]?["apiVersion"]?.ToString());
        Assert.Equal("Error (exit code 1)", payload["message"]?.ToString());
        Assert.NotNull(payload["firstTimestamp"]);
        Directory.Delete(home, recursive: true);
    }

    private sealed class CapturingPublisher : IEventPublisher
    {
        public List<(string Topic, OutgoingMessage Message)> Messages { get; } = [];

        public Task<string> PublishAsync(string topicId, OutgoingMessage message, CancellationToken cancellationToken = default)
        {
            lock (Messages)
            {
                Messages.Add((topicId, message));
                return Task.FromResult(Messages.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }
}
