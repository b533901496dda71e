using System.Globalization;
using System.Text.Json.Nodes;

namespace Kfci.Firestore;

/// <summary>
/// A stored document. <see cref="Name"/> is the full resource name; <see cref="Fields"/> hold decoded values
/// (see <see cref="FirestoreValues"/>); <see cref="UpdateTime"/> is the version to pass as an update precondition.
/// </summary>
public sealed record FirestoreDocument(
    string Name,
    IReadOnlyDictionary<string, object?> Fields,
    FirestoreTimestamp CreateTime,
    FirestoreTimestamp UpdateTime)
{
    /// <summary>The document's id within its collection (the last path segment).</summary>
    public string Id => Name[(Name.LastIndexOf('/') + 1)..];

    /// <summary>
    /// A field's value converted to <typeparamref name="T"/>; dotted paths reach into maps. Integers convert
    /// to any numeric type they fit.
    /// </summary>
    /// <exception cref="KeyNotFoundException">The field is absent.</exception>
    /// <exception cref="InvalidCastException">The field holds another type.</exception>
    public T Get<T>(string path) =>
        TryGet<T>(path, out var value) ? value : throw new KeyNotFoundException($"{Name} has no field '{path}'");

    /// <summary>Like <see cref="Get{T}"/>, but false (not an exception) when the field is absent.</summary>
    /// <exception cref="InvalidCastException">The field holds another type.</exception>
    public bool TryGet<T>(string path, out T value)
    {
        value = default!;
        object? current = Fields;
        foreach (var segment in FieldPath.Split(path))
        {
            if (current is not IReadOnlyDictionary<string, object?> map || !map.TryGetValue(segment, out current))
            {
                return false;
            }
        }

        value = Convert<T>(current, path);
        return true;
    }

    internal static FirestoreDocument FromJson(JsonNode? json)
    {
        var name = json?["name"]?.GetValue<string>() ?? throw new FormatException("document without a name");
        return new FirestoreDocument(
            name,
            FirestoreValues.DecodeFields(json["fields"] as JsonObject),
            Time(json["createTime"]),
            Time(json["updateTime"]));
    }

    internal static FirestoreTimestamp Time(JsonNode? node) =>
        node is null ? default : FirestoreTimestamp.Parse(node.GetValue<string>());

    private T Convert<T>(object? value, string path) => value switch
    {
        T typed => typed,
        null when default(T) is null => default!,
        long number when typeof(T) != typeof(string) && IsNumeric(typeof(T)) =>
            (T)System.Convert.ChangeType(number, Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T), CultureInfo.InvariantCulture),
        _ => throw new InvalidCastException($"field '{path}' of {Name} holds {value?.GetType().Name ?? "null"}, not {typeof(T).Name}"),
    };

    private static bool IsNumeric(Type type) =>
        Type.GetTypeCode(Nullable.GetUnderlyingType(type) ?? type) is TypeCode.Int32 or TypeCode.Int16 or TypeCode.Double or TypeCode.Decimal or TypeCode.UInt32 or TypeCode.UInt64 or TypeCode.Byte;
}
