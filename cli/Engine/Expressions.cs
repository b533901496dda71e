using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Kfci.Cli.Engine;

/// <summary>
/// Argo's <c>{{…}}</c> substitution and the small boolean language of <c>when</c> and <c>depends</c>:
/// <c>==</c>, <c>!=</c>, <c>&lt;</c>, <c>&gt;</c>, <c>&lt;=</c>, <c>&gt;=</c>, <c>=~</c>, <c>&amp;&amp;</c>, <c>||</c>, <c>!</c>
/// and parentheses over bare words, numbers and quoted strings. A malformed expression throws <see cref="FormatException"/>.
/// </summary>
public static partial class Expressions
{
    /// <summary>Replaces every <c>{{name}}</c> whose name is known; unknown ones are left as they are (resolved later or reported).</summary>
    public static string Substitute(string text, IReadOnlyDictionary<string, string> variables)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(variables);
        return Placeholder().Replace(text, m => variables.TryGetValue(m.Groups["name"].Value.Trim(), out var value) ? value : m.Value);
    }

    /// <summary>A copy of <paramref name="node"/> with every string substituted.</summary>
    public static JsonNode? Substitute(JsonNode? node, IReadOnlyDictionary<string, string> variables) => node switch
    {
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(p.Key, Substitute(p.Value, variables)))),
        JsonArray array => new JsonArray([.. array.Select(i => Substitute(i, variables))]),
        JsonValue value when value.TryGetValue<string>(out var text) => JsonValue.Create(Substitute(text, variables)),
        _ => node?.DeepClone(),
    };

    /// <summary>The first <c>{{…}}</c> left in <paramref name="node"/>'s strings, or null.</summary>
    public static string? FirstUnresolved(JsonNode? node) => node switch
    {
        JsonObject obj => obj.Select(p => FirstUnresolved(p.Value)).FirstOrDefault(u => u is not null),
        JsonArray array => array.Select(FirstUnresolved).FirstOrDefault(u => u is not null),
        JsonValue value when value.TryGetValue<string>(out var text) => Placeholder().Match(text) is { Success: true } m ? m.Value : null,
        _ => null,
    };

    /// <summary>Evaluates a substituted <c>when</c> expression.</summary>
    public static bool EvaluateWhen(string expression) =>
        new Parser(expression, word => word switch
        {
            "true" => true,
            "false" => false,
            _ => throw new FormatException($"'{word}' is not a boolean in '{expression}'"),
        }).ParseAll();

    /// <summary>Evaluates a <c>depends</c> expression; <paramref name="resolve"/> answers terms like <c>A</c> or <c>A.Failed</c>.</summary>
    public static bool EvaluateDepends(string expression, Func<string, bool> resolve) => new Parser(expression, resolve).ParseAll();

    /// <summary>The task names a <c>depends</c> expression refers to.</summary>
    public static IReadOnlyList<string> DependsTasks(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        return [.. Tokenize(expression).Where(t => t.Kind == TokenKind.Word).Select(t => t.Text.Split('.')[0]).Distinct(StringComparer.Ordinal)];
    }

    [GeneratedRegex(@"\{\{(?<name>[^{}]+)\}\}")]
    private static partial Regex Placeholder();

    private enum TokenKind
    {
        Word,
        Quoted,
        Operator,
    }

    private readonly record struct Token(TokenKind Kind, string Text);

    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c is '"' or '\'')
            {
                var end = text.IndexOf(c, i + 1);
                if (end < 0)
                {
                    throw new FormatException($"unterminated string in '{text}'");
                }

                tokens.Add(new Token(TokenKind.Quoted, text[(i + 1)..end]));
                i = end + 1;
            }
            else if (Operators.FirstOrDefault(o => string.CompareOrdinal(text, i, o, 0, o.Length) == 0) is { } op)
            {
                tokens.Add(new Token(TokenKind.Operator, op));
                i += op.Length;
            }
            else
            {
                var start = i;
                var word = new StringBuilder();
                while (i < text.Length && !char.IsWhiteSpace(text[i]) && !"()!=<>&|\"'".Contains(text[i], StringComparison.Ordinal))
                {
                    word.Append(text[i++]);
                }

                if (i == start)
                {
                    throw new FormatException($"unexpected '{text[i]}' in '{text}'");
                }

                tokens.Add(new Token(TokenKind.Word, word.ToString()));
            }
        }

        return tokens;
    }

    private static readonly string[] Operators = ["&&", "||", "==", "!=", "<=", ">=", "=~", "!~", "<", ">", "!", "(", ")"];

    private sealed class Parser(string text, Func<string, bool> resolve)
    {
        private readonly List<Token> _tokens = Tokenize(text);
        private int _next;

        public bool ParseAll()
        {
            var value = Or();
            if (_next < _tokens.Count)
            {
                throw new FormatException($"unexpected '{_tokens[_next].Text}' in '{text}'");
            }

            return value;
        }

        private bool Or()
        {
            var value = And();
            while (Accept("||"))
            {
                var right = And();
                value = value || right;
            }

            return value;
        }

        private bool And()
        {
            var value = Unary();
            while (Accept("&&"))
            {
                var right = Unary();
                value = value && right;
            }

            return value;
        }

        private bool Unary()
        {
            if (Accept("!"))
            {
                return !Unary();
            }

            if (Accept("("))
            {
                var inner = Or();
                Expect(")");
                return inner;
            }

            var left = Operand();
            if (_next < _tokens.Count && _tokens[_next] is { Kind: TokenKind.Operator, Text: "==" or "!=" or "<" or ">" or "<=" or ">=" or "=~" or "!~" } op)
            {
                _next++;
                return Compare(left.Text, op.Text, Operand().Text);
            }

            return left.Kind == TokenKind.Quoted ? resolve(left.Text) : resolve(left.Text);
        }

        private Token Operand()
        {
            if (_next >= _tokens.Count || _tokens[_next].Kind == TokenKind.Operator)
            {
                throw new FormatException($"expected a value in '{text}'");
            }

            return _tokens[_next++];
        }

        private static bool Compare(string left, string op, string right)
        {
            if (op is "=~" or "!~")
            {
                return Regex.IsMatch(left, right, RegexOptions.None, TimeSpan.FromSeconds(1)) == (op == "=~");
            }

            var numeric = double.TryParse(left, NumberStyles.Float, CultureInfo.InvariantCulture, out var l) & double.TryParse(right, NumberStyles.Float, CultureInfo.InvariantCulture, out var r);
            var order = numeric ? l.CompareTo(r) : string.CompareOrdinal(left, right);
            return op switch
            {
                "==" => order == 0,
                "!=" => order != 0,
                "<" => order < 0,
                ">" => order > 0,
                "<=" => order <= 0,
                _ => order >= 0,
            };
        }

        private bool Accept(string op)
        {
            if (_next < _tokens.Count && _tokens[_next] is { Kind: TokenKind.Operator } t && t.Text == op)
            {
                _next++;
                return true;
            }

            return false;
        }

        private void Expect(string op)
        {
            if (!Accept(op))
            {
                throw new FormatException($"expected '{op}' in '{text}'");
            }
        }
    }
}
