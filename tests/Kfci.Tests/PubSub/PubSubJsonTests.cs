using Kfci.PubSub;

namespace Kfci.Tests.PubSub;

public sealed class PubSubJsonTests
{
    [Theory]
    [InlineData(10, "10s")]
    [InlineData(2.5, "2.5s")]
    [InlineData(600, "600s")]
    [InlineData(0.0000001, "0.0000001s")]
    public void Duration_FormatsGoogleDuration(double seconds, string expected)
    {
        Assert.Equal(expected, PubSubJson.Duration(TimeSpan.FromSeconds(seconds)));
    }

    [Theory]
    [InlineData("10s", 10)]
    [InlineData("2.500s", 2.5)]
    [InlineData("0.000000001s", 0)]
    public void ParseDuration_ReadsGoogleDuration(string text, double seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), PubSubJson.ParseDuration(text));
    }

    [Fact]
    public void ParseDuration_NotADuration_ThrowsFormatException()
    {
        Assert.Throws<FormatException>(() => PubSubJson.ParseDuration("10m"));
    }

    [Fact]
    public void Timestamp_NanosecondPrecision_IsTruncatedToTicks()
    {
        var parsed = PubSubJson.Timestamp("2026-11-22T05:45:13.123456789Z");

        Assert.Equal(new DateTimeOffset(2026, 11, 22, 5, 45, 13, TimeSpan.Zero).AddTicks(1234567), parsed);
    }

    [Fact]
    public void Base64_UrlSafeUnpadded_IsAccepted()
    {
        Assert.Equal(new byte[] { 0xFB, 0xFF }, PubSubJson.Base64("-_8"));
        Assert.Equal(new byte[] { 0xFB, 0xFF }, PubSubJson.Base64("+/8="));
    }

    [Fact]
    public void EncodedSize_CountsBase64AndEscapedAttributes()
    {
        var small = PubSubJson.EncodedSize(new OutgoingMessage(new byte[3]));
        var large = PubSubJson.EncodedSize(new OutgoingMessage(new byte[3000], new Dictionary<string, string> { ["k"] = "ü" }));

        // 4000 base64 characters instead of 4, and ,"attributes":{"k":"\u00FC"} (the JSON escapes non-ASCII).
        Assert.Equal(small + 3996 + 28, large);
    }

    [Fact]
    public void OutgoingMessage_NeitherDataNorAttributes_IsRejected()
    {
        Assert.Throws<ArgumentException>(() => new OutgoingMessage(ReadOnlyMemory<byte>.Empty));
    }

    [Fact]
    public void Subscription_OidcTokenWithoutAudience_OmitsTheField()
    {
        var config = new SubscriptionConfig
        {
            Id = "pushed",
            TopicId = "run-finished",
            Push = new PushConfig(new Uri("https://example.test/push"), new PushOidcToken("pusher@p.iam.gserviceaccount.com")),
        };

        var json = PubSubJson.Subscription("kfci-prod", config);

        Assert.Equal(
            """{"topic":"projects/kfci-prod/topics/run-finished","pushConfig":{"pushEndpoint":"https://example.test/push","oidcToken":{"serviceAccountEmail":"pusher@p.iam.gserviceaccount.com"}}}""",
            json.ToJsonString());
        var answer = json.DeepClone().AsObject();
        answer["name"] = "projects/kfci-prod/subscriptions/pushed";
        Assert.Equal(config, PubSubJson.Subscription(answer));
    }
}
