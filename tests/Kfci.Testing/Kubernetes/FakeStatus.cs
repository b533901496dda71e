using System.Text.Json.Nodes;

namespace Kfci.Testing.Kubernetes;

/// <summary>A failure the fake answers with: the HTTP code and the <c>Status</c> body a real API server sends.</summary>
public sealed class FakeStatusException(int code, string reason, string message, JsonObject? details = null) : Exception(message)
{
    public int Code { get; } = code;

    public string Reason { get; } = reason;

    public JsonObject ToStatus() => Status(Code, Reason, Message, details);

    public static JsonObject Status(int code, string reason, string message, JsonObject? details = null)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
        };
        // An error the API server has no reason for (a plain Go error surfacing as 500) carries none.
        if (reason.Length > 0)
        {
            status["reason"] = reason;
        }

        if (details is not null)
        {
            status["details"] = details;
        }

        status["code"] = code;
        return status;
    }

    public static string ReasonFor(int code) => code switch
    {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        410 => "Expired",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "InternalError",
    };

    internal static FakeStatusException NotFound(FakeResource resource, string name) =>
        new(404, "NotFound", $"{resource.QualifiedName} \"{name}\" not found", Details(resource, name));

    internal static FakeStatusException AlreadyExists(FakeResource resource, string name) =>
        new(409, "AlreadyExists", $"{resource.QualifiedName} \"{name}\" already exists", Details(resource, name));

    internal static FakeStatusException BadRequest(string message) => new(400, "BadRequest", message);

    /// <summary>The API server's answer for a path no served resource type matches: NotFound with empty details.</summary>
    internal static FakeStatusException NoSuchResourceType() => new(404, "NotFound", "the server could not find the requested resource", []);

    internal static FakeStatusException Expired(string message) => new(410, "Expired", message);

    /// <summary>The NamespaceLifecycle admission plug-in's answer to new content in a namespace that is being deleted.</summary>
    internal static FakeStatusException NamespaceTerminating(FakeResource resource, string name, string ns)
    {
        var problem = $"unable to create new content in namespace {ns} because it is being terminated";
        var details = Details(resource, name);
        details["causes"] = new JsonArray(new JsonObject { ["reason"] = "NamespaceTerminating", ["message"] = $"namespace {ns} is being terminated", ["field"] = "metadata.namespace" });
        return new(403, "Forbidden", $"{resource.QualifiedName} \"{name}\" is forbidden: {problem}", details);
    }

    internal static JsonObject Details(FakeResource resource, string name) =>
        new() { ["name"] = name, ["group"] = resource.Group, ["kind"] = resource.Plural };
}
