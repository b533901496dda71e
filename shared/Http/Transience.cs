using System.Net;
using System.Net.Sockets;

namespace Kfci.Http;

/// <summary>The one definition of "try again later" used by every adapter and by the function host.</summary>
public static class Transience
{
    public static bool IsTransientStatus(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    /// <summary>
    /// Whether an exception is worth retrying: transient API answers, connection failures and resets,
    /// and timeouts that were not the caller's own cancellation.
    /// </summary>
    public static bool IsTransient(Exception exception, CancellationToken callerToken = default) => exception switch
    {
        ApiException api => api.IsTransient,
        HttpRequestException http when http.StatusCode is { } status => IsTransientStatus(status),
        HttpRequestException => true,
        IOException => true,
        SocketException => true,
        TimeoutException => true,
        OperationCanceledException => !callerToken.IsCancellationRequested,
        _ => false,
    };
}
