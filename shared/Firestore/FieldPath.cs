using System.Text;
using System.Text.RegularExpressions;

namespace Kfci.Firestore;

/// <summary>
/// Field paths as kfci writes them: segments joined by dots (<c>steps.build</c>). On the wire a segment
/// that is not a simple identifier is quoted in backticks, so ids such as <c>e2e-test</c> or <c>1.0</c>
/// can be map keys. A segment cannot itself contain a dot.
/// </summary>
public static partial class FieldPath
{
    /// <summary>Splits a dotted path into its segments.</summary>
    /// <exception cref="ArgumentException">The path is empty or has an empty segment.</exception>
    public static IReadOnlyList<string> Split(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var segments = path.Split('.');
        return segments.Any(string.IsNullOrEmpty)
            ? throw new ArgumentException($"field path '{path}' has an empty segment", nameof(path))
            : segments;
    }

    /// <summary>The wire form of a dotted path: each non-identifier segment in backticks.</summary>
    public static string Encode(string path) => string.Join('.', Split(path).Select(Quote));

    private static string Quote(string segment)
    {
        if (SimpleSegment().IsMatch(segment))
        {
            return segment;
        }

        var quoted = new StringBuilder("`");
        foreach (var c in segment)
        {
            if (c is '`' or '\\')
            {
                quoted.Append('\\');
            }

            quoted.Append(c);
        }

        return quoted.Append('`').ToString();
    }

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z_0-9]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex SimpleSegment();
}
