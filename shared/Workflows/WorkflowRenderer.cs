using System.Text;
using System.Text.Json.Nodes;
using Kfci.Prow;
using Kfci.ProwConfig;
using Kfci.Runs;

namespace Kfci.Workflows;

/// <summary>
/// Turns a selected <c>prow_config.yaml</c> entry's Argo <c>Workflow</c> file into the object kfci submits: kfci's
/// name, namespace and labels, the Prow job environment in every container, kfci's built-in parameters, a deadline
/// and pod garbage collection that leaves logs for the Uploader. The file comes from the repository under test and
/// is hostile until parsed (<see cref="BoundedYaml"/>). Pure: no I/O, same inputs give the same object.
/// </summary>
/// <remarks>
/// Precedence of <c>spec.arguments.parameters</c>: the workflow file declares parameters and their defaults; an
/// entry's <c>params</c> replace those defaults (one file, several entries); kfci's built-ins replace both, because
/// the engine, Watcher and Uploader rely on them (names, NFS layout). An entry param naming a built-in is an error
/// rather than silently ignored.
/// </remarks>
public static class WorkflowRenderer
{
    public const string ApiVersion = "argoproj.io/v1alpha1";
    public const string Kind = "Workflow";
    public const string NotSet = "notset";

    private const int MaxViolationsShown = 5;

    /// <summary>The largest workflow file kfci reads.</summary>
    public const int MaxBytes = BoundedYaml.MaxBytes;

    /// <summary>The Prow variables that become workflow labels (kubeflow's set), <c>notset</c> when the job has none.</summary>
    public static IReadOnlyList<string> ProwLabels { get; } =
        ["BUILD_ID", "BUILD_NUMBER", "JOB_NAME", "JOB_TYPE", "PROW_JOB_ID", "PULL_NUMBER", "REPO_NAME", "REPO_OWNER"];

    /// <summary>The names kfci always sets in <c>spec.arguments.parameters</c>.</summary>
    public static IReadOnlyList<string> BuiltInParameters { get; } =
        ["name", "namespace", "bucket", "prow_env", "step_image", "nfs_claim", "test_dir", "src_dir", "output_dir", "artifacts_dir", "repo_spec", "repo_url"];

    // The variables kubeflow's ksonnet path put into prow_env (run_e2e_workflow.py), sorted, unset ones omitted.
    private static readonly string[] s_prowEnvNames =
        ["BUILD_ID", "BUILD_NUMBER", "JOB_NAME", "JOB_TYPE", "PULL_BASE_SHA", "PULL_NUMBER", "PULL_PULL_SHA", "REPO_NAME", "REPO_OWNER"];

    private static readonly string[] s_serverOwnedMetadata =
        ["generateName", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "managedFields", "ownerReferences", "selfLink"];

    /// <summary>Renders <paramref name="yaml"/> (the file named by <paramref name="entry"/>'s <c>workflow:</c>) for <paramref name="job"/>.</summary>
    /// <param name="yaml">The workflow file's bytes, read at the commit under test.</param>
    /// <param name="job">The job; its environment and identity go into labels, env and parameters.</param>
    /// <param name="entry">A selected, supported plan entry (it has a workflow name and a workflow path).</param>
    /// <param name="options">Installation settings.</param>
    /// <param name="envs">A trigger request's extra <c>envs</c>; never override Prow's variables.</param>
    /// <returns>A new object, ready for <c>IWorkflowCluster.CreateWorkflowAsync</c>.</returns>
    /// <exception cref="ArgumentException"><paramref name="entry"/> is not selected or not supported.</exception>
    /// <exception cref="WorkflowRenderException">The file is not a single valid Argo Workflow, or params override a built-in.</exception>
    public static JsonObject Render(ReadOnlySpan<byte> yaml, ProwJobSpec job, PlanEntry entry, WorkflowRenderOptions options, IReadOnlyDictionary<string, string>? envs = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(options);
        if (entry.WorkflowName is not { } name || entry.Entry.Workflow is not { } path)
        {
            throw new ArgumentException($"entry {entry.Index} ({entry.Name}) is not a selected entry with a workflow: file", nameof(entry));
        }

        var workflow = Parse(yaml, path);
        var serviceAccount = Enforce(workflow, path, job, options.Policy);
        var env = ProwJobEnvironment.For(job, envs);
        var labels = Labels(env, job, path);
        SetMetadata(workflow, name, options.Namespace, labels);

        var spec = (JsonObject)workflow["spec"]!;
        SetParameters(spec, Parameters(job, entry, name, options));
        spec["serviceAccountName"] = serviceAccount;
        spec["activeDeadlineSeconds"] = Deadline(spec["activeDeadlineSeconds"], options.ActiveDeadlineSeconds, options.Policy.MaxDeadlineSeconds);

        // kfci owns pod GC: a strategy that deletes pods as they finish would lose logs the Uploader has not read yet.
        spec["podGC"] = new JsonObject { ["strategy"] = "OnWorkflowCompletion", ["deleteDelayDuration"] = options.PodDeleteDelay };

        foreach (var template in (spec["templates"] as JsonArray ?? []).OfType<JsonObject>())
        {
            DecorateTemplate(template, name, labels, env);
        }

        return workflow;
    }

    /// <summary>The parameters kfci passes every workflow, in <see cref="BuiltInParameters"/> order.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> BuiltIns(ProwJobSpec job, string workflowName, WorkflowRenderOptions options)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(options);
        var env = ProwJobEnvironment.For(job);
        var testDir = $"{WorkflowRenderOptions.MountPath}/{workflowName}";
        var outputDir = $"{testDir}/output";
        var refs = job.PrimaryRefs;
        var repoUrl = refs is null
            ? ""
            : options.GitRoot is { } root ? Path.Combine(root, refs.Org, refs.Repo) : $"https://github.com/{refs.Org}/{refs.Repo}.git";
        return
        [
            new("name", workflowName),
            new("namespace", options.Namespace),
            new("bucket", options.Bucket),
            new("prow_env", string.Join(',', s_prowEnvNames.Where(n => env.TryGetValue(n, out var v) && v.Length > 0).Select(n => $"{n}={env[n]}"))),
            new("step_image", options.StepImage),
            new("nfs_claim", options.NfsClaim),
            new("test_dir", testDir),
            new("src_dir", $"{testDir}/src"),
            new("output_dir", outputDir),
            new("artifacts_dir", $"{outputDir}/artifacts"),
            new("repo_spec", RepoSpec.For(job) ?? ""),
            new("repo_url", repoUrl),
        ];
    }

    /// <summary>
    /// A valid Kubernetes label value (at most 63 of <c>[A-Za-z0-9-_.]</c>, alphanumeric at both ends): other
    /// characters become '-', the value is cut to 63, and an empty result is <c>notset</c>.
    /// </summary>
    public static string LabelValue(string? text)
    {
        var builder = new StringBuilder();
        foreach (var c in text ?? "")
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-');
        }

        var value = builder.ToString();
        value = value.Length > 63 ? value[..63] : value;
        value = value.Trim('-', '_', '.');
        return value.Length == 0 ? NotSet : value;
    }

    private static JsonObject Parse(ReadOnlySpan<byte> yaml, string source)
    {
        var root = BoundedYaml.Read(yaml, source);
        if (root is not JsonObject workflow)
        {
            throw new WorkflowRenderException($"{source}: the document must be a mapping (an Argo Workflow), not {Describe(root)}");
        }

        var apiVersion = (workflow["apiVersion"] as JsonValue)?.ToString();
        var kind = (workflow["kind"] as JsonValue)?.ToString();
        if (apiVersion != ApiVersion || kind != Kind)
        {
            throw new WorkflowRenderException($"{source}: kind '{kind ?? "(none)"}' apiVersion '{apiVersion ?? "(none)"}'; only kind: Workflow, apiVersion: {ApiVersion} can be submitted");
        }

        if (workflow["spec"] is not JsonObject spec)
        {
            throw new WorkflowRenderException($"{source}: a Workflow needs a spec mapping");
        }

        if (spec["templates"] is not JsonArray and not null)
        {
            throw new WorkflowRenderException($"{source}: spec.templates must be a list");
        }

        if (workflow["metadata"] is not JsonObject and not null)
        {
            throw new WorkflowRenderException($"{source}: metadata must be a mapping");
        }

        workflow.Remove("status");
        return workflow;
    }

    /// <summary>
    /// Refuses a workflow that asks for more than the policy grants its repository, naming every such field; returns
    /// the service account it will run as.
    /// </summary>
    private static string Enforce(JsonObject workflow, string path, ProwJobSpec job, WorkflowPolicy policy)
    {
        var serviceAccount = policy.ServiceAccountFor(job);
        var violations = WorkflowPolicyCheck.Violations(workflow, policy.PrivilegesFor(job), serviceAccount);
        if (violations.Count > 0)
        {
            var repository = job.PrimaryRefs is { } refs ? $"{refs.Org}/{refs.Repo}" : "a job without a repository";
            var shown = string.Join("; ", violations.Take(MaxViolationsShown));
            var more = violations.Count > MaxViolationsShown ? $"; and {violations.Count - MaxViolationsShown} more" : "";
            throw new WorkflowRenderException($"{path}: refused by the workflow policy for {repository}: {shown}{more}");
        }

        return serviceAccount;
    }

    /// <summary>The workflow's own deadline or the run's, never more than the policy's cap.</summary>
    private static long Deadline(JsonNode? written, long runDeadline, long cap)
    {
        var asked = written is JsonValue value && value.TryGetValue<long>(out var seconds) && seconds > 0 ? seconds : runDeadline;
        return Math.Min(asked, cap);
    }

    private static string Describe(JsonNode? node) => node switch
    {
        null => "an empty document",
        JsonArray => "a list",
        _ => "a single value",
    };

    private static SortedDictionary<string, string> Labels(IReadOnlyDictionary<string, string> env, ProwJobSpec job, string path)
    {
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in ProwLabels)
        {
            labels[name] = LabelValue(env.TryGetValue(name, out var value) ? value : null);
        }

        labels["workflow_template"] = LabelValue(Path.GetFileNameWithoutExtension(path));
        labels[WorkflowLabels.Managed] = "true";
        labels[WorkflowLabels.RunId] = job.Run.RunId;
        return labels;
    }

    private static void SetMetadata(JsonObject workflow, string name, string ns, IReadOnlyDictionary<string, string> labels)
    {
        var metadata = workflow["metadata"] as JsonObject ?? [];
        workflow["metadata"] = metadata;
        foreach (var field in s_serverOwnedMetadata)
        {
            metadata.Remove(field);
        }

        metadata["name"] = name;
        metadata["namespace"] = ns;
        MergeStrings(metadata, "labels", labels);
    }

    /// <summary>Sets <paramref name="values"/> in the string map <paramref name="field"/> of <paramref name="owner"/>, over what the author wrote.</summary>
    private static void MergeStrings(JsonObject owner, string field, IEnumerable<KeyValuePair<string, string>> values)
    {
        var map = owner[field] as JsonObject ?? [];
        owner[field] = map;
        foreach (var (key, value) in values)
        {
            map[key] = value;
        }
    }

    private static List<KeyValuePair<string, string>> Parameters(ProwJobSpec job, PlanEntry entry, string name, WorkflowRenderOptions options)
    {
        var builtIns = BuiltIns(job, name, options);
        foreach (var key in entry.Entry.Params.Keys)
        {
            if (BuiltInParameters.Contains(key, StringComparer.Ordinal))
            {
                throw new WorkflowRenderException($"entry '{entry.Name}': params may not set '{key}', a parameter kfci provides");
            }
        }

        return [.. entry.Entry.Params.OrderBy(p => p.Key, StringComparer.Ordinal), .. builtIns];
    }

    private static void SetParameters(JsonObject spec, IReadOnlyList<KeyValuePair<string, string>> values)
    {
        var arguments = spec["arguments"] as JsonObject ?? [];
        spec["arguments"] = arguments;
        var parameters = arguments["parameters"] as JsonArray ?? [];
        arguments["parameters"] = parameters;
        foreach (var (key, value) in values)
        {
            var existing = parameters.OfType<JsonObject>().FirstOrDefault(p => (p["name"] as JsonValue)?.ToString() == key);
            if (existing is null)
            {
                parameters.Add(new JsonObject { ["name"] = key, ["value"] = value });
                continue;
            }

            existing.Remove("valueFrom");
            existing["value"] = value;
        }
    }

    private static void DecorateTemplate(JsonObject template, string workflowName, IReadOnlyDictionary<string, string> labels, IReadOnlyDictionary<string, string> env)
    {
        var metadata = template["metadata"] as JsonObject ?? [];
        template["metadata"] = metadata;
        MergeStrings(metadata, "labels", [.. labels, new("step_name", LabelValue((template["name"] as JsonValue)?.ToString())), new("workflow", workflowName)]);

        foreach (var container in Containers(template))
        {
            AddEnv(container, env);
        }
    }

    private static IEnumerable<JsonObject> Containers(JsonObject template)
    {
        foreach (var field in new[] { "container", "script" })
        {
            if (template[field] is JsonObject container)
            {
                yield return container;
            }
        }

        if (template["containerSet"]?["containers"] is JsonArray set)
        {
            foreach (var container in set.OfType<JsonObject>())
            {
                yield return container;
            }
        }
    }

    /// <summary>Adds each Prow variable the author did not set; the author's own value wins.</summary>
    private static void AddEnv(JsonObject container, IReadOnlyDictionary<string, string> env)
    {
        var list = container["env"] as JsonArray ?? [];
        container["env"] = list;
        var present = list.OfType<JsonObject>().Select(e => (e["name"] as JsonValue)?.ToString()).OfType<string>().ToHashSet(StringComparer.Ordinal);
        foreach (var (name, value) in env)
        {
            if (present.Add(name))
            {
                list.Add(new JsonObject { ["name"] = name, ["value"] = name == "JOB_SPEC" ? InertJson(value) : Inert(value) });
            }
        }
    }

    /// <summary>
    /// Argo expands <c>{{…}}</c> (and evaluates <c>{{=…}}</c>) everywhere in a template, so text an event controls
    /// (a pull request's title, a trigger request's envs) must not carry one: each <c>{{</c> becomes <c>{ {</c>.
    /// </summary>
    internal static string Inert(string value)
    {
        while (value.Contains("{{", StringComparison.Ordinal))
        {
            value = value.Replace("{{", "{ {", StringComparison.Ordinal);
        }

        return value;
    }

    /// <summary>
    /// The same for JSON text without changing what it means: <c>{{</c> can only occur inside a JSON string, where
    /// the second brace may be written <c>\u007b</c>.
    /// </summary>
    internal static string InertJson(string json) => json.Replace("{{", "{\\u007b", StringComparison.Ordinal);
}
