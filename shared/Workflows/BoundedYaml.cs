using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Kfci.Workflows;

/// <summary>
/// Reads one YAML document from an untrusted repository into JSON, the way <c>kubectl</c> would before sending it to
/// the API server: plain scalars typed by the YAML 1.2 core schema (null, bool, int, float), quoted scalars are
/// strings. Built straight from the parser's events, with every budget enforced as it goes, so an alias bomb or a
/// deeply nested file fails after a bounded amount of work and memory.
/// </summary>
/// <summary>What a <see cref="BoundedYaml"/> read allows beyond plain YAML.</summary>
/// <param name="MaxAliases">How many aliases a file may use (the expanded-node budget bounds what they cost either way).</param>
/// <param name="MergeKeys">Whether YAML merge keys (<c>&lt;&lt;: *anchor</c>) are applied, as go-yaml applies them for Prow.</param>
/// <param name="NumberText">Whether plain numbers keep their text (<c>1.10</c> stays <c>1.10</c>), for fields Go reads as strings.</param>
internal sealed record BoundedYamlOptions(int MaxAliases, bool MergeKeys, bool NumberText)
{
    /// <summary>Workflow files: few aliases, no merge keys (Kubernetes manifests do not need them).</summary>
    public static BoundedYamlOptions Workflow { get; } = new(100, MergeKeys: false, NumberText: false);

    /// <summary>
    /// Prow's job configuration, which real installations write with anchors and merge keys on every job: aliases
    /// are bounded only by the expanded-node budget.
    /// </summary>
    public static BoundedYamlOptions ProwJobConfig { get; } = new(int.MaxValue, MergeKeys: true, NumberText: true);
}

/// <summary>
/// What YamlDotNet throws, besides <see cref="YamlException"/>, for malformed input the fuzzer found: its parser an
/// <see cref="InvalidOperationException"/>, its representation model an <see cref="ArgumentException"/> for an event it
/// cannot place. Only when thrown inside YamlDotNet: the same types thrown by kfci's own code are bugs, not refusals.
/// </summary>
public static class YamlDotNetFaults
{
    public static bool IsMalformedInput(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e is InvalidOperationException or ArgumentException && e.TargetSite?.DeclaringType?.Assembly == typeof(Parser).Assembly;
    }
}

internal static partial class BoundedYaml
{
    public const int MaxBytes = 1024 * 1024;
    private const int MaxEvents = 500_000;
    private const int MaxDepth = 64;

    /// <summary>Nodes produced with aliases expanded: what stops "billion laughs".</summary>
    private const int MaxNodes = 200_000;

    /// <summary>The single document in <paramref name="utf8"/>; null when the file holds no document.</summary>
    /// <exception cref="WorkflowRenderException">Too large, not UTF-8, invalid YAML, several documents, or over a budget.</exception>
    public static JsonNode? Read(ReadOnlySpan<byte> utf8, string source, BoundedYamlOptions? options = null)
    {
        if (utf8.Length > MaxBytes)
        {
            throw new WorkflowRenderException($"{source}: {utf8.Length} bytes is more than the {MaxBytes} a workflow file may have");
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(utf8);
        }
        catch (DecoderFallbackException e)
        {
            throw new WorkflowRenderException($"{source}: not valid UTF-8", e);
        }

        try
        {
            return new Reader(new Parser(new StringReader(text)), source, options ?? BoundedYamlOptions.Workflow).Stream();
        }
        catch (YamlException e)
        {
            var message = (e.InnerException?.Message ?? e.Message).ReplaceLineEndings(" ");
            throw new WorkflowRenderException($"{source}: invalid YAML at line {e.Start.Line}, column {e.Start.Column}: {message}", e);
        }
        catch (Exception e) when (YamlDotNetFaults.IsMalformedInput(e))
        {
            // YamlDotNet's parser throws this (not YamlException) for some malformed streams the fuzzer found.
            throw new WorkflowRenderException($"{source}: invalid YAML: {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }

    [GeneratedRegex(@"^[-+]?(0|[1-9][0-9]*)\z")]
    private static partial Regex Integer();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\z")]
    private static partial Regex Float();

    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?\z")]
    private static partial Regex JsonNumber();

    private sealed class Reader(IParser parser, string source, BoundedYamlOptions options)
    {
        private readonly Dictionary<string, JsonNode?> _anchors = new(StringComparer.Ordinal);
        private int _events;
        private int _aliases;
        private int _nodes;
        private ParsingEvent? _lookahead;

        public JsonNode? Stream()
        {
            Expect<StreamStart>();
            if (Peek() is StreamEnd)
            {
                return null;
            }

            Expect<DocumentStart>();
            var root = Node(0);
            Expect<DocumentEnd>();
            if (Peek() is not StreamEnd)
            {
                throw Fail($"more than one YAML document (line {Peek().Start.Line}); a workflow file holds exactly one Workflow");
            }

            return root;
        }

        private JsonNode? Node(int depth)
        {
            if (depth > MaxDepth)
            {
                throw Fail($"nested deeper than {MaxDepth} levels (line {Peek().Start.Line})");
            }

            var current = Next();
            Count(current);
            switch (current)
            {
                case AnchorAlias alias:
                    if (++_aliases > options.MaxAliases)
                    {
                        throw Fail($"more than {options.MaxAliases} YAML aliases (line {alias.Start.Line}); refusing a possible alias bomb");
                    }

                    if (!_anchors.TryGetValue(alias.Value.Value, out var target))
                    {
                        throw Fail($"alias *{alias.Value.Value} names no anchor (line {alias.Start.Line})");
                    }

                    return Copy(target);
                case Scalar scalar:
                    return Remember(scalar.Anchor, ScalarValue(scalar, options.NumberText));
                case SequenceStart sequence:
                {
                    var array = new JsonArray();
                    while (Peek() is not SequenceEnd)
                    {
                        array.Add(Node(depth + 1));
                    }

                    Next();
                    return Remember(sequence.Anchor, array);
                }

                case MappingStart mapping:
                {
                    var obj = new JsonObject();
                    JsonNode? merged = null;
                    var mergeLine = 0L;
                    while (Peek() is not MappingEnd)
                    {
                        var keyEvent = Peek();
                        if (Node(depth + 1) is not JsonValue key)
                        {
                            throw Fail($"mapping keys must be scalars (line {keyEvent.Start.Line})");
                        }

                        var name = key.ToString();
                        var value = Node(depth + 1);
                        if (name == "<<" && (!options.MergeKeys || IsPlain(keyEvent)))
                        {
                            if (!options.MergeKeys)
                            {
                                throw Fail($"YAML merge keys ('<<') are not supported (line {keyEvent.Start.Line}); Kubernetes does not accept them either");
                            }

                            if (merged is not null)
                            {
                                throw Fail($"duplicate merge key '<<' (line {keyEvent.Start.Line})");
                            }

                            (merged, mergeLine) = (value, keyEvent.Start.Line);
                            continue;
                        }

                        if (obj.ContainsKey(name))
                        {
                            throw Fail($"duplicate key '{name}' (line {keyEvent.Start.Line})");
                        }

                        obj[name] = value;
                    }

                    Next();
                    if (merged is not null)
                    {
                        Merge(obj, merged, mergeLine);
                    }

                    return Remember(mapping.Anchor, obj);
                }

                default:
                    throw Fail($"unexpected YAML event {current.GetType().Name} (line {current.Start.Line})");
            }
        }

        /// <summary>
        /// YAML's merge key: the keys of the merged mapping (or of each mapping in a list, the first winning) that the
        /// mapping does not set itself. Copied, not moved: an anchored mapping merged here may be aliased again later.
        /// </summary>
        private void Merge(JsonObject into, JsonNode merged, long line)
        {
            var sources = merged switch
            {
                JsonObject one => [one],
                JsonArray list when list.All(item => item is JsonObject) => list.Cast<JsonObject>().ToList(),
                _ => throw Fail($"a merge key ('<<') takes a mapping or a list of mappings (line {line})"),
            };
            foreach (var source in sources)
            {
                foreach (var (name, value) in source)
                {
                    if (!into.ContainsKey(name))
                    {
                        into[name] = Copy(value);
                    }
                }
            }
        }

        private static bool IsPlain(ParsingEvent keyEvent) => keyEvent is Scalar { Style: ScalarStyle.Plain or ScalarStyle.Any };

        private JsonNode? Remember(AnchorName anchor, JsonNode? node)
        {
            if (!anchor.IsEmpty)
            {
                _anchors[anchor.Value] = node;
            }

            return node;
        }

        /// <summary>Expands an alias, charging every copied node against the budget.</summary>
        private JsonNode? Copy(JsonNode? node)
        {
            var size = Size(node);
            _nodes += size;
            if (_nodes > MaxNodes)
            {
                throw Fail($"more than {MaxNodes} YAML nodes once aliases are expanded; refusing a possible alias bomb");
            }

            return node?.DeepClone();
        }

        private static int Size(JsonNode? node) => node switch
        {
            JsonObject obj => 1 + obj.Sum(p => Size(p.Value)),
            JsonArray array => 1 + array.Sum(Size),
            _ => 1,
        };

        private void Count(ParsingEvent current)
        {
            if (++_nodes > MaxNodes)
            {
                throw Fail($"more than {MaxNodes} YAML nodes (line {current.Start.Line})");
            }
        }

        private static JsonNode? ScalarValue(Scalar scalar, bool numberText)
        {
            var text = scalar.Value;
            if (scalar.Style is not (ScalarStyle.Plain or ScalarStyle.Any) || !scalar.Tag.IsEmpty)
            {
                return JsonValue.Create(text);
            }

            return text switch
            {
                "" or "~" or "null" or "Null" or "NULL" => null,
                "true" or "True" or "TRUE" => JsonValue.Create(true),
                "false" or "False" or "FALSE" => JsonValue.Create(false),
                // A number that is also JSON number text keeps that text (JsonNode.Parse does), for fields Go reads as strings.
                _ when numberText && JsonNumber().IsMatch(text) && (Integer().IsMatch(text) || Float().IsMatch(text)) => JsonNode.Parse(text),
                _ when Integer().IsMatch(text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) => JsonValue.Create(n),
                _ when Float().IsMatch(text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) => JsonValue.Create(d),
                _ => JsonValue.Create(text),
            };
        }

        private ParsingEvent Next()
        {
            if (_lookahead is { } held)
            {
                _lookahead = null;
                return held;
            }

            if (!parser.MoveNext())
            {
                throw Fail("unexpected end of YAML");
            }

            if (++_events > MaxEvents)
            {
                throw Fail($"more than {MaxEvents} YAML events; not a workflow file");
            }

            return parser.Current!;
        }

        /// <summary>YamlDotNet's parser cannot peek, so one event is held back.</summary>
        private ParsingEvent Peek() => _lookahead ??= Next();

        private void Expect<T>()
            where T : ParsingEvent
        {
            var next = Next();
            if (next is not T)
            {
                throw Fail($"expected {typeof(T).Name}, found {next.GetType().Name} (line {next.Start.Line})");
            }
        }

        private WorkflowRenderException Fail(string message) => new($"{source}: {message}");
    }
}
