using System.Text.Json;

namespace Kfci.Janitor;

/// <summary>An inventory could not be read; the message is one line naming the resource and the field at fault.</summary>
public sealed class InventoryFormatException(string message, Exception? inner = null) : FormatException(message, inner);

/// <summary>
/// The offline inventory of <c>kfci janitor plan</c>:
/// <c>{"resources":[{"type","name","location","project","created","firstSeen","labels","status","error","namespace","startedAt"}]}</c>.
/// </summary>
public static class InventoryJson
{
    private static readonly string[] s_fields =
        ["type", "name", "location", "project", "created", "firstSeen", "labels", "status", "error", "namespace", "startedAt"];

    /// <summary>Reads an inventory. Unknown fields are refused rather than ignored: a misspelt <c>labels</c> would silently drop a protection.</summary>
    /// <exception cref="InventoryFormatException">The JSON is malformed or a resource is invalid (unknown type, bad timestamp, missing name…).</exception>
    public static IReadOnlyList<CloudResource> Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new InventoryFormatException($"inventory is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("resources", out var resources)
                || resources.ValueKind != JsonValueKind.Array)
            {
                throw new InventoryFormatException("inventory must be a JSON object with a \"resources\" array: {\"resources\":[{\"type\":\"gke-cluster\",\"name\":\"…\"}]}");
            }

            return [.. resources.EnumerateArray().Select(ParseResource)];
        }
    }

    /// <summary>Writes resources in the format <see cref="Parse"/> reads (null and empty fields left out).</summary>
    public static string Write(IEnumerable<CloudResource> resources)
    {
        ArgumentNullException.ThrowIfNull(resources);
        return JsonText.WriteArrayDocument("resources", resources, WriteResource);
    }

    private static CloudResource ParseResource(JsonElement element, int index)
    {
        var where = $"resources[{index}]";
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new InventoryFormatException($"{where}: must be an object, not {element.ValueKind.ToString().ToLowerInvariant()}");
        }

        var name = OptionalString(element, "name", where);
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new InventoryFormatException($"{where}: missing name");
        }

        where = $"{where} ({name})";
        foreach (var property in element.EnumerateObject().Where(p => !s_fields.Contains(p.Name, StringComparer.Ordinal)))
        {
            throw new InventoryFormatException($"{where}: unknown field \"{property.Name}\" (known: {string.Join(", ", s_fields)})");
        }

        var typeName = OptionalString(element, "type", where);
        if (!ResourceTypes.TryParse(typeName, out var type))
        {
            throw new InventoryFormatException(typeName is null
                ? $"{where}: missing type (one of {ResourceTypes.WireNameList})"
                : $"{where}: unknown type \"{typeName}\" (one of {ResourceTypes.WireNameList})");
        }

        return new CloudResource(type, name)
        {
            Location = OptionalString(element, "location", where) ?? "",
            Project = OptionalString(element, "project", where),
            Created = OptionalTime(element, "created", where),
            FirstSeen = OptionalTime(element, "firstSeen", where),
            Labels = Labels(element, where),
            Status = OptionalString(element, "status", where),
            Error = OptionalBool(element, "error", where),
            Namespace = OptionalString(element, "namespace", where),
            StartedAt = OptionalTime(element, "startedAt", where),
        };
    }

    private static string? OptionalString(JsonElement element, string field, string where) =>
        Field(element, field) switch
        {
            null => null,
            { ValueKind: JsonValueKind.String } value => value.GetString(),
            var value => throw new InventoryFormatException($"{where}: {field} must be a string, not {Describe(value.Value)}"),
        };

    private static DateTimeOffset? OptionalTime(JsonElement element, string field, string where)
    {
        var text = OptionalString(element, field, where);
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        try
        {
            return Rfc3339.Parse(text);
        }
        catch (FormatException e)
        {
            throw new InventoryFormatException($"{where}: {field}: {e.Message}", e);
        }
    }

    private static bool OptionalBool(JsonElement element, string field, string where) =>
        Field(element, field) switch
        {
            null => false,
            { ValueKind: JsonValueKind.True } => true,
            { ValueKind: JsonValueKind.False } => false,
            var value => throw new InventoryFormatException($"{where}: {field} must be true or false, not {Describe(value.Value)}"),
        };

    private static Dictionary<string, string> Labels(JsonElement element, string where)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (Field(element, "labels"))
        {
            case null:
                return labels;
            case { ValueKind: JsonValueKind.Object } value:
                foreach (var label in value.EnumerateObject())
                {
                    labels[label.Name] = label.Value.ValueKind == JsonValueKind.String
                        ? label.Value.GetString()!
                        : throw new InventoryFormatException($"{where}: labels.{label.Name} must be a string, not {Describe(label.Value)}");
                }

                return labels;
            case var value:
                throw new InventoryFormatException($"{where}: labels must be an object of strings, not {Describe(value.Value)}");
        }
    }

    /// <summary>The field's value; null when it is absent or JSON null.</summary>
    private static JsonElement? Field(JsonElement element, string field) =>
        element.TryGetProperty(field, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        _ => value.GetRawText(),
    };

    private static void WriteResource(Utf8JsonWriter writer, CloudResource resource)
    {
        writer.WriteStartObject();
        writer.WriteString("type", resource.Type.WireName());
        writer.WriteString("name", resource.Name);
        WriteIfAny(writer, "location", resource.Location);
        WriteIfAny(writer, "project", resource.Project);
        WriteIfAny(writer, "created", resource.Created);
        WriteIfAny(writer, "firstSeen", resource.FirstSeen);
        if (resource.Labels.Count > 0)
        {
            writer.WriteStartObject("labels");
            foreach (var (key, value) in resource.Labels)
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
        }

        WriteIfAny(writer, "status", resource.Status);
        if (resource.Error)
        {
            writer.WriteBoolean("error", true);
        }

        WriteIfAny(writer, "namespace", resource.Namespace);
        WriteIfAny(writer, "startedAt", resource.StartedAt);
        writer.WriteEndObject();
    }

    private static void WriteIfAny(Utf8JsonWriter writer, string field, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            writer.WriteString(field, value);
        }
    }

    private static void WriteIfAny(Utf8JsonWriter writer, string field, DateTimeOffset? value)
    {
        if (value is { } time)
        {
            writer.WriteString(field, Rfc3339.Format(time));
        }
    }
}
