namespace Kfci.Hosting;

/// <summary>What became of an event: the host turns it into the HTTP status Pub/Sub acts on.</summary>
public enum OutcomeKind
{
    /// <summary>Handled; acknowledged.</summary>
    Success,

    /// <summary>Bad input that no retry will fix; recorded, logged and acknowledged so it is not redelivered forever.</summary>
    Rejected,

    /// <summary>Failed for a reason that may pass (a 5xx, 429 or timeout downstream); not acknowledged, so Pub/Sub redelivers.</summary>
    Transient,
}

/// <summary>The result of handling one event. Create it with <see cref="Success"/>, <see cref="Reject"/> or <see cref="Transient"/>.</summary>
public sealed record FunctionOutcome
{
    private static readonly FunctionOutcome s_success = new(OutcomeKind.Success, null);

    private FunctionOutcome(OutcomeKind kind, string? reason)
    {
        Kind = kind;
        Reason = reason;
    }

    public OutcomeKind Kind { get; }

    /// <summary>Why the event was rejected or failed; null on success.</summary>
    public string? Reason { get; }

    public static FunctionOutcome Success() => s_success;

    /// <summary>A permanent rejection: the event is acknowledged and recorded with <paramref name="reason"/>.</summary>
    public static FunctionOutcome Reject(string reason) => new(OutcomeKind.Rejected, RequireReason(reason));

    /// <summary>A transient failure: the event is redelivered.</summary>
    public static FunctionOutcome Transient(string reason) => new(OutcomeKind.Transient, RequireReason(reason));

    private static string RequireReason(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return reason;
    }
}

/// <summary>
/// Thrown from a handler (or code it calls) for input no retry will fix; the host treats it exactly like
/// <see cref="FunctionOutcome.Reject"/> with the exception's message as the reason.
/// </summary>
public sealed class PermanentEventException : Exception
{
    public PermanentEventException()
    {
    }

    public PermanentEventException(string message)
        : base(message)
    {
    }

    public PermanentEventException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
