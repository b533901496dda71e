using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kfci.Tests.Infra;

/// <summary>Reading the parser's JSON: attributes, nested blocks and references inside expressions.</summary>
internal static partial class Hcl
{
    /// <summary>An attribute's value as text (expressions as <c>${...}</c>), or null when absent.</summary>
    public static string? Attribute(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) ? Text(value) : null;

    /// <summary>The bodies of the nested blocks called <paramref name="name"/>.</summary>
    public static IEnumerable<JsonElement> Blocks(JsonElement body, string name) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Where(b => b.ValueKind == JsonValueKind.Object)
            : [];

    /// <summary>The bodies of the <c>dynamic "<paramref name="label"/>"</c> blocks (the parser keys them by label).</summary>
    public static IEnumerable<JsonElement> DynamicBlocks(JsonElement body, string label) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty("dynamic", out var dynamic) && dynamic.ValueKind == JsonValueKind.Object
            ? Blocks(dynamic, label)
            : [];

    /// <summary>Keys of an object literal (empty for anything else).</summary>
    public static IEnumerable<string> Keys(JsonElement value) =>
        value.ValueKind == JsonValueKind.Object ? value.EnumerateObject().Select(p => p.Name) : [];

    /// <summary>Every string anywhere inside <paramref name="value"/>, with the attribute name that holds it.</summary>
    public static IEnumerable<(string Attribute, string Value)> Strings(JsonElement value, string attribute = "")
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                yield return (attribute, value.GetString()!);
                break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    foreach (var found in Strings(item, attribute))
                    {
                        yield return found;
                    }
                }

                break;
            case JsonValueKind.Object:
                foreach (var property in value.EnumerateObject())
                {
                    foreach (var found in Strings(property.Value, property.Name))
                    {
                        yield return found;
                    }
                }

                break;
        }
    }

    /// <summary>Names of the <paramref name="type"/> resources an expression refers to (<c>type.name</c>).</summary>
    public static IReadOnlySet<string> References(string? expression, string type) =>
        expression is null
            ? new HashSet<string>()
            : ReferencePattern().Matches(expression)
                .Where(m => m.Groups["type"].Value == type)
                .Select(m => m.Groups["name"].Value)
                .ToHashSet(StringComparer.Ordinal);

    /// <summary>The quoted string literals inside an expression that start with <paramref name="prefix"/>.</summary>
    public static IEnumerable<string> QuotedLiterals(string? expression, string prefix) =>
        expression is null
            ? []
            : QuotedPattern().Matches(expression).Select(m => m.Groups[1].Value).Where(s => s.StartsWith(prefix, StringComparison.Ordinal));

    private static string Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => value.GetRawText(),
    };

    [GeneratedRegex(@"\b(?<type>[a-z][a-z0-9_]*)\.(?<name>[A-Za-z_][A-Za-z0-9_-]*)")]
    private static partial Regex ReferencePattern();

    [GeneratedRegex("\"([^\"$]*)\"")]
    private static partial Regex QuotedPattern();
}
