using System.Globalization;

namespace Kfci.Hosting;

/// <summary>RFC 3339 timestamps as Google APIs write them, which may carry nanoseconds.</summary>
internal static class Timestamps
{
    private const int MaxFractionDigits = 7;

    public static DateTimeOffset Parse(string text, string field)
    {
        // .NET keeps 100 ns ticks and rejects more than seven fraction digits; Google sends up to nine.
        var trimmed = TrimFraction(text);
        return DateTimeOffset.TryParse(trimmed, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value)
            && trimmed.Contains('T', StringComparison.Ordinal)
            ? value
            : throw EventDecodingException.BadRequest($"'{field}' is not an RFC 3339 timestamp: '{text}'");
    }

    private static string TrimFraction(string text)
    {
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0)
        {
            return text;
        }

        var end = dot + 1;
        while (end < text.Length && char.IsAsciiDigit(text[end]))
        {
            end++;
        }

        return end - dot - 1 > MaxFractionDigits ? string.Concat(text.AsSpan(0, dot + 1 + MaxFractionDigits), text.AsSpan(end)) : text;
    }
}
