using System.Net;
using System.Net.Sockets;

namespace Kfci.Http;

/// <summary>The one definition of "try again later" used by every adapter and by the function host.</summary>
public static class Transience
{
    public static bool IsTransientStatus(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    /// <summary>
    /// Google's <c>ABORTED</c> (409) outside a transaction: the request lost a race for a busy resource (Firestore answers
    /// it when one document is written too often) and succeeds when sent again after a backoff. A transactional commit
    /// that answers it is never resent as is (it is sent once); the whole transaction is re-run instead.
    /// </summary>
    public static bool IsContention(ApiException exception) =>
        exception is { Status: HttpStatusCode.Conflict, Reason: "ABORTED" };

    /// <summary>
    /// Whether an exception is worth retrying: transient API answers, connection failures and resets,
    /// and timeouts that were not the caller's own cancellation.
    /// </summary>
    public static bool IsTransient(Exception exception, CancellationToken callerToken = default) => exception switch
    {
        ApiException api => api.IsTransient,
        HttpRequestException http when http.StatusCode is { } status => IsTransientStatus(status),
        HttpRequestException => true,

        // An IOException, but an answer that did not parse (or pointed elsewhere) parses no better when asked again.
        InvalidDataException => false,
        IOException => true,
        SocketException => true,
        TimeoutException => true,
        OperationCanceledException => !callerToken.IsCancellationRequested,
        _ => false,
    };
}
