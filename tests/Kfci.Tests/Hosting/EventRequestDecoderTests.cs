using System.Text;
using System.Text.Json;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.Http;
using Kfci.Hosting;

namespace Kfci.Tests.Hosting;

public sealed class EventRequestDecoderTests
{
    private const string PushEnvelope = """
        {"message":{"data":"aGVsbG8=","attributes":{"k":"v"},"messageId":"m-1","publishTime":"2026-11-22T05:00:01.123456789Z","orderingKey":"o"},
         "subscription":"projects/p/subscriptions/s","deliveryAttempt":3}
        """;

    private static readonly KeyValuePair<string, string>[] s_noHeaders = [];

    [Fact]
    public void Decode_BinaryMode_ReadsAttributesExtensionsAndTypedData()
    {
        var headers = new Dictionary<string, string>
        {
            ["Ce-Id"] = "e-1",
            ["ce-source"] = "//pubsub.googleapis.com/projects/p/topics/t",
            ["ce-type"] = MessagePublishedData.CloudEventType,
            ["ce-specversion"] = "1.0",
            ["ce-time"] = "2020-09-29T11:32:00.000Z",
            ["ce-subject"] = "sub%20ject",
            ["ce-traceparent"] = "x",
            ["Authorization"] = "Bearer secret",
        };
        const string data = """{"subscription":"projects/p/subscriptions/s","message":{"data":"dGVzdA==","message_id":"m-9","publish_time":"2020-09-29T11:32:00Z"}}""";

        var decoded = EventRequestDecoder.Decode("application/json", headers, "/", Encoding.UTF8.GetBytes(data));

        Assert.Equal("e-1", decoded.Event.Id);
        Assert.Equal("//pubsub.googleapis.com/projects/p/topics/t", decoded.Event.Source?.ToString());
        Assert.Equal(new DateTimeOffset(2020, 9, 29, 11, 32, 0, TimeSpan.Zero), decoded.Event.Time);
        Assert.Equal("sub ject", decoded.Event.Subject);
        Assert.Equal("application/json", decoded.Event.DataContentType);
        Assert.Equal("x", decoded.Event["traceparent"]);
        Assert.DoesNotContain(decoded.Event.ExtensionAttributes, a => a.Name == "authorization");
        Assert.NotNull(decoded.MessagePublished);
        Assert.Same(decoded.MessagePublished, decoded.Event.Data);
        Assert.Equal("test", decoded.MessagePublished.Message.TextData);
        Assert.Equal("m-9", decoded.MessagePublished.Message.MessageId);
        Assert.Equal("projects/p/subscriptions/s", decoded.MessagePublished.Subscription);
    }

    [Theory]
    [InlineData("ce-id")]
    [InlineData("ce-source")]
    [InlineData("ce-type")]
    [InlineData("ce-specversion")]
    public void Decode_BinaryModeMissingRequiredHeader_Throws400NamingIt(string missing)
    {
        var headers = new Dictionary<string, string> { ["ce-id"] = "1", ["ce-source"] = "s", ["ce-type"] = "t", ["ce-specversion"] = "1.0" };
        headers.Remove(missing);

        var error = Assert.Throws<EventDecodingException>(() => EventRequestDecoder.Decode("application/json", headers, "/", "{}"u8.ToArray()));

        Assert.Equal(400, error.StatusCode);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0.3")]
    [InlineData("2.0")]
    public void Decode_UnknownSpecVersion_Throws400(string version)
    {
        var headers = new Dictionary<string, string> { ["ce-id"] = "1", ["ce-source"] = "s", ["ce-type"] = "t", ["ce-specversion"] = version };

        var error = Assert.Throws<EventDecodingException>(() => EventRequestDecoder.Decode("application/json", headers, "/", "{}"u8.ToArray()));

        Assert.Equal(400, error.StatusCode);
        Assert.Contains("specversion", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_StructuredModeWithJsonData_KeepsDataAsJsonAndParsesMessage()
    {
        const string body = """
            {"specversion":"1.0","id":"s-1","source":"//pubsub.googleapis.com/projects/p/topics/t","type":"google.cloud.pubsub.topic.v1.messagePublished",
             "datacontenttype":"application/json","myext":"yes","data":{"message":{"data":"eA==","messageId":"m-2"}}}
            """;

        var decoded = EventRequestDecoder.Decode("application/cloudevents+json; charset=utf-8", s_noHeaders, "/", Encoding.UTF8.GetBytes(body));

        Assert.Equal("s-1", decoded.Event.Id);
        Assert.Equal("yes", decoded.Event["myext"]);
        Assert.Equal("x", decoded.MessagePublished!.Message.TextData);
        Assert.Same(decoded.MessagePublished, decoded.Event.Data);
    }

    [Fact]
    public void Decode_StructuredModeWithDataBase64_DecodesBytes()
    {
        const string body = """{"specversion":"1.0","id":"s-2","source":"src","type":"com.example.bytes","datacontenttype":"application/octet-stream","data_base64":"AAEC/w=="}""";

        var decoded = EventRequestDecoder.Decode("application/cloudevents+json", s_noHeaders, "/", Encoding.UTF8.GetBytes(body));

        Assert.Equal(new byte[] { 0, 1, 2, 255 }, Assert.IsType<byte[]>(decoded.Event.Data));
        Assert.Null(decoded.MessagePublished);
    }

    [Theory]
    [InlineData("""{"specversion":"1.0","id":"x","source":"s","type":"t","data_base64":"not base64!"}""", "structured CloudEvent")]
    [InlineData("""{"specversion":"1.0","source":"s","type":"t"}""", "id")]
    [InlineData("""{"specversion":"1.0","id":"x","source":"s","type":"t","data":1,"data_base64":"AA=="}""", "both")]
    [InlineData("""[1,2]""", "Array")]
    [InlineData("""{"specversion":""", "structured CloudEvent")]
    [InlineData("""{"specversion":"0.3","id":"x","source":"s","type":"t"}""", "0.3")]
    [InlineData("""{"specversion":"1.0","id":"x","source":"s","type":"t","time":"yesterday"}""", "structured CloudEvent")]
    public void Decode_MalformedStructuredEvent_Throws400(string body, string expectedInReason)
    {
        var error = Assert.Throws<EventDecodingException>(() => EventRequestDecoder.Decode("application/cloudevents+json", s_noHeaders, "/", Encoding.UTF8.GetBytes(body)));

        Assert.Equal(400, error.StatusCode);
        Assert.Contains(expectedInReason, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Decode_PushEnvelopeCamelCase_BecomesMessagePublishedEventForTheTopicInThePath()
    {
        var decoded = EventRequestDecoder.Decode("application/json", s_noHeaders, "/projects/p1/topics/prow-events", Encoding.UTF8.GetBytes(PushEnvelope));

        Assert.Equal("m-1", decoded.Event.Id);
        Assert.Equal(MessagePublishedData.CloudEventType, decoded.Event.Type);
        Assert.Equal("//pubsub.googleapis.com/projects/p1/topics/prow-events", decoded.Event.Source?.ToString());
        Assert.True(decoded.Event.IsValid);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 5, 0, 1, TimeSpan.Zero).AddTicks(1234567), decoded.Event.Time);
        var message = decoded.MessagePublished!.Message;
        Assert.Equal("hello", message.TextData);
        Assert.Equal("v", message.Attributes["k"]);
        Assert.Equal("o", message.OrderingKey);
        Assert.Equal(3, message.DeliveryAttempt);
        Assert.Equal("projects/p/subscriptions/s", decoded.MessagePublished.Subscription);
    }

    [Fact]
    public void Decode_PushEnvelopeSnakeCaseWithoutData_HasEmptyDataAndUnknownTopic()
    {
        const string body = """{"message":{"message_id":"m-3","publish_time":"2026-11-22T05:00:00Z"},"subscription":"projects/p/subscriptions/s"}""";

        var decoded = EventRequestDecoder.Decode("application/json", s_noHeaders, "/", Encoding.UTF8.GetBytes(body));

        Assert.Equal("m-3", decoded.Event.Id);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 5, 0, 0, TimeSpan.Zero), decoded.MessagePublished!.Message.PublishTime);
        Assert.True(decoded.MessagePublished.Message.Data.IsEmpty);
        Assert.Empty(decoded.MessagePublished.Message.Attributes);
        Assert.Null(decoded.MessagePublished.Message.DeliveryAttempt);
        Assert.Equal("//pubsub.googleapis.com/projects/unknown-project!/topics/unknown-topic!", decoded.Event.Source?.ToString());
    }

    [Theory]
    [InlineData("""{"message":{"data":"%%%","messageId":"m"}}""", "base64")]
    [InlineData("""{"message":{"data":"AA=="}}""", "messageId")]
    [InlineData("""{"message":{"messageId":"m","attributes":{"a":1}}}""", "attribute 'a'")]
    [InlineData("""{"message":{"messageId":"m","publishTime":"yesterday"}}""", "RFC 3339")]
    [InlineData("""{"subscription":"s"}""", "push envelope")]
    [InlineData("""{"message":"text"}""", "'message' object")]
    public void Decode_BadPushEnvelope_Throws400(string body, string expectedInReason)
    {
        var error = Assert.Throws<EventDecodingException>(() => EventRequestDecoder.Decode("application/json", s_noHeaders, "/", Encoding.UTF8.GetBytes(body)));

        Assert.Equal(400, error.StatusCode);
        Assert.Contains(expectedInReason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData(null)]
    [InlineData("application/cloudevents-batch+json")]
    public void Decode_UnsupportedContentTypeWithoutCeHeaders_Throws415(string? contentType)
    {
        var error = Assert.Throws<EventDecodingException>(() => EventRequestDecoder.Decode(contentType, s_noHeaders, "/", Encoding.UTF8.GetBytes(PushEnvelope)));

        Assert.Equal(415, error.StatusCode);
    }

    [Fact]
    public void Decode_MessagePublishedWithNonJsonData_Throws415()
    {
        var headers = new Dictionary<string, string> { ["ce-id"] = "1", ["ce-source"] = "s", ["ce-type"] = MessagePublishedData.CloudEventType, ["ce-specversion"] = "1.0" };

        var error = Assert.Throws<EventDecodingException>(() => EventRequestDecoder.Decode("text/plain", headers, "/", "hi"u8.ToArray()));

        Assert.Equal(415, error.StatusCode);
    }

    [Fact]
    public void Decode_BinaryModeOtherTypeWithAnyBody_KeepsBytesAndNoTypedData()
    {
        var headers = new Dictionary<string, string> { ["ce-id"] = "1", ["ce-source"] = "s", ["ce-type"] = "com.example.other", ["ce-specversion"] = "1.0" };

        var decoded = EventRequestDecoder.Decode("text/plain", headers, "/", "hi"u8.ToArray());

        Assert.Equal("hi", decoded.Event.Data);
        Assert.Null(decoded.MessagePublished);
    }

    [Fact]
    public void Decode_BinaryModeBadTimeHeader_Throws400()
    {
        var headers = new Dictionary<string, string> { ["ce-id"] = "1", ["ce-source"] = "s", ["ce-type"] = "t", ["ce-specversion"] = "1.0", ["ce-time"] = "yesterday" };

        var error = Assert.Throws<EventDecodingException>(() => EventRequestDecoder.Decode("application/json", headers, "/", "{}"u8.ToArray()));

        Assert.Equal(400, error.StatusCode);
        Assert.StartsWith("binary-mode CloudEvent", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ContentMode.Binary)]
    [InlineData(ContentMode.Structured)]
    public async Task Decode_EventEncodedByTheSdk_RoundTrips(ContentMode mode)
    {
        var sent = new CloudEvent
        {
            Id = "sdk-1",
            Source = new Uri("//pubsub.googleapis.com/projects/p/topics/t", UriKind.RelativeOrAbsolute),
            Type = MessagePublishedData.CloudEventType,
            Time = new DateTimeOffset(2026, 11, 22, 5, 0, 0, TimeSpan.Zero),
            Subject = "ünïcode subject",
            DataContentType = "application/json",
            Data = JsonDocument.Parse("""{"message":{"data":"aGk=","messageId":"m-sdk"},"subscription":"projects/p/subscriptions/s"}""").RootElement,
        };
        using var content = sent.ToHttpContent(mode, EventRequestDecoder.Formatter);
        var headers = content.Headers.Where(h => h.Key != "Content-Type").Select(h => new KeyValuePair<string, string>(h.Key, h.Value.Single()));

        var decoded = EventRequestDecoder.Decode(content.Headers.ContentType?.ToString(), headers, "/", await content.ReadAsByteArrayAsync());

        Assert.Equal(sent.Id, decoded.Event.Id);
        Assert.Equal(sent.Source, decoded.Event.Source);
        Assert.Equal(sent.Time, decoded.Event.Time);
        Assert.Equal(sent.Subject, decoded.Event.Subject);
        Assert.Equal("hi", decoded.MessagePublished!.Message.TextData);
        Assert.Equal("projects/p/subscriptions/s", decoded.MessagePublished.Subscription);
    }
}
