using System.Globalization;
using System.Text.RegularExpressions;

namespace Kfci.Janitor;

/// <summary>RFC 3339 timestamps as the GCP and Kubernetes APIs write them, always with an offset.</summary>
public static partial class Rfc3339
{
    /// <summary>Parses <c>2019-02-13T10:52:13.133-08:00</c> or <c>…Z</c>.</summary>
    /// <exception cref="FormatException">Not an RFC 3339 timestamp (a missing offset is refused: it would be read in the local zone).</exception>
    public static DateTimeOffset Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!Shape().IsMatch(text)
            || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var value))
        {
            throw new FormatException($"'{text}' is not an RFC 3339 timestamp like 2024-05-01T12:00:00Z");
        }

        return value;
    }

    /// <summary>Formats in UTC with a <c>Z</c>; fractional seconds only when there are any, so parsing gives the same instant back.</summary>
    public static string Format(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\z", RegexOptions.CultureInvariant)]
    private static partial Regex Shape();
}
