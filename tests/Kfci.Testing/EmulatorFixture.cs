using Kfci.Local;
using Xunit;

namespace Kfci.Testing;

/// <summary>
/// Starts the real Pub/Sub and Firestore emulators once per test run, on free loopback ports, and stops
/// them at the end. Tests isolate themselves with <see cref="NewProjectId"/>: both emulators keep each
/// project's data apart, so no test sees another's topics or documents.
/// </summary>
public sealed class EmulatorFixture : IAsyncLifetime
{
    private Emulator? _pubSub;
    private Emulator? _firestore;

    public Emulator PubSub => _pubSub ?? throw new InvalidOperationException("emulators not started");

    public Emulator Firestore => _firestore ?? throw new InvalidOperationException("emulators not started");

    public string LogDirectory { get; } = Path.Combine(Path.GetTempPath(), $"kfci-emulators-{Environment.ProcessId}");

    /// <summary>A project id no other test uses (lowercase, starts with a letter, as GCP requires).</summary>
    public static string NewProjectId(string purpose = "t") =>
        $"{purpose}-{Guid.NewGuid():N}"[..Math.Min(30, purpose.Length + 13)].ToLowerInvariant();

    public async Task InitializeAsync()
    {
        // Both JVMs start in parallel: together ~4 s instead of ~7 s.
        var pubSub = Emulator.StartAsync(EmulatorKind.PubSub, LogDirectory);
        var firestore = Emulator.StartAsync(EmulatorKind.Firestore, LogDirectory);
        _pubSub = await pubSub;
        _firestore = await firestore;
    }

    public async Task DisposeAsync()
    {
        if (_pubSub is not null)
        {
            await _pubSub.DisposeAsync();
        }

        if (_firestore is not null)
        {
            await _firestore.DisposeAsync();
        }
    }
}
