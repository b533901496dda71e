using System.Collections.Concurrent;
using System.Text;

namespace Kfci.ProwConfig;

/// <summary>
/// Python's <c>fnmatch.fnmatch</c> as it behaves on POSIX (where it is <c>fnmatchcase</c>): case-sensitive, <c>*</c>
/// matches any run of characters including <c>/</c>, <c>?</c> one character, <c>[seq]</c>/<c>[!seq]</c> sets with
/// ranges. A <c>[</c> without a closing <c>]</c> is literal, a <c>]</c> first in a set is literal, and sets follow
/// CPython 3.11's <c>translate</c> exactly (including its removal of reversed ranges). Characters are Unicode code
/// points, as in Python. kubeflow's <c>include_dirs</c> were written against these semantics, so they are kept exact.
/// </summary>
public sealed class Fnmatch
{
    private static readonly ConcurrentDictionary<string, Fnmatch> s_cache = new(StringComparer.Ordinal);

    private readonly Token[] _tokens;

    private Fnmatch(string pattern, Token[] tokens)
    {
        Pattern = pattern;
        _tokens = tokens;
    }

    public string Pattern { get; }

    /// <summary>Compiles <paramref name="pattern"/>; every string is a valid pattern.</summary>
    public static Fnmatch Compile(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        return new Fnmatch(pattern, Tokenize(CodePoints(pattern)));
    }

    /// <summary>Python's <c>fnmatch.fnmatch(name, pattern)</c> on POSIX.</summary>
    public static bool IsMatch(string name, string pattern)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(pattern);
        if (s_cache.Count > 4096)
        {
            s_cache.Clear();
        }

        return s_cache.GetOrAdd(pattern, Compile).IsMatch(name);
    }

    /// <summary>Whether the whole of <paramref name="name"/> matches.</summary>
    public bool IsMatch(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var text = CodePoints(name);

        // Every token but '*' consumes exactly one character, so the classic wildcard walk that backtracks only to the
        // most recent star is exact and linear in practice (no regex backtracking blow-up on hostile patterns).
        int t = 0, p = 0, starToken = -1, starText = 0;
        while (t < text.Length)
        {
            if (p < _tokens.Length && _tokens[p].Kind != TokenKind.Star && _tokens[p].Matches(text[t]))
            {
                t++;
                p++;
            }
            else if (p < _tokens.Length && _tokens[p].Kind == TokenKind.Star)
            {
                starToken = p++;
                starText = t;
            }
            else if (starToken >= 0)
            {
                p = starToken + 1;
                t = ++starText;
            }
            else
            {
                return false;
            }
        }

        while (p < _tokens.Length && _tokens[p].Kind == TokenKind.Star)
        {
            p++;
        }

        return p == _tokens.Length;
    }

    public override string ToString() => Pattern;

    private static int[] CodePoints(string text)
    {
        var points = new List<int>(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            points.Add(rune.Value);
        }

        return [.. points];
    }

    private static Token[] Tokenize(int[] pat)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < pat.Length)
        {
            var c = pat[i++];
            if (c == '*')
            {
                if (tokens.Count == 0 || tokens[^1].Kind != TokenKind.Star)
                {
                    tokens.Add(Token.Star);
                }
            }
            else if (c == '?')
            {
                tokens.Add(Token.Any);
            }
            else if (c == '[' && SetEnd(pat, i) is var end && end < pat.Length)
            {
                tokens.Add(Set(pat, i, end));
                i = end + 1;
            }
            else
            {
                tokens.Add(Token.Literal(c));
            }
        }

        return [.. tokens];
    }

    /// <summary>The index of the <c>]</c> closing a set opened just before <paramref name="i"/>, or the pattern length if none.</summary>
    private static int SetEnd(int[] pat, int i)
    {
        var j = i;
        if (j < pat.Length && pat[j] == '!')
        {
            j++;
        }

        if (j < pat.Length && pat[j] == ']')
        {
            j++;
        }

        while (j < pat.Length && pat[j] != ']')
        {
            j++;
        }

        return j;
    }

    /// <summary>
    /// The set <c>pat[i..end]</c>, split into chunks at range hyphens and with reversed ranges dropped the way CPython
    /// does, then read as: a leading <c>!</c> negates; a hyphen between two chunks makes a range from the last character
    /// of one to the first of the next; every other character (backslash and hyphens inside chunks included) is literal.
    /// </summary>
    private static Token Set(int[] pat, int i, int end)
    {
        var chunks = new List<List<int>>();
        if (Array.IndexOf(pat, '-', i, end - i) < 0)
        {
            chunks.Add(pat[i..end].ToList());
        }
        else
        {
            var start = i;
            var k = pat[i] == '!' ? i + 2 : i + 1;
            while (k < end && Array.IndexOf(pat, '-', k, end - k) is var hyphen && hyphen >= 0)
            {
                chunks.Add(pat[start..hyphen].ToList());
                start = hyphen + 1;
                k = hyphen + 3;
            }

            if (start < end)
            {
                chunks.Add(pat[start..end].ToList());
            }
            else
            {
                chunks[^1].Add('-');
            }

            for (var c = chunks.Count - 1; c > 0; c--)
            {
                if (chunks[c - 1][^1] > chunks[c][0])
                {
                    chunks[c - 1].RemoveAt(chunks[c - 1].Count - 1);
                    chunks[c - 1].AddRange(chunks[c].Skip(1));
                    chunks.RemoveAt(c);
                }
            }
        }

        var negated = chunks[0].Count > 0 && chunks[0][0] == '!';
        var singles = new List<int>();
        var ranges = new List<(int Low, int High)>();
        for (var c = 0; c < chunks.Count; c++)
        {
            var chunk = chunks[c];
            var from = c == 0 && negated ? 1 : 0;
            var to = chunk.Count;
            if (c > 0)
            {
                ranges.Add((chunks[c - 1][^1], chunk[0]));
                from = Math.Max(from, 1);
            }

            if (c < chunks.Count - 1)
            {
                to--;
            }

            for (var x = from; x < to; x++)
            {
                singles.Add(chunk[x]);
            }
        }

        return Token.Set(negated, [.. singles], [.. ranges]);
    }

    private enum TokenKind
    {
        Literal,
        Any,
        Star,
        Set,
    }

    private sealed class Token
    {
        private readonly int _literal;
        private readonly bool _negated;
        private readonly int[] _singles = [];
        private readonly (int Low, int High)[] _ranges = [];

        private Token(TokenKind kind, int literal = 0, bool negated = false, int[]? singles = null, (int, int)[]? ranges = null)
        {
            Kind = kind;
            _literal = literal;
            _negated = negated;
            _singles = singles ?? [];
            _ranges = ranges ?? [];
        }

        public static Token Star { get; } = new(TokenKind.Star);

        public static Token Any { get; } = new(TokenKind.Any);

        public TokenKind Kind { get; }

        public static Token Literal(int c) => new(TokenKind.Literal, literal: c);

        public static Token Set(bool negated, int[] singles, (int, int)[] ranges) => new(TokenKind.Set, negated: negated, singles: singles, ranges: ranges);

        public bool Matches(int c) => Kind switch
        {
            TokenKind.Literal => c == _literal,
            TokenKind.Any => true,
            TokenKind.Set => _negated != (_singles.Contains(c) || _ranges.Any(r => r.Low <= c && c <= r.High)),
            _ => false,
        };
    }
}
