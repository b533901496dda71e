using System.Net;
using System.Text.Json.Nodes;
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
    }

    /// <summary>The exception a <c>Status</c> object stands for, e.g. the object of a watch <c>ERROR</c> event.</summary>
    public static ApiException FromStatus(JsonObject status, string what)
    {
        ArgumentNullException.ThrowIfNull(status);
        var code = status["code"] is JsonValue value && value.TryGetValue<int>(out var c) ? c : 500;
        var reason = status["reason"] is JsonValue r && r.TryGetValue<string>(out var s) ? s : null;
        var message = status["message"] is JsonValue m && m.TryGetValue<string>(out var t) ? t : status.ToJsonString();
        return new ApiException((HttpStatusCode)code, reason, $"{what} failed: {code} {reason}: {message}");
    }
}
