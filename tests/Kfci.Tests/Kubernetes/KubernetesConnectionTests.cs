using System.Net;
using System.Security.Cryptography.X509Certificates;
using Kfci.Http;
using Kfci.Kubernetes;
using Kfci.Testing.Kubernetes;
using static Kfci.Tests.Kubernetes.KubernetesWorkflowClusterTests;

namespace Kfci.Tests.Kubernetes;

/// <summary>Connections built from kubeconfigs by KubernetesClient, against the fake over https and with bearer tokens.</summary>
public sealed class KubernetesConnectionTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private KubernetesWorkflowCluster Cluster(Uri server, string cluster, string user, RetryOptions retry) =>
        KubernetesWorkflowCluster.Create(ClusterConfig.LoadFiles([_dir.Write("config", $"""
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
            """)]), retry);

    [Fact]
    public async Task Https_ClusterCaAndClientCertificate_ConnectsAndPresentsCertificate()
    {
        var serverCert = TestCertificate.Create("fake-apiserver", forLoopbackServer: true);
        var client = TestCertificate.Create("kfci-client");
        await using var server = await FakeKubernetesServer.StartAsync(new FakeKubernetesOptions { ServerCertificate = serverCert.Certificate, RequireClientCertificate = true });

        using var cluster = Cluster(
            server.BaseAddress,
            $"certificate-authority-data: {TestCertificate.Base64(serverCert.CertificatePem)}",
            $"client-certificate-data: {TestCertificate.Base64(client.CertificatePem)}\n    client-key-data: {TestCertificate.Base64(client.KeyPem)}",
            FastRetry);
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

        using var strict = Cluster(server.BaseAddress, $"certificate-authority-data: {TestCertificate.Base64(otherCa.CertificatePem)}", "token: t", RetryOptions.None);
        await Assert.ThrowsAsync<HttpRequestException>(() => strict.GetPodAsync("default", "p", CancellationToken.None));
        Assert.Empty(server.Requests);

        using var insecure = Cluster(server.BaseAddress, "insecure-skip-tls-verify: true", "token: t", RetryOptions.None);
        Assert.Null(await insecure.GetPodAsync("default", "p", CancellationToken.None));
        Assert.Equal("Bearer t", server.Requests[0].Authorization);
    }

    [Fact]
    public async Task Https_ServerTheSystemTrustsButNotTheConfiguredCa_Refused()
    {
        // Defect: KubernetesClient accepted any certificate the system store trusts before it looked at the configured
        // CA; kubectl trusts that CA alone. The user's root store (which .NET on Linux trusts) stands in for the system's.
        var systemTrusted = TestCertificate.Create("system-trusted-apiserver", forLoopbackServer: true);
        var clusterCa = TestCertificate.Create("cluster-ca", forLoopbackServer: true);
        using var publicPart = X509CertificateLoader.LoadCertificate(systemTrusted.Certificate.RawData);
        using var roots = new X509Store(StoreName.Root, StoreLocation.CurrentUser);
        roots.Open(OpenFlags.ReadWrite);
        roots.Add(publicPart);
        try
        {
            await using var server = await FakeKubernetesServer.StartAsync(new FakeKubernetesOptions { ServerCertificate = systemTrusted.Certificate });
            using (var platform = new HttpClient())
            {
                // Without a configured CA the platform itself trusts this server: the premise of the test.
                Assert.Equal(HttpStatusCode.OK, (await platform.GetAsync(new Uri(server.BaseAddress, "api/v1/namespaces"))).StatusCode);
            }

            using var pinned = Cluster(server.BaseAddress, $"certificate-authority-data: {TestCertificate.Base64(clusterCa.CertificatePem)}", "token: t", RetryOptions.None);
            await Assert.ThrowsAsync<HttpRequestException>(() => pinned.GetPodAsync("default", "p", CancellationToken.None));
            Assert.Single(server.Requests);
        }
        finally
        {
            roots.Remove(publicPart);
        }
    }

    [Fact]
    public async Task StaticToken_Rejected_Surfaces401WithoutRetrying()
    {
        await using var server = await FakeKubernetesServer.StartAsync(new FakeKubernetesOptions { RequiredBearerToken = "right" });
        using var cluster = Cluster(server.BaseAddress, "", "token: wrong", FastRetry);

        var e = await Assert.ThrowsAsync<KubernetesApiException>(() => cluster.GetWorkflowAsync("default", "w", CancellationToken.None));

        Assert.Equal(HttpStatusCode.Unauthorized, e.Status);
        Assert.Single(server.Requests);
    }
}
