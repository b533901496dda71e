using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Kfci.Kubernetes;

/// <summary>Where <see cref="KubeConfig.Discover"/> looks; the defaults are the process's own environment.</summary>
public sealed record KubeConfigSources
{
    public static KubeConfigSources Default { get; } = new();

    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;

    public string HomeDirectory { get; init; } = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    public string ServiceAccountDirectory { get; init; } = "/var/run/secrets/kubernetes.io/serviceaccount";
}

/// <summary>
/// Finds and reads the cluster connection the way kubectl does: <c>KUBECONFIG</c> (the first file of a
/// list), then <c>~/.kube/config</c>, then the in-cluster service account. Every failure is a
/// <see cref="KubeConfigException"/> with a one-line message.
/// </summary>
public static class KubeConfig
{
    public const string KubeConfigVariable = "KUBECONFIG";
    public const string ServiceHostVariable = "KUBERNETES_SERVICE_HOST";
    public const string ServicePortVariable = "KUBERNETES_SERVICE_PORT";

    private static readonly IDeserializer s_yaml = new DeserializerBuilder().IgnoreUnmatchedProperties().Build();

    /// <summary>Resolves the connection; <paramref name="context"/> overrides the kubeconfig's current-context.</summary>
    public static KubernetesConnection Discover(KubeConfigSources? sources = null, string? context = null)
    {
        sources ??= KubeConfigSources.Default;
        var fromVariable = sources.GetEnvironmentVariable(KubeConfigVariable)?
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .FirstOrDefault();
        if (fromVariable is not null)
        {
            return LoadFile(fromVariable, context);
        }

        var home = Path.Combine(sources.HomeDirectory, ".kube", "config");
        if (File.Exists(home))
        {
            return LoadFile(home, context);
        }

        if (!string.IsNullOrEmpty(sources.GetEnvironmentVariable(ServiceHostVariable)))
        {
            return InCluster(sources);
        }

        throw new KubeConfigException($"no Kubernetes configuration: set {KubeConfigVariable}, create {home} (e.g. 'gcloud container clusters get-credentials'), or run in a pod");
    }

    public static KubernetesConnection LoadFile(string path, string? context = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KubeConfigException($"cannot read kubeconfig {path}: {e.Message}", e);
        }

        return Parse(text, Path.GetDirectoryName(Path.GetFullPath(path)), $"kubeconfig {path}", context);
    }

    /// <summary>Reads kubeconfig YAML; relative file references resolve against <paramref name="baseDirectory"/>.</summary>
    public static KubernetesConnection Parse(string yaml, string? baseDirectory, string source = "kubeconfig", string? context = null)
    {
        KubeConfigFile? file;
        try
        {
            file = s_yaml.Deserialize<KubeConfigFile?>(yaml);
        }
        catch (YamlException e)
        {
            throw new KubeConfigException($"{source} is not valid kubeconfig YAML: {e.Message.Split('\n')[0]}", e);
        }

        if (file is null)
        {
            throw new KubeConfigException($"{source} is empty");
        }

        var contextName = context ?? file.CurrentContext;
        if (string.IsNullOrEmpty(contextName))
        {
            throw new KubeConfigException($"{source} has no current-context; run 'kubectl config use-context NAME'");
        }

        var selected = file.Contexts.FirstOrDefault(c => c.Name == contextName)?.Context
            ?? throw new KubeConfigException($"{source} has no context named '{contextName}'");
        var cluster = file.Clusters.FirstOrDefault(c => c.Name == selected.Cluster)?.Cluster
            ?? throw new KubeConfigException($"{source}: context '{contextName}' names cluster '{selected.Cluster}', which is not defined");
        var user = file.Users.FirstOrDefault(u => u.Name == selected.User)?.User ?? new UserEntry();
        if (!Uri.TryCreate(cluster.Server, UriKind.Absolute, out var server))
        {
            throw new KubeConfigException($"{source}: cluster '{selected.Cluster}' has no valid server URL ('{cluster.Server}')");
        }

        var files = new FileResolver(baseDirectory, source);
        var ca = files.Pem(cluster.CertificateAuthorityData, cluster.CertificateAuthority, "certificate-authority");
        return new KubernetesConnection
        {
            Server = server,
            Namespace = string.IsNullOrEmpty(selected.Namespace) ? "default" : selected.Namespace,
            CertificateAuthority = ca is null ? null : Certificates(ca, source),
            InsecureSkipTlsVerify = cluster.InsecureSkipTlsVerify,
            TlsServerName = cluster.TlsServerName,
            ClientCertificate = ClientCertificate(user, files, source),
            Tokens = Tokens(user, files, ClusterInfo(server, cluster, ca)),
            Source = $"{source} context {contextName}",
        };
    }

    /// <summary>The pod's own service account: the API server from the service environment, the rotating token file.</summary>
    public static KubernetesConnection InCluster(KubeConfigSources? sources = null)
    {
        sources ??= KubeConfigSources.Default;
        var host = sources.GetEnvironmentVariable(ServiceHostVariable);
        var port = sources.GetEnvironmentVariable(ServicePortVariable);
        if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(port))
        {
            throw new KubeConfigException($"not running in a cluster: {ServiceHostVariable} and {ServicePortVariable} must both be set");
        }

        var directory = sources.ServiceAccountDirectory;
        var tokenPath = Path.Combine(directory, "token");
        if (!File.Exists(tokenPath))
        {
            throw new KubeConfigException($"in-cluster service account token {tokenPath} is missing; is automountServiceAccountToken off?");
        }

        var caPath = Path.Combine(directory, "ca.crt");
        var namespacePath = Path.Combine(directory, "namespace");
        var hostPart = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
        return new KubernetesConnection
        {
            Server = new Uri($"https://{hostPart}:{port}/"),
            Namespace = File.Exists(namespacePath) ? File.ReadAllText(namespacePath).Trim() : "default",
            CertificateAuthority = File.Exists(caPath) ? Certificates(File.ReadAllText(caPath), caPath) : null,
            Tokens = new TokenFile(tokenPath),
            Source = $"in-cluster service account {directory}",
        };
    }

    private static X509Certificate2Collection Certificates(string pem, string source)
    {
        var collection = new X509Certificate2Collection();
        try
        {
            collection.ImportFromPem(pem);
        }
        catch (CryptographicException e)
        {
            throw new KubeConfigException($"{source}: certificate authority is not valid PEM: {e.Message}", e);
        }

        return collection.Count > 0 ? collection : throw new KubeConfigException($"{source}: certificate authority holds no certificate");
    }

    private static X509Certificate2? ClientCertificate(UserEntry user, FileResolver files, string source)
    {
        var certificate = files.Pem(user.ClientCertificateData, user.ClientCertificate, "client-certificate");
        var key = files.Pem(user.ClientKeyData, user.ClientKey, "client-key");
        if (certificate is null && key is null)
        {
            return null;
        }

        if (certificate is null || key is null)
        {
            throw new KubeConfigException($"{source}: client-certificate and client-key must be given together");
        }

        try
        {
            return X509Certificate2.CreateFromPem(certificate, key);
        }
        catch (CryptographicException e)
        {
            throw new KubeConfigException($"{source}: client certificate or key is not valid PEM: {e.Message}", e);
        }
    }

    private static IKubernetesTokenSource? Tokens(UserEntry user, FileResolver files, JsonObject clusterInfo)
    {
        if (user.Exec is not null)
        {
            return new ExecCredentialPlugin(user.Exec, clusterInfo, files.BaseDirectory);
        }

        if (!string.IsNullOrEmpty(user.Token))
        {
            return new StaticToken(user.Token);
        }

        return string.IsNullOrEmpty(user.TokenFile) ? null : new TokenFile(files.Resolve(user.TokenFile));
    }

    // The ExecCredential spec.cluster object that provideClusterInfo hands to plugins.
    private static JsonObject ClusterInfo(Uri server, ClusterEntry cluster, string? caPem)
    {
        var info = new JsonObject { ["server"] = server.ToString().TrimEnd('/') };
        if (cluster.TlsServerName is not null)
        {
            info["tls-server-name"] = cluster.TlsServerName;
        }

        if (cluster.InsecureSkipTlsVerify)
        {
            info["insecure-skip-tls-verify"] = true;
        }

        if (caPem is not null)
        {
            info["certificate-authority-data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(caPem));
        }

        return info;
    }

    private sealed class FileResolver(string? baseDirectory, string source)
    {
        public string? BaseDirectory { get; } = baseDirectory;

        public string Resolve(string path) =>
            Path.IsPathRooted(path) || BaseDirectory is null ? path : Path.Combine(BaseDirectory, path);

        /// <summary>PEM text from the base64 <c>*-data</c> field, else from the named file; null when neither is set.</summary>
        public string? Pem(string? base64, string? path, string field)
        {
            if (!string.IsNullOrEmpty(base64))
            {
                try
                {
                    return Encoding.UTF8.GetString(Convert.FromBase64String(base64));
                }
                catch (FormatException e)
                {
                    throw new KubeConfigException($"{source}: {field}-data is not base64", e);
                }
            }

            if (string.IsNullOrEmpty(path))
            {
                return null;
            }

            var full = Resolve(path);
            try
            {
                return File.ReadAllText(full);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new KubeConfigException($"{source}: cannot read {field} {full}: {e.Message}", e);
            }
        }
    }
}
