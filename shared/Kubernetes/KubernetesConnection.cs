using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Kfci.Http;

namespace Kfci.Kubernetes;

/// <summary>
/// Where an API server is and how to trust and authenticate to it, resolved from a kubeconfig or from the
/// in-cluster service account (see <see cref="KubeConfig"/>). Immutable.
/// </summary>
public sealed record KubernetesConnection
{
    public required Uri Server { get; init; }

    /// <summary>The namespace of the selected context, or of the service account; "default" when neither says.</summary>
    public string Namespace { get; init; } = "default";

    /// <summary>Extra roots to trust (certificate-authority); null means the system store.</summary>
    public X509Certificate2Collection? CertificateAuthority { get; init; }

    public bool InsecureSkipTlsVerify { get; init; }

    /// <summary>The name to verify the server certificate against when it differs from the server's host.</summary>
    public string? TlsServerName { get; init; }

    public X509Certificate2? ClientCertificate { get; init; }

    /// <summary>Bearer tokens (static, token file, exec plugin); null sends no Authorization header.</summary>
    public IKubernetesTokenSource? Tokens { get; init; }

    /// <summary>Where this came from, e.g. <c>kubeconfig /home/me/.kube/config context gke_x</c>; for log lines, never secret.</summary>
    public string Source { get; init; } = "explicit";

    /// <summary>An HTTP handler with this connection's TLS settings and credentials; the caller owns it.</summary>
    public HttpMessageHandler CreateHandler()
    {
        var handler = HttpClients.CreateHandler();
        if (Server.Scheme == Uri.UriSchemeHttps)
        {
            ConfigureTls(handler.SslOptions);
        }

        return Tokens is null ? handler : new KubernetesAuthHandler(Tokens) { InnerHandler = handler };
    }

    internal void ConfigureTls(SslClientAuthenticationOptions ssl)
    {
        if (TlsServerName is not null)
        {
            ssl.TargetHost = TlsServerName;
        }

        if (ClientCertificate is not null)
        {
            ssl.ClientCertificates = [ClientCertificate];
        }

        if (InsecureSkipTlsVerify)
        {
            // The kubeconfig explicitly asked for it (insecure-skip-tls-verify: true), as kubectl honours it.
#pragma warning disable CA5359
            ssl.RemoteCertificateValidationCallback = (_, _, _, _) => true;
#pragma warning restore CA5359
        }
        else if (CertificateAuthority is { Count: > 0 } roots)
        {
            ssl.RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(certificate, errors, roots);
        }
    }

    // Cluster CAs are private roots: validate the chain against them alone, but keep the host-name check.
    internal static bool IsTrusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection roots)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}

/// <summary>
/// Adds the bearer token, and after a 401 invalidates it and tries once more with a fresh one: exec plugins
/// and rotated token files are the usual cause, and the retry policy never retries a 401 itself.
/// </summary>
internal sealed class KubernetesAuthHandler(IKubernetesTokenSource tokens) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = await tokens.GetTokenAsync(cancellationToken);
        var response = await SendWithTokenAsync(request, token, cancellationToken);
        if (response.StatusCode != System.Net.HttpStatusCode.Unauthorized)
        {
            return response;
        }

        tokens.Invalidate();
        var fresh = await tokens.GetTokenAsync(cancellationToken);
        if (fresh == token)
        {
            return response;
        }

        response.Dispose();
        return await SendWithTokenAsync(request, fresh, cancellationToken);
    }

    private Task<HttpResponseMessage> SendWithTokenAsync(HttpRequestMessage request, string? token, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = token is null ? null : new AuthenticationHeaderValue("Bearer", token);
        return base.SendAsync(request, cancellationToken);
    }
}
