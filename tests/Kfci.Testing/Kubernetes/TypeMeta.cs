using System.Text.Json.Nodes;

namespace Kfci.Testing.Kubernetes;

/// <summary>
/// The API server's check of a created body's <c>apiVersion</c> and <c>kind</c> against the URL it was sent to.
/// A custom resource is decoded as unstructured JSON, so both must be present; a built-in type takes them from the
/// URL when they are absent. A different apiVersion is 400 BadRequest; a custom resource of another kind is 422
/// Invalid, a built-in one 400 (the messages are the API server's).
/// </summary>
internal static class TypeMeta
{
    public static JsonObject Check(FakeResource resource, JsonObject body)
    {
        var apiVersion = Text(body["apiVersion"]);
        var kind = Text(body["kind"]);
        if (resource.IsCustomResource && (apiVersion is null || kind is null))
        {
            throw FakeStatusException.BadRequest($"Object '{(kind is null ? "Kind" : "apiVersion")}' is missing in '{body.ToJsonString()}'");
        }

        if (apiVersion is not null && apiVersion != resource.ApiVersion)
        {
            throw FakeStatusException.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({resource.ApiVersion})");
        }

        if (kind is not null && kind != resource.Kind)
        {
            if (!resource.IsCustomResource)
            {
                throw FakeStatusException.BadRequest($"{kind} in version \"{resource.Version}\" cannot be handled as a {resource.Kind}: the kind in the data ({kind}) does not match the expected kind ({resource.Kind})");
            }

            var name = Text(body["metadata"]?["name"]) ?? "";
            var problem = $"Invalid value: \"{kind}\": must be {resource.Kind}";
            var details = FakeStatusException.Details(resource, name);
            details["kind"] = resource.Kind;
            details["causes"] = new JsonArray(new JsonObject { ["reason"] = "FieldValueInvalid", ["message"] = problem, ["field"] = "kind" });
            throw new FakeStatusException(422, "Invalid", $"{kind}.{resource.Group} \"{name}\" is invalid: kind: {problem}", details);
        }

        return body;
    }

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
