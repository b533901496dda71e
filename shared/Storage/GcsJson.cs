using System.Globalization;
using System.Text.Json.Nodes;

namespace Kfci.Storage;

/// <summary>The GCS JSON API's object resource, as far as kfci reads and writes it (discovery doc: <c>schemas.Object</c>).</summary>
internal static class GcsJson
{
    /// <summary>The resource sent when an upload starts: name, content type, cache control, custom metadata.</summary>
    public static JsonObject ObjectResource(string name, ObjectWriteOptions options)
    {
        var resource = new JsonObject
        {
            ["name"] = name,
            ["contentType"] = options.ContentType ?? ObjectPaths.DefaultContentType,
        };
        if (options.CacheControl is { } cacheControl)
        {
            resource["cacheControl"] = cacheControl;
        }

        if (options.Metadata is { Count: > 0 } metadata)
        {
            var map = new JsonObject();
            foreach (var (key, value) in metadata)
            {
                map[key] = value;
            }

            resource["metadata"] = map;
        }

        return resource;
    }

    /// <summary>Reads an object resource; int64 fields arrive as decimal strings, as the discovery doc declares.</summary>
    public static StoredObject ToStoredObject(JsonNode? node)
    {
        var obj = node as JsonObject ?? throw new FormatException("Expected a storage#object resource.");
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (obj["metadata"] is JsonObject map)
        {
            foreach (var (key, value) in map)
            {
                metadata[key] = value?.GetValue<string>() ?? string.Empty;
            }
        }

        return new StoredObject(
            Name: Str(obj, "name") ?? throw new FormatException("Object resource without a name."),
            Size: Int64(obj, "size"),
            Generation: Int64(obj, "generation"),
            ContentType: Str(obj, "contentType") ?? ObjectPaths.DefaultContentType,
            Metadata: metadata,
            Updated: DateTimeOffset.Parse(Str(obj, "updated") ?? Str(obj, "timeCreated") ?? "1970-01-01T00:00:00Z", CultureInfo.InvariantCulture),
            CacheControl: Str(obj, "cacheControl"));
    }

    private static string? Str(JsonObject obj, string name) => obj[name]?.GetValue<string>();

    private static long Int64(JsonObject obj, string name) =>
        long.Parse(Str(obj, name) ?? "0", NumberStyles.Integer, CultureInfo.InvariantCulture);
}
