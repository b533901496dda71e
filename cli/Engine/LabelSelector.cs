using System.Text.RegularExpressions;

namespace Kfci.Cli.Engine;

/// <summary>
/// A Kubernetes label selector (<c>a=b</c>, <c>a==b</c>, <c>a!=b</c>, <c>a in (x,y)</c>, <c>a notin (x)</c>, <c>a</c>,
/// <c>!a</c>), every term of which must hold. A malformed selector throws <see cref="FormatException"/>.
/// </summary>
public sealed partial class LabelSelector
{
    private readonly List<Func<IReadOnlyDictionary<string, string>, bool>> _terms;

    private LabelSelector(List<Func<IReadOnlyDictionary<string, string>, bool>> terms) => _terms = terms;

    public static LabelSelector Parse(string? text)
    {
        var terms = new List<Func<IReadOnlyDictionary<string, string>, bool>>();
        foreach (var raw in Split(text ?? ""))
        {
            var term = raw.Trim();
            if (term.Length == 0)
            {
                continue;
            }

            terms.Add(Term(term));
        }

        return new LabelSelector(terms);
    }

    public bool Matches(IReadOnlyDictionary<string, string> labels) => _terms.TrueForAll(t => t(labels));

    private static Func<IReadOnlyDictionary<string, string>, bool> Term(string term)
    {
        if (SetTerm().Match(term) is { Success: true } set)
        {
            var key = set.Groups["key"].Value;
            var values = set.Groups["values"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
            return set.Groups["op"].Value == "in"
                ? labels => labels.TryGetValue(key, out var v) && values.Contains(v)
                : labels => !labels.TryGetValue(key, out var v) || !values.Contains(v);
        }

        if (EqualityTerm().Match(term) is { Success: true } equality)
        {
            var key = equality.Groups["key"].Value;
            var value = equality.Groups["value"].Value;
            return equality.Groups["op"].Value == "!="
                ? labels => !labels.TryGetValue(key, out var v) || v != value
                : labels => labels.TryGetValue(key, out var v) && v == value;
        }

        if (KeyTerm().Match(term) is { Success: true } exists)
        {
            var key = exists.Groups["key"].Value;
            return exists.Groups["not"].Success ? labels => !labels.ContainsKey(key) : labels => labels.ContainsKey(key);
        }

        throw new FormatException($"unable to parse requirement: '{term}'");
    }

    // Commas separate terms except inside the parentheses of a set.
    private static IEnumerable<string> Split(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            depth += text[i] switch { '(' => 1, ')' => -1, _ => 0 };
            if (text[i] == ',' && depth == 0)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }

        yield return text[start..];
    }

    [GeneratedRegex(@"^(?<key>[A-Za-z0-9][-A-Za-z0-9_./]*)\s+(?<op>in|notin)\s*\((?<values>[^()]*)\)$")]
    private static partial Regex SetTerm();

    [GeneratedRegex(@"^(?<key>[A-Za-z0-9][-A-Za-z0-9_./]*)\s*(?<op>==|=|!=)\s*(?<value>[-A-Za-z0-9_.]*)$")]
    private static partial Regex EqualityTerm();

    [GeneratedRegex(@"^(?<not>!)?\s*(?<key>[A-Za-z0-9][-A-Za-z0-9_./]*)$")]
    private static partial Regex KeyTerm();
}
