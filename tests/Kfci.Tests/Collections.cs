using Kfci.Testing;

namespace Kfci.Tests;

/// <summary>Tests that need the real emulators join this collection: they start once per run.</summary>
[CollectionDefinition(Name)]
public sealed class EmulatorCollection : ICollectionFixture<EmulatorFixture>
{
    public const string Name = "emulators";
}
