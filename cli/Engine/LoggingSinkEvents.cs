using System.Text;
using System.Text.Json.Nodes;
using Kfci.Argo;
using Kfci.PubSub;

namespace Kfci.Cli.Engine;

/// <summary>
/// Publishes workflow events to <c>argo-events</c> as the cloud's Cloud Logging sink does for GKE: each message's data
/// is the <c>LogEntry</c> of the Kubernetes Event (the Event itself as <c>jsonPayload</c>, <c>logName</c>
/// <c>projects/P/logs/events</c>, a <c>k8s_cluster</c> resource), so the Watcher reads the local and the cloud form alike.
/// </summary>
public sealed class LoggingSinkEvents(IEventPublisher publisher, string project, string clusterName = "kfci-local", string location = "local") : IArgoEventSink
{
    public async Task PublishAsync(JsonObject kubernetesEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(kubernetesEvent);
        var entry = WorkflowEventEntry.Wrap(kubernetesEvent, DateTimeOffset.UtcNow, project, clusterName, location);
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["logging.googleapis.com/timestamp"] = entry["timestamp"]!.ToString(),
        };
        await publisher.PublishAsync(KfciTopics.ArgoEvents, new OutgoingMessage(Encoding.UTF8.GetBytes(entry.ToJsonString()), attributes), cancellationToken);
    }
}
