using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Kfci.Janitor;

/// <summary>A janitor configuration could not be used; the message is one line saying where and how to fix it.</summary>
public sealed class JanitorConfigException(string message, Exception? inner = null) : FormatException(message, inner);

/// <summary>
/// Reads <see cref="JanitorConfig"/> from YAML. Keys are the property names in camelCase; durations are written
/// <c>10m</c>, <c>3h</c>, <c>2d</c>:
/// <code>
/// dryRun: true
/// gcIngress: false
/// testCluster: kubeflow-testing
/// workflowNamespaces: [kubeflow-test-infra]
/// argoNamespaces: [argo]
/// protect: ['^my-demo-']
/// keepNewest: 3
/// maxAge: {workflow: 7d, errored: 10m, e2e: 3h, autoDeploy: 2d, gcIngress: 2d}
/// types: [workflow, gke-cluster]
/// projects: [kubeflow-ci]
/// zones: [us-east1-d]
/// regions: [us-east1]
/// </code>
/// Unknown keys are errors, not ignored: a misspelt <c>protect</c> must not silently drop a protection.
/// </summary>
public static class JanitorConfigYaml
{
    private static readonly TimeSpan s_regexTimeout = TimeSpan.FromSeconds(1);

    private static readonly string[] s_keys =
    [
        "dryRun", "gcIngress", "testCluster", "workflowNamespaces", "argoNamespaces", "protect", "keepNewest", "maxAge",
        "types", "projects", "zones", "regions",
    ];

    private static readonly string[] s_maxAgeKeys = ["workflow", "errored", "e2e", "autoDeploy", "gcIngress"];

    /// <summary>Reads the file at <paramref name="path"/>.</summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="JanitorConfigException">The YAML is malformed or a value is invalid.</exception>
    public static JanitorConfig Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>
    /// Reads YAML text; <paramref name="source"/> names it in error messages. Keys left out keep the rules' defaults,
    /// but projects, testCluster and zones/regions must be given (<see cref="JanitorConfig.EnsureScoped"/>).
    /// </summary>
    /// <exception cref="JanitorConfigException">The YAML is malformed, a value is invalid, or the scope is missing.</exception>
    public static JanitorConfig Parse(string yaml, string source = "janitor config")
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(source);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new JanitorConfigException($"{source} line {e.Start.Line}: not valid YAML: {OneLine(e.InnerException?.Message ?? e.Message)}", e);
        }

        var config = JanitorConfig.Default;
        if (stream.Documents.Count > 0 && stream.Documents[0].RootNode is not YamlScalarNode { Value: null or "" })
        {
            var root = stream.Documents[0].RootNode as YamlMappingNode
                ?? throw Error(source, stream.Documents[0].RootNode, "the configuration must be a mapping of keys such as 'dryRun: true'");
            config = new Reader(source).Read(root);
        }

        config.EnsureScoped(source);
        return config;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();

    private static JanitorConfigException Error(string source, YamlNode node, string message) =>
        new($"{source} line {node.Start.Line}: {message}");

    /// <summary>Walks the mapping; holds the source name so every error can say where it is.</summary>
    private sealed class Reader(string source)
    {
        public JanitorConfig Read(YamlMappingNode root)
        {
            var config = JanitorConfig.Default;
            foreach (var (keyNode, value) in root.Children)
            {
                var key = ((YamlScalarNode)keyNode).Value ?? "";
                config = key switch
                {
                    "dryRun" => config with { DryRun = Bool(key, value) },
                    "gcIngress" => config with { GcIngress = Bool(key, value) },
                    "testCluster" => config with { TestCluster = NonEmpty(key, value) },
                    "workflowNamespaces" => config with { WorkflowNamespaces = List(key, value) },
                    "argoNamespaces" => config with { ArgoNamespaces = List(key, value) },
                    "protect" => config with { Protect = Patterns(key, value) },
                    "keepNewest" => config with { KeepNewest = KeepNewest(key, value) },
                    "maxAge" => config with { MaxAge = MaxAge(key, value) },
                    "types" => config with { Types = Types(key, value) },
                    "projects" => config with { Projects = NonEmptyList(key, value) },
                    "zones" => config with { Zones = List(key, value) },
                    "regions" => config with { Regions = List(key, value) },
                    _ => throw Error(source, keyNode, $"unknown key '{key}'; the keys are {string.Join(", ", s_keys)}"),
                };
            }

            return config;
        }

        private string Scalar(string key, YamlNode node) => node is YamlScalarNode { Value: { } text }
            ? text
            : throw Error(source, node, $"{key} must be a single value, not a {(node is YamlSequenceNode ? "list" : "mapping")}");

        private bool Bool(string key, YamlNode node) => Scalar(key, node) switch
        {
            "true" => true,
            "false" => false,
            var other => throw Error(source, node, $"{key}: '{other}' is not a boolean; write {key}: true or {key}: false"),
        };

        private string NonEmpty(string key, YamlNode node) => Scalar(key, node) is { Length: > 0 } text
            ? text
            : throw Error(source, node, $"{key} must not be empty");

        private int KeepNewest(string key, YamlNode node) =>
            int.TryParse(Scalar(key, node), NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count <= 100
                ? count
                : throw Error(source, node, $"{key} must be a whole number from 0 to 100 (how many of the newest auto-deployed instances per version to keep)");

        private List<string> List(string key, YamlNode node)
        {
            if (node is not YamlSequenceNode sequence)
            {
                throw Error(source, node, $"{key} must be a list, e.g. {key}: [a, b]");
            }

            return [.. sequence.Children.Select(item => NonEmpty(key, item))];
        }

        private List<string> NonEmptyList(string key, YamlNode node) => List(key, node) is { Count: > 0 } list
            ? list
            : throw Error(source, node, $"{key} must name at least one");

        private List<Regex> Patterns(string key, YamlNode node)
        {
            var sequence = node as YamlSequenceNode ?? throw Error(source, node, $"{key} must be a list of regular expressions, e.g. {key}: ['^demo-']");
            return [.. sequence.Children.Select(item => Pattern(key, item))];
        }

        private Regex Pattern(string key, YamlNode node)
        {
            var text = NonEmpty(key, node);
            try
            {
                return new Regex(text, RegexOptions.CultureInvariant, s_regexTimeout);
            }
            catch (ArgumentException e)
            {
                throw Error(source, node, $"{key}: '{text}' is not a valid regular expression ({OneLine(e.Message)}); fix or quote it");
            }
        }

        private HashSet<ResourceType> Types(string key, YamlNode node)
        {
            var types = new HashSet<ResourceType>();
            var sequence = node as YamlSequenceNode ?? throw Error(source, node, $"{key} must be a list of resource types, e.g. {key}: [workflow, gke-cluster]");
            foreach (var item in sequence.Children)
            {
                var name = Scalar(key, item);
                types.Add(ResourceTypes.TryParse(name, out var type)
                    ? type
                    : throw Error(source, item, $"{key}: unknown resource type '{name}'; use any of {ResourceTypes.WireNameList}"));
            }

            return types.Count > 0
                ? types
                : throw Error(source, node, $"{key} is empty, so nothing would be swept; leave {key} out to sweep every type");
        }

        private MaxAges MaxAge(string key, YamlNode node)
        {
            var ages = new MaxAges();
            var mapping = node as YamlMappingNode ?? throw Error(source, node, $"{key} must be a mapping, e.g. {key}: {{e2e: 3h}}");
            foreach (var (childKey, value) in mapping.Children)
            {
                var name = ((YamlScalarNode)childKey).Value ?? "";
                var path = $"{key}.{name}";
                ages = name switch
                {
                    "workflow" => ages with { Workflow = Duration(path, value) },
                    "errored" => ages with { Errored = Duration(path, value) },
                    "e2e" => ages with { E2e = Duration(path, value) },
                    "autoDeploy" => ages with { AutoDeploy = Duration(path, value) },
                    "gcIngress" => ages with { GcIngress = Duration(path, value) },
                    _ => throw Error(source, childKey, $"unknown key '{path}'; the keys of {key} are {string.Join(", ", s_maxAgeKeys)}"),
                };
            }

            return ages;
        }

        private TimeSpan Duration(string path, YamlNode node)
        {
            var text = Scalar(path, node);
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                throw Error(source, node, $"{path}: '{text}' has no unit; write e.g. {text}h or {text}d");
            }

            try
            {
                var age = Durations.Parse(text);
                return age > TimeSpan.Zero ? age : throw Error(source, node, $"{path} must be longer than 0s");
            }
            catch (FormatException e) when (e is not JanitorConfigException)
            {
                throw Error(source, node, $"{path}: {e.Message}");
            }
        }
    }
}
