using Kfci.Firestore;
using Kfci.Http;
using Kfci.Testing;

namespace Kfci.Tests.Firestore;

/// <summary>Clients for the test run's Firestore emulator, each on a project of its own.</summary>
internal static class EmulatorFirestore
{
    /// <summary>Short backoff: contention retries in tests need not wait like production does.</summary>
    public static RetryOptions FastRetry { get; } = new() { BaseDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(200) };

    /// <summary>Built the way production builds it, from FIRESTORE_EMULATOR_HOST.</summary>
    public static FirestoreClient NewClient(EmulatorFixture emulators, string purpose) => FirestoreClient.Create(
        EmulatorFixture.NewProjectId(purpose),
        retry: FastRetry,
        getEnv: name => name == emulators.Firestore.HostVariable ? emulators.Firestore.HostPort : null);
}
