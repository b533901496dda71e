using System.Text.Json.Nodes;

namespace Kfci.Testing.Kubernetes;

/// <summary>A field selector (<c>involvedObject.name=x,type!=Normal</c>) evaluated on an object's JSON fields.</summary>
internal sealed class FieldSelector
{
    private readonly List<(string[] Path, bool Equal, string Value)> _terms;

    private FieldSelector(List<(string[] Path, bool Equal, string Value)> terms) => _terms = terms;

    /// <summary>Parses a selector; a field the resource type does not index is refused, as the API server does.</summary>
    public static FieldSelector Parse(string? text, FakeResource resource)
    {
        var terms = new List<(string[] Path, bool Equal, string Value)>();
        foreach (var term in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var notEqual = term.IndexOf("!=", StringComparison.Ordinal);
            var (field, value, equal) = notEqual > 0
                ? (term[..notEqual], term[(notEqual + 2)..], false)
                : term.Split(["==", "="], 2, StringSplitOptions.None) is [var f, var v]
                    ? (f, v, true)
                    : throw FakeStatusException.BadRequest($"invalid field selector: '{term}'");
            field = field.Trim();
            if (!resource.SelectableFields.Contains(field))
            {
                throw FakeStatusException.BadRequest($"field label not supported: {field}");
            }

            terms.Add((field.Split('.'), equal, value.Trim()));
        }

        return new FieldSelector(terms);
    }

    public bool Matches(JsonObject obj) => _terms.TrueForAll(t => (Read(obj, t.Path) == t.Value) == t.Equal);

    private static string Read(JsonObject obj, string[] path)
    {
        JsonNode? node = obj;
        foreach (var part in path)
        {
            node = node?[part];
        }

        return node is JsonValue value ? value.ToString() : "";
    }
}
