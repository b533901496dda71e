using System.Text;
using Kfci.Argo;
using Kfci.Functions.Watcher;
using Kfci.PubSub;
using Kfci.Runs;
using Kfci.Testing;
using Kfci.Tests.Hosting;
using Kfci.Tests.Runs;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kfci.Tests.Watcher;

/// <summary>The whole way in: the Pub/Sub emulator pushes Argo's event, published as the log sink publishes it, to the Watcher on a loopback port.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class WatcherPushTests(EmulatorFixture emulators)
{
    [Fact]
    public async Task ArgoEvent_ThroughTheEmulatorsPushSubscription_CompletesTheRun()
    {
        await using var h = await WatcherHarness.StartAsync(emulators);
        await h.AddRunAsync(SampleRuns.Submitted("run-push", WatcherHarness.Namespace, DateTimeOffset.UtcNow));
        var function = new Function(h.Runs, h.Kube.CreateCluster(WatcherHarness.FastRetry), h.Publisher, TimeProvider.System, h.Settings, NullLogger<Function>.Instance);
        await using var host = await LoopbackHost.StartAsync(function);
        await h.PubSub.CreateTopicAsync(KfciTopics.ArgoEvents);
        await h.PubSub.CreateSubscriptionAsync(new SubscriptionConfig
        {
            Id = "argo-events-to-watcher",
            TopicId = KfciTopics.ArgoEvents,
            Push = new PushConfig(new Uri($"{host.BaseUrl}/projects/{h.PubSub.ProjectId}/topics/{KfciTopics.ArgoEvents}")),
        });

        try
        {
            h.Finish("run-push-e2e", WorkflowPhases.Succeeded);
            var entry = WorkflowEventEntry.Create(WatcherHarness.Namespace, "run-push-e2e", WorkflowEventEntry.Succeeded, "Workflow completed", DateTimeOffset.UtcNow);
            await h.PubSub.PublishAsync(KfciTopics.ArgoEvents, [new OutgoingMessage(Encoding.UTF8.GetBytes(entry.ToJsonString()))]);

            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((await h.RunAsync("run-push")).State != RunState.Completed && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            Assert.Equal(RunState.Completed, (await h.RunAsync("run-push")).State);
            Assert.Equal("run-push", Assert.Single(await h.CompletedEventsAsync(atLeast: 1)).RunId);
        }
        finally
        {
            // The emulator would otherwise keep pushing to a port that is gone.
            await h.PubSub.DeleteSubscriptionAsync("argo-events-to-watcher");
        }
    }
}
