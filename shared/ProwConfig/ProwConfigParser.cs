using System.Text;
using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Kfci.ProwConfig;

/// <summary>
/// Parses <c>prow_config.yaml</c> as kubeflow repositories wrote it (<c>workflows: {}</c> and <c>workflows: []</c>
/// for "none", commented-out entries, <c>python_paths</c>, ksonnet, <c>py_func</c> and <c>tekton_run</c> entries)
/// plus kfci's <c>exclude_dirs</c> and <c>workflow:</c>. The file comes from the repository under test, so it is
/// treated as hostile: size, event count, aliases, nesting and expanded size are bounded, and a YAML bomb fails in
/// milliseconds.
/// </summary>
public static class ProwConfigParser
{
    /// <summary>Largest accepted file; kubeflow's largest real one is 19 KB.</summary>
    public const int MaxBytes = 1024 * 1024;

    private const int MaxEvents = 200_000;
    private const int MaxAliases = 100;
    private const int MaxDepth = 32;

    /// <summary>Entries in <c>workflows:</c>; kubeflow's largest real config has a few dozen.</summary>
    public const int MaxEntries = 256;

    /// <summary>Budget of nodes visited with aliases expanded: what stops "billion laughs".</summary>
    private const int MaxExpandedNodes = 100_000;

    /// <summary>Parses the UTF-8 bytes of a <c>prow_config.yaml</c>.</summary>
    /// <exception cref="ProwConfigException">Too large, not UTF-8, invalid YAML, hostile, or the wrong shape.</exception>
    public static ProwConfigFile Parse(ReadOnlySpan<byte> utf8, string source = "prow_config.yaml")
    {
        if (utf8.Length > MaxBytes)
        {
            throw new ProwConfigException($"{source}: {utf8.Length} bytes is more than the {MaxBytes} allowed");
        }

        try
        {
            return Parse(new UTF8Encoding(false, true).GetString(utf8), source);
        }
        catch (DecoderFallbackException e)
        {
            throw new ProwConfigException($"{source}: not valid UTF-8", e);
        }
    }

    /// <summary>Parses the text of a <c>prow_config.yaml</c>.</summary>
    /// <param name="text">The file's content.</param>
    /// <param name="source">How to name the file in messages.</param>
    /// <exception cref="ProwConfigException">Too large, invalid YAML, hostile, or the wrong shape; one line with line/column.</exception>
    public static ProwConfigFile Parse(string text, string source = "prow_config.yaml")
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(source);
        if (text.Length > MaxBytes)
        {
            throw new ProwConfigException($"{source}: {text.Length} characters is more than the {MaxBytes} allowed");
        }

        var root = Load(text, source);
        return root is null ? new ProwConfigFile([], []) : new Reader(source).File(root);
    }

    private static YamlNode? Load(string text, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new BoundedParser(new Parser(new StringReader(text)), source));
        }
        catch (YamlException e) when (e is not BoundedParser.LimitException)
        {
            var message = (e.InnerException?.Message ?? e.Message).ReplaceLineEndings(" ");
            throw new ProwConfigException($"{source}: invalid YAML at line {e.Start.Line}, column {e.Start.Column}: {message}", e);
        }
        catch (BoundedParser.LimitException e)
        {
            throw new ProwConfigException(e.Message, e);
        }
        catch (Exception e) when (Kfci.Workflows.YamlDotNetFaults.IsMalformedInput(e))
        {
            throw new ProwConfigException($"{source}: invalid YAML: {e.Message.ReplaceLineEndings(" ")}", e);
        }

        return stream.Documents.Count switch
        {
            0 => null,
            1 => stream.Documents[0].RootNode,
            _ => throw new ProwConfigException($"{source}: {stream.Documents.Count} YAML documents; a prow_config.yaml holds one"),
        };
    }

    /// <summary>
    /// Refuses streams with too many events, aliases or levels of nesting before YamlDotNet builds anything from them:
    /// its loader recurses once per level, so 50,000 nested '[' would overflow the stack and kill the process.
    /// </summary>
    private sealed class BoundedParser(IParser inner, string source) : IParser
    {
        private int _events;
        private int _aliases;
        private int _depth;

        public ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            if (!inner.MoveNext())
            {
                return false;
            }

            if (++_events > MaxEvents)
            {
                throw new LimitException($"{source}: more than {MaxEvents} YAML events (line {inner.Current!.Start.Line}); not a prow_config.yaml");
            }

            switch (inner.Current)
            {
                case AnchorAlias alias when ++_aliases > MaxAliases:
                    throw new LimitException($"{source}: more than {MaxAliases} YAML aliases (line {alias.Start.Line}, column {alias.Start.Column}); refusing a possible alias bomb");
                case SequenceStart or MappingStart when ++_depth > MaxDepth:
                    throw new LimitException($"{source}: nested deeper than {MaxDepth} levels (line {inner.Current.Start.Line}, column {inner.Current.Start.Column})");
                case SequenceEnd or MappingEnd:
                    _depth--;
                    break;
            }

            return true;
        }

        public sealed class LimitException(string message) : YamlException(message);
    }

    /// <summary>Walks the node tree into the model, counting every node it visits (aliases expanded) against a budget.</summary>
    private sealed class Reader(string source)
    {
        private static readonly HashSet<string> s_known = new(StringComparer.Ordinal)
        {
            "name", "job_types", "include_dirs", "exclude_dirs", "workflow", "params", "app_dir", "component", "py_func", "kwargs", "tekton_run",
        };

        private int _visited;

        public ProwConfigFile File(YamlNode root)
        {
            if (IsNull(root))
            {
                return new ProwConfigFile([], []);
            }

            var top = Mapping(root, "the top level");
            var workflows = new List<WorkflowEntry>();
            if (Get(top, "workflows") is { } list && !IsNull(list))
            {
                workflows.AddRange(Workflows(list));
            }

            var pythonPaths = Get(top, "python_paths") is { } paths ? Strings(paths, "python_paths") : [];
            return new ProwConfigFile(workflows, pythonPaths);
        }

        private List<WorkflowEntry> Workflows(YamlNode node)
        {
            // kubeflow/testing's own file says "workflows: {}": an empty mapping meaning "no workflows".
            if (node is YamlMappingNode { Children.Count: 0 })
            {
                return [];
            }

            if (node is not YamlSequenceNode sequence)
            {
                throw Error(node, "workflows must be a list of entries");
            }

            if (sequence.Children.Count > MaxEntries)
            {
                throw Error(node, $"{sequence.Children.Count} workflows entries, more than the {MaxEntries} kfci plans");
            }

            return sequence.Children.Select((child, index) => Entry(child, index)).ToList();
        }

        private WorkflowEntry Entry(YamlNode node, int index)
        {
            var where = $"workflows[{index}]";
            var map = Mapping(node, where);
            var name = Scalar(Get(map, "name"), $"{where}.name");
            if (string.IsNullOrWhiteSpace(name))
            {
                throw Error(node, $"{where} has no name");
            }

            return new WorkflowEntry
            {
                Index = index,
                Name = name,
                Line = (int)node.Start.Line,
                JobTypes = Strings(Get(map, "job_types"), $"{where}.job_types"),
                IncludeDirs = Strings(Get(map, "include_dirs"), $"{where}.include_dirs"),
                ExcludeDirs = Strings(Get(map, "exclude_dirs"), $"{where}.exclude_dirs"),
                Workflow = WorkflowFile(Get(map, "workflow"), $"{where}.workflow"),
                Params = Params(Get(map, "params"), $"{where}.params"),
                AppDir = Scalar(Get(map, "app_dir"), $"{where}.app_dir"),
                Component = Scalar(Get(map, "component"), $"{where}.component"),
                PyFunc = Scalar(Get(map, "py_func"), $"{where}.py_func"),
                Kwargs = Get(map, "kwargs") is { } kwargs && !IsNull(kwargs) ? Plain(Mapping(kwargs, $"{where}.kwargs")) : new Dictionary<string, object?>(),
                TektonRun = Scalar(Get(map, "tekton_run"), $"{where}.tekton_run"),
                Other = Plain(map, s_known),
            };
        }

        private string? WorkflowFile(YamlNode? node, string where)
        {
            if (Scalar(node, where) is not { } path)
            {
                return null;
            }

            try
            {
                return WorkflowPath.Normalize(path);
            }
            catch (ArgumentException e)
            {
                throw Error(node!, e.Message);
            }
        }

        private Dictionary<string, string> Params(YamlNode? node, string where)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            if (node is null || IsNull(node))
            {
                return result;
            }

            foreach (var (key, value) in Plain(Mapping(node, where)))
            {
                result[key] = value switch
                {
                    null => "",
                    string text => text,
                    _ => JsonSerializer.Serialize(value),
                };
            }

            return result;
        }

        private List<string> Strings(YamlNode? node, string where)
        {
            Visit(node);
            return node switch
            {
                null => [],
                _ when IsNull(node) => [],
                YamlScalarNode scalar => [scalar.Value ?? ""],
                YamlSequenceNode sequence => sequence.Children.Select(child => Scalar(child, where) ?? "").ToList(),
                _ => throw Error(node, $"{where} must be a list of strings"),
            };
        }

        private string? Scalar(YamlNode? node, string where)
        {
            Visit(node);
            return node switch
            {
                null => null,
                _ when IsNull(node) => null,
                YamlScalarNode scalar => scalar.Value,
                _ => throw Error(node, $"{where} must be a single value"),
            };
        }

        private YamlMappingNode Mapping(YamlNode node, string where)
        {
            Visit(node);
            return node as YamlMappingNode ?? throw Error(node, $"{where} must be a mapping");
        }

        private Dictionary<string, object?> Plain(YamlMappingNode map, HashSet<string>? skip = null)
        {
            var result = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (key, value) in map.Children)
            {
                var name = Key(key);
                if (skip is null || !skip.Contains(name))
                {
                    result[name] = Plain(value, 1);
                }
            }

            return result;
        }

        private object? Plain(YamlNode node, int depth)
        {
            Visit(node);
            if (depth > MaxDepth)
            {
                throw Error(node, $"nested deeper than {MaxDepth} levels");
            }

            return node switch
            {
                _ when IsNull(node) => null,
                YamlScalarNode scalar => scalar.Value,
                YamlSequenceNode sequence => sequence.Children.Select(child => Plain(child, depth + 1)).ToList(),
                YamlMappingNode map => map.Children.ToDictionary(pair => Key(pair.Key), pair => Plain(pair.Value, depth + 1), StringComparer.Ordinal),
                _ => throw Error(node, "unsupported YAML node"),
            };
        }

        private string Key(YamlNode key) =>
            key is YamlScalarNode { Value: { } text } ? text : throw Error(key, "mapping keys must be plain strings");

        private static YamlNode? Get(YamlMappingNode map, string key) =>
            map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

        private static bool IsNull(YamlNode node) =>
            node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

        private void Visit(YamlNode? node)
        {
            if (node is not null && ++_visited > MaxExpandedNodes)
            {
                throw Error(node, $"more than {MaxExpandedNodes} YAML nodes once aliases are expanded; refusing a possible alias bomb");
            }
        }

        private ProwConfigException Error(YamlNode node, string message) =>
            new($"{source}: {message} (line {node.Start.Line}, column {node.Start.Column})");
    }
}
