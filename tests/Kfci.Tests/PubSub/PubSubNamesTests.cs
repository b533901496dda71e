using Kfci.PubSub;

namespace Kfci.Tests.PubSub;

public sealed class PubSubNamesTests
{
    [Theory]
    [InlineData("abc")]
    [InlineData("run-submitted")]
    [InlineData("A.b_c~d+e%f-9")]
    public void ValidateId_Valid_DoesNotThrow(string id)
    {
        PubSubNames.ValidateId(id);
    }

    [Fact]
    public void ValidateId_MaxLength_IsAcceptedAndOneMoreIsNot()
    {
        PubSubNames.ValidateId("a" + new string('b', 254));

        Assert.Contains("255", Assert.Throws<ArgumentException>(() => PubSubNames.ValidateId(new string('a', 256))).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ab", "3 to 255 characters")]
    [InlineData("9lives", "start with a letter")]
    [InlineData("-dash", "start with a letter")]
    [InlineData("bad*char", "'*' at position 3")]
    [InlineData("ünïcode", "start with a letter")]
    [InlineData("goog-reserved", "'goog' are reserved")]
    [InlineData("GOOGle", "'goog' are reserved")]
    public void ValidateId_Invalid_ThrowsNamingTheRule(string id, string rule)
    {
        var error = Assert.Throws<ArgumentException>(() => PubSubNames.ValidateId(id, "topicId"));

        Assert.Equal("topicId", error.ParamName);
        Assert.Contains(rule, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TopicAndSubscription_BuildFullResourceNames()
    {
        Assert.Equal("projects/kfci-prod/topics/prow-events", PubSubNames.Topic("kfci-prod", KfciTopics.ProwEvents));
        Assert.Equal("projects/kfci-prod/subscriptions/trigger", PubSubNames.Subscription("kfci-prod", "trigger"));
        Assert.Equal("prow-events", PubSubNames.IdOf("projects/kfci-prod/topics/prow-events"));
    }

    [Fact]
    public void KfciTopics_All_AreValidIds()
    {
        Assert.Equal(8, KfciTopics.All.Distinct().Count());
        foreach (var topic in KfciTopics.All)
        {
            PubSubNames.ValidateId(topic);
        }
    }
}
