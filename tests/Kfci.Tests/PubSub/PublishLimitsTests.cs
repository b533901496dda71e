using System.Text;
using Kfci.PubSub;
using Kfci.Testing;

namespace Kfci.Tests.PubSub;

/// <summary>
/// A message over one of Pub/Sub's limits fails only its own caller, before batching; the messages that would have
/// shared its request are published (real emulator). Before, the service's refusal of the request failed them all.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class PublishLimitsTests(EmulatorFixture emulators)
{
    public static TheoryData<string, OutgoingMessage, string> OverLimit => new()
    {
        { "101 attributes", new OutgoingMessage("x"u8.ToArray(), Enumerable.Range(0, 101).ToDictionary(i => $"k{i}", _ => "v")), "101 attributes" },
        { "a 257-byte key", new OutgoingMessage("x"u8.ToArray(), new Dictionary<string, string> { [new string('k', 257)] = "v" }), "257 bytes" },
        { "a 1025-byte value", new OutgoingMessage("x"u8.ToArray(), new Dictionary<string, string> { ["k"] = new string('ü', 513) }), "1026 bytes" },
        { "a 1025-byte ordering key", new OutgoingMessage("x"u8.ToArray(), orderingKey: new string('o', 1025)), "ordering key is 1025 bytes" },
        { "data over 10 MB", new OutgoingMessage(new byte[PubSubLimits.MaxDataBytes + 1]), "data is 10000001 bytes" },
        { "a request over 10 MiB once base64-encoded", new OutgoingMessage(new byte[8_000_000]), "publish request holding it alone" },
    };

    [Theory]
    [MemberData(nameof(OverLimit))]
    public async Task PublishAsync_OneMessageOverALimit_FailsOnlyItsCallerAndItsBatchIsPublished(string what, OutgoingMessage bad, string expectedReason)
    {
        var counter = new PublishRequestCounter();
        var client = PubSubTestKit.NewClient(emulators, counter);
        var (topic, subscription) = await PubSubTestKit.NewTopicWithSubscriptionAsync(client);
        await using var publisher = new BatchingEventPublisher(client, new PublisherBatchOptions { MaxDelay = TimeSpan.FromMilliseconds(200) });

        var before = Enumerable.Range(0, 3).Select(i => publisher.PublishAsync(topic, Message($"before {i}"))).ToList();
        var badPublish = Record.ExceptionAsync(() => publisher.PublishAsync(topic, bad));
        var after = Enumerable.Range(0, 3).Select(i => publisher.PublishAsync(topic, Message($"after {i}"))).ToList();

        var error = Assert.IsType<ArgumentException>(await badPublish);
        Assert.Contains(expectedReason, error.Message, StringComparison.Ordinal);
        Assert.Contains(topic, error.Message, StringComparison.Ordinal);
        var ids = await Task.WhenAll(before.Concat(after));
        Assert.Equal(6, ids.Distinct().Count());
        // The first goes alone (nothing was in flight); the other five share the next request, the bad one refused before it.
        Assert.Equal(2, counter.Count);
        var received = await PubSubTestKit.PullAsync(client, subscription, 6);
        Assert.Equal(
            ["after 0", "after 1", "after 2", "before 0", "before 1", "before 2"],
            received.Select(m => Encoding.UTF8.GetString(m.Data.Span)).Order(StringComparer.Ordinal));
        Assert.False(string.IsNullOrEmpty(what));
    }

    [Fact]
    public async Task PublishAsync_MessagesAtEveryLimit_ArePublished()
    {
        var client = PubSubTestKit.NewClient(emulators);
        var (topic, subscription) = await PubSubTestKit.NewTopicWithSubscriptionAsync(client);
        await using var publisher = new BatchingEventPublisher(client);
        var attributes = Enumerable.Range(0, PubSubLimits.MaxAttributes).ToDictionary(
            i => $"{i:000}".PadRight(PubSubLimits.MaxAttributeKeyBytes, 'k'),
            _ => new string('v', PubSubLimits.MaxAttributeValueBytes));
        // The largest data a REST publish request can carry alone: base64 plus the attributes fill it to the byte.
        var budget = PubSubLimits.MaxPublishRequestBytes - PubSubJson.PublishRequestSize([new OutgoingMessage(ReadOnlyMemory<byte>.Empty, attributes)]) - 9;
        var data = new byte[budget / 4 * 3];
        var atLimit = new OutgoingMessage(data, attributes);

        Assert.Null(PubSubLimits.Violation(atLimit));
        await publisher.PublishAsync(topic, atLimit);

        var received = Assert.Single(await PubSubTestKit.PullAsync(client, subscription, 1, timeout: TimeSpan.FromSeconds(60)));
        Assert.Equal(data.Length, received.Data.Length);
        Assert.Equal(PubSubLimits.MaxAttributes, received.Attributes.Count);
    }

    [Fact]
    public void PublishRequestSize_IsTheBodyTheClientSends()
    {
        OutgoingMessage[] messages =
        [
            new("abc"u8.ToArray()),
            new(ReadOnlyMemory<byte>.Empty, new Dictionary<string, string> { ["ü\u0001"] = "\"<>&" }),
            new(new byte[1000], new Dictionary<string, string> { ["k"] = "v" }, orderingKey: "run-1"),
        ];
        var body = new System.Text.Json.Nodes.JsonObject { ["messages"] = new System.Text.Json.Nodes.JsonArray([.. messages.Select(PubSubJson.Message)]) };

        var sent = Encoding.UTF8.GetByteCount(body.ToJsonString(System.Text.Json.JsonSerializerOptions.Web));

        // Each message is counted with the comma that may follow it: at most one byte over for the last.
        Assert.InRange(PubSubJson.PublishRequestSize(messages) - sent, 0, 1);
    }

    private static OutgoingMessage Message(string body) => new(Encoding.UTF8.GetBytes(body));
}
