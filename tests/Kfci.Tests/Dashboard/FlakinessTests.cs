using Kfci.Dashboard.Model;

namespace Kfci.Tests.Dashboard;

public sealed class FlakinessTests
{
    [Theory]
    [InlineData("PFP", 1)]
    [InlineData("PFFP", 1)]
    [InlineData("PFPFP", 2)]
    [InlineData("FFP", 0)]
    [InlineData("PPF", 0)]
    [InlineData("PPPP", 0)]
    public void Flips_CountsFailureStreaksBetweenPasses(string sequence, int flips) =>
        Assert.Equal(flips, Flakiness.Flips(sequence.Select(c => c == 'F')));

    [Fact]
    public void MessageGroups_SameMessageWithOtherNumbersAndIds_OneGroup()
    {
        var groups = MessageGroups.Group([
            "pod e2e-7f9c2d1a timed out after 300s",
            "pod e2e-88aa31bc timed out after 301s",
            "connection refused",
        ]);

        Assert.Equal([("pod e2e-7f9c2d1a timed out after 300s", 2), ("connection refused", 1)], groups);
    }
}
