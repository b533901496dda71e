namespace Kfci.Kubernetes;

/// <summary>
/// The cluster connection or the cluster itself is not set up the way kfci needs: no kubeconfig, a broken one,
/// a certificate authority that holds no certificate, a failing credential plugin, or a cluster that does not
/// serve Argo's <c>workflows</c>. The message is one line that says what to fix. It is an
/// <see cref="InvalidOperationException"/>, kfci's configuration error, so the command line and the function
/// hosts report it as one line instead of a stack trace.
/// </summary>
public sealed class KubernetesConfigurationException : InvalidOperationException
{
    public KubernetesConfigurationException()
        : this("invalid Kubernetes configuration")
    {
    }

    public KubernetesConfigurationException(string message)
        : base(message)
    {
    }

    public KubernetesConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
