using System.Net;
using Kfci.Http;
using Kfci.Kubernetes;
using Kfci.Testing.Kubernetes;
using static Kfci.Tests.Kubernetes.KubernetesWorkflowClusterTests;

namespace Kfci.Tests.Kubernetes;

/// <summary>Connections built from kubeconfigs, against the fake over https and with bearer tokens.</summary>
public sealed class KubernetesConnectionTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string KubeConfig(Uri server, string cluster, string user) => _dir.Write("config", $"""
        current-context: fake
        clusters:
        - name: fake
          cluster:
            server: {server}
            {cluster}
        contexts:
        - name: fake
          context: {"{"}cluster: fake, user: me, namespace: kubeflow-test-infra{"}"}
        users:
        - name: me
          user:
            {user}
        """);

    [Fact]
    public async Task Https_ClusterCaAndClientCertificate_ConnectsAndPresentsCertificate()
    {
        var serverCert = TestCertificate.Create("fake-apiserver", forLoopbackServer: true);
        var client = TestCertificate.Create("kfci-client");
        await using var server = await FakeKubernetesServer.StartAsync(new FakeKubernetesOptions { ServerCertificate = serverCert.Certificate, RequireClientCertificate = true });
        var path = KubeConfig(
            server.BaseAddress,
            $"certificate-authority-data: {TestCertificate.Base64(serverCert.CertificatePem)}",
            $"client-certificate-data: {TestCertificate.Base64(client.CertificatePem)}\n    client-key-data: {TestCertificate.Base64(client.KeyPem)}");

        var cluster = new KubernetesWorkflowCluster(KubernetesApiClient.Create(Kfci.Kubernetes.KubeConfig.LoadFile(path), FastRetry));
        var namespaces = await cluster.ListNamespacesAsync(ListOptions.All, CancellationToken.None).ToListAsync();

        Assert.Equal(Uri.UriSchemeHttps, server.BaseAddress.Scheme);
        Assert.Single(namespaces);
        Assert.Equal("CN=kfci-client", server.Requests[0].ClientCertificateSubject);
    }

    [Fact]
    public async Task Https_UntrustedServer_FailsUnlessInsecureSkipTlsVerify()
    {
        var serverCert = TestCertificate.Create("self-signed-apiserver", forLoopbackServer: true);
        var otherCa = TestCertificate.Create("some-other-ca", forLoopbackServer: true);
        await using var server = await FakeKubernetesServer.StartAsync(new FakeKubernetesOptions { ServerCertificate = serverCert.Certificate });

        var strict = Kfci.Kubernetes.KubeConfig.LoadFile(KubeConfig(server.BaseAddress, $"certificate-authority-data: {TestCertificate.Base64(otherCa.CertificatePem)}", "token: t"));
        var strictCluster = new KubernetesWorkflowCluster(KubernetesApiClient.Create(strict, RetryOptions.None));
        await Assert.ThrowsAsync<HttpRequestException>(() => strictCluster.GetPodAsync("default", "p", CancellationToken.None));
        Assert.Empty(server.Requests);

        var insecure = Kfci.Kubernetes.KubeConfig.LoadFile(KubeConfig(server.BaseAddress, "insecure-skip-tls-verify: true", "token: t"));
        var insecureCluster = new KubernetesWorkflowCluster(KubernetesApiClient.Create(insecure, RetryOptions.None));
        Assert.Null(await insecureCluster.GetPodAsync("default", "p", CancellationToken.None));
        Assert.Equal("Bearer t", server.Requests[0].Authorization);
    }

    [Fact]
    public async Task ExecPlugin_TokenRejectedWith401_RerunsPluginAndRetriesOnce()
    {
        await using var server = await FakeKubernetesServer.StartAsync(new FakeKubernetesOptions { RequiredBearerToken = "token-2" });
        var plugin = _dir.Script("plugin.sh", """
            n=$(( $(cat "$0.count" 2>/dev/null || echo 0) + 1 )); echo $n > "$0.count"
            echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"token-'$n'","expirationTimestamp":"2999-01-01T00:00:00Z"}}'
            """);
        var user = $"exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {plugin}";
        var cluster = new KubernetesWorkflowCluster(KubernetesApiClient.Create(Kfci.Kubernetes.KubeConfig.LoadFile(KubeConfig(server.BaseAddress, "", user)), FastRetry));

        Assert.Null(await cluster.GetWorkflowAsync("default", "w", CancellationToken.None));
        Assert.Null(await cluster.GetWorkflowAsync("default", "w", CancellationToken.None));

        Assert.Equal(["Bearer token-1", "Bearer token-2", "Bearer token-2"], server.Requests.Select(r => r.Authorization));
        Assert.Equal("2", File.ReadAllText(plugin + ".count").Trim());
    }

    [Fact]
    public async Task StaticToken_Rejected_Surfaces401WithoutRetrying()
    {
        await using var server = await FakeKubernetesServer.StartAsync(new FakeKubernetesOptions { RequiredBearerToken = "right" });
        var cluster = new KubernetesWorkflowCluster(KubernetesApiClient.Create(Kfci.Kubernetes.KubeConfig.LoadFile(KubeConfig(server.BaseAddress, "", "token: wrong")), FastRetry));

        var e = await Assert.ThrowsAsync<ApiException>(() => cluster.GetWorkflowAsync("default", "w", CancellationToken.None));

        Assert.Equal(HttpStatusCode.Unauthorized, e.Status);
        Assert.Single(server.Requests);
    }
}
