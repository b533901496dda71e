namespace Kfci.Workflows;

/// <summary>
/// A workflow file kfci will not submit (not a single Argo <c>Workflow</c>, invalid or hostile YAML, too large, a
/// <c>params</c> entry overriding a built-in parameter). Permanent: the message is one line saying why.
/// </summary>
public sealed class WorkflowRenderException : Exception
{
    public WorkflowRenderException()
    {
    }

    public WorkflowRenderException(string message)
        : base(message)
    {
    }

    public WorkflowRenderException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
