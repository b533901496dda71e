namespace Kfci.ProwConfig;

/// <summary>
/// A <c>prow_config.yaml</c> that cannot be used: invalid or hostile YAML, a wrong shape, or a <c>workflow:</c> path
/// leaving the repository. The message is one line and says where (line and column when known).
/// </summary>
public sealed class ProwConfigException : Exception
{
    public ProwConfigException(string message)
        : base(message)
    {
    }

    public ProwConfigException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public ProwConfigException()
    {
    }
}
