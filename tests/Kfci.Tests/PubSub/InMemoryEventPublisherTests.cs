using Kfci.Http;
using Kfci.PubSub;
using Kfci.Testing.PubSub;

namespace Kfci.Tests.PubSub;

public sealed class InMemoryEventPublisherTests
{
    [Fact]
    public async Task PublishAsync_RecordsMessagesInOrderWithDistinctIds()
    {
        var publisher = new InMemoryEventPublisher();

        var first = await publisher.PublishAsync(KfciTopics.RunSubmitted, new OutgoingMessage("a"u8.ToArray()));
        var second = await publisher.PublishAsync(KfciTopics.RunCompleted, new OutgoingMessage("b"u8.ToArray(), orderingKey: "run-1"));

        Assert.NotEqual(first, second);
        Assert.Equal([KfciTopics.RunSubmitted, KfciTopics.RunCompleted], publisher.Published.Select(m => m.TopicId));
        Assert.Equal("run-1", Assert.Single(publisher.PublishedTo(KfciTopics.RunCompleted)).Message.OrderingKey);
    }

    [Fact]
    public async Task PublishAsync_AfterFailNextWith_ThrowsOnceWithoutRecording()
    {
        var publisher = new InMemoryEventPublisher();
        publisher.FailNextWith(new ApiException(System.Net.HttpStatusCode.ServiceUnavailable, "UNAVAILABLE", "injected"));

        await Assert.ThrowsAsync<ApiException>(() => publisher.PublishAsync(KfciTopics.RunFinished, new OutgoingMessage("x"u8.ToArray())));
        await publisher.PublishAsync(KfciTopics.RunFinished, new OutgoingMessage("y"u8.ToArray()));

        Assert.Single(publisher.Published);
    }

    [Fact]
    public async Task PublishAsync_InvalidTopicId_ThrowsLikeTheRealPublisher()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => new InMemoryEventPublisher().PublishAsync("x", new OutgoingMessage("y"u8.ToArray())));
    }
}
