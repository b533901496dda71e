using System.Net;

namespace Kfci.Http;

/// <summary>
/// A non-success answer from a REST API, with the service's own error reason
/// (Google's <c>error.status</c> or <c>errors[0].reason</c>, Kubernetes' <c>Status.reason</c>).
/// </summary>
public class ApiException : Exception
{
    public ApiException(HttpStatusCode status, string? reason, string message, TimeSpan? retryAfter = null)
        : base(message)
    {
        Status = status;
        Reason = reason;
        RetryAfter = retryAfter;
    }

    public ApiException()
        : this(HttpStatusCode.InternalServerError, null, "API error")
    {
    }

    public ApiException(string message)
        : this(HttpStatusCode.InternalServerError, null, message)
    {
    }

    public ApiException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = HttpStatusCode.InternalServerError;
    }

    public HttpStatusCode Status { get; }

    /// <summary>The service's machine-readable reason, e.g. <c>ABORTED</c>, <c>AlreadyExists</c>, <c>conditionNotMet</c>; null when the body had none.</summary>
    public string? Reason { get; }

    /// <summary>How long the server asked callers to wait (<c>Retry-After</c>), when it said.</summary>
    public TimeSpan? RetryAfter { get; }

    public bool IsNotFound => Status == HttpStatusCode.NotFound;

    public bool IsConflict => Status == HttpStatusCode.Conflict;

    public bool IsPreconditionFailed => Status == HttpStatusCode.PreconditionFailed;

    /// <summary>True for answers that can change on a later attempt: 408, 429, 5xx and Google's contention <c>ABORTED</c>.</summary>
    public bool IsTransient => Transience.IsTransientStatus(Status) || Transience.IsContention(this);
}
