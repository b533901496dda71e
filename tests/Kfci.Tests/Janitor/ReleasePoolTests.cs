using Kfci.Janitor;

namespace Kfci.Tests.Janitor;

public sealed class ReleasePoolTests
{
    private static readonly DateTimeOffset s_t0 = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static PoolDeployment Deployment(string name, int day) => new(name, s_t0.AddDays(day));

    [Fact]
    public void Next_NoDeployments_FirstSlot()
    {
        var slot = ReleasePool.Next("kf-vmaster", 5, []);
        Assert.Equal(new PoolSlot("kf-vmaster-n00", false, slot.Reason), slot);
    }

    [Fact]
    public void Next_GapInTheMiddle_LowestFreeSlot()
    {
        var slot = ReleasePool.Next("kf-vmaster", 5,
            [Deployment("kf-vmaster-n00", 1), Deployment("kf-vmaster-n00-storage", 1), Deployment("kf-vmaster-n01", 2), Deployment("kf-vmaster-n03", 3), Deployment("kf-v1-2-n02", 0)]);
        Assert.Equal("kf-vmaster-n02", slot.Name);
        Assert.False(slot.Recycle);
    }

    [Fact]
    public void Next_AllTaken_OldestRecycled()
    {
        var existing = Enumerable.Range(0, 5).Select(i => Deployment($"kf-vmaster-n0{i}", 10 - i)).ToList();
        existing.Add(Deployment("kf-vmaster-n07", -100)); // beyond the pool's size: not a slot, never recycled

        var slot = ReleasePool.Next("kf-vmaster", 5, existing);

        Assert.Equal("kf-vmaster-n04", slot.Name);
        Assert.True(slot.Recycle);
        Assert.Contains("2024-01-07T00:00:00Z", slot.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Next_AllTakenSomeUndated_OldestDatedRecycled()
    {
        var slot = ReleasePool.Next("kf-v1-2", 2, [new PoolDeployment("kf-v1-2-n00", null), Deployment("kf-v1-2-n01", 5)]);
        Assert.Equal("kf-v1-2-n01", slot.Name);
    }

    [Theory]
    [InlineData("kf-v1.2", 5)]
    [InlineData("", 5)]
    [InlineData("KF-vmaster", 5)]
    [InlineData("kf-vmaster", 0)]
    [InlineData("kf-vmaster", 101)]
    public void Next_BadInput_Throws(string baseName, int size) =>
        Assert.Throws<ArgumentException>(() => ReleasePool.Next(baseName, size, []));
}
