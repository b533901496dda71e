using System.Globalization;
using k8s;
using Kfci.Configuration;
using Kfci.Kubernetes;
using Kfci.Testing.Kubernetes;
using static Kfci.Tests.Kubernetes.KubernetesWorkflowClusterTests;

namespace Kfci.Tests.Kubernetes;

/// <summary>
/// Discovery and kubeconfig handling on KubernetesClient: what kubectl does with <c>KUBECONFIG</c>, exec plugins, the
/// in-cluster service account, and every configuration failure as one <see cref="KubernetesConfigurationException"/> line.
/// Credentials are checked where they matter: in the requests the fake API server receives.
/// </summary>
public sealed class ClusterConfigTests : IDisposable
{
    private const string BrokenCertificatePem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    private const string NoCertificatePem = "this is not a certificate\n";

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Config(string server, string user, string cluster = "", string currentContext = "current-context: main") => $"""
        apiVersion: v1
        kind: Config
        {currentContext}
        clusters:
        - name: c1
          cluster:
            server: {server}
            {cluster}
        contexts:
        - name: main
          context:
            cluster: c1
            user: u1
            namespace: kubeflow-test-infra
        - name: other
          context:
            cluster: c1
            user: u1
        users:
        - name: u1
          user:
            {user}
        """;

    [Fact]
    public async Task Discover_KubeconfigList_MergesLikeKubectlFirstDefinitionWins()
    {
        await using var server = await FakeKubernetesServer.StartAsync();
        // The first file has only a user; the second the cluster, contexts and a user of the same name, which loses.
        var first = _dir.Write("a/config", "apiVersion: v1\nkind: Config\nusers:\n- name: u1\n  user:\n    token: from-first\n");
        var second = _dir.Write("b/config", Config(server.BaseAddress.ToString(), "token: from-second"));

        var configuration = ClusterConfig.Discover(Sources(new() { ["KUBECONFIG"] = $"{first}:{_dir.Path}/missing:{second}" }));
        await new KubernetesWorkflowCluster(new k8s.Kubernetes(configuration), FastRetry).GetPodAsync("default", "p", CancellationToken.None);

        Assert.Equal("kubeflow-test-infra", configuration.Namespace);
        Assert.Equal("Bearer from-first", server.Requests.Single().Authorization);
    }

    [Fact]
    public void Discover_MergedFileWithRelativeCaPath_ResolvesAgainstThatFile()
    {
        var ca = TestCertificate.Create("merged-ca");
        _dir.Write("b/ca.crt", ca.CertificatePem);
        var first = _dir.Write("a/config", "apiVersion: v1\nkind: Config\npreferences: {}\n");
        var second = _dir.Write("b/config", Config("https://10.0.0.1:6443", "token: t", "certificate-authority: ca.crt"));

        var configuration = ClusterConfig.Discover(Sources(new() { ["KUBECONFIG"] = $"{first}:{second}" }));

        Assert.Equal(ca.Certificate.Thumbprint, configuration.SslCaCerts.Single().Thumbprint);
    }

    [Fact]
    public void Discover_NoVariable_UsesHomeKubeConfigAndExplicitContext()
    {
        _dir.Write(".kube/config", Config("https://home:443", "token: home"));

        var configuration = ClusterConfig.Discover(Sources([]), context: "other");

        Assert.Equal("home", new Uri(configuration.Host).Host);
        Assert.Null(configuration.Namespace);
    }

    [Fact]
    public async Task Discover_InCluster_UsesServiceAccountTokenFileCaAndNamespace()
    {
        var ca = TestCertificate.Create("in-cluster-ca");
        _dir.Write("sa/token", "sa-token-1\n");
        _dir.Write("sa/ca.crt", ca.CertificatePem);
        _dir.Write("sa/namespace", "kubeflow-ci\n");
        var sources = Sources(new() { ["KUBERNETES_SERVICE_HOST"] = "10.96.0.1", ["KUBERNETES_SERVICE_PORT"] = "443" }) with
        {
            ServiceAccountDirectory = Path.Combine(_dir.Path, "sa"),
        };

        var configuration = ClusterConfig.Discover(sources);

        Assert.Equal(new Uri("https://10.96.0.1:443/"), new Uri(configuration.Host));
        Assert.Equal("kubeflow-ci", configuration.Namespace);
        Assert.Equal(ca.Certificate.Thumbprint, configuration.SslCaCerts.Single().Thumbprint);
        Assert.Equal("Bearer sa-token-1", (await configuration.TokenProvider.GetAuthenticationHeaderAsync(CancellationToken.None)).ToString());
    }

    [Fact]
    public void Discover_Nothing_ThrowsOneLineErrorSayingWhatToDo()
    {
        var e = Assert.Throws<KubernetesConfigurationException>(() => ClusterConfig.Discover(Sources([])));
        Assert.Contains("KUBECONFIG", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Discover_KubeconfigVariableNamingOnlyMissingFiles_SaysWhichFiles()
    {
        var e = Assert.Throws<KubernetesConfigurationException>(() => ClusterConfig.Discover(Sources(new() { ["KUBECONFIG"] = "/nonexistent/kubeconfig" })));
        Assert.Contains("/nonexistent/kubeconfig", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("clusters: [ {", "kubeconfig")]
    [InlineData("current-context: nowhere\ncontexts: []", "nowhere")]
    [InlineData("contexts: []", "current-context is not set and there are no contexts")]
    public void LoadFiles_BrokenConfig_ThrowsOneLineConfigurationError(string yaml, string expected)
    {
        var path = _dir.Write("broken", yaml);

        var e = Assert.Throws<KubernetesConfigurationException>(() => ClusterConfig.LoadFiles([path]));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("certificate-authority-data: not*base64")]
    [InlineData("certificate-authority-data: {0}")]
    [InlineData("certificate-authority: /nonexistent/ca.crt")]
    public void LoadFiles_BrokenCertificateAuthority_IsTheOneLineConfigurationError(string cluster)
    {
        // Defect: the library's CryptographicException, FormatException or IOException escaped, and nothing caught them.
        var path = _dir.Write("config", Config("https://10.0.0.1:6443", "token: t", string.Format(CultureInfo.InvariantCulture, cluster, TestCertificate.Base64(BrokenCertificatePem))));

        var e = Assert.Throws<KubernetesConfigurationException>(() => ClusterConfig.LoadFiles([path]));

        Assert.IsAssignableFrom<InvalidOperationException>(e);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void LoadFiles_CertificateAuthorityWithoutCertificate_IsAnErrorNotTheSystemStore()
    {
        // Defect: PEM without a certificate gave an empty trust list, and the library then accepted whatever the system store trusts.
        var path = _dir.Write("config", Config("https://10.0.0.1:6443", "token: t", $"certificate-authority-data: {TestCertificate.Base64(NoCertificatePem)}"));

        var e = Assert.Throws<KubernetesConfigurationException>(() => ClusterConfig.LoadFiles([path]));

        Assert.Contains("holds no PEM certificate", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(BrokenCertificatePem, "not valid PEM")]
    [InlineData(NoCertificatePem, "holds no PEM certificate")]
    public void ClusterConnection_BadCaCertificateSetting_IsAOneLineConfigurationError(string pem, string expected)
    {
        var env = new Dictionary<string, string>
        {
            [KfciEnvironment.ClusterEndpoint] = "https://10.0.0.1",
            [KfciEnvironment.ClusterCaCertificate] = TestCertificate.Base64(pem),
        };

        var e = Assert.Throws<KubernetesConfigurationException>(() => KfciServices.ClusterConnection(env.GetValueOrDefault));

        Assert.Contains(KfciEnvironment.ClusterCaCertificate, e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClusterConnection_ClusterTokenSet_SentAsBearerToTheEndpoint()
    {
        await using var server = await FakeKubernetesServer.StartAsync(new FakeKubernetesOptions { RequiredBearerToken = "stack-token" });
        var env = new Dictionary<string, string>
        {
            [KfciEnvironment.ClusterEndpoint] = server.BaseAddress.ToString(),
            [KfciEnvironment.ClusterToken] = "stack-token",
        };

        using var cluster = KubernetesWorkflowCluster.Create(KfciServices.ClusterConnection(env.GetValueOrDefault), FastRetry);

        Assert.Null(await cluster.GetWorkflowAsync("default", "w", CancellationToken.None));
        Assert.Equal("Bearer stack-token", server.Requests.Single().Authorization);
    }

    [Fact]
    public async Task ExecPlugin_TokenReusedUntilExpiry_ReachesTheServerWithArgsAndEnv()
    {
        await using var server = await FakeKubernetesServer.StartAsync();
        var expiry = DateTimeOffset.UtcNow.AddHours(1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var plugin = _dir.Script("plugin.sh", $$$"""
            n=$(( $(cat "$0.count" 2>/dev/null || echo 0) + 1 )); echo $n > "$0.count"
            echo "$1 $PLUGIN_MODE" > "$0.args"
            echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"token-'$n'","expirationTimestamp":"{{{expiry}}}"}}'
            """);
        var user = $"exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {plugin}\n      args: [\"--flag\"]\n      env: [{{name: PLUGIN_MODE, value: test}}]";
        var path = _dir.Write("config", Config(server.BaseAddress.ToString(), user));

        using var cluster = KubernetesWorkflowCluster.Create(ClusterConfig.LoadFiles([path]), FastRetry);
        await cluster.GetWorkflowAsync("default", "w", CancellationToken.None);
        await cluster.GetWorkflowAsync("default", "w", CancellationToken.None);

        // The library runs the plugin once to validate the kubeconfig and once for the first request, then reuses that token.
        Assert.Equal(["Bearer token-2", "Bearer token-2"], server.Requests.Select(r => r.Authorization));
        Assert.Equal("2", File.ReadAllText(plugin + ".count").Trim());
        Assert.Equal("--flag test", File.ReadAllText(plugin + ".args").Trim());
    }

    [Fact]
    public void ExecPlugin_RealGkePluginWithoutGcloudAccount_FailsWithOneConfigurationLine()
    {
        // An empty gcloud configuration directory guarantees "no active account" on any machine.
        var gcloudConfig = Directory.CreateDirectory(Path.Combine(_dir.Path, "gcloud")).FullName;
        var path = _dir.Write("config", $$$"""
            current-context: gke
            clusters: [{name: gke, cluster: {server: "https://34.1.2.3"}}]
            contexts: [{name: gke, context: {cluster: gke, user: gke}}]
            users:
            - name: gke
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1beta1
                  command: gke-gcloud-auth-plugin
                  provideClusterInfo: true
                  env: [{name: CLOUDSDK_CONFIG, value: "{{{gcloudConfig}}}"}]
            """);

        var e = Assert.Throws<KubernetesConfigurationException>(() => ClusterConfig.LoadFiles([path]));

        Assert.Contains("external exec failed", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("current-context: \"\"", "current-context is not set; choose one of the contexts (main, other)")]
    [InlineData("", "current-context is not set; choose one of the contexts (main, other)")]
    public void LoadFiles_EmptyCurrentContext_SaysWhichContextsThereAre(string currentContext, string expected)
    {
        // Defect: the library skipped the context and failed with "Cannot infer server host url", which names nothing to fix.
        var path = _dir.Write("config", Config("https://10.0.0.1:6443", "token: t", currentContext: currentContext));

        var e = Assert.Throws<KubernetesConfigurationException>(() => ClusterConfig.LoadFiles([path]));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        // Naming the context explicitly still works.
        Assert.Equal("10.0.0.1", new Uri(ClusterConfig.LoadFiles([path], context: "other").Host).Host);
    }

    [Fact]
    public void LoadFiles_ContextWithoutName_IsAConfigurationErrorNotANullReference()
    {
        var path = _dir.Write("config", "current-context: main\nclusters: [{name: c1, cluster: {server: \"https://10.0.0.1\"}}]\ncontexts: [{context: {cluster: c1}}]\n");

        var e = Assert.Throws<KubernetesConfigurationException>(() => ClusterConfig.LoadFiles([path]));

        Assert.Contains("a context has no name", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadFiles_EmptyCurrentContextInFirstFile_LaterFileSetsIt()
    {
        var first = _dir.Write("a/config", "apiVersion: v1\nkind: Config\ncurrent-context: \"\"\n");
        var second = _dir.Write("b/config", Config("https://10.0.0.2:6443", "token: t"));

        Assert.Equal("10.0.0.2", new Uri(ClusterConfig.LoadFiles([first, second]).Host).Host);
    }

    [Fact]
    public void ClusterConnection_NoEndpoint_DiscoversThroughTheGivenEnvironmentOnly()
    {
        // Defect: discovery read the process's KUBECONFIG and HOME, not the environment the caller passed in.
        _dir.Write("home/.kube/config", Config("https://from-home:443", "token: t"));
        var listed = _dir.Write("listed/config", Config("https://from-kubeconfig:443", "token: t"));

        var viaHome = KfciServices.ClusterConnection(new Dictionary<string, string> { ["HOME"] = Path.Combine(_dir.Path, "home") }.GetValueOrDefault);
        var viaVariable = KfciServices.ClusterConnection(new Dictionary<string, string> { ["KUBECONFIG"] = listed, ["HOME"] = Path.Combine(_dir.Path, "home") }.GetValueOrDefault);

        Assert.Equal("from-home", new Uri(viaHome.Host).Host);
        Assert.Equal("from-kubeconfig", new Uri(viaVariable.Host).Host);
    }

    [Fact]
    public void ClusterConnection_BrokenKubeconfig_IsTheOneLineConfigurationError()
    {
        var path = _dir.Write("broken", "clusters: [ {");

        var e = Assert.Throws<KubernetesConfigurationException>(() => KfciServices.ClusterConnection(new Dictionary<string, string> { ["KUBECONFIG"] = path }.GetValueOrDefault));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ClusterConnection_HttpsWithoutCaCertificate_IsAConfigurationError()
    {
        // Defect: the system trust store stood in for the cluster's own CA, and every call failed later with a TLS error.
        var env = new Dictionary<string, string> { [KfciEnvironment.ClusterEndpoint] = "https://10.0.0.1" };

        var e = Assert.Throws<KubernetesConfigurationException>(() => KfciServices.ClusterConnection(env.GetValueOrDefault));

        Assert.Contains(KfciEnvironment.ClusterCaCertificate, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecPlugin_FailingWhenTheTokenIsRefreshed_IsTheConfigurationError()
    {
        // Defect: the plugin's failure at request time escaped as the library's KubeConfigException, which nobody catches.
        await using var server = await FakeKubernetesServer.StartAsync();
        var expired = DateTimeOffset.UtcNow.AddHours(-1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var plugin = _dir.Script("plugin.sh", $$$"""
            n=$(( $(cat "$0.count" 2>/dev/null || echo 0) + 1 )); echo $n > "$0.count"
            if [ $n -gt 1 ]; then echo "credentials revoked" >&2; exit 1; fi
            echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"{{{expired}}}"}}'
            """);
        var path = _dir.Write("config", Config(server.BaseAddress.ToString(), $"exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {plugin}"));

        using var cluster = KubernetesWorkflowCluster.Create(ClusterConfig.LoadFiles([path]), FastRetry);
        var e = await Assert.ThrowsAsync<KubernetesConfigurationException>(() => cluster.GetWorkflowAsync("default", "w", CancellationToken.None));

        Assert.Contains("external exec failed", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Empty(server.Requests);
    }

    private KubeConfigSources Sources(Dictionary<string, string> env) => new()
    {
        GetEnvironmentVariable = name => env.GetValueOrDefault(name),
        HomeDirectory = _dir.Path,
        ServiceAccountDirectory = Path.Combine(_dir.Path, "no-service-account"),
    };
}
