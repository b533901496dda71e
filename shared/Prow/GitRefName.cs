using System.Text.RegularExpressions;

namespace Kfci.Prow;

/// <summary>
/// The one rule for branch and ref names kfci accepts from an event, a job configuration or a command line, and
/// later passes to git or puts into a GitHub URL. It is git's own (<c>git check-ref-format</c>) narrowed to what is
/// also safe on a command line: letters, digits and <c>. _ / + -</c>; no leading <c>-</c> (it would be an option),
/// no <c>..</c>, no empty, hidden or <c>.lock</c> component, no trailing <c>/</c> or <c>.</c>, at most 255 characters.
/// </summary>
public static partial class GitRefName
{
    /// <summary>Whether <paramref name="name"/> is a safe branch or ref name.</summary>
    public static bool IsSafe(string? name) =>
        name is not null
        && Pattern().IsMatch(name)
        && !name.Contains("..", StringComparison.Ordinal)
        && !name.Contains("//", StringComparison.Ordinal)
        && !name.Contains("/.", StringComparison.Ordinal)
        && !name.EndsWith('/')
        && !name.EndsWith('.')
        && !name.EndsWith(".lock", StringComparison.Ordinal);

    // \z, not $: '$' also matches before a final newline.
    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9._/+-]{0,254}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
