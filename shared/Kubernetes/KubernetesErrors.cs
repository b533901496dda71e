using System.Globalization;
using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Kfci.Http;

namespace Kfci.Kubernetes;

/// <summary>The <c>Status.reason</c> values kfci acts on (k8s.io/apimachinery <c>StatusReason</c>).</summary>
public static class StatusReasons
{
    public const string NotFound = "NotFound";
    public const string AlreadyExists = "AlreadyExists";
    public const string Conflict = "Conflict";
    public const string Gone = "Gone";
    public const string Expired = "Expired";
    public const string Invalid = "Invalid";
    public const string TooManyRequests = "TooManyRequests";
}

/// <summary>
/// A Kubernetes failure as <see cref="ApiException"/>, with the <c>Status</c> details the API server sent: a
/// missing object's 404 names it (<c>details.name</c>), a missing resource type's does not.
/// </summary>
public sealed class KubernetesApiException(HttpStatusCode status, string? reason, string message, string? detailsName, TimeSpan? retryAfter = null)
    : ApiException(status, reason, message, retryAfter)
{
    /// <summary>The object the <c>Status</c> is about (<c>details.name</c>); null when the server named none.</summary>
    public string? DetailsName { get; } = detailsName;

    /// <summary>The resource the <c>Status</c> is about (<c>details.kind</c>, e.g. <c>workflows</c>); null when the server named none.</summary>
    public string? DetailsKind { get; init; }
}

/// <summary>Reading Kubernetes <c>Status</c> failures as <see cref="ApiException"/>.</summary>
public static class KubernetesErrors
{
    extension(ApiException exception)
    {
        /// <summary>A create found the name taken (409 AlreadyExists), as opposed to a resourceVersion conflict.</summary>
        public bool IsAlreadyExists => exception.Status == HttpStatusCode.Conflict && exception.Reason == StatusReasons.AlreadyExists;

        /// <summary>The resourceVersion or continue token is older than the server's history (410 Gone / Expired): re-list.</summary>
        public bool IsGone => exception.Status == HttpStatusCode.Gone || exception.Reason is StatusReasons.Gone or StatusReasons.Expired;

        /// <summary>The object failed validation (422 Invalid); retrying the same object cannot succeed.</summary>
        public bool IsInvalid => exception.Status == HttpStatusCode.UnprocessableEntity;

        /// <summary>
        /// The named object does not exist: 404 NotFound whose <c>Status.details</c> names it. A 404 that names nothing
        /// ("the server could not find the requested resource") means the resource type itself is not served.
        /// </summary>
        public bool IsObjectNotFound => exception is KubernetesApiException { Status: HttpStatusCode.NotFound, Reason: StatusReasons.NotFound, DetailsName.Length: > 0 };
    }

    /// <summary>The API server's answer to a failed call, read from the <c>Status</c> body the library kept.</summary>
    public static KubernetesApiException FromResponse(HttpOperationException exception, string what)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var response = exception.Response;
        var status = response?.StatusCode ?? HttpStatusCode.InternalServerError;
        V1Status? body = null;
        try
        {
            // The library keeps the body as text; its own serializer reads it into its Status model.
            body = string.IsNullOrEmpty(response?.Content) ? null : KubernetesJson.Deserialize<V1Status>(response.Content);
        }
        catch (JsonException)
        {
            // Not a Status: a proxy or an old API server's plain-text "404 page not found".
        }

        var reason = body?.Reason;
        var message = body?.Message ?? ClusterConfig.OneLine(response?.Content ?? response?.ReasonPhrase ?? "");
        return new KubernetesApiException(status, reason, $"{what} failed: {(int)status} {reason}: {message}", body?.Details?.Name, RetryAfter(response))
        {
            DetailsKind = body?.Details?.Kind,
        };
    }

    /// <summary>The exception a watch <c>ERROR</c> event's <c>Status</c> stands for (410 Expired: <c>IsGone</c>).</summary>
    public static KubernetesApiException FromStatus(V1Status status, string what)
    {
        ArgumentNullException.ThrowIfNull(status);
        var code = status.Code ?? 500;
        return new KubernetesApiException((HttpStatusCode)code, status.Reason, $"{what} failed: {code} {status.Reason}: {status.Message}", status.Details?.Name)
        {
            DetailsKind = status.Details?.Kind,
        };
    }

    /// <summary>
    /// The library's <c>KubeConfigException</c> at request time — an exec credential plugin that fails when the token
    /// is refreshed — as kfci's one-line configuration error: retrying cannot fix it, the configuration must change.
    /// </summary>
    public static KubernetesConfigurationException Misconfigured(Exception exception, string what)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return new KubernetesConfigurationException($"{what}: {ClusterConfig.OneLine(exception.Message)}", exception);
    }

    private static TimeSpan? RetryAfter(HttpResponseMessageWrapper? response) =>
        response?.Headers is { } headers
        && headers.FirstOrDefault(h => string.Equals(h.Key, "Retry-After", StringComparison.OrdinalIgnoreCase)).Value?.FirstOrDefault() is { } text
        && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(seconds)
            : null;
}
