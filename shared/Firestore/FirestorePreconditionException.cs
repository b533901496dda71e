using System.Net;
using Kfci.Http;

namespace Kfci.Firestore;

/// <summary>
/// A write's precondition did not hold: the document changed since the given <c>updateTime</c>
/// (<c>FAILED_PRECONDITION</c>), it was required to exist and does not (<c>NOT_FOUND</c>), or required
/// not to exist and does (<c>ALREADY_EXISTS</c>). <see cref="ApiException.Reason"/> says which. Nothing of
/// the commit was applied.
/// </summary>
public sealed class FirestorePreconditionException : ApiException
{
    public FirestorePreconditionException(HttpStatusCode status, string? reason, string message)
        : base(status, reason, message)
    {
    }

    public FirestorePreconditionException()
        : this(HttpStatusCode.BadRequest, "FAILED_PRECONDITION", "Firestore precondition failed")
    {
    }

    public FirestorePreconditionException(string message)
        : this(HttpStatusCode.BadRequest, "FAILED_PRECONDITION", message)
    {
    }

    public FirestorePreconditionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal static bool Matches(ApiException e) =>
        e.Reason is "FAILED_PRECONDITION" or "ALREADY_EXISTS" or "NOT_FOUND";

    internal static FirestorePreconditionException From(ApiException e) => new(e.Status, e.Reason, e.Message);
}
