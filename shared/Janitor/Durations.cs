using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Kfci.Janitor;

/// <summary>Compact durations as people write them in janitor configuration and read them in reasons: <c>10m</c>, <c>3h</c>, <c>2d</c>, <c>1h30m</c>.</summary>
public static partial class Durations
{
    /// <summary>Parses one or more <c>&lt;number&gt;&lt;unit&gt;</c> parts (units s, m, h, d, w).</summary>
    /// <exception cref="FormatException">The text is not such a duration; the message shows how to write one.</exception>
    public static TimeSpan Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var match = DurationPattern().Match(text.Trim());
        if (!match.Success)
        {
            throw new FormatException($"'{text}' is not a duration; write a number and a unit, e.g. 90s, 10m, 3h, 2d, 1w or 1h30m");
        }

        var total = TimeSpan.Zero;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var value = double.Parse(part.Value[..^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
            total += part.Value[^1] switch
            {
                's' => TimeSpan.FromSeconds(value),
                'm' => TimeSpan.FromMinutes(value),
                'h' => TimeSpan.FromHours(value),
                'd' => TimeSpan.FromDays(value),
                _ => TimeSpan.FromDays(7 * value),
            };
        }

        return total;
    }

    /// <summary>Formats with the two largest non-zero units, rounded down: <c>4h</c>, <c>2d3h</c>, <c>15m</c>, <c>45s</c>; negative spans read <c>0s</c>.</summary>
    public static string Format(TimeSpan span)
    {
        if (span < TimeSpan.FromSeconds(1))
        {
            return "0s";
        }

        Span<(long Value, char Unit)> parts =
        [
            (span.Days, 'd'), (span.Hours, 'h'), (span.Minutes, 'm'), (span.Seconds, 's'),
        ];
        var text = new StringBuilder();
        var written = 0;
        foreach (var (value, unit) in parts)
        {
            if (written == 2 || (written == 1 && value == 0))
            {
                break;
            }

            if (value > 0)
            {
                text.Append(value.ToString(CultureInfo.InvariantCulture)).Append(unit);
                written++;
            }
        }

        return text.ToString();
    }

    [GeneratedRegex(@"^(?<part>\d+(\.\d+)?[smhdw])+\z", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPattern();
}
