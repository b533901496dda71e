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

    public static GcpEndpoints FromEnvironment(Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        return getEnv(KfciEnvironment.GcpApiEndpoint) is { Length: > 0 } host
            ? SingleServer(GoogleEndpoint.EmulatorUri(host))
            : Production;
    }
}
