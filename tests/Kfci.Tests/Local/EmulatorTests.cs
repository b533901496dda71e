using Kfci.Testing;

namespace Kfci.Tests.Local;

[Collection(EmulatorCollection.Name)]
public sealed class EmulatorTests(EmulatorFixture emulators)
{
    [Fact]
    public async Task Emulators_AfterFixtureStart_AnswerOnLoopback()
    {
        Assert.True(await emulators.PubSub.IsReadyAsync());
        Assert.True(await emulators.Firestore.IsReadyAsync());
        Assert.StartsWith("127.0.0.1:", emulators.PubSub.HostPort, StringComparison.Ordinal);
    }
}
