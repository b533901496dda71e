using Kfci.Http;
using Kfci.Prow;

namespace Kfci.Tests.Prow;

public sealed class GitRefNameTests
{
    [Theory]
    [InlineData("main")]
    [InlineData("release/v1.2")]
    [InlineData("feature+x")]
    [InlineData("a_b-c.d")]
    [InlineData("2024")]
    [InlineData("_private")]
    [InlineData("pull/12/head")]
    public void IsSafe_GitBranchNames_Accepted(string name) => Assert.True(GitRefName.IsSafe(name));

    [Theory]
    [InlineData("")]
    [InlineData("..")]
    [InlineData("a..b")]
    [InlineData("-x")]
    [InlineData("--upload-pack=x")]
    [InlineData("main\n")]
    [InlineData("a\u0001b")]
    [InlineData("a b")]
    [InlineData("a~1")]
    [InlineData("a^")]
    [InlineData("a:b")]
    [InlineData("a@{1}")]
    [InlineData("x/")]
    [InlineData("x.")]
    [InlineData("x.lock")]
    [InlineData("a//b")]
    [InlineData("a/.b")]
    [InlineData("/a")]
    public void IsSafe_NotAGitRefOrUnsafeForACommandLine_Refused(string name) => Assert.False(GitRefName.IsSafe(name));

    [Fact]
    public void IsSafe_LongerThan255_Refused() => Assert.False(GitRefName.IsSafe(new string('a', 256)));

    [Fact]
    public void Everywhere_ABranchWithAPlus_AcceptedByEventsAndBothSources()
    {
        var parsed = ProwEventParser.Parse(
            """{"name":"j","refs":{"org":"o","repo":"r","base_ref":"feature+x"}}"""u8,
            new Dictionary<string, string> { [ProwEventParser.EventTypeAttribute] = ProwEventParser.PeriodicEvent },
            "m",
            DateTimeOffset.Parse("2026-11-22T05:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal("feature+x", parsed.Job.ExtraRefs[0].BaseRef);
    }

    [Fact]
    public void Transience_InvalidDataFromAParse_IsPermanent() => Assert.False(Transience.IsTransient(new InvalidDataException("GitHub answered a branch without a commit sha")));
}
