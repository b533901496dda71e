using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Kfci.Http;
using Kfci.PubSub;
using Kfci.Testing;
using Xunit.Abstractions;

namespace Kfci.Tests.PubSub;

[Collection(EmulatorCollection.Name)]
public sealed class BatchingEventPublisherTests(EmulatorFixture emulators, ITestOutputHelper output)
{
    [Fact]
    public async Task PublishAsync_500Concurrent_SharesRequestsAndEveryMessageArrivesOnce()
    {
        var counter = new PublishRequestCounter();
        var client = PubSubTestKit.NewClient(emulators, counter);
        var (topic, subscription) = await PubSubTestKit.NewTopicWithSubscriptionAsync(client);
        await using var publisher = new BatchingEventPublisher(client);

        var ids = await Task.WhenAll(Enumerable.Range(0, 500).Select(i => publisher.PublishAsync(topic, Message($"m{i}"))));

        Assert.Equal(500, ids.Distinct().Count());
        output.WriteLine($"500 concurrent publishes: {counter.Count} publish requests");
        Assert.InRange(counter.Count, 5, 50);
        var received = await PubSubTestKit.PullAsync(client, subscription, 500);
        Assert.Equal(500, received.Count);
        Assert.Equal(ids.Order(), received.Select(m => m.MessageId).Order());
        Assert.Equal(
            Enumerable.Range(0, 500).Select(i => $"m{i}").Order(),
            received.Select(m => Encoding.UTF8.GetString(m.Data.Span)).Order());
        // Each caller got the id of its own message, not just any id of its batch.
        var idByBody = received.ToDictionary(m => Encoding.UTF8.GetString(m.Data.Span), m => m.MessageId);
        Assert.All(Enumerable.Range(0, 500), i => Assert.Equal(idByBody[$"m{i}"], ids[i]));
    }

    [Fact]
    public async Task PublishAsync_LoneCaller_IsSentAtOnceNotAfterTheDelay()
    {
        var client = PubSubTestKit.NewClient(emulators);
        var (topic, _) = await PubSubTestKit.NewTopicWithSubscriptionAsync(client);
        await using var publisher = new BatchingEventPublisher(client, new PublisherBatchOptions { MaxDelay = TimeSpan.FromSeconds(5) });

        // One event at a time, as a push subscription hands them to a function: no company will come to wait for.
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 3; i++)
        {
            await publisher.PublishAsync(topic, Message($"lone {i}"));
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"a lone publish waited for the batch delay ({clock.Elapsed})");
    }

    [Fact]
    public async Task PublishAsync_BatchReachesMaxBytes_IsSplit()
    {
        var counter = new PublishRequestCounter();
        var client = PubSubTestKit.NewClient(emulators, counter);
        var (topic, subscription) = await PubSubTestKit.NewTopicWithSubscriptionAsync(client);
        var message = new OutgoingMessage(new byte[3000]);
        var twoMessages = 2 * PubSubJson.EncodedSize(message);
        await using var publisher = new BatchingEventPublisher(client, new PublisherBatchOptions { MaxBytes = twoMessages, MaxDelay = TimeSpan.FromSeconds(1) });

        // Two messages fill a batch: the first goes alone (nothing was in flight), the rest in full batches, each
        // sent at once rather than after the delay, and the odd one out as soon as the wire is free.
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => publisher.PublishAsync(topic, message)));

        Assert.InRange(counter.Count, 5, 6);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"full batches must not wait for the delay ({clock.Elapsed})");
        Assert.Equal(10, (await PubSubTestKit.PullAsync(client, subscription, 10)).Count);
    }

    [Fact]
    public async Task PublishAsync_OrderingKeys_KeepPerKeyOrderOnOrderedSubscription()
    {
        var client = PubSubTestKit.NewClient(emulators);
        var (topic, subscription) = await PubSubTestKit.NewTopicWithSubscriptionAsync(client, ordered: true);
        // Small batches, so each key's messages span many requests that must not overtake each other.
        await using var publisher = new BatchingEventPublisher(client, new PublisherBatchOptions { MaxMessages = 3 });
        string[] keys = ["run-a", "run-b", "run-c"];

        var publishes = Enumerable.Range(0, 60)
            .SelectMany(i => keys.Select(key => publisher.PublishAsync(topic, Message($"{i}", key))))
            .ToList();
        await Task.WhenAll(publishes);

        var received = await PubSubTestKit.PullAsync(client, subscription, 180);
        Assert.Equal(180, received.Count);
        foreach (var key in keys)
        {
            var sequence = received.Where(m => m.OrderingKey == key).Select(m => int.Parse(Encoding.UTF8.GetString(m.Data.Span), CultureInfo.InvariantCulture));
            Assert.Equal(Enumerable.Range(0, 60), sequence);
        }
    }

    [Fact]
    public async Task PublishAsync_OrderedBatchFails_LaterMessagesOfTheKeyFailButOtherKeysPublish()
    {
        var faults = new FailFirstPublish(HttpStatusCode.BadRequest);
        var client = PubSubTestKit.NewClient(emulators, faults, RetryOptions.None);
        var (topic, subscription) = await PubSubTestKit.NewTopicWithSubscriptionAsync(client, ordered: true);
        await using var publisher = new BatchingEventPublisher(client, new PublisherBatchOptions { MaxMessages = 1 });

        var first = publisher.PublishAsync(topic, Message("1", "run-a"));
        var second = publisher.PublishAsync(topic, Message("2", "run-a"));
        await Assert.ThrowsAsync<ApiException>(() => first);
        var overtaking = await Assert.ThrowsAsync<InvalidOperationException>(() => second);
        Assert.IsType<ApiException>(overtaking.InnerException);

        // Once the key's queue has drained, it publishes again.
        await publisher.PublishAsync(topic, Message("3", "run-a"));
        await publisher.PublishAsync(topic, Message("x", "run-b"));
        var received = await PubSubTestKit.PullAsync(client, subscription, 2);
        Assert.Equal(["3", "x"], received.Select(m => Encoding.UTF8.GetString(m.Data.Span)).Order());
    }

    [Fact]
    public async Task PublishAsync_TransientServiceError_IsRetriedAndPublishedOnce()
    {
        var faults = new FailFirstPublish(HttpStatusCode.ServiceUnavailable);
        var client = PubSubTestKit.NewClient(emulators, faults, RetryOptions.Default with { BaseDelay = TimeSpan.FromMilliseconds(10) });
        var (topic, subscription) = await PubSubTestKit.NewTopicWithSubscriptionAsync(client);
        await using var publisher = new BatchingEventPublisher(client);

        var id = await publisher.PublishAsync(topic, Message("after a 503"));

        Assert.Equal(2, faults.Publishes);
        Assert.Equal(id, Assert.Single(await PubSubTestKit.PullAsync(client, subscription, 1)).MessageId);
    }

    [Fact]
    public async Task PublishAsync_ManyOrderingKeys_ForgetsEachKeyOnceDrained()
    {
        var client = PubSubTestKit.NewClient(emulators);
        var (topic, _) = await PubSubTestKit.NewTopicWithSubscriptionAsync(client, ordered: true);
        await using var publisher = new BatchingEventPublisher(client);

        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => publisher.PublishAsync(topic, Message("x", $"run-{i}"))));

        Assert.Equal(0, publisher.LaneCount);
    }

    [Fact]
    public async Task PublishAsync_InvalidTopicId_ThrowsArgumentException()
    {
        await using var publisher = new BatchingEventPublisher(PubSubTestKit.NewClient(emulators));

        var error = await Assert.ThrowsAsync<ArgumentException>(() => publisher.PublishAsync("goog-topic", Message("x")));

        Assert.Equal("topicId", error.ParamName);
    }

    [Fact]
    public async Task PublishAsync_MissingTopic_ThrowsNotFound()
    {
        await using var publisher = new BatchingEventPublisher(PubSubTestKit.NewClient(emulators));

        var error = await Assert.ThrowsAsync<ApiException>(() => publisher.PublishAsync("no-such-topic", Message("x")));

        Assert.True(error.IsNotFound);
    }

    [Fact]
    public async Task DisposeAsync_WithWaitingBatch_SendsIt()
    {
        var client = PubSubTestKit.NewClient(emulators);
        var (topic, subscription) = await PubSubTestKit.NewTopicWithSubscriptionAsync(client);
        var publisher = new BatchingEventPublisher(client, new PublisherBatchOptions { MaxDelay = TimeSpan.FromMinutes(10) });
        var first = publisher.PublishAsync(topic, Message("first"));
        var waiting = publisher.PublishAsync(topic, Message("late"));

        await publisher.DisposeAsync();

        Assert.True(first.IsCompletedSuccessfully);
        Assert.True(waiting.IsCompletedSuccessfully);
        Assert.Equal(2, (await PubSubTestKit.PullAsync(client, subscription, 2)).Count);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => publisher.PublishAsync(topic, Message("after")));
    }

    [Fact]
    public async Task Throughput_1000Messages_BatchedVersusOneRequestEach()
    {
        // A measurement for the report, not a check: timings on a shared 2-core machine vary too much to assert.
        var client = PubSubTestKit.NewClient(emulators);
        await client.CreateTopicAsync("throughput");
        var messages = Enumerable.Range(0, 1000).Select(i => Message($"message {i}")).ToList();
        await client.PublishAsync("throughput", [Message("warm-up")]);

        // Sequential single publishes run at the emulator's per-request latency (~10 ms); 100 of them tell the
        // rate without spending ten seconds of the suite on 1,000.
        var sequential = await MeasureAsync(async () =>
        {
            foreach (var message in messages.Take(100))
            {
                await client.PublishAsync("throughput", [message]);
            }
        });
        string[] unbatchedIds = [];
        var concurrentUnbatched = await MeasureAsync(async () =>
        {
            await using var publisher = new BatchingEventPublisher(client, PublisherBatchOptions.Unbatched);
            unbatchedIds = await Task.WhenAll(messages.Select(m => publisher.PublishAsync("throughput", m)));
        });
        string[] batchedIds = [];
        var batched = await MeasureAsync(async () =>
        {
            await using var publisher = new BatchingEventPublisher(client);
            batchedIds = await Task.WhenAll(messages.Select(m => publisher.PublishAsync("throughput", m)));
        });

        output.WriteLine($"one request each, sequential: 100 messages in {Rate(sequential, 100)}");
        output.WriteLine($"one request each, 1000 concurrent callers: {Rate(concurrentUnbatched, 1000)}");
        output.WriteLine($"batched, 1000 concurrent callers: {Rate(batched, 1000)}");
        Assert.Equal(2000, unbatchedIds.Concat(batchedIds).Distinct().Count());
    }

    private static OutgoingMessage Message(string body, string? orderingKey = null) =>
        new(Encoding.UTF8.GetBytes(body), orderingKey: orderingKey);

    private static async Task<TimeSpan> MeasureAsync(Func<Task> action)
    {
        var clock = Stopwatch.StartNew();
        await action();
        return clock.Elapsed;
    }

    private static string Rate(TimeSpan elapsed, int messages) =>
        string.Create(CultureInfo.InvariantCulture, $"{elapsed.TotalMilliseconds:0} ms ({messages / elapsed.TotalSeconds:0} msg/s)");

    /// <summary>Answers the first publish with <paramref name="status"/> in the service's error shape; counts publishes.</summary>
    private sealed class FailFirstPublish(HttpStatusCode status) : DelegatingHandler
    {
        private int _publishes;

        public int Publishes => Volatile.Read(ref _publishes);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            request.RequestUri!.AbsolutePath.EndsWith(":publish", StringComparison.Ordinal) && Interlocked.Increment(ref _publishes) == 1
                ? Task.FromResult(new HttpResponseMessage(status)
                {
                    RequestMessage = request,
                    Content = new StringContent($$$"""{"error":{"code":{{{(int)status}}},"message":"injected","status":"{{{status}}}"}}"""),
                })
                : base.SendAsync(request, cancellationToken);
    }
}
