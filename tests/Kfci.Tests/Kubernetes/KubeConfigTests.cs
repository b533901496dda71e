using System.Net.Security;
using Kfci.Kubernetes;

namespace Kfci.Tests.Kubernetes;

public sealed class KubeConfigTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Config(string user, string cluster = "server: https://10.0.0.1:6443") => $"""
        apiVersion: v1
        kind: Config
        current-context: main
        clusters:
        - name: c1
          cluster:
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
    public async Task Parse_StaticToken_ReadsServerNamespaceAndToken()
    {
        var connection = KubeConfig.Parse(Config("token: abc123"), _dir.Path);

        Assert.Equal(new Uri("https://10.0.0.1:6443"), connection.Server);
        Assert.Equal("kubeflow-test-infra", connection.Namespace);
        Assert.Equal("abc123", await connection.Tokens!.GetTokenAsync(CancellationToken.None));
        Assert.Null(connection.ClientCertificate);
    }

    [Fact]
    public void Parse_ExplicitContext_OverridesCurrentContextAndDefaultsNamespace()
    {
        var connection = KubeConfig.Parse(Config("token: x"), _dir.Path, context: "other");
        Assert.Equal("default", connection.Namespace);
    }

    [Fact]
    public async Task Parse_TokenFile_ResolvedRelativeToConfigAndRereadAfterInvalidate()
    {
        var tokenPath = _dir.Write("tokens/sa-token", "first\n");
        var connection = KubeConfig.Parse(Config("tokenFile: tokens/sa-token"), _dir.Path);

        Assert.Equal("first", await connection.Tokens!.GetTokenAsync(CancellationToken.None));
        File.WriteAllText(tokenPath, "rotated");
        Assert.Equal("first", await connection.Tokens.GetTokenAsync(CancellationToken.None));
        connection.Tokens.Invalidate();
        Assert.Equal("rotated", await connection.Tokens.GetTokenAsync(CancellationToken.None));
    }

    [Fact]
    public void Parse_ClientCertificateData_BuildsCertificateWithPrivateKey()
    {
        var client = TestCertificate.Create("kfci-client");
        var user = $"client-certificate-data: {TestCertificate.Base64(client.CertificatePem)}\n    client-key-data: {TestCertificate.Base64(client.KeyPem)}";

        var connection = KubeConfig.Parse(Config(user), _dir.Path);

        Assert.NotNull(connection.ClientCertificate);
        Assert.True(connection.ClientCertificate.HasPrivateKey);
        Assert.Equal(client.Certificate.Thumbprint, connection.ClientCertificate.Thumbprint);
    }

    [Fact]
    public void Parse_ClientCertificateFiles_ReadFromDisk()
    {
        var client = TestCertificate.Create("kfci-client-files");
        _dir.Write("client.crt", client.CertificatePem);
        _dir.Write("client.key", client.KeyPem);

        var connection = KubeConfig.Parse(Config("client-certificate: client.crt\n    client-key: client.key"), _dir.Path);

        Assert.Equal(client.Certificate.Thumbprint, connection.ClientCertificate!.Thumbprint);
    }

    [Fact]
    public void Parse_CertificateWithoutKey_FailsWithOneLine()
    {
        var client = TestCertificate.Create("half");
        var e = Assert.Throws<KubeConfigException>(() =>
            KubeConfig.Parse(Config($"client-certificate-data: {TestCertificate.Base64(client.CertificatePem)}"), _dir.Path));
        Assert.Contains("client-key must be given together", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Parse_CertificateAuthorityData_TrustsThatRootOnly()
    {
        var ca = TestCertificate.Create("cluster-ca", forLoopbackServer: true);
        var stranger = TestCertificate.Create("stranger", forLoopbackServer: true);
        var connection = KubeConfig.Parse(
            Config("token: x", $"server: https://127.0.0.1:6443\n    certificate-authority-data: {TestCertificate.Base64(ca.CertificatePem)}"), _dir.Path);

        Assert.Single(connection.CertificateAuthority!);
        Assert.True(KubernetesConnection.IsTrusted(ca.Certificate, SslPolicyErrors.RemoteCertificateChainErrors, connection.CertificateAuthority!));
        Assert.False(KubernetesConnection.IsTrusted(stranger.Certificate, SslPolicyErrors.RemoteCertificateChainErrors, connection.CertificateAuthority!));
        Assert.False(KubernetesConnection.IsTrusted(ca.Certificate, SslPolicyErrors.RemoteCertificateNameMismatch, connection.CertificateAuthority!));
    }

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("clusters: [ {", "not valid kubeconfig YAML")]
    [InlineData("current-context: nowhere\ncontexts: []", "no context named 'nowhere'")]
    [InlineData("contexts: []", "no current-context")]
    public void Parse_BrokenConfig_ThrowsOneLineError(string yaml, string expected)
    {
        var e = Assert.Throws<KubeConfigException>(() => KubeConfig.Parse(yaml, _dir.Path, "kubeconfig /x"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Parse_ContextNamingUndefinedCluster_SaysWhichCluster()
    {
        var yaml = "current-context: a\ncontexts:\n- name: a\n  context: {cluster: missing, user: u}\n";
        var e = Assert.Throws<KubeConfigException>(() => KubeConfig.Parse(yaml, _dir.Path));
        Assert.Contains("cluster 'missing'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Discover_KubeconfigVariableWithList_UsesFirstFile()
    {
        var first = _dir.Write("first.yaml", Config("token: one"));
        var second = _dir.Write("second.yaml", Config("token: two", "server: https://second:443"));
        var sources = Sources(new() { ["KUBECONFIG"] = $"{first}:{second}" });

        var connection = KubeConfig.Discover(sources);

        Assert.Equal(new Uri("https://10.0.0.1:6443"), connection.Server);
        Assert.Contains(first, connection.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void Discover_NoVariable_UsesHomeKubeConfig()
    {
        _dir.Write(".kube/config", Config("token: home", "server: https://home:443"));
        var connection = KubeConfig.Discover(Sources([]));
        Assert.Equal("home", connection.Server.Host);
    }

    [Fact]
    public async Task Discover_InCluster_ReadsServiceAccountFiles()
    {
        var ca = TestCertificate.Create("in-cluster-ca");
        var tokenPath = _dir.Write("sa/token", "sa-token-1");
        _dir.Write("sa/ca.crt", ca.CertificatePem);
        _dir.Write("sa/namespace", "kubeflow-ci\n");
        var sources = Sources(new() { ["KUBERNETES_SERVICE_HOST"] = "10.96.0.1", ["KUBERNETES_SERVICE_PORT"] = "443" }) with
        {
            ServiceAccountDirectory = Path.Combine(_dir.Path, "sa"),
        };

        var connection = KubeConfig.Discover(sources);

        Assert.Equal(new Uri("https://10.96.0.1:443/"), connection.Server);
        Assert.Equal("kubeflow-ci", connection.Namespace);
        Assert.Equal(ca.Certificate.Thumbprint, connection.CertificateAuthority![0].Thumbprint);
        Assert.Equal("sa-token-1", await connection.Tokens!.GetTokenAsync(CancellationToken.None));
        File.WriteAllText(tokenPath, "sa-token-2");
        connection.Tokens.Invalidate();
        Assert.Equal("sa-token-2", await connection.Tokens.GetTokenAsync(CancellationToken.None));
    }

    [Fact]
    public void Discover_Nothing_ThrowsOneLineErrorSayingWhatToDo()
    {
        var e = Assert.Throws<KubeConfigException>(() => KubeConfig.Discover(Sources([])));
        Assert.Contains("KUBECONFIG", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Discover_KubeconfigVariableNamingMissingFile_SaysWhichFile()
    {
        var e = Assert.Throws<KubeConfigException>(() => KubeConfig.Discover(Sources(new() { ["KUBECONFIG"] = "/nonexistent/kubeconfig" })));
        Assert.Contains("/nonexistent/kubeconfig", e.Message, StringComparison.Ordinal);
    }

    private KubeConfigSources Sources(Dictionary<string, string> env) => new()
    {
        GetEnvironmentVariable = name => env.GetValueOrDefault(name),
        HomeDirectory = _dir.Path,
        ServiceAccountDirectory = Path.Combine(_dir.Path, "no-service-account"),
    };
}
