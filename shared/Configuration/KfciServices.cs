using System.Security.Cryptography.X509Certificates;
using System.Text;
using Kfci.Firestore;
using Kfci.Http;
using Kfci.Kubernetes;
using Kfci.PubSub;
using Kfci.Runs;
using Kfci.Sources;
using Kfci.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Kfci.Configuration;

/// <summary>
/// Registers kfci's adapters from the environment (<see cref="KfciEnvironment"/>), the same way in every function
/// and in the <c>kfci</c> command. Each is a lazy singleton, so a function that never uses, say, the results store
/// needs no bucket configured; a missing setting fails on first use with a one-line message naming the variable.
/// <c>TryAdd</c> is used throughout so tests can register their own fakes first.
/// </summary>
public static class KfciServices
{
    public static IServiceCollection AddKfciAdapters(this IServiceCollection services, Func<string, string?>? getEnv = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        getEnv ??= Environment.GetEnvironmentVariable;
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => FirestoreClient.Create(logger: sp.GetService<ILogger<FirestoreClient>>(), getEnv: getEnv));
        services.TryAddSingleton<Hosting.LoggingRejectionRecorder>();
        services.TryAddSingleton<Hosting.IRejectionRecorder, Hosting.FirestoreRejectionRecorder>();
        services.TryAddSingleton<IRunStore>(sp => new FirestoreRunStore(sp.GetRequiredService<FirestoreClient>()));
        services.TryAddSingleton(_ => PubSubClient.Create(RequireProject(getEnv), getEnv: getEnv));
        services.TryAddSingleton<IEventPublisher>(sp => new BatchingEventPublisher(
            sp.GetRequiredService<PubSubClient>(), logger: sp.GetService<ILogger<BatchingEventPublisher>>()));
        services.TryAddSingleton<IResultsStore>(sp => CreateResultsStore(sp, getEnv));
        services.TryAddSingleton<IWorkflowCluster>(sp => KubernetesWorkflowCluster.Create(
            ClusterConnection(getEnv), logger: sp.GetService<ILogger<KubernetesWorkflowCluster>>()));
        services.TryAddSingleton(sp => RepositorySources.Create(getEnv, sp.GetService<ILoggerFactory>()));
        return services;
    }

    /// <summary>The chain's project: <c>KFCI_PROJECT</c>, else <c>GOOGLE_CLOUD_PROJECT</c>.</summary>
    public static string RequireProject(Func<string, string?> getEnv) =>
        NonEmpty(getEnv(KfciEnvironment.Project)) ?? NonEmpty(getEnv(KfciEnvironment.GoogleCloudProject))
        ?? throw new InvalidOperationException($"No Google Cloud project configured: set {KfciEnvironment.Project}.");

    /// <summary>A directory store when <c>KFCI_RESULTS_DIR</c> is set (the local stack), else the GCS bucket <c>KFCI_RESULTS_BUCKET</c>.</summary>
    public static IResultsStore CreateResultsStore(IServiceProvider services, Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(getEnv);
        if (NonEmpty(getEnv(KfciEnvironment.ResultsDirectory)) is { } directory)
        {
            return new LocalDirectoryResultsStore(directory, services.GetService<ILogger<LocalDirectoryResultsStore>>());
        }

        var bucket = NonEmpty(getEnv(KfciEnvironment.ResultsBucket))
            ?? throw new InvalidOperationException($"No results bucket configured: set {KfciEnvironment.ResultsBucket} (or {KfciEnvironment.ResultsDirectory} for a local directory).");
        return GcsResultsStore.Create(bucket, logger: services.GetService<ILogger<GcsResultsStore>>(), getEnv: getEnv);
    }

    /// <summary>
    /// The test cluster: <c>KFCI_CLUSTER_ENDPOINT</c> (with Google credentials and <c>KFCI_CLUSTER_CA_CERTIFICATE</c> for
    /// https, none for a loopback http endpoint such as the local workflow engine), else kubeconfig/in-cluster discovery.
    /// </summary>
    public static KubernetesConnection ClusterConnection(Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        if (NonEmpty(getEnv(KfciEnvironment.ClusterEndpoint)) is not { } endpoint)
        {
            return KubeConfig.Discover();
        }

        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var server) || (server.Scheme != Uri.UriSchemeHttps && server.Scheme != Uri.UriSchemeHttp))
        {
            throw new InvalidOperationException($"{KfciEnvironment.ClusterEndpoint} must be an http(s) URL, not '{endpoint}'");
        }

        if (server.Scheme == Uri.UriSchemeHttp)
        {
            if (!server.IsLoopback)
            {
                throw new InvalidOperationException($"{KfciEnvironment.ClusterEndpoint} may use plain http only on loopback (the local engine), not '{endpoint}'");
            }

            // The local engine runs any workflow it is sent, so it wants the stack's token even on loopback.
            return NonEmpty(getEnv(KfciEnvironment.ClusterToken)) is { } token
                ? new KubernetesConnection { Server = server, Tokens = new StaticToken(token), Source = $"{KfciEnvironment.ClusterEndpoint} (local, stack token)" }
                : new KubernetesConnection { Server = server, Source = $"{KfciEnvironment.ClusterEndpoint} (local, no credentials)" };
        }

        return new KubernetesConnection
        {
            Server = server,
            CertificateAuthority = NonEmpty(getEnv(KfciEnvironment.ClusterCaCertificate)) is { } ca ? ParseCa(ca) : null,
            Tokens = new GoogleKubernetesTokens(new GoogleAccessTokens()),
            Source = KfciEnvironment.ClusterEndpoint,
        };
    }

    private static X509Certificate2Collection ParseCa(string base64Pem)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            collection.ImportFromPem(Encoding.ASCII.GetString(Convert.FromBase64String(base64Pem)));
        }
        catch (FormatException e)
        {
            throw new InvalidOperationException($"{KfciEnvironment.ClusterCaCertificate} is not a base64-encoded PEM certificate", e);
        }

        return collection;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    /// <summary>GKE accepts Google OAuth access tokens; the Google library refreshes them itself.</summary>
    private sealed class GoogleKubernetesTokens(IAccessTokenSource tokens) : IKubernetesTokenSource
    {
        public Task<string?> GetTokenAsync(CancellationToken cancellationToken) => tokens.GetTokenAsync(cancellationToken);

        public void Invalidate()
        {
        }
    }
}
