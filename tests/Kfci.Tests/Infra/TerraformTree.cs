using System.Text.Json;

namespace Kfci.Tests.Infra;

/// <summary>One <c>resource</c>, <c>data</c> or <c>variable</c> block: its body is the parser's JSON.</summary>
internal sealed record TerraformBlock(string Type, string Name, string File, JsonElement Body)
{
    public string Address => Type.Length == 0 ? $"var.{Name}" : $"{Type}.{Name}";
}

/// <summary>
/// A parsed configuration directory, in the parser's JSON: literals stay JSON values, expressions
/// become <c>"${...}"</c> strings, blocks become arrays of objects.
/// </summary>
internal sealed class TerraformTree
{
    private TerraformTree(JsonElement files, List<TerraformBlock> resources, List<TerraformBlock> variables, Dictionary<string, JsonElement> locals)
    {
        Files = files;
        Resources = resources;
        Variables = variables;
        Locals = locals;
    }

    /// <summary>Every file's JSON, keyed by path relative to the directory.</summary>
    public JsonElement Files { get; }

    public IReadOnlyList<TerraformBlock> Resources { get; }

    public IReadOnlyList<TerraformBlock> Variables { get; }

    public IReadOnlyDictionary<string, JsonElement> Locals { get; }

    public static TerraformTree FromParserOutput(JsonElement files)
    {
        var resources = new List<TerraformBlock>();
        var variables = new List<TerraformBlock>();
        var locals = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var file in files.EnumerateObject())
        {
            foreach (var section in file.Value.EnumerateObject())
            {
                switch (section.Name)
                {
                    case "resource":
                        resources.AddRange(TypedBlocks(file.Name, section.Value));
                        break;
                    case "variable":
                        variables.AddRange(NamedBlocks(file.Name, "", section.Value));
                        break;
                    case "locals":
                        foreach (var block in section.Value.EnumerateArray())
                        {
                            foreach (var local in block.EnumerateObject())
                            {
                                locals[local.Name] = local.Value;
                            }
                        }

                        break;
                }
            }
        }

        return new TerraformTree(files, resources, variables, locals);
    }

    public IEnumerable<TerraformBlock> ResourcesOfType(string type) => Resources.Where(r => r.Type == type);

    public TerraformBlock? Resource(string type, string name) => Resources.FirstOrDefault(r => r.Type == type && r.Name == name);

    private static IEnumerable<TerraformBlock> TypedBlocks(string file, JsonElement byType) =>
        byType.EnumerateObject().SelectMany(type => NamedBlocks(file, type.Name, type.Value));

    private static IEnumerable<TerraformBlock> NamedBlocks(string file, string type, JsonElement byName) =>
        byName.EnumerateObject().SelectMany(name => name.Value.EnumerateArray().Select(body => new TerraformBlock(type, name.Name, file, body)));
}
