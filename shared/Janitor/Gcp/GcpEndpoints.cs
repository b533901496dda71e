using Kfci.Configuration;
using Kfci.Http;

namespace Kfci.Janitor.Gcp;

/// <summary>
/// Where the janitor's Google APIs live. <c>KFCI_GCP_API_ENDPOINT</c> (local and tests only) points all four at one
/// plain-HTTP server, the fake, without credentials; each API keeps its own path prefix, so one server can serve them.
/// </summary>
public sealed record GcpEndpoints(GoogleEndpoint Compute, GoogleEndpoint Container, GoogleEndpoint DeploymentManager, GoogleEndpoint Iam)
{
    public static GcpEndpoints Production { get; } = new(
        new GoogleEndpoint(new Uri("https://compute.googleapis.com/"), IsEmulator: false),
        new GoogleEndpoint(new Uri("https://container.googleapis.com/"), IsEmulator: false),
        new GoogleEndpoint(new Uri("https://deploymentmanager.googleapis.com/"), IsEmulator: false),
        new GoogleEndpoint(new Uri("https://iam.googleapis.com/"), IsEmulator: false));

    /// <summary>All four APIs on one server (the fake), anonymous.</summary>
    public static GcpEndpoints SingleServer(Uri baseAddress)
    {
        var endpoint = new GoogleEndpoint(baseAddress, IsEmulator: true);
        return new GcpEndpoints(endpoint, endpoint, endpoint, endpoint);
    }

    /// <summary>
    /// The fake when <c>KFCI_GCP_API_ENDPOINT</c> is set, else Google's APIs; but a Janitor whose Pub/Sub or Firestore
    /// is an emulator is a local one, and it reaches real Google Cloud only when <c>KFCI_JANITOR_REAL_GCP=true</c> says so.
    /// </summary>
    /// <exception cref="InvalidOperationException">A local Janitor would reach Google Cloud without being asked to.</exception>
    public static GcpEndpoints FromEnvironment(Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        if (getEnv(KfciEnvironment.GcpApiEndpoint) is { Length: > 0 } host)
        {
            return SingleServer(GoogleEndpoint.EmulatorUri(host));
        }

        var emulator = new[] { KfciEnvironment.PubSubEmulatorHost, KfciEnvironment.FirestoreEmulatorHost }.FirstOrDefault(name => getEnv(name) is { Length: > 0 });
        if (emulator is not null && getEnv(KfciEnvironment.JanitorRealGcp) != "true")
        {
            throw new InvalidOperationException(
                $"{emulator} is set, so this Janitor runs locally, and {KfciEnvironment.GcpApiEndpoint} is not: it would sweep real Google Cloud; "
                + $"point {KfciEnvironment.GcpApiEndpoint} at a fake, or set {KfciEnvironment.JanitorRealGcp}=true to sweep the configured projects for real");
        }

        return Production;
    }
}
