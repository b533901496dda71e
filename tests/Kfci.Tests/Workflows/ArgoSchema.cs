using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Kfci.Testing;

namespace Kfci.Tests.Workflows;

/// <summary>
/// Argo's own JSON schema (<c>tests/fixtures/argo/schema.latest.json</c>) narrowed to <c>Workflow</c>. One correction:
/// the schema types <c>IntOrString</c> as a string, while the API server (<c>x-kubernetes-int-or-string</c>) and every
/// Argo example also accept an integer there.
/// </summary>
internal static class ArgoSchema
{
    private static readonly Lazy<JsonSchema> s_workflow = new(Load);

    /// <summary>The first few validation errors, empty when <paramref name="workflow"/> is a valid Workflow.</summary>
    public static IReadOnlyList<string> Errors(JsonObject workflow)
    {
        using var document = JsonDocument.Parse(workflow.ToJsonString());
        var results = s_workflow.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        return results.IsValid
            ? []
            : (results.Details ?? [])
                .Where(d => d.Errors is { Count: > 0 })
                .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))
                .Take(5)
                .ToList();
    }

    private static JsonSchema Load()
    {
        var root = JsonNode.Parse(File.ReadAllText(Fixtures.PathOf("argo/schema.latest.json")))!.AsObject();
        root.Remove("oneOf");
        root.Remove("type");
        root["$id"] = "https://kfci.invalid/argo-workflow.json";
        root["$ref"] = "#/definitions/io.argoproj.workflow.v1alpha1.Workflow";
        StripExtensions(root);
        root["definitions"]!["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = new JsonObject { ["type"] = new JsonArray("string", "integer") };
        using var document = JsonDocument.Parse(root.ToJsonString());
        return JsonSchema.Build(document.RootElement.Clone(), new BuildOptions { SchemaRegistry = new SchemaRegistry() });
    }

    /// <summary>Kubernetes' <c>x-kubernetes-*</c> annotations are not JSON Schema keywords; the 2020-12 dialect refuses unknown ones.</summary>
    private static void StripExtensions(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var key in obj.Select(p => p.Key).Where(k => k.StartsWith("x-", StringComparison.Ordinal)).ToList())
                {
                    obj.Remove(key);
                }

                foreach (var (_, child) in obj)
                {
                    StripExtensions(child);
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    StripExtensions(child);
                }

                break;
        }
    }
}
