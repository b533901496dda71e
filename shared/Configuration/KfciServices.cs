using System.Security.Cryptography.X509Certificates;
using System.Net.Http.Headers;
using System.Text;
using k8s;
using k8s.Authentication;
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
        services.TryAddSingleton<ITestSummaryStore>(sp => new FirestoreTestSummaryStore(sp.GetRequiredService<FirestoreClient>()));
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
            // Always the bucket kfci-local: a KFCI_RESULTS_BUCKET exported for cloud work must not make local links name it.
            return new LocalDirectoryResultsStore(directory, services.GetService<ILogger<LocalDirectoryResultsStore>>());
        }

        var bucket = NonEmpty(getEnv(KfciEnvironment.ResultsBucket))
            ?? throw new InvalidOperationException($"No results bucket configured: set {KfciEnvironment.ResultsBucket} (or {KfciEnvironment.ResultsDirectory} for a local directory).");
        return GcsResultsStore.Create(bucket, logger: services.GetService<ILogger<GcsResultsStore>>(), getEnv: getEnv);
    }

    /// <summary>
    /// The test cluster: <c>KFCI_CLUSTER_ENDPOINT</c> (https with Google credentials and <c>KFCI_CLUSTER_CA_CERTIFICATE</c>,
    /// or plain http on loopback for the local workflow engine), else kubeconfig/in-cluster discovery. With
    /// <c>KFCI_CLUSTER_TOKEN</c> set, that bearer token authenticates to the endpoint instead (the local engine's per-stack token).
    /// A bad setting throws <see cref="KubernetesConfigurationException"/> naming it.
    /// </summary>
    public static KubernetesClientConfiguration ClusterConnection(Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        if (NonEmpty(getEnv(KfciEnvironment.ClusterEndpoint)) is not { } endpoint)
        {
            return ClusterConfig.Discover(KubeConfigSources.From(getEnv));
        }

        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var server) || (server.Scheme != Uri.UriSchemeHttps && server.Scheme != Uri.UriSchemeHttp))
        {
            throw new KubernetesConfigurationException($"{KfciEnvironment.ClusterEndpoint} must be an http(s) URL, not '{endpoint}'");
        }

        if (server.Scheme == Uri.UriSchemeHttp && !server.IsLoopback)
        {
            throw new KubernetesConfigurationException($"{KfciEnvironment.ClusterEndpoint} may use plain http only on loopback (the local engine), not '{endpoint}'");
        }

        var token = NonEmpty(getEnv(KfciEnvironment.ClusterToken));
        var configuration = new KubernetesClientConfiguration { Host = server.ToString(), AccessToken = token };
        if (server.Scheme == Uri.UriSchemeHttps)
        {
            // GKE's API server presents a certificate of the cluster's own CA, which no system store trusts; without the
            // CA every call would fail with a TLS error far from the missing setting.
            configuration.SslCaCerts = NonEmpty(getEnv(KfciEnvironment.ClusterCaCertificate)) is { } ca
                ? ParseCa(ca)
                : throw new KubernetesConfigurationException($"{KfciEnvironment.ClusterEndpoint} is https but {KfciEnvironment.ClusterCaCertificate} is not set: give the cluster's base64 PEM CA certificate (terraform: master_auth.cluster_ca_certificate)");
            configuration.TokenProvider = token is null ? new GoogleKubernetesTokens(new GoogleAccessTokens()) : null;
        }

        return ClusterConfig.TrustOnlyConfiguredAuthority(configuration);
    }

    private static X509Certificate2Collection ParseCa(string base64Pem)
    {
        string pem;
        try
        {
            pem = Encoding.ASCII.GetString(Convert.FromBase64String(base64Pem));
        }
        catch (FormatException e)
        {
            throw new KubernetesConfigurationException($"{KfciEnvironment.ClusterCaCertificate} is not a base64-encoded PEM certificate", e);
        }

        return ClusterConfig.CertificateAuthority(pem, KfciEnvironment.ClusterCaCertificate);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    /// <summary>GKE accepts Google OAuth access tokens; the Google library refreshes them itself.</summary>
    private sealed class GoogleKubernetesTokens(IAccessTokenSource tokens) : ITokenProvider
    {
        public async Task<AuthenticationHeaderValue> GetAuthenticationHeaderAsync(CancellationToken cancellationToken) =>
            new("Bearer", await tokens.GetTokenAsync(cancellationToken));
    }
}
