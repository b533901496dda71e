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
internal static partial class BoundedYaml
{
    public const int MaxBytes = 1024 * 1024;
    private const int MaxEvents = 500_000;
    private const int MaxAliases = 100;
    private const int MaxDepth = 64;

    /// <summary>Nodes produced with aliases expanded: what stops "billion laughs".</summary>
    private const int MaxNodes = 200_000;

    /// <summary>The single document in <paramref name="utf8"/>; null when the file holds no document.</summary>
    /// <exception cref="WorkflowRenderException">Too large, not UTF-8, invalid YAML, several documents, or over a budget.</exception>
    public static JsonNode? Read(ReadOnlySpan<byte> utf8, string source)
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
            return new Reader(new Parser(new StringReader(text)), source).Stream();
        }
        catch (YamlException e)
        {
            var message = (e.InnerException?.Message ?? e.Message).ReplaceLineEndings(" ");
            throw new WorkflowRenderException($"{source}: invalid YAML at line {e.Start.Line}, column {e.Start.Column}: {message}", e);
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's parser throws this (not YamlException) for some malformed streams the fuzzer found.
            throw new WorkflowRenderException($"{source}: invalid YAML: {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }

    [GeneratedRegex(@"^[-+]?(0|[1-9][0-9]*)\z")]
    private static partial Regex Integer();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\z")]
    private static partial Regex Float();

    private sealed class Reader(IParser parser, string source)
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
                    if (++_aliases > MaxAliases)
                    {
                        throw Fail($"more than {MaxAliases} YAML aliases (line {alias.Start.Line}); refusing a possible alias bomb");
                    }

                    if (!_anchors.TryGetValue(alias.Value.Value, out var target))
                    {
                        throw Fail($"alias *{alias.Value.Value} names no anchor (line {alias.Start.Line})");
                    }

                    return Copy(target);
                case Scalar scalar:
                    return Remember(scalar.Anchor, ScalarValue(scalar));
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
                    while (Peek() is not MappingEnd)
                    {
                        var keyEvent = Peek();
                        if (Node(depth + 1) is not JsonValue key)
                        {
                            throw Fail($"mapping keys must be scalars (line {keyEvent.Start.Line})");
                        }

                        var name = key.ToString();
                        var value = Node(depth + 1);
                        if (name == "<<")
                        {
                            throw Fail($"YAML merge keys ('<<') are not supported (line {keyEvent.Start.Line}); Kubernetes does not accept them either");
                        }

                        if (obj.ContainsKey(name))
                        {
                            throw Fail($"duplicate key '{name}' (line {keyEvent.Start.Line})");
                        }

                        obj[name] = value;
                    }

                    Next();
                    return Remember(mapping.Anchor, obj);
                }

                default:
                    throw Fail($"unexpected YAML event {current.GetType().Name} (line {current.Start.Line})");
            }
        }

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

        private static JsonValue? ScalarValue(Scalar scalar)
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
