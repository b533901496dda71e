using System.Security.Cryptography.X509Certificates;
using k8s;
using k8s.Authentication;
using k8s.KubeConfigModels;

namespace Kfci.Kubernetes;

/// <summary>Where <see cref="ClusterConfig.Discover"/> looks; the defaults are the process's own environment.</summary>
public sealed record KubeConfigSources
{
    public static KubeConfigSources Default { get; } = new();

    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;

    public string HomeDirectory { get; init; } = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    public string ServiceAccountDirectory { get; init; } = "/var/run/secrets/kubernetes.io/serviceaccount";

    /// <summary>Sources read through <paramref name="getEnv"/> alone, <c>HOME</c> included, so a caller's environment is the whole story.</summary>
    public static KubeConfigSources From(Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        return getEnv("HOME") is { Length: > 0 } home
            ? new() { GetEnvironmentVariable = getEnv, HomeDirectory = home }
            : new() { GetEnvironmentVariable = getEnv };
    }
}

/// <summary>
/// Finds the cluster connection the way kubectl does — every file of <c>KUBECONFIG</c> merged (the first to define
/// a name wins), then <c>~/.kube/config</c>, then the pod's service account — and builds KubernetesClient's
/// configuration from it. The library parses the kubeconfig, runs exec credential plugins (e.g.
/// <c>gke-gcloud-auth-plugin</c>) and refreshes their tokens; kfci adds what kubectl does and the library does not
/// (missing <c>KUBECONFIG</c> entries are skipped, relative paths resolve against the file that names them) and
/// turns every failure, including a certificate authority without a certificate, into one
/// <see cref="KubernetesConfigurationException"/> line instead of the library's exceptions.
/// </summary>
public static class ClusterConfig
{
    public const string KubeConfigVariable = "KUBECONFIG";
    public const string ServiceHostVariable = "KUBERNETES_SERVICE_HOST";
    public const string ServicePortVariable = "KUBERNETES_SERVICE_PORT";

    /// <summary>Resolves the connection; <paramref name="context"/> overrides the kubeconfig's current-context.</summary>
    public static KubernetesClientConfiguration Discover(KubeConfigSources? sources = null, string? context = null)
    {
        sources ??= KubeConfigSources.Default;
        var listed = sources.GetEnvironmentVariable(KubeConfigVariable)?
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (listed is { Length: > 0 })
        {
            var existing = listed.Where(File.Exists).ToList();
            return existing.Count > 0
                ? LoadFiles(existing, context)
                : throw new KubernetesConfigurationException($"none of the files in {KubeConfigVariable} exists: {string.Join(Path.PathSeparator, listed)}");
        }

        var home = Path.Combine(sources.HomeDirectory, ".kube", "config");
        if (File.Exists(home))
        {
            return LoadFiles([home], context);
        }

        if (!string.IsNullOrEmpty(sources.GetEnvironmentVariable(ServiceHostVariable)))
        {
            return InCluster(sources);
        }

        throw new KubernetesConfigurationException($"no Kubernetes configuration: set {KubeConfigVariable}, create {home} (e.g. 'gcloud container clusters get-credentials'), or run in a pod");
    }

    /// <summary>Reads and merges kubeconfig files as kubectl merges a <c>KUBECONFIG</c> list: for each name, the first file that defines it wins.</summary>
    public static KubernetesClientConfiguration LoadFiles(IReadOnlyList<string> paths, string? context = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var source = $"kubeconfig {string.Join(Path.PathSeparator, paths)}";
        return Build(source, () =>
        {
            var merged = paths.Select(Load).Aggregate(Merge);
            RequireContext(merged, context, source);
            return KubernetesClientConfiguration.BuildConfigFromConfigObject(merged, context);
        });
    }

    /// <summary>The pod's own service account: the API server from the service environment, the token file the kubelet rotates.</summary>
    public static KubernetesClientConfiguration InCluster(KubeConfigSources? sources = null)
    {
        sources ??= KubeConfigSources.Default;
        var host = sources.GetEnvironmentVariable(ServiceHostVariable);
        var port = sources.GetEnvironmentVariable(ServicePortVariable);
        if (string.IsNullOrEmpty(host) || !int.TryParse(port, out var portNumber))
        {
            throw new KubernetesConfigurationException($"not running in a cluster: {ServiceHostVariable} and {ServicePortVariable} must both be set");
        }

        var directory = sources.ServiceAccountDirectory;
        var tokenPath = Path.Combine(directory, "token");
        if (!File.Exists(tokenPath))
        {
            throw new KubernetesConfigurationException($"in-cluster service account token {tokenPath} is missing; is automountServiceAccountToken off?");
        }

        var caPath = Path.Combine(directory, "ca.crt");
        var namespacePath = Path.Combine(directory, "namespace");
        return Build($"in-cluster service account {directory}", () => new KubernetesClientConfiguration
        {
            Host = new UriBuilder(Uri.UriSchemeHttps, host, portNumber).ToString(),
            TokenProvider = new TokenFileAuth(tokenPath),
            SslCaCerts = CertificateAuthority(File.ReadAllText(caPath), caPath),
            Namespace = File.Exists(namespacePath) ? File.ReadAllText(namespacePath).Trim() : "default",
        });
    }

    /// <summary>
    /// The certificates of a PEM certificate authority. PEM without a certificate is an error: the library would
    /// otherwise trust whatever the system store trusts.
    /// </summary>
    public static X509Certificate2Collection CertificateAuthority(string pem, string source)
    {
        ArgumentNullException.ThrowIfNull(pem);
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(pem);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new KubernetesConfigurationException($"{source}: certificate authority is not valid PEM: {OneLine(e.Message)}", e);
        }

        return certificates.Count > 0 ? certificates : throw NoCertificate(source);
    }

    /// <summary>
    /// Makes the configured certificate authority the only trust root, as kubectl does. KubernetesClient's own check
    /// accepts any server certificate the system store trusts before it looks at the configured CA; a chain policy
    /// with custom root trust makes the platform itself judge the server against that CA alone.
    /// </summary>
    public static KubernetesClientConfiguration TrustOnlyConfiguredAuthority(KubernetesClientConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration.SkipTlsVerify || configuration.SslCaCerts is not { Count: > 0 } roots)
        {
            return configuration;
        }

        var earlier = configuration.FirstMessageHandlerSetup;
        configuration.FirstMessageHandlerSetup = handler =>
        {
            earlier?.Invoke(handler);
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.AddRange(roots);
            handler.SslOptions.CertificateChainPolicy = policy;
        };
        return configuration;
    }

    private static KubernetesClientConfiguration Build(string source, Func<KubernetesClientConfiguration> build)
    {
        KubernetesClientConfiguration configuration;
        try
        {
            configuration = build();
        }
        catch (KubernetesConfigurationException)
        {
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The library throws its own KubeConfigException, but also CryptographicException (a CA that is not PEM),
            // FormatException (CA data that is not base64), IOException, YamlException and plain Exception (a
            // retired auth-provider): to kfci they are all the same configuration error.
            throw new KubernetesConfigurationException($"{source}: {OneLine(e.Message)}", e);
        }

        if (configuration.SslCaCerts is { Count: 0 })
        {
            throw NoCertificate(source);
        }

        return TrustOnlyConfiguredAuthority(configuration);
    }

    // The library reads an empty current-context as "no context" and then fails on the missing server, and a context
    // without a name throws NullReferenceException; kubectl says what is missing.
    private static void RequireContext(K8SConfiguration config, string? context, string source)
    {
        if (config.Contexts.Any(c => string.IsNullOrEmpty(c.Name)))
        {
            throw new KubernetesConfigurationException($"{source}: a context has no name");
        }

        if (string.IsNullOrEmpty(context) && string.IsNullOrEmpty(config.CurrentContext))
        {
            var names = config.Contexts.Select(c => c.Name).ToList();
            throw new KubernetesConfigurationException(names.Count == 0
                ? $"{source}: current-context is not set and there are no contexts; e.g. run 'gcloud container clusters get-credentials'"
                : $"{source}: current-context is not set; choose one of the contexts ({string.Join(", ", names)}), e.g. 'kubectl config use-context {names[0]}'");
        }
    }

    private static K8SConfiguration Load(string path)
    {
        var config = KubernetesClientConfiguration.LoadKubeConfig(new FileInfo(path), useRelativePaths: true);
        // The library resolves relative paths against the first file of a merge only; kubectl against the file that names them.
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        foreach (var endpoint in (config.Clusters ?? []).Select(c => c.ClusterEndpoint).OfType<ClusterEndpoint>())
        {
            endpoint.CertificateAuthority = Absolute(directory, endpoint.CertificateAuthority);
        }

        foreach (var credentials in (config.Users ?? []).Select(u => u.UserCredentials).OfType<UserCredentials>())
        {
            credentials.ClientCertificate = Absolute(directory, credentials.ClientCertificate);
            credentials.ClientKey = Absolute(directory, credentials.ClientKey);
        }

        config.Contexts ??= [];
        config.Clusters ??= [];
        config.Users ??= [];
        return config;
    }

    private static K8SConfiguration Merge(K8SConfiguration first, K8SConfiguration next)
    {
        // An empty current-context is unset, as in kubectl's merge (Go's zero value), so a later file may set it.
        first.CurrentContext = string.IsNullOrEmpty(first.CurrentContext) ? next.CurrentContext : first.CurrentContext;
        first.Clusters = FirstByName(first.Clusters, next.Clusters, c => c.Name);
        first.Users = FirstByName(first.Users, next.Users, u => u.Name);
        first.Contexts = FirstByName(first.Contexts, next.Contexts, c => c.Name);
        return first;
    }

    private static List<T> FirstByName<T>(IEnumerable<T> first, IEnumerable<T> next, Func<T, string> name) =>
        first.Concat(next).DistinctBy(name, StringComparer.Ordinal).ToList();

    private static string? Absolute(string directory, string? path) =>
        string.IsNullOrEmpty(path) || Path.IsPathRooted(path) ? path : Path.Combine(directory, path);

    private static KubernetesConfigurationException NoCertificate(string source) =>
        new($"{source}: the certificate authority holds no PEM certificate; refusing to fall back to the system trust store");

    internal static string OneLine(string text)
    {
        var line = text.Trim().Split('\n', 2)[0].Trim();
        return line.Length == 0 ? "(no message)" : line;
    }
}
