namespace Kfci.Prow;

/// <summary>
/// An event that can never be handled, however often it is redelivered (bad JSON, missing fields, unknown job type,
/// unsafe names, oversized values). The message is one line saying why; the function host rejects it permanently.
/// </summary>
public sealed class InvalidEventException : Exception
{
    public InvalidEventException(string reason)
        : base(reason)
    {
    }

    public InvalidEventException(string reason, Exception inner)
        : base(reason, inner)
    {
    }

    public InvalidEventException()
    {
    }
}
