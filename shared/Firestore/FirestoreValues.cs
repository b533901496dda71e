using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kfci.Firestore;

/// <summary>
/// Converts between CLR values and Firestore's typed JSON values (<c>{"stringValue": "x"}</c> ...).
/// Decoding yields: <see cref="string"/>, <see cref="long"/>, <see cref="double"/>, <see cref="bool"/>, null,
/// <see cref="DateTimeOffset"/> (UTC), <c>byte[]</c>, <see cref="IReadOnlyDictionary{TKey,TValue}"/> of
/// string to object?, <see cref="IReadOnlyList{T}"/> of object?, <see cref="DocumentReference"/> and
/// <see cref="GeoPoint"/>. Encoding accepts those plus the other integer types, <see cref="float"/>,
/// <see cref="DateTime"/> (UTC or local), <see cref="FirestoreTimestamp"/>, any string-keyed dictionary and
/// any other enumerable.
/// </summary>
public static class FirestoreValues
{
    /// <summary>Encodes one value.</summary>
    /// <exception cref="ArgumentException">The value's type has no Firestore representation.</exception>
    public static JsonObject Encode(object? value) => value switch
    {
        null => new JsonObject { ["nullValue"] = "NULL_VALUE" },
        string s => new JsonObject { ["stringValue"] = s },
        bool b => new JsonObject { ["booleanValue"] = b },
        long or int or short or sbyte or byte or ushort or uint => Integer(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
        ulong u => u <= long.MaxValue ? Integer((long)u) : throw new ArgumentException($"{u} does not fit Firestore's 64-bit signed integers", nameof(value)),
        double d => Double(d),
        float f => Double(f),
        DateTimeOffset t => Timestamp(FirestoreTimestamp.FromDateTimeOffset(t)),
        DateTime t => Timestamp(FirestoreTimestamp.FromDateTimeOffset(Utc(t))),
        FirestoreTimestamp t => Timestamp(t),
        byte[] bytes => new JsonObject { ["bytesValue"] = Convert.ToBase64String(bytes) },
        ReadOnlyMemory<byte> bytes => new JsonObject { ["bytesValue"] = Convert.ToBase64String(bytes.Span) },
        DocumentReference r => new JsonObject { ["referenceValue"] = r.Name },
        GeoPoint p => new JsonObject { ["geoPointValue"] = new JsonObject { ["latitude"] = p.Latitude, ["longitude"] = p.Longitude } },
        IEnumerable<KeyValuePair<string, object?>> map => new JsonObject { ["mapValue"] = new JsonObject { ["fields"] = EncodeFields(map) } },
        IDictionary map => new JsonObject { ["mapValue"] = new JsonObject { ["fields"] = EncodeFields(StringKeyed(map)) } },
        IEnumerable items => new JsonObject { ["arrayValue"] = Array(items) },
        _ => throw new ArgumentException($"values of type {value.GetType()} cannot be stored in Firestore", nameof(value)),
    };

    /// <summary>Encodes a document's (or map's) fields.</summary>
    public static JsonObject EncodeFields(IEnumerable<KeyValuePair<string, object?>> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var result = new JsonObject();
        foreach (var (name, value) in fields)
        {
            result[name] = Encode(value);
        }

        return result;
    }

    /// <summary>Decodes one typed value.</summary>
    /// <exception cref="FormatException">The JSON is not a Firestore value.</exception>
    public static object? Decode(JsonNode? node)
    {
        if (node is not JsonObject value || value.Count != 1)
        {
            throw new FormatException($"not a Firestore value: {node?.ToJsonString() ?? "null"}");
        }

        var (kind, content) = value.First();
        return kind switch
        {
            "nullValue" => null,
            "stringValue" => Str(content),
            "booleanValue" => content?.GetValue<bool>() ?? throw Malformed(value),
            "integerValue" => DecodeInteger(content) ?? throw Malformed(value),
            "doubleValue" => DecodeDouble(content) ?? throw Malformed(value),
            "timestampValue" => FirestoreTimestamp.Parse(Str(content)).ToDateTimeOffset(),
            "bytesValue" => DecodeBytes(Str(content)),
            "referenceValue" => new DocumentReference(Str(content)),
            "geoPointValue" => new GeoPoint(Number(content?["latitude"]), Number(content?["longitude"])),
            "mapValue" => DecodeFields(content?["fields"] as JsonObject),
            "arrayValue" => DecodeArray(content?["values"] as JsonArray),
            _ => throw new FormatException($"unknown Firestore value kind '{kind}'"),
        };
    }

    /// <summary>Decodes a <c>fields</c> object; a missing object (an empty map on the wire) gives an empty dictionary.</summary>
    public static IReadOnlyDictionary<string, object?> DecodeFields(JsonObject? fields)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, value) in fields ?? [])
        {
            result[name] = Decode(value);
        }

        return result;
    }

    private static JsonObject Integer(long value) =>
        // proto3 JSON writes int64 as a string: a JSON number would lose precision past 2^53 in many parsers.
        new() { ["integerValue"] = value.ToString(CultureInfo.InvariantCulture) };

    private static JsonObject Double(double value) => new()
    {
        // proto3 JSON spells the non-finite doubles as strings.
        ["doubleValue"] = double.IsNaN(value) ? "NaN"
            : double.IsPositiveInfinity(value) ? "Infinity"
            : double.IsNegativeInfinity(value) ? "-Infinity"
            : JsonValue.Create(value),
    };

    private static JsonObject Timestamp(FirestoreTimestamp value) => new() { ["timestampValue"] = value.ToString() };

    private static DateTimeOffset Utc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Utc => new DateTimeOffset(value),
        DateTimeKind.Local => new DateTimeOffset(value.ToUniversalTime()),
        _ => throw new ArgumentException("a DateTime of unspecified kind is ambiguous; use UTC or a DateTimeOffset", nameof(value)),
    };

    private static JsonObject Array(IEnumerable items)
    {
        var values = new JsonArray();
        foreach (var item in items)
        {
            values.Add(Encode(item));
        }

        return new JsonObject { ["values"] = values };
    }

    private static IEnumerable<KeyValuePair<string, object?>> StringKeyed(IDictionary map)
    {
        foreach (DictionaryEntry entry in map)
        {
            yield return entry.Key is string key
                ? new KeyValuePair<string, object?>(key, entry.Value)
                : throw new ArgumentException($"Firestore map keys are strings, not {entry.Key.GetType()}", nameof(map));
        }
    }

    private static List<object?> DecodeArray(JsonArray? values) => values?.Select(Decode).ToList() ?? [];

    private static long? DecodeInteger(JsonNode? content) => content?.GetValueKind() switch
    {
        JsonValueKind.String => long.Parse(content.GetValue<string>(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),
        JsonValueKind.Number => content.GetValue<long>(),
        _ => null,
    };

    private static double? DecodeDouble(JsonNode? content) => content?.GetValueKind() switch
    {
        JsonValueKind.Number => content.GetValue<double>(),
        JsonValueKind.String => content.GetValue<string>() switch
        {
            "NaN" => double.NaN,
            "Infinity" => double.PositiveInfinity,
            "-Infinity" => double.NegativeInfinity,
            var text => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
        },
        _ => null,
    };

    private static byte[] DecodeBytes(string base64)
    {
        // Google accepts and may send the URL-safe alphabet, with or without padding.
        var standard = base64.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(standard.PadRight(standard.Length + ((4 - (standard.Length % 4)) % 4), '='));
    }

    private static double Number(JsonNode? node) => node?.GetValueKind() == JsonValueKind.Number ? node.GetValue<double>() : 0;

    private static string Str(JsonNode? node) =>
        node?.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : throw new FormatException($"expected a string, got {node?.ToJsonString() ?? "null"}");

    private static FormatException Malformed(JsonObject value) => new($"malformed Firestore value: {value.ToJsonString()}");
}
