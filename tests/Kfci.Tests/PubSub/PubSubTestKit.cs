using System.Diagnostics;
using Kfci.Http;
using Kfci.PubSub;
using Kfci.Testing;

namespace Kfci.Tests.PubSub;

/// <summary>Clients on the emulator, and polling pulls, for the Pub/Sub tests.</summary>
internal static class PubSubTestKit
{
    /// <summary>A client for a fresh project, found through <c>PUBSUB_EMULATOR_HOST</c> as in production.</summary>
    public static PubSubClient NewClient(EmulatorFixture emulators) =>
        PubSubClient.Create(
            EmulatorFixture.NewProjectId("ps"),
            getEnv: name => name == emulators.PubSub.HostVariable ? emulators.PubSub.HostPort : null);

    /// <summary>A client whose requests pass through <paramref name="handler"/> (to count or fail them).</summary>
    public static PubSubClient NewClient(EmulatorFixture emulators, DelegatingHandler handler, RetryOptions? retry = null)
    {
        handler.InnerHandler = HttpClients.CreateHandler();
        var http = new HttpClient(handler) { BaseAddress = emulators.PubSub.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        return new PubSubClient(new RestClient(http, new RetryPolicy(retry ?? RetryOptions.Default)), EmulatorFixture.NewProjectId("ps"));
    }

    /// <summary>A topic with one pull subscription on it.</summary>
    public static async Task<(string Topic, string Subscription)> NewTopicWithSubscriptionAsync(
        PubSubClient client, bool ordered = false, string prefix = "events")
    {
        var topic = prefix + "-topic";
        await client.CreateTopicAsync(topic);
        await client.CreateSubscriptionAsync(new SubscriptionConfig
        {
            Id = prefix + "-sub",
            TopicId = topic,
            EnableMessageOrdering = ordered,
        });
        return (topic, prefix + "-sub");
    }

    /// <summary>Pulls (acknowledging each batch if asked) until <paramref name="count"/> messages arrived or time is up.</summary>
    public static async Task<List<ReceivedMessage>> PullAsync(
        PubSubClient client, string subscription, int count, bool acknowledge = true, TimeSpan? timeout = null)
    {
        var received = new List<ReceivedMessage>();
        var clock = Stopwatch.StartNew();
        while (received.Count < count && clock.Elapsed < (timeout ?? TimeSpan.FromSeconds(15)))
        {
            var batch = await client.PullAsync(subscription, 1000);
            if (batch.Count == 0)
            {
                await Task.Delay(50);
                continue;
            }

            received.AddRange(batch);
            if (acknowledge)
            {
                await client.AcknowledgeAsync(subscription, batch.Select(m => m.AckId));
            }
        }

        return received;
    }
}

/// <summary>Counts the <c>topics.publish</c> requests that pass through it.</summary>
internal sealed class PublishRequestCounter : DelegatingHandler
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri?.AbsolutePath.EndsWith(":publish", StringComparison.Ordinal) == true)
        {
            Interlocked.Increment(ref _count);
        }

        return base.SendAsync(request, cancellationToken);
    }
}
