using System.Text.Json.Nodes;

namespace Kfci.Cli.Engine;

/// <summary>
/// Checks a workflow against the Argo subset the local engine runs, so that nothing is silently ignored:
/// the first field outside it is reported by its path (e.g. <c>spec.templates[2].sidecars</c>). Fields that only
/// steer Kubernetes scheduling or clean-up (service accounts, node selectors, pod GC, TTL, resources) have no
/// meaning on one host and are accepted.
/// </summary>
public static class SpecValidator
{
    private static readonly HashSet<string> s_spec = Set(
        "entrypoint", "arguments", "templates", "onExit", "activeDeadlineSeconds", "volumes", "shutdown",
        "serviceAccountName", "podGC", "ttlStrategy", "ttlSecondsAfterFinished", "nodeSelector", "tolerations", "affinity", "imagePullSecrets");

    private static readonly HashSet<string> s_template = Set(
        "name", "inputs", "outputs", "container", "script", "steps", "dag", "activeDeadlineSeconds", "retryStrategy", "volumes",
        "metadata", "serviceAccountName", "nodeSelector", "tolerations", "affinity");

    private static readonly HashSet<string> s_container = Set("name", "image", "imagePullPolicy", "command", "args", "env", "workingDir", "volumeMounts", "resources");
    private static readonly HashSet<string> s_script = Set([.. s_container, "source"]);
    private static readonly HashSet<string> s_step = Set("name", "template", "arguments", "when", "withItems", "withParam");
    private static readonly HashSet<string> s_task = Set([.. s_step, "dependencies", "depends"]);

    /// <summary>Null when the engine can run the workflow, else one line naming the first unsupported field.</summary>
    public static string? FindUnsupported(JsonObject workflow)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        if (workflow["spec"] is not JsonObject spec)
        {
            return "the workflow has no spec";
        }

        if (spec["workflowTemplateRef"] is not null)
        {
            return Unsupported("spec.workflowTemplateRef");
        }

        var problem = Keys(spec, "spec", s_spec)
            ?? Arguments(spec["arguments"], "spec.arguments")
            ?? Volumes(spec["volumes"], "spec.volumes");
        if (problem is not null)
        {
            return problem;
        }

        if (spec["entrypoint"] is null)
        {
            return "spec.entrypoint is required";
        }

        var templates = spec["templates"] as JsonArray ?? [];
        for (var i = 0; i < templates.Count; i++)
        {
            if (Template(templates[i] as JsonObject ?? [], $"spec.templates[{i}]") is { } templateProblem)
            {
                return templateProblem;
            }
        }

        return ExpressionTag(workflow["spec"], "spec");
    }

    private static string? Template(JsonObject template, string path)
    {
        var problem = Keys(template, path, s_template)
            ?? Parameters(template["inputs"], path + ".inputs")
            ?? Volumes(template["volumes"], path + ".volumes");
        if (problem is not null)
        {
            return problem;
        }

        if (template["outputs"] is JsonObject outputs && outputs.FirstOrDefault(o => o.Value is not null).Key is { } output)
        {
            return Unsupported($"{path}.outputs.{output}");
        }

        if (template["retryStrategy"] is JsonObject retry && Keys(retry, path + ".retryStrategy", Set("limit", "retryPolicy")) is { } retryProblem)
        {
            return retryProblem;
        }

        if (template["container"] is JsonObject container)
        {
            return Container(container, path + ".container", s_container);
        }

        if (template["script"] is JsonObject script)
        {
            return Container(script, path + ".script", s_script);
        }

        if (template["steps"] is JsonArray groups)
        {
            for (var g = 0; g < groups.Count; g++)
            {
                // A group is a list of steps; Argo also accepts a single step object there.
                var steps = groups[g] as JsonArray ?? [groups[g]?.DeepClone()];
                for (var s = 0; s < steps.Count; s++)
                {
                    if (Step(steps[s] as JsonObject ?? [], $"{path}.steps[{g}][{s}]", s_step) is { } stepProblem)
                    {
                        return stepProblem;
                    }
                }
            }

            return null;
        }

        if (template["dag"] is JsonObject dag)
        {
            var tasks = dag["tasks"] as JsonArray ?? [];
            problem = Keys(dag, path + ".dag", Set("tasks", "failFast"));
            for (var t = 0; problem is null && t < tasks.Count; t++)
            {
                problem = Step(tasks[t] as JsonObject ?? [], $"{path}.dag.tasks[{t}]", s_task);
            }

            return problem;
        }

        return $"{path} ('{template["name"]}') has no container, script, steps or dag template, the only kinds the local engine runs";
    }

    private static string? Container(JsonObject container, string path, HashSet<string> allowed)
    {
        var problem = Keys(container, path, allowed);
        var env = container["env"] as JsonArray ?? [];
        for (var i = 0; problem is null && i < env.Count; i++)
        {
            problem = Keys(env[i] as JsonObject ?? [], $"{path}.env[{i}]", Set("name", "value"));
        }

        var mounts = container["volumeMounts"] as JsonArray ?? [];
        for (var i = 0; problem is null && i < mounts.Count; i++)
        {
            problem = Keys(mounts[i] as JsonObject ?? [], $"{path}.volumeMounts[{i}]", Set("name", "mountPath", "readOnly", "subPath"));
        }

        return problem;
    }

    private static string? Step(JsonObject step, string path, HashSet<string> allowed) =>
        Keys(step, path, allowed) ?? Arguments(step["arguments"], path + ".arguments");

    private static string? Arguments(JsonNode? arguments, string path) =>
        arguments is JsonObject obj ? Keys(obj, path, Set("parameters")) ?? Parameters(obj, path) : null;

    private static string? Parameters(JsonNode? holder, string path)
    {
        if (holder is not JsonObject obj)
        {
            return null;
        }

        if (Keys(obj, path, Set("parameters")) is { } problem)
        {
            return problem;
        }

        var parameters = obj["parameters"] as JsonArray ?? [];
        for (var i = 0; i < parameters.Count; i++)
        {
            if (Keys(parameters[i] as JsonObject ?? [], $"{path}.parameters[{i}]", Set("name", "value", "default", "description", "enum")) is { } parameterProblem)
            {
                return parameterProblem;
            }
        }

        return null;
    }

    private static string? Volumes(JsonNode? volumes, string path)
    {
        var list = volumes as JsonArray ?? [];
        for (var i = 0; i < list.Count; i++)
        {
            if (Keys(list[i] as JsonObject ?? [], $"{path}[{i}]", Set("name", "persistentVolumeClaim", "emptyDir")) is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    private static string? ExpressionTag(JsonNode? node, string path) => node switch
    {
        JsonObject obj => obj.Select(p => ExpressionTag(p.Value, $"{path}.{p.Key}")).FirstOrDefault(p => p is not null),
        JsonArray array => array.Select((item, i) => ExpressionTag(item, $"{path}[{i}]")).FirstOrDefault(p => p is not null),
        JsonValue value when value.TryGetValue<string>(out var text) && text.Contains("{{=", StringComparison.Ordinal) => Unsupported($"{path} (expression tag '{{{{=…}}}}')"),
        _ => null,
    };

    private static string? Keys(JsonObject obj, string path, HashSet<string> allowed) =>
        obj.Where(p => p.Value is not null && !allowed.Contains(p.Key)).Select(p => Unsupported($"{path}.{p.Key}")).FirstOrDefault();

    private static string Unsupported(string field) => $"the local engine does not support {field}";

    private static HashSet<string> Set(params string[] names) => new(names, StringComparer.Ordinal);
}
