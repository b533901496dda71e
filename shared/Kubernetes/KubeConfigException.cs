namespace Kfci.Kubernetes;

/// <summary>
/// The cluster connection cannot be configured: no kubeconfig, a broken one, or a credential plugin that
/// fails. The message is one line that says what to fix.
/// </summary>
public sealed class KubeConfigException : Exception
{
    public KubeConfigException()
        : this("invalid Kubernetes configuration")
    {
    }

    public KubeConfigException(string message)
        : base(message)
    {
    }

    public KubeConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
